//! Every upstream JMX fixture (JMeter 1.8-format to 6.0-dev) parses, and facts read by eye from
//! the files come out of the tree and the summary.

use std::path::PathBuf;

use loadlake_plan::{Plan, Prop, TestElement, ThreadGroupKind, ThreadGroupSummary};

fn plans_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/jmeter-upstream/plans");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: upstream JMX fixtures not found at {}",
            dir.display()
        );
        None
    }
}

/// Parses `name` from the fixtures, or `None` (after a skip message) when they are absent.
fn plan(name: &str) -> Option<Plan> {
    let path = plans_dir()?.join(name);
    Some(Plan::from_path(&path).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn find<'a>(plan: &'a Plan, name: &str) -> &'a TestElement {
    plan.all_elements()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no element named {name:?}"))
}

fn group<'a>(groups: &'a [ThreadGroupSummary], name: &str) -> &'a ThreadGroupSummary {
    groups
        .iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("no thread group {name:?}"))
}

#[test]
fn every_fixture_plan_parses() {
    let Some(dir) = plans_dir() else { return };
    let mut count = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read plans dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jmx"))
        .collect();
    entries.sort();
    for path in entries {
        let plan = Plan::from_path(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = path.display();
        assert_eq!(plan.version.as_deref(), Some("1.2"), "{name}");
        assert!(plan.test_plan().is_some(), "{name}: no TestPlan");
        let groups = plan.thread_groups();
        assert!(!groups.is_empty(), "{name}: no thread group");
        for g in &groups {
            assert!(
                g.num_threads.is_some(),
                "{name}: {} has no num_threads",
                g.name
            );
        }
        // Every element has a class, and the tree's line numbers point at its start tag.
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        for el in plan.all_elements() {
            assert!(!el.test_class.is_empty(), "{name}");
            let line = lines[(el.line - 1) as usize];
            assert!(
                line.trim_start().starts_with(&format!("<{}", el.tag)),
                "{name}:{}: {line}",
                el.line
            );
        }
        // The summary serialises for the manifest and reads back unchanged.
        let summary = plan.summary();
        let json = serde_json::to_string(&summary).expect("serialise");
        let back: loadlake_plan::PlanSummary = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, summary, "{name}");
        count += 1;
    }
    assert_eq!(count, 20, "expected the 20 upstream .jmx files");
}

#[test]
fn simple_test_plan_old_format_with_legacy_http_sampler() {
    let Some(plan) = plan("SimpleTestPlan.jmx") else {
        return;
    };
    assert_eq!(plan.properties.as_deref(), Some("2.1"));
    assert_eq!(plan.jmeter, None);
    assert_eq!(plan.test_plan_name(), Some("Test Plan"));
    let groups = plan.thread_groups();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.name, "Jakarta Users");
    assert_eq!(g.kind, ThreadGroupKind::Regular);
    assert!(g.enabled);
    assert_eq!(g.num_threads.as_deref(), Some("1"));
    assert_eq!(g.ramp_time.as_deref(), Some("0"));
    assert_eq!(g.loops.as_deref(), Some("1"));
    assert!(!g.scheduler);
    assert_eq!(g.on_sample_error.as_deref(), Some("continue"));
    assert_eq!(g.duration.as_deref(), Some(""));
    assert_eq!(g.delay.as_deref(), Some(""));
    assert_eq!(
        g.samplers,
        ["Home Page", "News Page", "Home Page", "History Page"]
    );
    assert!(g.transactions.is_empty());

    let home = find(&plan, "Home Page");
    assert_eq!(home.tag, "HTTPSampler");
    assert!(home.is_sampler());
    assert_eq!(home.prop_str("HTTPSampler.path"), Some("/ant/index.html"));
    assert_eq!(home.prop_bool("HTTPSampler.follow_redirects"), Some(true));
    // A boolean written as a stringProp reads the same.
    assert_eq!(home.prop_bool("HTTPSampler.monitor"), Some(false));

    // Legacy longProps survive.
    let tg = find(&plan, "Jakarta Users");
    assert!(
        matches!(tg.prop("ThreadGroup.start_time"), Some(Prop::Long(s)) if s == "1211836583000")
    );
    assert_eq!(tg.prop_i64("ThreadGroup.end_time"), Some(1_211_836_583_000));

    // objProp saveConfig: <name> child is the property name, <value> kept as a node.
    let reporter = find(&plan, "File Reporter");
    let save = reporter
        .prop("saveConfig")
        .and_then(Prop::as_obj)
        .expect("saveConfig");
    assert_eq!(save.attr("class"), Some("SampleSaveConfiguration"));
    assert_eq!(save.child_text("time"), Some("true"));
    assert_eq!(save.child_text("assertionsResultsToSave"), Some("0"));
    assert_eq!(save.children.len(), 22);
    assert_eq!(save.text, "");

    // The TestPlan's empty collection and its nested UDV element.
    let tp = plan.test_plan().expect("test plan");
    assert_eq!(
        tp.prop_collection("TestPlan.thread_groups")
            .map(|c| c.len()),
        Some(0)
    );
    let udv = tp
        .prop_element("TestPlan.user_defined_variables")
        .expect("udv");
    assert_eq!(udv.element_type, "Arguments");
    assert_eq!(udv.test_name.as_deref(), Some("Argument List"));
}

