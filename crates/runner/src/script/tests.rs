//! Unit tests of the script interpreter: every supported construct with hand-computed results
//! (Java / Groovy / JavaScript semantics as their documentation gives them), parse errors with
//! their lines, and each refusal.

use std::collections::{BTreeMap, HashMap};

use super::value::Value;
use super::{Bindings, Dialect, LiveProps, Script, ScriptError, ScriptSample, Verdict};
use crate::text::template::UserCtx;

/// Runs `src` for user 3 with `vars`; the result, the variables after, and the properties.
fn run_with(
    src: &str,
    d: Dialect,
    vars: &[(&str, &str)],
    sample: Option<&mut ScriptSample>,
) -> (
    Result<Value, ScriptError>,
    HashMap<String, String>,
    LiveProps,
) {
    let props = LiveProps::new(&BTreeMap::from([(
        "env".to_string(),
        "staging".to_string(),
    )]));
    let vars = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut user = UserCtx::new(vars, 3);
    user.thread_name = std::sync::Arc::from("Shop 1-3");
    let script = match Script::compile(src, d, None) {
        Ok(s) => s,
        Err(e) => return (Err(e), user.vars, props),
    };
    let mut verdict = Verdict::default();
    let mut b = Bindings {
        user: &mut user,
        props: &props,
        sample,
        verdict: Some(&mut verdict),
        sampler_name: "Login",
        element: "test",
        base_dir: "/plans/shop",
        params: "a b",
        sleep_ms: 0,
        header_edits: Vec::new(),
    };
    let r = script.run(&mut b, &mut HashMap::new());
    (r, user.vars, props)
}

/// The text of `src`'s result in `d`.
fn eval(src: &str, d: Dialect) -> String {
    match run_with(src, d, &[], None).0 {
        Ok(v) => v.text(d),
        Err(e) => format!("ERR {e}"),
    }
}

fn groovy(src: &str) -> String {
    eval(src, Dialect::Groovy)
}

fn refused(src: &str, d: Dialect) -> String {
    match Script::compile(src, d, None) {
        Err(e) => e.to_string(),
        Ok(_) => format!("accepted: {src}"),
    }
}

#[test]
fn arithmetic_follows_each_language() {
    // Java: integer division truncates; Groovy: 7/2 is the BigDecimal 3.5; JavaScript: 3.5.
    assert_eq!(eval("return 7 / 2", Dialect::Java), "3");
    assert_eq!(groovy("return 7 / 2"), "3.5");
    assert_eq!(eval("return 7 / 2", Dialect::JavaScript), "3.5");
    assert_eq!(groovy("return 8 / 2"), "4");
    assert_eq!(eval("return -7 % 3", Dialect::Java), "-1");
    assert_eq!(eval("return 1 + 2 * 3 - 4", Dialect::Java), "3");
    // String concatenation is left to right: 1 + 2 + "x" is "3x", "x" + 1 + 2 is "x12".
    assert_eq!(eval("return 1 + 2 + \"x\" + 1 + 2", Dialect::Java), "3x12");
    assert_eq!(eval("double d = 2; return d", Dialect::Java), "2.0");
    assert_eq!(eval("var d = 2.0; return d", Dialect::JavaScript), "2");
    assert!(eval("return 1 / 0", Dialect::Java).contains("/ by zero"));
}

#[test]
fn statements_and_control_flow() {
    let src = r#"
        int sum = 0
        for (int i = 0; i < 10; i++) {
            if (i % 2 == 0) { continue; }
            if (i > 7) break
            sum += i
        }
        def n = 0
        while (n < 3) { n++ }
        String s = ""
        for (String p : "a,b,c".split(",")) { s = s + p.toUpperCase() }
        for (x in [1, 2]) { s += x }
        return sum + "/" + n + "/" + s
    "#;
    // 1 + 3 + 5 + 7 = 16
    assert_eq!(groovy(src), "16/3/ABC12");
    assert_eq!(
        groovy("def a = null\nreturn (a ?: 'dflt') + (a?.length() == null ? '!' : '?')"),
        "dflt!"
    );
    assert_eq!(
        groovy("def x = 5\nx *= 2\nx -= 1\nreturn x > 8 && !(x == 10) ? 'yes' : 'no'"),
        "yes"
    );
    assert_eq!(
        groovy(
            "try { throw new Exception('boom') } catch (Exception e) { return 'caught ' + e.getMessage() }"
        ),
        "caught boom"
    );
    // Without `return`, a Groovy script's value is its last expression.
    assert_eq!(groovy("def a = 2\na * 21"), "42");
    assert!(groovy("while (true) { }").contains("more than 10000000 steps"));
}

