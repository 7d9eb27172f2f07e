#!/usr/bin/env python3
"""Classifies real JMeter plans by what `loadlake run --validate` says of them (issue 21).

Driven by scripts/plan-corpus.sh, which documents the usage. For every *.jmx under the corpus
directory it runs, with a timeout and never anything but `--validate` (nothing is sent):

  A. `loadlake run --validate PLAN`: exit 0 is class (a), "validates as is".
  B. otherwise the same with `-Jname=value` for every property the plan reads through
     `${__P(name…)}` / `${__property(name…)}` (a made-up value: 127.0.0.1 for a host, 8080 for a
     port, http for a protocol, 1 for anything else), so that what is left is what the
     runner cannot do. (A plan that loops forever is not refused by `--validate`: `loadlake
     run` asks for `--duration` only when it runs.)

What B still refuses decides the class:
  (b) nothing but missing data files ("is not a readable file") and empty host names (a
      template's blank server field), or nothing at all: no runner limitation left; the plan
      needs its data files, a host, or -J properties.
  (c) anything else: refused for runner limitations. Each refusal is put in a family: the
      element's class (`JSR223Sampler`), the function (`__BeanShell`), or the setting
      (`HTTPSampler.image_parser`), and families are counted by the plans they block.

`--validate` does not look inside an element it refuses (the samplers of a jp@gc thread group
are not checked), so each plan is also scanned for the enabled elements whose class the runner
refused somewhere in the corpus: the "plans containing it" column counts those too, and a
family is a plan's "sole blocker" only when no other refused class is in the plan either.

The refusals are read from the text the CLI prints on stderr (crates/runner/src/error.rs:
`RunnerError` and its numbered `Refusals` list); the message forms are matched below, and a
message of another form is counted under "other: …" with its text so it is seen, not lost.
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# One numbered refusal of a multi-refusal report: `  3. at "G" > "S": element "S" (X) is …`.
NUMBERED = re.compile(r"^\s+\d+\. at (.*)$")
# Where the message starts after the `at` path (the path is quoted names joined by ` > `).
MESSAGE_START = re.compile(
    r'(?:^|: )(element "|thread group "|the test plan |the JMX |open model: |the native runner )'
)
# The first line of a failed validation: `error: PLAN: the runner cannot run this plan: MSG`.
CANNOT_RUN = ": the runner cannot run this plan: "
MULTI = "the native runner cannot run this plan: "

UNSUPPORTED = re.compile(r'\((?P<cls>[\w.$]+)\) is not supported by the native runner')
FUNCTION = re.compile(
    r"property (?P<prop>.+?): function (?P<fn>\S+) is not supported by the native runner"
)
PER_REQUEST = re.compile(
    r"property (?P<prop>.+?): function (?P<fn>\S+) gives a new value per request"
)
SETTING = re.compile(r'": (?P<prop>[\w.$]+) = ".*" is not supported: (?P<why>.*)$')
# A file the plan names and the disk does not have: a CSV Data Set's, a script file, an
# included JMX (`is not a readable file`, `a readable script file`, `a readable JMX file`).
DATA_FILE = re.compile(r': ".*" is not a readable (?:\w+ )?file')
# What the script interpreter refuses: `script line 4: 'new java.net.Socket' is not supported`,
# `script line 1: syntax error: …` (crates/runner/src/script/mod.rs).
SCRIPT = re.compile(r"script line \d+: (?:(?P<what>.+?) is not supported|(?P<msg>.*))")
EMPTY_HOST = re.compile(r'property HTTPSampler\.domain: "" is not a host name')
INVALID = re.compile(r'property (?P<prop>.+?): ".*" is not (?P<what>.*)$')
UNBOUNDED = re.compile(r"loops forever and has no duration")
NO_GROUPS = re.compile(r"has no enabled thread group")
NO_PLAN = re.compile(r"has no enabled TestPlan element")

PROPERTY_REF = re.compile(r"\$\{__(?:P|property)\(\s*([^,()$\s]+)")

# Coarse groups for the summary table, in the words of issue 21's table. A family not matched
# here is its own group.
GROUPS = [
    ("scripts (JSR223, BeanShell, __BeanShell, __groovy; constructs the interpreter refuses)",
     re.compile(r"^(class:(JSR223|BeanShell)\w*|function:__(BeanShell|groovy)|script:.*)$")),
    ("Counter Config, User Parameters", re.compile(r"^class:(CounterConfig|UserParameters)$")),
    ("plugin thread groups (jp@gc Ultimate, Stepping, Concurrency, Arrivals)",
     re.compile(r"^class:\w*(Ultimate|Stepping|Concurrency|Arrivals)\w*ThreadGroup$")),
    ("Flow Control Action (TestAction)", re.compile(r"^class:TestAction$")),
    ("XPath / XPath2 / CSS (HtmlExtractor) extractors",
     re.compile(r"^class:(XPath\w*Extractor|HtmlExtractor)$")),
    ("Debug / Dummy samplers", re.compile(r"^class:(DebugSampler|DummySampler)$")),
    ("HTTP Cache Manager, DNS Cache Manager", re.compile(r"^class:(CacheManager|DNSCacheManager)$")),
    ("HTTP Authorization Manager", re.compile(r"^class:AuthManager$")),
    ("Module / Include controllers, Test Fragments",
     re.compile(r"^class:(ModuleController|IncludeController|TestFragmentController)$")),
    ("multipart / file upload", re.compile(r"(?i)^setting:.*(multipart|files)")),
    ("embedded resources", re.compile(r"^setting:HTTPSampler\.(image_parser|concurrentDwn)")),
    ("non-core listeners (jp@gc graphs, Backend Listener, …)",
     re.compile(r"^class:\w*(Collector|Listener|Visualizer|Writer)$")),
    ("other samplers (Java, JDBC, SOAP, TCP, SMTP, IMAP, …)", re.compile(r"^class:\w*Sampler\w*$")),
]


@dataclass
class Refusal:
    """One refused thing: its family key (`class:X`, `function:__f`, `setting:p`, …), what
    the user must supply when it is not a runner limitation ("data files", "a host"; empty
    otherwise), and the message as printed."""

    family: str
    setup: str
    message: str


@dataclass
class Outcome:
    """One `loadlake run --validate` of one plan."""

    rc: int
    refusals: list[Refusal] = field(default_factory=list)
    stderr: str = ""


def family_of(message: str) -> tuple[str, str]:
    """The family key of one refusal message, and what the user must supply when it is not a
    runner limitation (a data file, a host) or ""."""
    if DATA_FILE.search(message):
        return "data file missing", "data files"
    if EMPTY_HOST.search(message):
        return "host not set", "a host"
    if m := SCRIPT.search(message):
        return "script:" + script_construct(m["what"] or m["msg"]), ""
    if m := UNSUPPORTED.search(message):
        return "class:" + m["cls"].rsplit(".", 1)[-1], ""
    if m := FUNCTION.search(message):
        return "function:" + m["fn"], ""
    if m := PER_REQUEST.search(message):
        return f"function fixed before the run:{m['fn']}", ""
    if m := SETTING.search(message):
        return "setting:" + m["prop"], ""
    if UNBOUNDED.search(message):
        return "loops forever (needs --duration)", ""
    if NO_GROUPS.search(message):
        return "no enabled thread group (a template or fragment)", ""
    if NO_PLAN.search(message):
        return "no enabled TestPlan", ""
    if m := INVALID.search(message):
        return f"invalid value:{m['prop']} (not {m['what'][:40]})", ""
    return "other:" + message[:90], ""


def script_construct(what: str) -> str:
    """The construct a script refusal names, short enough to group by: an import by its first
    three package names, a syntax error as such, anything else as written (unquoted)."""
    what = what.strip()
    if what.startswith("syntax error"):
        return "syntax error"
    what = what.strip("'")
    if what.startswith("import "):
        return "import " + ".".join(what[len("import "):].split(".")[:3])
    return what[:50]


def parse_refusals(stderr: str) -> list[Refusal]:
    """The refusals in the stderr of a failed `loadlake run --validate`."""
    out: list[Refusal] = []
    for line in stderr.splitlines():
        if m := NUMBERED.match(line):
            rest = m.group(1)
            s = MESSAGE_START.search(rest)
            message = rest[s.start(1):] if s else rest
            fam, data = family_of(message)
            out.append(Refusal(fam, data, message))
    if out:
        return out
    for line in stderr.splitlines():
        if not line.startswith("error: "):
            continue
        if CANNOT_RUN in line:
            message = line.split(CANNOT_RUN, 1)[1]
            if message.startswith(MULTI):
                continue  # the header of a numbered list without items: nothing to add
            fam, data = family_of(message)
        elif "reading the plan" in line:
            message = line[len("error: "):]
            fam, data = "JMX not readable:" + message.rsplit(": ", 1)[-1][:80], ""
        else:
            message = line[len("error: "):]
            fam, data = "other:" + message[:90], ""
        out.append(Refusal(fam, data, message))
    if not out:
        tail = stderr.strip().splitlines()[-1:] or ["(no message)"]
        out.append(Refusal("other:" + tail[0][:90], "", tail[0]))
    return out


def property_value(name: str) -> str:
    """A made-up value for property `name`: something a host, port or count field accepts."""
    n = name.lower()
    if "port" in n:
        return "8080"
    if "protocol" in n or "scheme" in n:
        return "http"
    if re.search(r"url|uri|endpoint", n):
        return "http://127.0.0.1:8080/"
    if re.search(r"host|server|domain|address|target|ip$|^ip|env", n):
        return "127.0.0.1"
    return "1"


def validate(binary: str, store: str, plan: str, extra: list[str], timeout: int) -> Outcome:
    """One `loadlake run --validate` with a timeout (exit 124 when it ran out of time)."""
    cmd = [binary, "run", "--store", store, "--validate", plan, *extra]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Outcome(124, [Refusal("timeout (validation did not finish)", "", "timeout")])
    if r.returncode == 0:
        return Outcome(0, [], r.stderr)
    return Outcome(r.returncode, parse_refusals(r.stderr), r.stderr)


def enabled_classes(path: str) -> set[str]:
    """The classes (without package) of the plan's enabled elements whose ancestors are all
    enabled, read from the JMX's hashTree: an element's children are in the hashTree after it."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return set()
    out: set[str] = set()

    def walk(tree: ET.Element) -> None:
        kids = list(tree)
        for i, el in enumerate(kids):
            if el.tag == "hashTree" or el.get("enabled", "true") == "false":
                continue
            if cls := el.get("testclass"):
                out.add(cls.rsplit(".", 1)[-1])
            if i + 1 < len(kids) and kids[i + 1].tag == "hashTree":
                walk(kids[i + 1])

    top = root.find("hashTree")
    if top is not None:
        walk(top)
    return out


