"""Writes resources.jmx: embedded resources of HTTP samplers, RegEx User Parameters and the OS
Process Sampler, as JMeter 2.13 has them (tests/data/runner/fidelity/README.md).
Run: python3 tests/data/runner/fidelity/gen_resources.py

Embedded resources use the fixture server's /page (a stylesheet and three images, one of them
404) and /styled (a stylesheet whose url(…) names the missing image, a script, an image).
JMeter 2.13 has no exclude pattern (`embedded_url_exclude_re` came later): `embedded_url_re`
(the URLs to fetch, matched whole) is the filter checked here. The OS Process Sampler runs
/bin/sh and /bin/echo in /tmp (so that a message naming the directory is the same everywhere).
"""
import os
from jmx import el, s, b, plan, group, response_assertion


def arg(name, value):
    return (f'<elementProp name="{name}" elementType="HTTPArgument">'
            + b("HTTPArgument.always_encode", False) + s("Argument.value", value)
            + s("Argument.metadata", "=") + b("HTTPArgument.use_equals", True)
            + s("Argument.name", name) + "</elementProp>")


def http(name, path, children=(), args=(), resources=False, concurrent=False, pool="4", url_re=""):
    props = [
        '<elementProp name="HTTPsampler.Arguments" elementType="Arguments" guiclass="HTTPArgumentsPanel" '
        'testclass="Arguments" testname="User Defined Variables" enabled="true">'
        '<collectionProp name="Arguments.arguments">' + "".join(arg(k, v) for k, v in args)
        + "</collectionProp></elementProp>",
        s("HTTPSampler.domain", ""), s("HTTPSampler.port", ""),
        s("HTTPSampler.connect_timeout", ""), s("HTTPSampler.response_timeout", ""),
        s("HTTPSampler.protocol", ""), s("HTTPSampler.contentEncoding", ""),
        s("HTTPSampler.path", path), s("HTTPSampler.method", "GET"),
        b("HTTPSampler.follow_redirects", True), b("HTTPSampler.auto_redirects", False),
        b("HTTPSampler.use_keepalive", True), b("HTTPSampler.DO_MULTIPART_POST", False),
    ]
    # The 2.13 GUI writes these three only when "Retrieve All Embedded Resources" is ticked.
    if resources:
        props += [b("HTTPSampler.image_parser", True), b("HTTPSampler.concurrentDwn", concurrent),
                  s("HTTPSampler.concurrentPool", pool)]
    props += [b("HTTPSampler.monitor", False), s("HTTPSampler.embedded_url_re", url_re)]
    return el("HTTPSamplerProxy", "HttpTestSampleGui", "HTTPSamplerProxy", name, props, children)


def regex(refname, expr, n=-1, default="NONE"):
    return el("RegexExtractor", "RegexExtractorGui", "RegexExtractor", "extract " + refname, [
        s("RegexExtractor.useHeaders", "false"), s("RegexExtractor.refname", refname),
        s("RegexExtractor.regex", expr), s("RegexExtractor.template", "$1$"),
        s("RegexExtractor.default", default), s("RegexExtractor.match_number", n)])


def regex_params(ref, names="1", values="2"):
    return el("RegExUserParameters", "RegExUserParametersGui", "RegExUserParameters", "params from " + ref, [
        s("RegExUserParameters.regex_ref_name", ref),
        s("RegExUserParameters.param_names_gr_nr", names),
        s("RegExUserParameters.param_values_gr_nr", values)])


def equals(text):
    # test_type 8: Equals.
    return el("ResponseAssertion", "AssertionGui", "ResponseAssertion", "equals", [
        '<collectionProp name="Asserion.test_strings">' + s("0", text) + "</collectionProp>",
        s("Assertion.test_field", "Assertion.response_data"),
        b("Assertion.assume_success", False),
        '<intProp name="Assertion.test_type">8</intProp>',
    ])


def os_process(name, command, args=(), check=False, expected="0", env=(), timeout="", children=()):
    def arguments(pairs):
        return ('<collectionProp name="Arguments.arguments">' + "".join(
            f'<elementProp name="{k}" elementType="Argument">' + s("Argument.name", k)
            + s("Argument.value", v) + s("Argument.metadata", "=") + "</elementProp>"
            for k, v in pairs) + "</collectionProp>")
    return el("SystemSampler", "SystemSamplerGui", "SystemSampler", name, [
        b("SystemSampler.checkReturnCode", check),
        s("SystemSampler.expectedReturnCode", expected),
        s("SystemSampler.command", command),
        '<elementProp name="SystemSampler.arguments" elementType="Arguments" guiclass="ArgumentsPanel" '
        'testclass="Arguments" testname="User Defined Variables" enabled="true">'
        + arguments([("", a) for a in args]) + "</elementProp>",
        '<elementProp name="SystemSampler.environment" elementType="Arguments" guiclass="ArgumentsPanel" '
        'testclass="Arguments" testname="User Defined Variables" enabled="true">'
        + arguments(env) + "</elementProp>",
        s("SystemSampler.directory", "/tmp"),
        s("SystemSampler.timeout", timeout),
    ], children)