#[test]
fn bug52968_transaction_controllers() {
    let Some(plan) = plan("Bug52968.jmx") else {
        return;
    };
    let groups = plan.thread_groups();
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "TG0-SNL", "TG1-SNL", "TG2-SNL", "TG3-SNL", "TG4-SNL", "TG5-SNL", "TG6-SNL", "TG7-SNL",
            "TG8-SNL", "TG9-SNL"
        ]
    );
    for g in &groups {
        assert_eq!(
            g.on_sample_error.as_deref(),
            Some("startnextloop"),
            "{}",
            g.name
        );
        assert_eq!(g.loops.as_deref(), Some("3"), "{}", g.name);
        assert_eq!(g.num_threads.as_deref(), Some("1"), "{}", g.name);
        assert_eq!(g.transactions.len(), 1, "{}", g.name);
    }
    let tg0 = group(&groups, "TG0-SNL");
    assert_eq!(tg0.transactions, ["TC-NOPARENT-1"]);
    assert_eq!(tg0.samplers, ["TNP1-JR0", "JR-MUSTEXECUTE"]);
    let tg4 = group(&groups, "TG4-SNL");
    assert_eq!(tg4.transactions, ["TC-NOPARENT-TestAction"]);
    assert_eq!(
        tg4.samplers,
        [
            "TNPTA-JR1",
            "TNPTA-JR2",
            "TNPTA-TA",
            "TNPTA-JR3",
            "JR-SHOULDNOTEXECUTE"
        ]
    );
    let tg9 = group(&groups, "TG9-SNL");
    assert_eq!(tg9.transactions, ["TC-PARENT-TestAction"]);
    let parent = find(&plan, "TC-PARENT-TestAction");
    assert_eq!(parent.prop_bool("TransactionController.parent"), Some(true));
    let no_parent = find(&plan, "TC-NOPARENT-TestAction");
    assert_eq!(
        no_parent.prop_bool("TransactionController.parent"),
        Some(false)
    );
}