@dataclass
class PlanResult:
    """The class of one plan and what decided it."""

    plan: str
    klass: str  # "a", "b" or "c"
    needs: list[str]  # for (b): "data files", "a host", "-J properties"
    gaps: list[str]  # for (c): the families still refused with the properties given
    first: Outcome
    second: Outcome | None
    classes: set[str] = field(default_factory=set)  # enabled element classes in the plan


def classify(binary: str, store: str, plan: str, timeout: int) -> PlanResult:
    """Runs validation A (as is) and, when it fails, B (the plan's properties given)."""
    first = validate(binary, store, plan, [], timeout)
    if first.rc == 0:
        return PlanResult(plan, "a", [], [], first, None, enabled_classes(plan))
    try:
        text = open(plan, encoding="utf-8", errors="replace").read()
    except OSError:
        text = ""
    props = sorted({p for p in PROPERTY_REF.findall(text)})
    extra = [f"-J{p}={property_value(p)}" for p in props]
    second = validate(binary, store, plan, extra, timeout)
    gaps = sorted({r.family for r in second.refusals if not r.setup})
    if gaps:
        return PlanResult(plan, "c", [], gaps, first, second, enabled_classes(plan))
    needs = sorted({r.setup for r in second.refusals})
    if {r.family for r in first.refusals} - {r.family for r in second.refusals}:
        needs.append("-J properties")
    return PlanResult(plan, "b", needs, [], first, second, enabled_classes(plan))


