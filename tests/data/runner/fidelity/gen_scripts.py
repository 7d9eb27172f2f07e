#!/usr/bin/env python3
"""Writes scripts.jmx: the script-element plan of the runner fidelity corpus: BeanShell samplers,
pre- and post-processors and assertions (JMeter 2.13 with jmeter-java; on Java 17 it has no
JSR223 engine for groovy, beanshell or javascript, so JSR223 elements are checked by unit tests).
Run it, then scripts/make-runner-fidelity.sh scripts to record JMeter 2.13's results."""
from xml.sax.saxutils import escape
import os

def prop(name, value):
    return f'<stringProp name="{name}">{escape(value)}</stringProp>'

def http(name, method, path, children="", args=()):
    a = "".join(
        f'<elementProp name="{k}" elementType="HTTPArgument"><boolProp name="HTTPArgument.always_encode">false</boolProp>'
        f'{prop("Argument.value", v)}{prop("Argument.metadata", "=")}<boolProp name="HTTPArgument.use_equals">true</boolProp>{prop("Argument.name", k)}</elementProp>'
        for k, v in args)
    return (f'<HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" testname="{escape(name)}" enabled="true">'
            f'<elementProp name="HTTPsampler.Arguments" elementType="Arguments" guiclass="HTTPArgumentsPanel" testclass="Arguments" enabled="true"><collectionProp name="Arguments.arguments">{a}</collectionProp></elementProp>'
            f'{prop("HTTPSampler.domain", "")}{prop("HTTPSampler.port", "")}{prop("HTTPSampler.protocol", "")}'
            f'{prop("HTTPSampler.path", path)}{prop("HTTPSampler.method", method)}'
            '<boolProp name="HTTPSampler.follow_redirects">true</boolProp><boolProp name="HTTPSampler.use_keepalive">true</boolProp>'
            f'</HTTPSamplerProxy><hashTree>{children}</hashTree>')

def beanshell(cls, name, script, params=""):
    """A BeanShell element as JMeter 2.13's GUI saves it: the Sampler and the Assertion keep
    their script in `BeanShellSampler.query` / `BeanShellAssertion.query`; the pre- and
    post-processors (TestBeans) in `script`."""
    gui = {"BeanShellSampler": "BeanShellSamplerGui", "BeanShellPreProcessor": "TestBeanGUI",
           "BeanShellPostProcessor": "TestBeanGUI", "BeanShellAssertion": "BeanShellAssertionGui"}[cls]
    p = f"{cls}." if cls in ("BeanShellSampler", "BeanShellAssertion") else ""
    return (f'<{cls} guiclass="{gui}" testclass="{cls}" testname="{escape(name)}" enabled="true">'
            f'{prop(p + ("query" if p else "script"), script)}{prop(p + "filename", "")}{prop(p + "parameters", params)}'
            f'<boolProp name="{p}resetInterpreter">false</boolProp>'
            f'</{cls}><hashTree/>')

def group(cls, name, threads, loops, body):
    gui = "SetupThreadGroupGui" if cls == "SetupThreadGroup" else "ThreadGroupGui"
    return (f'<{cls} guiclass="{gui}" testclass="{cls}" testname="{name}" enabled="true">'
            f'{prop("ThreadGroup.on_sample_error", "continue")}'
            '<elementProp name="ThreadGroup.main_controller" elementType="LoopController" guiclass="LoopControlPanel" testclass="LoopController" enabled="true">'
            f'<boolProp name="LoopController.continue_forever">false</boolProp>{prop("LoopController.loops", str(loops))}</elementProp>'
            f'{prop("ThreadGroup.num_threads", str(threads))}{prop("ThreadGroup.ramp_time", "0")}'
            '<boolProp name="ThreadGroup.scheduler">false</boolProp>'
            f'{prop("ThreadGroup.duration", "")}{prop("ThreadGroup.delay", "")}</{cls}><hashTree>{body}</hashTree>')

KEEP_TOKEN = """String body = prev.getResponseDataAsString();
int start = body.indexOf("\\"user_id\\":\\"") + 11;
String id = body.substring(start, body.indexOf("\\"", start));
props.put("token", id);
vars.put("token", id);
log.info("token " + id);"""

SETUP_SAMPLER = """String t = props.get("token");
ResponseCode = "201";
ResponseMessage = "setup saw " + t;
IsSuccess = true;
return "done";"""

COUNT = """String c = vars.get("count");
int n = (c == null) ? 1 : Integer.parseInt(c) + 1;
vars.put("count", String.valueOf(n));"""

EVEN_FAILS = """String body = new String(ResponseData);
String n = body.substring(body.indexOf("n=") + 2);
if (Integer.parseInt(n) % 2 == 0) {
    Failure = true;
    FailureMessage = "even count " + n + " for thread " + ctx.getThreadNum();
}"""