#[test]
fn scheduler_with_timer_setup_teardown_and_expressions() {
    let Some(plan) = plan("TestSchedulerWithTimer.jmx") else {
        return;
    };
    assert_eq!(plan.jmeter.as_deref(), Some("3.2-SNAPSHOT.20170410"));
    // TestPlan and the pre-4.0 WorkBench at the top level.
    let top: Vec<&str> = plan.elements.iter().map(|e| e.tag.as_str()).collect();
    assert_eq!(top, ["TestPlan", "WorkBench"]);
    let groups = plan.thread_groups();
    let kinds: Vec<(&str, ThreadGroupKind)> =
        groups.iter().map(|g| (g.name.as_str(), g.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("TG_TestActionPause", ThreadGroupKind::Regular),
            ("TG_ThinkTime", ThreadGroupKind::Regular),
            ("TG_Timer", ThreadGroupKind::Regular),
            ("setUp Thread Group", ThreadGroupKind::Setup),
            ("tearDown Thread Group", ThreadGroupKind::Teardown),
        ]
    );
    let pause = group(&groups, "TG_TestActionPause");
    assert!(pause.scheduler);
    assert_eq!(pause.duration.as_deref(), Some("${MaxDuration}"));
    assert_eq!(pause.loops.as_deref(), Some("-1"));
    assert_eq!(pause.ramp_time.as_deref(), Some("1"));
    assert_eq!(pause.samplers, ["DS1", "TA_20s", "DS2"]);
    assert_eq!(
        group(&groups, "setUp Thread Group").samplers,
        ["JSPP_StartTime"]
    );
    assert_eq!(
        group(&groups, "tearDown Thread Group").samplers,
        ["JSRCheckDuration"]
    );

    let tg = find(&plan, "TG_TestActionPause");
    // An expression is kept raw and is not a number.
    let duration = tg.prop("ThreadGroup.duration").expect("duration");
    assert!(duration.is_expression());
    assert_eq!(tg.prop_i64("ThreadGroup.duration"), None);
    // Infinite loop written as an intProp.
    let lc = tg
        .prop_element("ThreadGroup.main_controller")
        .expect("main controller");
    assert!(matches!(lc.prop("LoopController.loops"), Some(Prop::Int(s)) if s == "-1"));
    assert_eq!(lc.prop_i64("LoopController.loops"), Some(-1));
    assert_eq!(lc.element_type, "LoopController");
}

#[test]
fn gentest_2_13_has_every_sampler_kind() {
    let Some(plan) = plan("GenTest2_13.jmx") else {
        return;
    };
    assert_eq!(plan.jmeter.as_deref(), Some("2.13.20160310"));
    assert_eq!(plan.properties.as_deref(), Some("2.8"));
    assert_eq!(plan.test_plan_name(), Some("Generator2.13"));
    let groups = plan.thread_groups();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.name, "Thread Group");
    assert_eq!(
        g.samplers,
        [
            "Access Log Sampler",
            "AJP/1.3 Sampler",
            "BeanShell Sampler",
            "BSF Sampler",
            "Debug Sampler",
            "FTP Request",
            "HTTP Request",
            "Java Request",
            "JDBC Request",
            "JMS Point-to-Point",
            "JMS Publisher",
            "JMS Subscriber",
            "JSR223 Sampler",
            "JUnit Request",
            "LDAP Extended Request",
            "LDAP Request",
            "Mail Reader Sampler",
            "OS Process Sampler",
            "SMTP Sampler",
            "SOAP/XML-RPC Request",
            "TCP Sampler",
            "Test Action",
        ]
    );
    assert_eq!(g.transactions, ["Transaction Controller"]);
    // 2.13 wrote ConstantThroughputTimer.calcMode as an intProp and throughput as a doubleProp.
    let ctt = find(&plan, "Constant Throughput Timer");
    assert!(matches!(ctt.prop("calcMode"), Some(Prop::Int(s)) if s == "0"));
    assert!(matches!(ctt.prop("throughput"), Some(Prop::Double(n)) if n.value == "0.0"));
    assert_eq!(ctt.prop_f64("throughput"), Some(0.0));

    // The same plan re-saved by 6.0-dev (self-closed empty props, single-quoted declaration)
    // gives the same thread group shape.
    let Some(resaved) = self::plan("GenTest2_13.expected.jmx") else {
        return;
    };
    assert_eq!(resaved.jmeter.as_deref(), Some("6.0.0-SNAPSHOT a782287"));
    assert_eq!(
        resaved
            .test_plan()
            .and_then(|tp| tp.prop_str("TestPlan.comments")),
        Some("")
    );
    let rg = &resaved.thread_groups()[0];
    assert_eq!(rg.name, g.name);
    assert_eq!(rg.transactions, g.transactions);
}