def group_of(family: str) -> str:
    """The coarse group of a family (the family itself when none matches)."""
    for name, rx in GROUPS:
        if rx.search(family):
            return name
    return family


def pct(n: int, total: int) -> str:
    return f"{100.0 * n / total:.0f} %" if total else "-"


def report(results: list[PlanResult], corpus: str, top: int) -> str:
    """The figures and the family tables, as Markdown-friendly text."""
    total = len(results)
    by = collections.Counter(r.klass for r in results)
    needs = collections.Counter(n for r in results if r.klass == "b" for n in r.needs)
    repos = {
        os.path.relpath(r.plan, corpus).split(os.sep)[0]
        for r in results
        if os.sep in os.path.relpath(r.plan, corpus)
    }
    lines = [
        f"plans: {total} under {corpus}"
        + (f" ({len(repos)} top-level folders: one per repository)" if repos else ""),
        f"(a) validate as they are:                 {by['a']:3d}  {pct(by['a'], total)}",
        f"(b) only data files, a host or -J props:  {by['b']:3d}  {pct(by['b'], total)}"
        f"   (needing data files {needs['data files']}, a host {needs['a host']},"
        f" -J properties {needs['-J properties']})",
        f"(a)+(b) no runner limitation left:        {by['a'] + by['b']:3d}"
        f"  {pct(by['a'] + by['b'], total)}",
        f"(c) refused for runner limitations:       {by['c']:3d}  {pct(by['c'], total)}",
    ]
    # What the plans need besides runner support, whatever their class: as they are, refusals
    # for missing data files and empty hosts; and the refusals that -J values made go away.
    data = [r for r in results if any(x.setup == "data files" for x in r.first.refusals)]
    host = [r for r in results if any(x.setup == "a host" for x in r.first.refusals)]
    by_props = collections.Counter()
    for r in results:
        if r.second is not None:
            before = {x.family for x in r.first.refusals if not x.setup}
            after = {x.family for x in r.second.refusals}
            for f in before - after:
                by_props[f] += 1
    props_plans = sum(
        1
        for r in results
        if r.second is not None
        and {x.family for x in r.first.refusals if not x.setup}
        - {x.family for x in r.second.refusals}
    )
    warned = sum(1 for r in results if r.klass == "a" and "warning: " in r.first.stderr)
    lines += [
        f"of the (a) plans, {warned} validate with a warning (a __P default for a host, port or "
        "file name; a number JMeter reads as 0)",
        f"as they are, {len(data)} plans miss a data file and {len(host)} have an empty host; "
        f"-J values for the properties they read remove refusals from {props_plans} plans"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in by_props.most_common()) + ")" if by_props
           else ""),
        "",
    ]
    blocked = [r for r in results if r.klass == "c"]
    # Classes the runner refused somewhere in the corpus, less those of plans that passed (a
    # class can be refused in one form and run in another: ConfigTestElement is both HTTP
    # Request Defaults and a bare Simple Config Element): found in a plan, they block it too,
    # whether or not --validate reached them there.
    passed = {"class:" + c for r in results if r.klass != "c" for c in r.classes}
    refused = {g for r in blocked for g in r.gaps if g.startswith("class:")} - passed
    everything = {
        r.plan: set(r.gaps) | ({"class:" + c for c in r.classes} & refused) for r in blocked
    }

    def table(key, title: str, limit: int | None) -> list[str]:
        plans: dict[str, set[str]] = collections.defaultdict(set)
        containing: dict[str, set[str]] = collections.defaultdict(set)
        only: collections.Counter = collections.Counter()
        for r in blocked:
            for k in {key(g) for g in r.gaps}:
                plans[k].add(r.plan)
            keys = {key(g) for g in everything[r.plan]}
            for k in keys:
                containing[k].add(r.plan)
            if len(keys) == 1:
                only[next(iter(keys))] += 1
        rows = sorted(plans.items(), key=lambda kv: (-len(kv[1]), -len(containing[kv[0]]), kv[0]))
        if limit:
            rows = rows[:limit]
        out = [
            f"| {title} | plans blocked | plans containing it | sole blocker |",
            "|---|---:|---:|---:|",
        ]
        out += [f"| {k} | {len(v)} | {len(containing[k])} | {only[k]} |" for k, v in rows]
        return out

    lines += table(group_of, "family (grouped as in issue 21)", None)
    lines.append("")
    lines += table(lambda g: g, "element class / function / setting", top)
    lines.append("")
    lines += plan_of_work(results, {p: {group_of(g) for g in e} for p, e in everything.items()})
    return "\n".join(lines) + "\n"