BSH_SAMPLER = """String t = props.get("token");
if (t != null && t.startsWith("u-")) {
    ResponseCode = "299";
    ResponseMessage = "token ok " + t.toUpperCase() + " #" + vars.get("count");
} else {
    IsSuccess = false;
    ResponseCode = "500";
    ResponseMessage = "no token";
}
if (vars.get("count").equals("3")) {
    IsSuccess = false;
}"""

# BeanShellSampler sets the code, message and outcome from ResponseCode, ResponseMessage and
# IsSuccess after the script: SampleResult.setResponseCode is overwritten (code 200 here).
RESULT_SAMPLER = """SampleResult.setResponseCode("203");
SampleResult.setResponseData("x=" + vars.get("count"), "UTF-8");
ResponseMessage = "made by script " + vars.get("count");
if (vars.get("count").equals("2")) {
    IsSuccess = false;
}
return null;"""

EXCLAIM = """prev.setResponseMessage(prev.getResponseMessage() + "! " + prev.getResponseDataAsString());
if (prev.getResponseDataAsString().equals("x=1")) {
    prev.setSuccessful(false);
}"""

SHUFFLE = """String[] parts = "a,b,c".split(",");
String s = "";
for (int i = parts.length - 1; i >= 0; i--) {
    s = s + parts[i];
}
vars.put("shuffled", s + vars.get("count"));"""

CODE_OK = """if (!ResponseCode.equals("200")) {
    Failure = true;
    FailureMessage = "code " + ResponseCode;
}"""

THIRD_FAILS = """if (SampleResult.getResponseDataAsString().indexOf("cba3") >= 0) {
    Failure = true;
    FailureMessage = "third pass: " + SampleResult.getResponseDataAsString();
}"""

setup = group("SetupThreadGroup", "Setup", 1, 1,
              http("login", "POST", "/login", beanshell("BeanShellPostProcessor", "keep token", KEEP_TOKEN), args=[("user", "ann")])
              + beanshell("BeanShellSampler", "setup sampler", SETUP_SAMPLER))
main = group("ThreadGroup", "Main", 2, 3,
             http("echo token", "GET", "/echo?t=${__P(token)}&n=${count}",
                  beanshell("BeanShellPreProcessor", "count", COUNT)
                  + beanshell("BeanShellAssertion", "odd counts only", EVEN_FAILS))
             + beanshell("BeanShellSampler", "bsh sampler", BSH_SAMPLER)
             + beanshell("BeanShellSampler", "result sampler", RESULT_SAMPLER).replace(
                 "<hashTree/>", "<hashTree>" + beanshell("BeanShellPostProcessor", "exclaim", EXCLAIM) + "</hashTree>")
             + http("shuffle", "GET", "/echo?v=${shuffled}",
                    beanshell("BeanShellPreProcessor", "shuffle vars", SHUFFLE)
                    # JMeter 2.13's CSV failureMessage is the first non-null assertion message,
                    # and a passing BeanShell Assertion's is "" (see docs/scripts.md): the
                    # assertion that fails comes first here.
                    + beanshell("BeanShellAssertion", "third pass fails", THIRD_FAILS)
                    + beanshell("BeanShellAssertion", "code is 200", CODE_OK)))

defaults = ('<ConfigTestElement guiclass="HttpDefaultsGui" testclass="ConfigTestElement" testname="HTTP Request Defaults" enabled="true">'
            '<elementProp name="HTTPsampler.Arguments" elementType="Arguments" guiclass="HTTPArgumentsPanel" testclass="Arguments" enabled="true"><collectionProp name="Arguments.arguments"/></elementProp>'
            f'{prop("HTTPSampler.domain", "127.0.0.1")}{prop("HTTPSampler.port", "${__P(fixture.port,18213)}")}'
            f'{prop("HTTPSampler.connect_timeout", "2000")}{prop("HTTPSampler.response_timeout", "3000")}{prop("HTTPSampler.protocol", "http")}'
            '</ConfigTestElement><hashTree/>')

plan = ('<?xml version="1.0" encoding="UTF-8"?>\n<jmeterTestPlan version="1.2" properties="2.8" jmeter="2.13 r1665067"><hashTree>'
        '<TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="Runner fidelity: script elements (2.13)" enabled="true">'
        f'{prop("TestPlan.comments", "loadlake runner fidelity corpus: BeanShell / JSR223 samplers, pre- and post-processors, assertions; a setUp token handed over by props and read with __P at run time")}'
        '<boolProp name="TestPlan.functional_mode">false</boolProp><boolProp name="TestPlan.serialize_threadgroups">false</boolProp>'
        '<elementProp name="TestPlan.user_defined_variables" elementType="Arguments" guiclass="ArgumentsPanel" testclass="Arguments" enabled="true"><collectionProp name="Arguments.arguments"/></elementProp>'
        f'</TestPlan><hashTree>{defaults}{setup}{main}</hashTree></hashTree></jmeterTestPlan>\n')

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts.jmx")
open(out, "w").write(plan)
print("wrote", out)