#[test]
fn gentest_3_0_float_and_double_props() {
    let Some(plan) = plan("GenTest3_0.jmx") else {
        return;
    };
    let tc = find(&plan, "Throughput Controller");
    match tc.prop("ThroughputController.percentThroughput") {
        Some(Prop::Float(n)) => {
            assert_eq!(n.value, "100.0");
            assert_eq!(n.saved_value.as_deref(), Some("0.0"));
        }
        other => panic!("expected a FloatProperty, got {other:?}"),
    }
    assert_eq!(
        tc.prop_f64("ThroughputController.percentThroughput"),
        Some(100.0)
    );
    assert_eq!(
        tc.prop_i64("ThroughputController.percentThroughput"),
        Some(100)
    );
    assert_eq!(
        tc.prop_str("ThroughputController.percentThroughput"),
        Some("100.0")
    );
    assert_eq!(tc.prop_i64("ThroughputController.maxThroughput"), Some(1));
    let ctt = find(&plan, "Constant Throughput Timer");
    assert!(
        matches!(ctt.prop("throughput"), Some(Prop::Double(n)) if n.saved_value.as_deref() == Some("0.0"))
    );
    assert_eq!(
        plan.thread_groups()[0].on_sample_error.as_deref(),
        Some("startnextloop")
    );
}

#[test]
fn build_web_test_plan_scheduler_and_collections() {
    let Some(plan) = plan("build-web-test-plan.jmx") else {
        return;
    };
    assert_eq!(plan.test_plan_name(), Some("build-web-test-plan"));
    let groups = plan.thread_groups();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.name, "Scenario 1");
    assert_eq!(g.num_threads.as_deref(), Some("5"));
    assert_eq!(g.ramp_time.as_deref(), Some("5"));
    assert_eq!(g.loops.as_deref(), Some("-1"));
    assert!(g.scheduler);
    assert_eq!(g.duration.as_deref(), Some("60"));
    assert_eq!(g.delay.as_deref(), Some("5"));
    assert_eq!(
        g.samplers,
        ["Home Page", "ThinkTime1s", "Page Returning 404"]
    );

    // collectionProp members keep their (hash code) names; entities are decoded.
    let assertion = find(&plan, "Assertion");
    let strings = assertion
        .prop_collection("Asserion.test_strings")
        .expect("test strings");
    let members: Vec<(&str, Option<&str>)> = strings
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(members, [("-868354929", Some("<h1>Example Domain</h1>"))]);
    assert_eq!(assertion.prop_i64("Assertion.test_type"), Some(16));
    // Multi-line text is kept as written.
    let a404 = find(&plan, "Assertion_404");
    let comment = a404.prop_str("TestPlan.comments").expect("comment");
    assert!(
        comment.starts_with("The assertion is specia:\n- It ignores status"),
        "{comment:?}"
    );
    let codes: Vec<&str> = a404
        .prop_collection("Asserion.test_strings")
        .expect("codes")
        .values()
        .filter_map(Prop::as_str)
        .collect();
    assert_eq!(codes, ["404"]);
}