def plan_of_work(results: list[PlanResult], blockers: dict[str, set[str]]) -> list[str]:
    """Families in the order that frees the most plans (greedy: each step adds the family after
    which the most blocked plans have nothing left), with the running share of plans with no
    runner limitation left. An estimate from above: a plan is counted once every refused
    class it contains is supported, but a refused element may hide refusals of its own."""
    total = len(results)
    passed = sum(1 for r in results if r.klass != "c")
    chosen: set[str] = set()
    out = [
        "| support next (greedy) | plans freed | no runner limitation left (at most) |",
        "|---|---:|---:|",
    ]
    while True:
        left = {p: b - chosen for p, b in blockers.items() if b - chosen}
        if not left:
            break
        candidates = {f for b in left.values() for f in b}

        def freed(f: str) -> tuple[int, int]:
            # plans freed by f, then plans that f appears in (to break ties usefully)
            return (sum(1 for b in left.values() if b <= {f}),
                    sum(1 for b in left.values() if f in b))

        best = max(sorted(candidates), key=freed)
        n = freed(best)[0]
        chosen.add(best)
        passed += n
        out.append(f"| {best} | {n} | {passed} ({pct(passed, total)}) |")
    return out


def jmx(body: str) -> str:
    """A JMX: a TestPlan whose hashTree holds `body`."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<jmeterTestPlan version="1.2" properties="2.8">'
        '<hashTree><TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="P" '
        'enabled="true"/><hashTree>' + body + "</hashTree></hashTree></jmeterTestPlan>\n"
    )


def group(cls: str, children: str) -> str:
    """A thread group of class `cls`: 1 thread, 1 loop, holding `children`."""
    return (
        f'<{cls} guiclass="ThreadGroupGui" testclass="{cls}" testname="G" enabled="true">'
        '<stringProp name="ThreadGroup.num_threads">1</stringProp>'
        '<stringProp name="ThreadGroup.ramp_time">0</stringProp>'
        '<elementProp name="ThreadGroup.main_controller" elementType="LoopController" '
        'guiclass="LoopControlPanel" testclass="LoopController" testname="L" enabled="true">'
        '<stringProp name="LoopController.loops">1</stringProp></elementProp>'
        f"</{cls}><hashTree>{children}</hashTree>"
    )


def http(name: str, domain: str, path: str = "/") -> str:
    """An HTTP Request GET http://domain:9/path."""
    return (
        f'<HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" '
        f'testname="{name}" enabled="true">'
        f'<stringProp name="HTTPSampler.domain">{domain}</stringProp>'
        '<stringProp name="HTTPSampler.port">9</stringProp>'
        '<stringProp name="HTTPSampler.protocol">http</stringProp>'
        f'<stringProp name="HTTPSampler.path">{path}</stringProp>'
        '<stringProp name="HTTPSampler.method">GET</stringProp>'
        "</HTTPSamplerProxy><hashTree/>"
    )