#[test]
fn string_methods_are_javas() {
    let src = r##"
        String s = "  Hello, World  ".trim()
        return s.length() + "|" + s.substring(7) + "|" + s.substring(0, 5).toLowerCase() + "|" +
            s.indexOf("o") + "|" + s.lastIndexOf("o") + "|" + s.replace("l", "L") + "|" +
            s.contains("World") + s.startsWith("He") + s.endsWith("x") + "|" + s.charAt(4) + "|" +
            "a1b22c".replaceAll("[0-9]+", "#") + "|" + "k=v".replaceAll("(\\w)=(\\w)", "$2=$1") + "|" +
            "a,b,,".split(",").length + "|" + "ab".equals("ab") + "ab".equalsIgnoreCase("AB")
    "##;
    assert_eq!(
        groovy(src),
        "12|World|hello|4|8|HeLLo, WorLd|truetruefalse|o|a#b#c|v=k|2|truetrue"
    );
    assert_eq!(
        eval(
            "String.format(\"%s-%05d-%.2f\", \"id\", 42, 3.14159)",
            Dialect::Java
        ),
        "id-00042-3.14"
    );
    assert!(groovy("'abc'.substring(5)").contains("StringIndexOutOfBoundsException"));
}

#[test]
fn numbers_and_conversions() {
    assert_eq!(
        eval(
            "int a = Integer.parseInt(\"41\") + 1; long b = Long.parseLong(\"7\"); return String.valueOf(a) + b",
            Dialect::Java
        ),
        "427"
    );
    assert_eq!(groovy("return '12'.toInteger() + ('3' as Integer)"), "15");
    assert_eq!(
        eval("parseInt('12px') + parseFloat('0.5')", Dialect::JavaScript),
        "12.5"
    );
    assert_eq!(eval("return (int) 3.9", Dialect::Java), "3");
    // An array declaration keeps the array: the last element, not a character of its text.
    assert_eq!(
        eval(
            "String[] p = \"a,b,c\".split(\",\"); return p[p.length - 1];",
            Dialect::Java
        ),
        "c"
    );
    assert_eq!(groovy("List<String> l = ['x', 'y']\nl.size()"), "2");
    assert!(
        groovy("Integer.parseInt('x1')")
            .contains("NumberFormatException: For input string: \"x1\"")
    );
    assert_eq!(eval("'5' == 5", Dialect::JavaScript), "true");
    assert_eq!(eval("'5' === 5", Dialect::JavaScript), "false");
    assert_eq!(groovy("Math.max(3, 9) + Math.abs(-2)"), "11");
}

#[test]
fn json_in_groovy_and_javascript() {
    let body = r#"{"data":{"token":"abc","items":[{"id":7},{"id":9}]}}"#;
    let mut prev = ScriptSample {
        body: body.into(),
        code: "200".into(),
        success: true,
        ..ScriptSample::default()
    };
    let src = "def json = new groovy.json.JsonSlurper().parseText(prev.getResponseDataAsString())\n\
               vars.put('token', json.data.token)\n\
               vars.put('second', json.data.items[1].id.toString())\n\
               vars.put('n', String.valueOf(json.data.items.size()))";
    let (r, vars, _) = run_with(src, Dialect::Groovy, &[], Some(&mut prev));
    r.unwrap();
    assert_eq!(
        (
            vars["token"].as_str(),
            vars["second"].as_str(),
            vars["n"].as_str()
        ),
        ("abc", "9", "2")
    );
    let src = "var o = JSON.parse(prev.getResponseDataAsString()); vars.put('t', o.data.token + o.data.items.length); JSON.stringify({a: 1, b: [true, null]})";
    let (r, vars, _) = run_with(src, Dialect::JavaScript, &[], Some(&mut prev));
    assert_eq!(
        r.unwrap().text(Dialect::JavaScript),
        r#"{"a":1,"b":[true,null]}"#
    );
    assert_eq!(vars["t"], "abc2");
}