groups = [
    # Serial download: /page's stylesheet, logo, banner and the missing image (404).
    group("Resources", 1, 2, [
        http("page", "/page", resources=True),
        # The same page without the box ticked: one plain request.
        http("page-plain", "/page"),
    ]),
    # Concurrent download, pool of 2: the same resources, the same outcome.
    group("Concurrent", 1, 2, [
        http("page-concurrent", "/page", resources=True, concurrent=True, pool="2"),
    ]),
    # embedded_url_re: only URLs it matches as a whole are fetched, so not the missing image.
    group("Filtered", 1, 2, [
        http("page-images-ok", "/page", resources=True, url_re=r"http://127\.0\.0\.1:\d+/img/(logo|banner)\.png"),
        # A part of the URL is not enough: nothing matches, nothing is fetched.
        http("page-partial-re", "/page", resources=True, url_re="missing"),
    ]),
    # /styled: its stylesheet names /img/missing.png in url(…). JMeter 2.13 parses HTML only
    # (HTTPResponse.parsers = htmlParser wmlParser), so the stylesheet's own URLs are not
    # fetched and the page passes.
    group("Stylesheet", 1, 2, [
        http("styled", "/styled", resources=True),
    ]),
    # A page reached by a redirect (followed by JMeter): its resources are fetched for the
    # final page.
    group("Redirected", 1, 2, [
        http("page-after-redirect", "/redirect?to=/page", resources=True),
    ]),
    # RegEx User Parameters: a Regex Extractor (match -1, two groups) reads name:value pairs from
    # /echo; before the next HTTP sampler the arguments whose names were found get the values
    # (the last pair of a name wins); others keep theirs.
    group("RegEx params", 1, 2, [
        http("pairs", "/echo", args=[("a", "user:carol"), ("b", "role:admin"), ("c", "user:dave")],
             children=[regex("P", r"(\w+):(\w+)")]),
        http("apply", "/echo", args=[("user", "alice"), ("role", "buyer"), ("other", "x")],
             children=[regex_params("P"), equals("user=dave&role=admin&other=x")]),
        # Outside that pre-processor's scope: the plan's values again.
        http("after", "/echo", args=[("user", "alice"), ("role", "buyer")],
             children=[equals("user=alice&role=buyer")]),
        # A reference name without matches (`Q_matchNr` = 0): nothing changes.
        http("no-match", "/echo?q=nothing", children=[regex("Q", r"(\d+)=(\d+)")]),
        http("unchanged", "/echo", args=[("user", "alice")],
             children=[regex_params("Q"), equals("user=alice")]),
        # Groups swapped (names from group 2): `carol`, `admin`, `dave` are no argument names.
        http("swapped", "/echo", args=[("user", "alice"), ("admin", "no")],
             children=[regex_params("P", "2", "1"), equals("user=alice&admin=role")]),
    ]),
    # OS Process Sampler: exit codes, the expected code, the output as the body, environment,
    # a timeout and a command that cannot start.
    group("OS process", 1, 2, [
        os_process("echo", "/bin/echo", ["hello", "${__threadNum}"], check=True,
                   children=[equals("hello 1\n")]),
        os_process("exit-3-expected", "/bin/sh", ["-c", "exit 3"], check=True, expected="3"),
        os_process("exit-3-unexpected", "/bin/sh", ["-c", "exit 3"], check=True, expected="0"),
        os_process("exit-3-unchecked", "/bin/sh", ["-c", "exit 3"]),
        os_process("env-and-stderr", "/bin/sh", ["-c", "echo $GREETING; echo oops >&2"],
                   env=[("GREETING", "hi there")], children=[equals("hi there\noops\n")]),
        os_process("timeout", "/bin/sleep", ["2"], timeout="200"),
        os_process("missing", "/nonexistent/command", check=True),
    ]),
]

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "resources.jmx"), "w") as f:
    f.write(plan("Runner fidelity: embedded resources, RegEx User Parameters, OS Process (2.13)",
                 "loadlake runner fidelity corpus (tests/data/runner/fidelity/README.md): "
                 "Retrieve All Embedded Resources, RegExUserParameters, SystemSampler", groups))