def element(cls: str, name: str, props: str = "") -> str:
    """Any element `cls` with its properties and no children."""
    return (f'<{cls} guiclass="X" testclass="{cls}" testname="{name}" enabled="true">{props}'
            f"</{cls}><hashTree/>")


# Hand-made plans and the class each must get, decided from JMeter's documentation and
# docs/runner.md's list of what the runner refuses, not from a run: a change to the CLI's
# messages that this parser no longer reads fails here before any figure is printed. The refused
# elements are ones no native runner can have: a Java Request (runs a user's Java class), an
# Azure Load Testing function (`__GetSecret`), a thread group from an unknown plugin.
SELF_TEST = [
    ("valid.jmx", jmx(group("ThreadGroup", http("S", "127.0.0.1"))), "a", [], []),
    ("no-data.jmx",
     jmx(group("ThreadGroup", element(
         "CSVDataSet", "D", '<stringProp name="filename">absent.csv</stringProp>'
         '<stringProp name="variableNames">u</stringProp>') + http("S", "127.0.0.1"))),
     "b", ["data files"], []),
    ("property-host.jmx", jmx(group("ThreadGroup", http("S", "${__P(target.host,)}"))),
     "b", ["-J properties"], []),
    ("gaps.jmx",
     jmx(group("ThreadGroup", element("JDBCSampler", "J")
               + http("S", "127.0.0.1", "/${__GetSecret(k)}"))
         + group("org.example.jmeter.CustomThreadGroup", element("DebugSampler", "D"))),
     "c", [], ["class:CustomThreadGroup", "class:JDBCSampler", "function:__GetSecret"]),
]


