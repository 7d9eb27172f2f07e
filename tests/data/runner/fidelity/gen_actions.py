"""Writes actions.jmx: the Flow Control Action (TestAction) of JMeter 2.13
(tests/data/runner/fidelity/README.md). Thread groups run one after another, so that the last
one's "stop the test" stops nothing else. Run: python3 tests/data/runner/fidelity/gen_actions.py
"""
import os
from jmx import el, s, b, plan, group, http, if_ctl, transaction, loop


def action(name, action_no, target=0, duration=""):
    return el("TestAction", "TestActionGui", "TestAction", name, [
        f'<intProp name="ActionProcessor.action">{action_no}</intProp>',
        f'<intProp name="ActionProcessor.target">{target}</intProp>',
        s("ActionProcessor.duration", duration),
    ])


def counter(var):
    return el("CounterConfig", "CounterConfigGui", "CounterConfig", "iteration " + var, [
        s("CounterConfig.start", 1), s("CounterConfig.end", ""), s("CounterConfig.incr", 1),
        s("CounterConfig.name", var), s("CounterConfig.format", ""),
        b("CounterConfig.per_user", True), b("CounterConfig.reset_on_tg_iteration", False),
    ])


groups = [
    # Pause 300 ms inside a transaction that excludes timers: the pause is no timer, it counts.
    group("Pause", 1, 2, [
        transaction("tx-pause", [
            http("pause-before", "/ok"),
            action("pause 300", 1, 0, "300"),
            http("pause-after", "/ok"),
        ]),
        action("pause not a number", 1, 0, "soon"),
        http("after-bad-pause", "/ok"),
    ]),
    # Stop the current thread in its 2nd iteration: `after` runs in the first only.
    group("Stop thread", 2, 3, [
        counter("i"),
        http("st-before", "/ok"),
        if_ctl("second iteration", '"${i}" == "2"', [action("stop thread", 0, 0)]),
        http("st-after", "/ok"),
    ]),
    # Stop now on the current thread: the same as stop for a thread.
    group("Stop thread now", 1, 3, [
        counter("i"),
        http("stn-before", "/ok"),
        if_ctl("second iteration", '"${i}" == "2"', [action("stop thread now", 2, 0)]),
        http("stn-after", "/ok"),
    ]),
    # Go to the next iteration of the thread's loop in the 2nd iteration, from inside a loop
    # and a transaction: the rest of that iteration is skipped, the transaction is still
    # written (no code; the Flow Control Action counts as one of its samplers). The If is the
    # transaction's last child: a false If before another child makes 2.13 count that child
    # twice (GenericController.nextIsAController calls next() again).
    group("Next loop", 2, 3, [
        counter("i"),
        http("nl-first", "/ok"),
        loop("loop x2", 2, [
            transaction("nl-tx", [
                http("nl-in-tx", "/ok"),
                if_ctl("second iteration", '"${i}" == "2"', [action("next loop", 3, 0)]),
            ]),
            http("nl-in-loop-after", "/ok"),
        ]),
        http("nl-rest", "/ok"),
    ]),
    # Stop the whole test in the 2nd iteration (the last group: nothing else is running).
    group("Stop test", 1, 3, [
        counter("i"),
        http("stt-before", "/ok"),
        # 2.13 asks the threads to stop from another thread: the 500 ms pause lets it happen
        # before `stt-after` (JMeter 5 stops the current thread at once, as loadlake does).
        if_ctl("second iteration", '"${i}" == "2"', [action("stop test", 0, 2),
                                                     action("pause 500", 1, 0, "500")]),
        http("stt-after", "/ok"),
    ]),
]

text = plan("Runner fidelity: Flow Control Action (2.13)",
            "loadlake runner fidelity corpus (tests/data/runner/fidelity/README.md): TestAction "
            "pause, stop thread, stop thread now, next thread loop, stop test", groups,
            serialize=True)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "actions.jmx"), "w") as f:
    f.write(text)