#[test]
fn disabled_elements_are_kept_flagged_and_skipped_by_the_enabled_walk() {
    let Some(plan) = plan("BatchTestLocal.jmx") else {
        return;
    };
    let disabled: Vec<&str> = plan
        .all_elements()
        .filter(|e| !e.enabled)
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        disabled,
        [
            "Simple Controller for Module Controller",
            "Simple Controller"
        ]
    );
    // The disabled controllers' subtrees are in the tree but not in the enabled walk.
    assert!(plan.all_elements().any(|e| e.name == "Module"));
    assert!(!plan.enabled_elements().any(|e| e.name == "Module"));
    assert!(plan.all_elements().any(|e| e.name == "TG SC OO = 1"));
    assert!(!plan.enabled_elements().any(|e| e.name == "TG SC OO = 1"));

    let groups = plan.thread_groups();
    assert_eq!(groups.len(), 10);
    assert_eq!(
        groups
            .iter()
            .filter(|g| g.kind == ThreadGroupKind::Setup)
            .count(),
        1
    );
    assert_eq!(
        groups
            .iter()
            .filter(|g| g.kind == ThreadGroupKind::Teardown)
            .count(),
        1
    );
    let first = &groups[0];
    assert_eq!(first.num_threads.as_deref(), Some("2"));
    assert_eq!(first.ramp_time.as_deref(), Some("10"));
    assert!(!first.samplers.iter().any(|s| s == "Module"));
    assert_eq!(first.samplers.first().map(String::as_str), Some("Java 1"));
    assert_eq!(
        first.samplers.last().map(String::as_str),
        Some("Test Action")
    );
    let fourth = &groups[3];
    assert_eq!(
        fourth.samplers,
        ["TG1 = 3", "TG OO = 1", "TG Loop =3", "TG2 = 3"]
    );
    assert_eq!(
        group(&groups, "Setup Thread Group").samplers,
        ["Setup ${CSV_VAR}"]
    );
    assert_eq!(group(&groups, "Zero Thread").loops.as_deref(), Some("0"));

    let Some(adv) = self::plan("build-adv-web-test-plan.jmx") else {
        return;
    };
    let login = find(&adv, "Login");
    assert!(!login.enabled);
    let g = &adv.thread_groups()[0];
    assert_eq!(
        g.samplers,
        [
            "Home Page",
            "ThinkTime",
            "Changes",
            "ThinkTime",
            "BugDetail Page"
        ]
    );
    // Non-ASCII text in attributes, and named HTTP arguments inside a collection.
    let args = login
        .prop_element("HTTPsampler.Arguments")
        .expect("arguments");
    assert_eq!(args.test_name.as_deref(), Some("Variables pré-définies"));
    let names: Vec<&str> = args
        .props
        .get_collection("Arguments.arguments")
        .expect("arguments list")
        .values()
        .filter_map(Prop::as_element)
        .filter_map(|a| a.prop_str("Argument.name"))
        .collect();
    assert_eq!(names, ["username", "password"]);

    let Some(rec) = self::plan("recording.jmx") else {
        return;
    };
    let proxy = find(&rec, "HTTP(S) Test Script Recorder");
    assert!(!proxy.enabled);
    assert_eq!(proxy.children.len(), 1);
}

#[test]
fn raw_body_and_oldest_format() {
    let Some(plan) = plan("simple-http-request-test-plan.jmx") else {
        return;
    };
    let req = find(&plan, "HTTP Request");
    assert_eq!(req.prop_str("HTTPSampler.path"), Some("${url}"));
    let body = req
        .prop_element("HTTPsampler.Arguments")
        .and_then(|a| a.props.get_collection("Arguments.arguments"))
        .and_then(|c| c.iter().next())
        .expect("raw body argument");
    assert_eq!(body.name, "");
    let arg = body.value.as_element().expect("HTTPArgument");
    assert_eq!(arg.element_type, "HTTPArgument");
    assert_eq!(arg.prop_str("Argument.value"), Some("${body}"));

    let Some(proxy) = self::plan("proxy.jmx") else {
        return;
    };
    assert_eq!(proxy.properties.as_deref(), Some("1.8"));
    assert_eq!(proxy.jmeter, None);
    let g = &proxy.thread_groups()[0];
    assert_eq!(g.loops.as_deref(), Some("-1"));
    assert_eq!(g.ramp_time.as_deref(), Some("0"));
    assert!(g.samplers.is_empty());
}