def self_test(binary: str, store: str, timeout: int) -> list[str]:
    """Classifies the hand-made plans; the differences from what they must give."""
    import tempfile

    errors = []
    with tempfile.TemporaryDirectory() as d:
        for name, text, klass, needs, gaps in SELF_TEST:
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(text)
            r = classify(binary, store, path, timeout)
            got = (r.klass, sorted(r.needs), sorted(r.gaps))
            if got != (klass, needs, gaps):
                errors.append(f"{name}: expected {(klass, needs, gaps)}, got {got}; "
                              f"stderr: {(r.second or r.first).stderr.strip()[:400]}")
    return errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("corpus")
    ap.add_argument("--bin", required=True, help="the loadlake binary")
    ap.add_argument("--store", required=True, help="a scratch store directory")
    ap.add_argument("--timeout", type=int, default=30, help="seconds per validation")
    ap.add_argument("--out", required=True, help="folder for results.tsv and summary.md")
    ap.add_argument("--top", type=int, default=30, help="rows of the fine family table")
    ap.add_argument("--self-test", action="store_true",
                    help="only check the classification on hand-made plans")
    args = ap.parse_args()

    errors = self_test(args.bin, args.store, args.timeout)
    for e in errors:
        print("self-test: " + e, file=sys.stderr)
    if errors:
        print("self-test failed: the CLI's refusal messages no longer read as this script "
              "expects (scripts/lib/plan_corpus.py)", file=sys.stderr)
        return 1
    if args.self_test:
        print(f"self-test: {len(SELF_TEST)} hand-made plans classified as expected")
        return 0

    plans = sorted(
        os.path.join(d, f)
        for d, _, files in os.walk(args.corpus)
        for f in files
        if f.lower().endswith(".jmx")
    )
    if not plans:
        print(f"no .jmx plans under {args.corpus}", file=sys.stderr)
        return 1
    results = []
    for i, plan in enumerate(plans, 1):
        r = classify(args.bin, args.store, plan, args.timeout)
        results.append(r)
        print(f"[{i}/{len(plans)}] ({r.klass}) {os.path.relpath(plan, args.corpus)}",
              file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.tsv"), "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["plan", "class", "needs", "gaps", "as_is_refusals"])
        for r in results:
            w.writerow([os.path.relpath(r.plan, args.corpus), r.klass, ";".join(r.needs),
                        ";".join(r.gaps), " | ".join(x.message for x in r.first.refusals)])
    text = report(results, args.corpus, args.top)
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
