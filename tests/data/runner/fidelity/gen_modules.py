"""Writes modules.jmx and modules-lib.jmx: Test Fragment, Module Controller, Include Controller
and the Debug Sampler (tests/data/runner/fidelity/README.md).
Run: python3 tests/data/runner/fidelity/gen_modules.py
"""
import os
from jmx import el, s, b, plan, group, http, loop, simple, response_assertion

PLAN = "Runner fidelity: Module and Include Controllers, Test Fragments, Debug Sampler (2.13)"
HERE = os.path.dirname(os.path.abspath(__file__))


def fragment(name, children, enabled=False):
    return el("TestFragmentController", "TestFragmentControllerGui", "TestFragmentController", name,
              [], children, enabled)


def module(name, path):
    names = "".join(s(str(i), p) for i, p in enumerate(["Test Plan", PLAN] + path))
    return el("ModuleController", "ModuleControllerGui", "ModuleController", name,
              [f'<collectionProp name="ModuleController.node_path">{names}</collectionProp>'])


def include(name, path):
    return el("IncludeController", "IncludeControllerGui", "IncludeController", name,
              [s("IncludeController.includepath", path)])


def debug(name, children=()):
    return el("DebugSampler", "TestBeanGUI", "DebugSampler", name, [
        b("displayJMeterProperties", False), b("displayJMeterVariables", True),
        b("displaySystemProperties", False)], children)


def user_parameters(names, values):
    n = "".join(s(str(i), x) for i, x in enumerate(names))
    v = "".join(s(str(i), x) for i, x in enumerate(values))
    return el("UserParameters", "UserParametersGui", "UserParameters", "params", [
        f'<collectionProp name="UserParameters.names">{n}</collectionProp>',
        f'<collectionProp name="UserParameters.thread_values"><collectionProp name="0">{v}</collectionProp></collectionProp>',
        b("UserParameters.per_iteration", False)])


groups = [
    # A disabled Test Fragment (as JMeter's GUI saves one) runs only through Module Controllers.
    fragment("Frag login", [
        http("frag-a", "/ok"),
        http("frag-disabled", "/ok", enabled=False),
        debug("frag-debug", [response_assertion("has u", "u=alice")]),
    ]),
    group("Modules", 2, 2, [
        user_parameters(["u"], ["alice"]),
        module("use frag", ["Frag login"]),
        simple("local ctl", [http("local-a", "/ok")]),
        module("use local", ["Modules", "local ctl"]),
        module("use loop", ["Other", "loop x2"]),
    ]),
    group("Other", 1, 1, [loop("loop x2", 2, [http("loop-step", "/ok")])]),
    group("Include", 1, 2, [include("lib", "modules-lib.jmx")]),
    group("Debug", 1, 2, [
        user_parameters(["u"], ["alice"]),
        debug("debug", [response_assertion("has u", "u=alice")]),
        debug("debug-miss", [response_assertion("no such variable", "nope=")]),
    ]),
]

with open(os.path.join(HERE, "modules.jmx"), "w") as f:
    f.write(plan(PLAN, "loadlake runner fidelity corpus (tests/data/runner/fidelity/README.md): "
                 "Test Fragment, Module Controller, Include Controller, Debug Sampler", groups))

lib = [
    group("Lib group (not run by an include)", 1, 1, [http("lib-group", "/ok")]),
    fragment("Lib fragment", [
        http("lib-a", "/ok"),
        http("lib-disabled", "/ok", enabled=False),
        http("lib-b", "/ok"),
    ]),
    fragment("Second fragment (not included)", [http("lib-second", "/ok")]),
]
with open(os.path.join(HERE, "modules-lib.jmx"), "w") as f:
    f.write(plan("Runner fidelity: the file modules.jmx includes", "included by modules.jmx", lib))
