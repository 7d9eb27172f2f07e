"""Writes JMeter 2.13-style JMX for the runner fidelity plans made by tests/data/runner/fidelity/gen_*.py.

Each element is a (xml_open_tag_with_props, children) pair; the helpers below write them the way
JMeter 2.13's GUI saves them (same class, gui class and property names), so JMeter 2.13 loads
the files as if they were saved by it.
"""
from xml.sax.saxutils import escape, quoteattr


def s(name, value):
    return f'<stringProp name="{name}">{escape(str(value))}</stringProp>'


def b(name, value):
    return f'<boolProp name="{name}">{"true" if value else "false"}</boolProp>'


def el(tag, gui, testclass, name, props, children=(), enabled=True):
    head = (f'<{tag} guiclass="{gui}" testclass="{testclass}" testname={quoteattr(name)} '
            f'enabled="{"true" if enabled else "false"}">')
    return (head, list(props), f"</{tag}>", list(children))


def write(node, out, depth):
    pad = "  " * depth
    head, props, tail, children = node
    out.append(pad + head)
    out.extend(pad + "  " + p for p in props)
    out.append(pad + tail)
    if children:
        out.append(pad + "<hashTree>")
        for c in children:
            write(c, out, depth + 1)
        out.append(pad + "</hashTree>")
    else:
        out.append(pad + "<hashTree/>")


def plan(name, comment, children, serialize=False):
    tp = el("TestPlan", "TestPlanGui", "TestPlan", name, [
        s("TestPlan.comments", comment),
        b("TestPlan.functional_mode", False),
        b("TestPlan.serialize_threadgroups", serialize),
        '<elementProp name="TestPlan.user_defined_variables" elementType="Arguments" '
        'guiclass="ArgumentsPanel" testclass="Arguments" testname="User Defined Variables" '
        'enabled="true"><collectionProp name="Arguments.arguments"/></elementProp>',
        s("TestPlan.user_define_classpath", ""),
    ], [defaults()] + children)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<jmeterTestPlan version="1.2" properties="2.8" jmeter="2.13 r1665067">',
           "  <hashTree>"]
    write(tp, out, 2)
    out += ["  </hashTree>", "</jmeterTestPlan>", ""]
    return "\n".join(out)


def defaults():
    return el("ConfigTestElement", "HttpDefaultsGui", "ConfigTestElement", "HTTP Request Defaults", [
        '<elementProp name="HTTPsampler.Arguments" elementType="Arguments" guiclass="HTTPArgumentsPanel" '
        'testclass="Arguments" testname="User Defined Variables" enabled="true">'
        '<collectionProp name="Arguments.arguments"/></elementProp>',
        s("HTTPSampler.domain", "127.0.0.1"),
        s("HTTPSampler.port", "${__P(fixture.port,18213)}"),
        s("HTTPSampler.connect_timeout", "2000"),
        s("HTTPSampler.response_timeout", "3000"),
        s("HTTPSampler.protocol", "http"),
        s("HTTPSampler.contentEncoding", ""),
        s("HTTPSampler.path", ""),
        s("HTTPSampler.concurrentPool", "4"),
    ])


def group(name, threads, loops, children, on_error="continue", tag="ThreadGroup", gui="ThreadGroupGui"):
    return el(tag, gui, tag, name, [
        s("ThreadGroup.on_sample_error", on_error),
        '<elementProp name="ThreadGroup.main_controller" elementType="LoopController" '
        'guiclass="LoopControlPanel" testclass="LoopController" testname="Loop Controller" enabled="true">'
        + b("LoopController.continue_forever", False) + s("LoopController.loops", loops) + "</elementProp>",
        s("ThreadGroup.num_threads", threads),
        s("ThreadGroup.ramp_time", "0"),
        '<longProp name="ThreadGroup.start_time">1448150400000</longProp>',
        '<longProp name="ThreadGroup.end_time">1448150400000</longProp>',
        b("ThreadGroup.scheduler", False),
        s("ThreadGroup.duration", ""),
        s("ThreadGroup.delay", ""),
    ], children)


def http(name, path, children=(), method="GET", enabled=True):
    return el("HTTPSamplerProxy", "HttpTestSampleGui", "HTTPSamplerProxy", name, [
        '<elementProp name="HTTPsampler.Arguments" elementType="Arguments" guiclass="HTTPArgumentsPanel" '
        'testclass="Arguments" testname="User Defined Variables" enabled="true">'
        '<collectionProp name="Arguments.arguments"/></elementProp>',
        s("HTTPSampler.domain", ""), s("HTTPSampler.port", ""),
        s("HTTPSampler.connect_timeout", ""), s("HTTPSampler.response_timeout", ""),
        s("HTTPSampler.protocol", ""), s("HTTPSampler.contentEncoding", ""),
        s("HTTPSampler.path", path), s("HTTPSampler.method", method),
        b("HTTPSampler.follow_redirects", True), b("HTTPSampler.auto_redirects", False),
        b("HTTPSampler.use_keepalive", True), b("HTTPSampler.DO_MULTIPART_POST", False),
        b("HTTPSampler.monitor", False), s("HTTPSampler.embedded_url_re", ""),
    ], children, enabled)


def loop(name, loops, children):
    return el("LoopController", "LoopControlPanel", "LoopController", name,
              [b("LoopController.continue_forever", True), s("LoopController.loops", loops)], children)


def simple(name, children, enabled=True):
    return el("GenericController", "LogicControllerGui", "GenericController", name, [], children, enabled)


def transaction(name, children, parent=False):
    return el("TransactionController", "TransactionControllerGui", "TransactionController", name,
              [b("TransactionController.parent", parent), b("TransactionController.includeTimers", False)],
              children)


def if_ctl(name, condition, children):
    return el("IfController", "IfControllerPanel", "IfController", name,
              [s("IfController.condition", condition), b("IfController.evaluateAll", False)], children)


def constant_timer(name, ms):
    return el("ConstantTimer", "ConstantTimerGui", "ConstantTimer", name, [s("ConstantTimer.delay", ms)])


def response_assertion(name, contains, field="Assertion.response_data"):
    return el("ResponseAssertion", "AssertionGui", "ResponseAssertion", name, [
        '<collectionProp name="Asserion.test_strings">' + s("0", contains) + "</collectionProp>",
        s("Assertion.test_field", field),
        b("Assertion.assume_success", False),
        '<intProp name="Assertion.test_type">2</intProp>',
    ])