#[test]
fn jmeter_objects() {
    let mut prev = ScriptSample {
        label: "Home".into(),
        code: "404".into(),
        message: "Not Found".into(),
        success: false,
        elapsed_ms: 12,
        ..ScriptSample::default()
    };
    let src = r#"
        vars.put("copy", vars.get("in") + "!")
        props.put("token", "t-" + ctx.getThreadNum())
        JMeterUtils.setProperty("other", props.get("env"))
        log.info("hello " + sampler.getName())
        if (prev.getResponseCode() == "404") {
            prev.setSuccessful(true)
            prev.setResponseMessage("tolerated " + prev.getTime())
        }
        vars.put("dir", FileServer.getFileServer().getBaseDir() + File.separator + "data.csv")
        vars.put("params", Parameters + "/" + args.length)
        vars.put("none", String.valueOf(vars.get("missing")))
        Thread.sleep(5)
    "#;
    let (r, vars, props) = run_with(src, Dialect::Java, &[("in", "x")], Some(&mut prev));
    r.unwrap();
    assert_eq!(vars["copy"], "x!");
    // ctx.getThreadNum() is 0-based: user 3 is thread 2.
    assert_eq!(props.get("token").as_deref(), Some("t-2"));
    assert_eq!(props.get("other").as_deref(), Some("staging"));
    assert!(prev.success);
    assert_eq!(prev.message, "tolerated 12");
    assert_eq!(vars["dir"], "/plans/shop/data.csv");
    assert_eq!(vars["params"], "a b/2");
    assert_eq!(vars["none"], "null");
    // The thread and its group, as JMeter names them.
    assert_eq!(
        eval(
            "Thread.currentThread().getName() + '|' + ctx.getThreadGroup().getName() + '|' + ctx.getThread().getThreadName()",
            Dialect::Groovy
        ),
        "Shop 1-3|Shop|Shop 1-3"
    );
    // Groovy's property syntax for getters.
    let (r, _, _) = run_with(
        "prev.responseCode + prev.successful",
        Dialect::Groovy,
        &[],
        Some(&mut prev),
    );
    assert_eq!(r.unwrap().text(Dialect::Groovy), "404true");
}

#[test]
fn environment_time_random_and_ids() {
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(eval("System.getenv('PATH')", Dialect::Java), path);
    assert_eq!(
        eval("System.getenv('LOADLAKE_SURELY_UNSET_42')", Dialect::Java),
        "null"
    );
    let before = crate::http::client::now_ms();
    let t: i64 = groovy("System.currentTimeMillis()").parse().unwrap();
    assert!(t >= before && t < before + 60_000);
    // 2023-11-14T22:13:20.123Z
    assert_eq!(
        groovy(
            "new java.text.SimpleDateFormat('yyyy-MM-dd HH:mm:ss.SSS').format(new Date(1700000000123))"
        ),
        "2023-11-14 22:13:20.123"
    );
    assert_eq!(groovy("new Date(1700000000123).getTime()"), "1700000000123");
    for _ in 0..200 {
        let n: i64 = eval("new java.util.Random().nextInt(3)", Dialect::Java)
            .parse()
            .unwrap();
        assert!((0..3).contains(&n));
    }
    for _ in 0..200 {
        let n: i64 = eval(
            "java.util.concurrent.ThreadLocalRandom.current().nextInt(5, 8)",
            Dialect::Java,
        )
        .parse()
        .unwrap();
        assert!((5..8).contains(&n), "{n}");
    }
    let id = groovy("UUID.randomUUID().toString()");
    assert_eq!(
        (id.len(), id.as_bytes()[14], id.as_bytes()[8]),
        (36, b'4', b'-')
    );
    let s = groovy("org.apache.commons.lang3.RandomStringUtils.randomNumeric(6)");
    assert!(s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()), "{s}");
}

#[test]
fn groovy_strings_interpolate() {
    let (r, _, _) = run_with(
        "def user = 'ann'\ndef n = 2\n\"${user}-$n-${n * 3}-\\$x\"",
        Dialect::Groovy,
        &[],
        None,
    );
    assert_eq!(r.unwrap().text(Dialect::Groovy), "ann-2-6-$x");
    // Not in Java or JavaScript strings.
    assert_eq!(eval("return \"$n\"", Dialect::Java), "$n");
}

#[test]
fn syntax_errors_name_the_line() {
    assert_eq!(
        refused("int a = 1;\nint b = (2;\n", Dialect::Java),
        "script line 2: syntax error: expected ')', found ';'"
    );
    assert_eq!(
        refused("x = 1\nif (x {", Dialect::Groovy),
        "script line 2: syntax error: expected ')', found '{'"
    );
    assert_eq!(
        refused("a = 'open", Dialect::Groovy),
        "script line 1: syntax error: a string is not closed"
    );
}

