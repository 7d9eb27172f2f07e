"""Writes inputs.jmx: what real plans bring that issue 21 made the runner take — a protocol
placeholder left in a template, and multipart/form-data POSTs (tests/data/runner/fidelity/README.md).
Run: python3 tests/data/runner/fidelity/gen_inputs.py

The fixture server's /multipart answers one line per part as Python's email package parses the
body ("name|filename|content type|payload"); each multipart sampler asserts that answer equals
the text written here by hand, so JMeter 2.13 and the runner are both checked against it.
"""
import os
from jmx import el, s, b, plan, group, http, response_assertion


def arg(name, value):
    return (f'<elementProp name="{name}" elementType="HTTPArgument">'
            + b("HTTPArgument.always_encode", False) + s("Argument.value", value)
            + s("Argument.metadata", "=") + b("HTTPArgument.use_equals", True)
            + s("Argument.name", name) + "</elementProp>")


def multipart(name, args, children, encoding="", browser=False):
    return el("HTTPSamplerProxy", "HttpTestSampleGui", "HTTPSamplerProxy", name, [
        '<elementProp name="HTTPsampler.Arguments" elementType="Arguments" guiclass="HTTPArgumentsPanel" '
        'testclass="Arguments" testname="User Defined Variables" enabled="true">'
        '<collectionProp name="Arguments.arguments">' + "".join(arg(k, v) for k, v in args)
        + "</collectionProp></elementProp>",
        s("HTTPSampler.domain", ""), s("HTTPSampler.port", ""),
        s("HTTPSampler.connect_timeout", ""), s("HTTPSampler.response_timeout", ""),
        s("HTTPSampler.protocol", ""), s("HTTPSampler.contentEncoding", encoding),
        s("HTTPSampler.path", "/multipart"), s("HTTPSampler.method", "POST"),
        b("HTTPSampler.follow_redirects", True), b("HTTPSampler.auto_redirects", False),
        b("HTTPSampler.use_keepalive", True), b("HTTPSampler.DO_MULTIPART_POST", True),
        b("HTTPSampler.BROWSER_COMPATIBLE_MULTIPART", browser),
        b("HTTPSampler.monitor", False), s("HTTPSampler.embedded_url_re", ""),
    ], children)


def equals(name, text):
    # test_type 8: Equals.
    return el("ResponseAssertion", "AssertionGui", "ResponseAssertion", name, [
        '<collectionProp name="Asserion.test_strings">' + s("0", text) + "</collectionProp>",
        s("Assertion.test_field", "Assertion.response_data"),
        b("Assertion.assume_success", False),
        '<intProp name="Assertion.test_type">8</intProp>',
    ])


def with_protocol(node, protocol):
    head, props, tail, children = node
    props = [p.replace('name="HTTPSampler.protocol"></stringProp>',
                       f'name="HTTPSampler.protocol">{protocol}</stringProp>') for p in props]
    return (head, props, tail, children)


def java_test(name, params, children=()):
    args = "".join(
        f'<elementProp name="{k}" elementType="Argument">' + s("Argument.name", k) + s("Argument.value", v)
        + s("Argument.metadata", "=") + "</elementProp>" for k, v in params)
    return el("JavaSampler", "JavaTestSamplerGui", "JavaSampler", name, [
        '<elementProp name="arguments" elementType="Arguments" guiclass="ArgumentsPanel" '
        'testclass="Arguments" enabled="true"><collectionProp name="Arguments.arguments">' + args
        + "</collectionProp></elementProp>",
        s("classname", "org.apache.jmeter.protocol.java.test.JavaTest"),
    ], children)


groups = [
    group("Protocol", 1, 2, [
        # A placeholder protocol: java.net.URL throws MalformedURLException before any
        # connection; the sample fails with an empty label (errorResult on a new result).
        with_protocol(http("templated", "/ok"), "PROTOCOL"),
        # A full URL in the path wins over the protocol.
        with_protocol(http("full url", "http://127.0.0.1:${__P(fixture.port,18213)}/ok"), "PROTOCOL"),
        http("after", "/ok"),
    ]),
    group("Multipart", 1, 2, [
        # Blank argument names are skipped (Argument.isSkippable); UTF-8 values as UTF-8.
        multipart("utf-8 parts", [("title", "Grüße"), ("n", "${__threadNum}"), ("", "skipped")],
                  [equals("parts", "title|None|text/plain|Grüße\nn|None|text/plain|1")],
                  encoding="UTF-8"),
        # No content encoding: the parts say US-ASCII; browser-compatible: fewer headers, same parse.
        multipart("browser parts", [("a", "1 2"), ("b", "x&y=z")],
                  [equals("parts", "a|None|text/plain|1 2\nb|None|text/plain|x&y=z")],
                  browser=True),
        multipart("ascii parts", [("line", "one")],
                  [equals("parts", "line|None|text/plain|one")]),
    ]),
    group("Java Request", 2, 2, [
        # JavaTest: the label from Label (else the element's name), code / message / body from
        # the parameters, Status OK (any case) is success; Long.decode reads 0x0F.
        java_test("java named", [("Sleep_Time", "5"), ("Sleep_Mask", "0x0F"), ("Label", ""),
                                 ("ResponseCode", "201"), ("ResponseMessage", "Made"),
                                 ("Status", "ok"), ("ResultData", "hello ${__threadNum}")],
                  [response_assertion("says hello", "hello")]),
        java_test("ignored name", [("Sleep_Time", "0"), ("Label", "java ${__threadNum}"),
                                   ("ResponseCode", "500"), ("ResponseMessage", "Nope"),
                                   ("Status", "FAIL")]),
        java_test("java defaults", [("Sleep_Time", "1"), ("Sleep_Mask", "0")]),
    ]),
]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "inputs.jmx"), "w") as f:
    f.write(plan("Runner fidelity: protocol placeholder and multipart (2.13)",
                 "loadlake runner fidelity corpus (tests/data/runner/fidelity/README.md): "
                 "unknown protocol, multipart/form-data parts", groups))
