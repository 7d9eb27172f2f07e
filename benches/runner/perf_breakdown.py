#!/usr/bin/env python3
"""Where `loadlake run` spends its CPU, from `perf script -F comm,tid,ip,sym` with call graphs
(benches/runner/profile.sh perf). Every sample is put in one bucket: the syscall it is in
(kernel time inside writev / recvfrom / epoll_wait / futex…), a context switch, or the user-space
code it is in (by the crate of the leaf symbol); printed per thread as % of all samples and as
microseconds of CPU per request when the request count and the sampling frequency are given
(`perf record -e cpu-clock -F FREQ`: one sample per 1/FREQ s of CPU).

Usage: perf_breakdown.py SCRIPT_TXT [REQUESTS FREQ]
"""
import collections
import re
import sys

SYSCALL = re.compile(
    r"^(do_writev|__sys_recvfrom|__sys_sendto|do_epoll_wait|do_futex|ksys_write|ksys_read|"
    r"__x64_sys_(\w+))"
)
USER = [
    ("memcpy/memmove/memcmp", ("memcpy", "memmove", "memcmp")),
    ("fmt (format!, to_string)", ("core::fmt", "alloc::fmt", "as core::fmt::", "fmt::Write")),
    ("HashMap + SipHash", ("hashbrown::", "core::hash::", "sip::Hasher")),
    ("malloc/free", ("malloc", "free", "_int_", "tcache", "unlink_chunk", "cfree", "realloc")),
    ("hyper/httparse/http", ("hyper::", "httparse", "http::", "<http::")),
    ("tokio", ("tokio::",)),
    ("arrow/parquet/zstd", ("arrow", "parquet", "ZSTD", "zstd")),
    ("loadlake (runner, schema, store)", ("loadlake",)),
    ("clock_gettime", ("clock_gettime",)),
]


def read(path):
    samples, cur = [], None
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if cur:
                    samples.append(cur)
                cur = None
            elif not line[0].isspace():
                cur = (line.split()[0], [])
            elif cur is not None:
                parts = line.strip().split(None, 1)
                cur[1].append(parts[1] if len(parts) > 1 else "?")
    if cur:
        samples.append(cur)
    return samples


SYSCALL_GLUE = ("do_syscall_64", "syscall", "entry_SYSCALL", "__GI___writev", "__libc_recv",
                "exit_to_user_mode", "__rseq_handle_notify_resume", "__get_user_", "__put_user_",
                "syscall_exit", "__x86_indirect_thunk")


def futex_kind(frames):
    rest = " ".join(frames)
    if "mpsc" in rest and "Sender" in rest:
        return "kernel: futex (mpsc send wakes the collector)"
    if "park" in rest:
        return "kernel: futex (runtime / block_on parks and unparks)"
    return "kernel: futex (other)"


def bucket(frames):
    if not frames:
        return "?"
    leaf = frames[0]
    if leaf.startswith(SYSCALL_GLUE):
        if leaf.startswith(("syscall", "do_syscall_64", "exit_to_user_mode", "__rseq")) and any(
            "park" in f or "mpsc" in f or "futex" in f for f in frames
        ):
            return futex_kind(frames)
        return "kernel: syscall entry / exit"
    if "finish_task_switch" in leaf or "_raw_spin_unlock_irqrestore" in leaf:
        text = " ".join(frames[:12])
        if "exit_to_user_mode" in text or "irqentry_exit" in text:
            # Preempted on the way back to user space, after the syscall below.
            return "preempted (context switch)"
    for f in frames:
        m = SYSCALL.match(f)
        if m:
            name = m.group(1)
            if name == "do_futex":
                # Who called futex: the mpsc wake-up of the collector or something else.
                return futex_kind(frames)
            return "kernel: " + name.replace("__x64_sys_", "").replace("__sys_", "").replace("do_", "")
    if leaf.startswith(("asm_", "exc_", "__handle_mm", "do_anonymous", "clear_page")) or "page_fault" in leaf:
        return "kernel: page faults"
    for name, keys in USER:
        if any(k in leaf for k in keys):
            return "user: " + name
    return "user: other (" + leaf[:40] + ")" if leaf.startswith("[") else "user: other"


def main():
    samples = read(sys.argv[1])
    total = len(samples)
    if not total:
        sys.exit("no samples")
    per_req = None
    if len(sys.argv) >= 4:
        requests, freq = float(sys.argv[2]), float(sys.argv[3])
        per_req = total / freq * 1e6 / requests  # µs of CPU per request
    counts = collections.Counter()
    threads = collections.Counter()
    for comm, frames in samples:
        kind = "worker" if comm.startswith("tokio-rt") else "main/writer"
        counts[(kind, bucket(frames))] += 1
        threads[kind] += 1
    print(f"{total} samples; " + ", ".join(f"{k} {100 * n / total:.1f}%" for k, n in threads.items())
          + (f"; {per_req:.2f} µs of CPU per request" if per_req else ""))
    other = 0
    for (kind, b), n in counts.most_common():
        pct = 100 * n / total
        if pct < 0.5:
            other += n
            continue
        us = f"{pct * per_req / 100:6.2f} µs/req" if per_req else ""
        print(f"  {pct:5.1f}%  {us}  {kind:12s} {b}")
    if other:
        print(f"  {100 * other / total:5.1f}%  (buckets under 0.5% each)")


if __name__ == "__main__":
    main()
