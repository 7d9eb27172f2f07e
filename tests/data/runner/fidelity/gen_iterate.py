"""Writes iterate.jmx: ForEach and Interleave Controllers (tests/data/runner/fidelity/README.md).
Run: python3 tests/data/runner/fidelity/gen_iterate.py
"""
import os
from jmx import el, s, b, plan, group, http, simple, loop


def regex(refname, expr, n):
    return el("RegexExtractor", "RegexExtractorGui", "RegexExtractor", "extract " + refname, [
        s("RegexExtractor.useHeaders", "false"), s("RegexExtractor.refname", refname),
        s("RegexExtractor.regex", expr), s("RegexExtractor.template", "$1$"),
        s("RegexExtractor.default", "NONE"), s("RegexExtractor.match_number", n)])


def foreach(name, inp, out, children, start=None, end=None, sep=True):
    # JMeter's GUI leaves an empty index out (setProperty with default ""): None here.
    props = [s("ForeachController.inputVal", inp), s("ForeachController.returnVal", out),
             b("ForeachController.useSeparator", sep)]
    if start is not None:
        props.append(s("ForeachController.startIndex", start))
    if end is not None:
        props.append(s("ForeachController.endIndex", end))
    return el("ForeachController", "ForeachControlPanel", "ForeachController", name, props,
              children)


def interleave(name, children, style=1):
    return el("InterleaveControl", "InterleaveControlGui", "InterleaveControl", name,
              [f'<intProp name="InterleaveControl.style">{style}</intProp>'], children)


groups = [
    group("ForEach", 1, 2, [
        http("items", "/items?n=3", [regex("id", '"id":"(i-[0-9]+)"', -1)]),
        foreach("each id", "id", "item", [http("each ${item}", "/echo?i=${item}")]),
        # Start 1 (exclusive) and end 2 (inclusive): id_2 only.
        foreach("range", "id", "item", [http("range ${item}", "/ok")], start="1", end="2"),
        # Without the separator the prefix is written out whole.
        foreach("no separator", "id_", "item", [http("nosep ${item}", "/ok")], sep=False),
        # An end index written empty (hand-made; the GUI leaves it out) reads as 0: no pass.
        foreach("empty end", "id", "item", [http("empty-end ${item}", "/ok")], start="", end=""),
        # No variable id_1: no pass.
        foreach("none", "nothing", "item", [http("never", "/ok")]),
    ]),
    group("Interleave", 2, 4, [
        interleave("il", [
            http("il-a", "/ok"),
            http("il-b", "/ok"),
            simple("block", [http("il-c1", "/ok"), http("il-c2", "/ok")]),
        ]),
    ]),
    group("Interleave in loop", 1, 1, [
        loop("loop x5", 5, [interleave("il2", [http("il2-a", "/ok"), http("il2-b", "/ok")])]),
    ]),
]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "iterate.jmx"), "w") as f:
    f.write(plan("Runner fidelity: ForEach and Interleave Controllers (2.13)",
                 "loadlake runner fidelity corpus (tests/data/runner/fidelity/README.md)", groups))