#[test]
fn constructs_outside_the_subset_are_refused_with_line_and_construct() {
    let cases = [
        (
            "def x = 1\n\n\ndef s = new java.net.Socket('h', 1)",
            "script line 4: 'new java.net.Socket' is not supported",
        ),
        (
            "[1, 2].each { println it }",
            "script line 1: closures ('.each { … }') is not supported",
        ),
        (
            "def f = { x -> x }",
            "script line 1: closures is not supported",
        ),
        (
            "x = 1\ny = foo + 1",
            "script line 2: 'foo' is not supported",
        ),
        (
            "vars.frobnicate('a')",
            "script line 1: '.frobnicate()' is not supported",
        ),
        (
            "import java.sql.DriverManager",
            "script line 1: 'import java.sql.DriverManager' is not supported",
        ),
        ("a = 3 & 1", "script line 1: '&' is not supported"),
        ("class A {}", "script line 1: 'class' is not supported"),
        ("switch (x) { }", "script line 1: 'switch' is not supported"),
        (
            "def r = java.lang.Runtime.getRuntime()",
            "script line 1: 'java.lang.Runtime' is not supported",
        ),
        ("eval('1')", "script line 1: 'eval()' is not supported"),
        (
            "Socket s = null",
            "script line 1: 'Socket' is not supported",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(refused(src, Dialect::Groovy), want, "{src}");
    }
    assert_eq!(
        refused("function f() { return 1 }", Dialect::JavaScript),
        "script line 1: 'function' is not supported"
    );
    // Known imports are accepted (and change nothing).
    assert_eq!(
        eval(
            "import org.apache.jmeter.util.JMeterUtils;\nimport groovy.json.*\nreturn 1",
            Dialect::Groovy
        ),
        "1"
    );
}

#[test]
fn run_time_errors_carry_the_line() {
    assert_eq!(
        groovy("def a = 1\ndef b = null\nb.length()"),
        "ERR script line 3: NullPointerException: cannot invoke method length() on null object"
    );
}

#[test]
fn groovy_and_beanshell_functions_run_in_templates() {
    use crate::text::template::tests::{render, user};
    let mut u = user(&[("n", "4")]);
    // `${n}` is substituted first (JMeter renders the argument), then the script runs; the
    // second argument names a variable for the result.
    assert_eq!(render("${__groovy(${n} * 2 + 1,r)}", &mut u), "9");
    assert_eq!(u.vars["r"], "9");
    assert_eq!(
        render("${__groovy(vars.get('n').toInteger() / 8)}", &mut u),
        "0.5"
    );
    assert_eq!(render("${__BeanShell(7 / 2)}", &mut u), "3");
    assert_eq!(render("[${__groovy(vars.get('none'))}]", &mut u), "[]");
    // Refused when the plan is compiled, naming the construct.
    assert!(
        crate::text::template::tests::invalid("${__groovy(new java.net.Socket())}")
            .contains("'new java.net.Socket' is not supported")
    );
}

/// Time per run of a typical post-processor script (parse a JSON body, `vars.put` two values)
/// in this build; run with `--run-ignored only --no-capture`. Checks that it ran each time.
#[test]
#[ignore = "a measurement, run on demand"]
fn script_run_cost() {
    let src = "def json = new groovy.json.JsonSlurper().parseText(prev.getResponseDataAsString())\nvars.put('first', json.items[0].id.toString())\nvars.put('total', String.valueOf(json.total))";
    let mut prev = ScriptSample {
        body: r#"{"items":[{"id":7,"name":"a"},{"id":8,"name":"b"}],"total":2}"#.into(),
        ..ScriptSample::default()
    };
    let props = LiveProps::default();
    let mut user = UserCtx::new(HashMap::new(), 1);
    let script = Script::compile(src, Dialect::Groovy, None).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..20_000 {
        let mut b = Bindings {
            user: &mut user,
            props: &props,
            sample: Some(&mut prev),
            verdict: None,
            sampler_name: "",
            element: "",
            base_dir: "",
            params: "",
            sleep_ms: 0,
            header_edits: Vec::new(),
        };
        script.run(&mut b, &mut HashMap::new()).unwrap();
    }
    println!("{:?} per run", t.elapsed() / 20_000);
    assert_eq!(
        (user.vars["first"].as_str(), user.vars["total"].as_str()),
        ("7", "2")
    );
}
