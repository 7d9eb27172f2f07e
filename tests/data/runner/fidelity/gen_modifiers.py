"""Writes modifiers.jmx: Counter Config and User Parameters (tests/data/runner/fidelity/README.md).

Sampler names carry the variables (`shared ${c}`), so the per-label counts JMeter 2.13 writes are
the values the elements gave. Run: python3 tests/data/runner/fidelity/gen_modifiers.py
"""
import os
from jmx import el, s, b, plan, group, http, loop


def counter(name, var, start, end, incr, fmt="", per_user=False, reset=False):
    return el("CounterConfig", "CounterConfigGui", "CounterConfig", name, [
        s("CounterConfig.start", start), s("CounterConfig.end", end), s("CounterConfig.incr", incr),
        s("CounterConfig.name", var), s("CounterConfig.format", fmt),
        b("CounterConfig.per_user", per_user), b("CounterConfig.reset_on_tg_iteration", reset),
    ])


def user_parameters(name, names, columns, per_iteration=False):
    names_xml = "".join(s(str(i), n) for i, n in enumerate(names))
    cols = "".join(
        f'<collectionProp name="{i}">' + "".join(s(str(j), v) for j, v in enumerate(col)) + "</collectionProp>"
        for i, col in enumerate(columns))
    return el("UserParameters", "UserParametersGui", "UserParameters", name, [
        f'<collectionProp name="UserParameters.names">{names_xml}</collectionProp>',
        f'<collectionProp name="UserParameters.thread_values">{cols}</collectionProp>',
        b("UserParameters.per_iteration", per_iteration),
    ])


groups = [
    # A shared counter 1..4 with a format: 6 draws over 2 threads = 1 2 3 4 1 2 in some order.
    group("Counter shared", 2, 3, [
        counter("shared counter", "c", 1, 4, 1, fmt="c-00"),
        http("shared ${c}", "/ok"),
    ]),
    # Per user 10, 15, 20, then past end 20 → 10: each of 2 threads 10 15 20 10.
    group("Counter per user", 2, 4, [
        counter("per-user counter", "p", 10, 20, 5, per_user=True),
        http("per-user ${p}", "/ok"),
    ]),
    # Counters inside a Loop Controller fire on its passes; the reset one restarts in each new
    # thread-group iteration (0 1 2 per iteration), the other counts on (0..5).
    group("Counter reset", 1, 2, [
        loop("loop x3", 3, [
            counter("reset counter", "r", 0, "", 1, per_user=True, reset=True),
            counter("running counter", "k", 0, "", 1, per_user=True),
            http("reset ${r} running ${k}", "/ok"),
        ]),
    ]),
    # Not per iteration: set before each sampler in scope, so __counter steps per sampler;
    # thread n takes column (n-1) % 2; a later value reads the earlier one's new value.
    group("Parameters per sampler", 3, 2, [
        user_parameters("params", ["u", "n"], [["alice", "${__counter(TRUE,)}"],
                                                 ["bob", "${u}-${__counter(TRUE,)}"]]),
        http("A ${u} ${n}", "/ok"),
        http("B ${u} ${n}", "/ok"),
    ]),
    # Per iteration: set once per thread-group iteration, both samplers see the same value.
    group("Parameters per iteration", 2, 3, [
        user_parameters("params", ["q"], [["${__counter(TRUE,)}"]], per_iteration=True),
        http("first ${q}", "/ok"),
        http("second ${q}", "/ok"),
    ]),
    # A User Parameters element under a sampler applies to that sampler only (the variable
    # then stays set): `before ${s}` is literal in the first iteration.
    group("Parameters scoped", 1, 2, [
        http("before ${s}", "/ok"),
        http("scoped ${s}", "/ok", [user_parameters("inner", ["s"], [["in"]])]),
        http("after ${s}", "/ok"),
    ]),
]

text = plan("Runner fidelity: Counter Config and User Parameters (2.13)",
            "loadlake runner fidelity corpus (tests/data/runner/fidelity/README.md): Counter Config "
            "(shared, per user, reset per thread-group iteration, format) and User Parameters "
            "(per sampler, per iteration, columns per thread, scope)", groups)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "modifiers.jmx"), "w") as f:
    f.write(text)
