//! Hand-written JMX inputs: every property kind, lenient reading of expressions and plugin
//! elements, and every way a file can fail to be a plan (each error names a place and a fix).

use std::path::PathBuf;

use loadlake_plan::{MAX_ATTRIBUTES, MAX_DEPTH, Plan, PlanError, Prop, ThreadGroupKind};

fn parse(s: &str) -> Result<Plan, PlanError> {
    s.parse()
}

fn wrap(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jmeterTestPlan version=\"1.2\" properties=\"5.0\" jmeter=\"5.6.3\">\n  <hashTree>\n{body}\n  </hashTree>\n</jmeterTestPlan>\n"
    )
}

const GROUP: &str = r#"
    <TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="Plan" enabled="true"/>
    <hashTree>
      <ThreadGroup guiclass="ThreadGroupGui" testclass="ThreadGroup" testname="TG" enabled="true">
        <intProp name="ThreadGroup.num_threads">${__P(threads,10)}</intProp>
        <boolProp name="ThreadGroup.scheduler">${sched}</boolProp>
        <elementProp name="ThreadGroup.main_controller" elementType="LoopController"/>
      </ThreadGroup>
      <hashTree>
        <HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="a &amp; b"/>
        <TransactionController testclass="TransactionController" testname="T" enabled="FALSE"/>
        <hashTree>
          <JavaSampler testclass="JavaSampler" testname="hidden"/>
          <hashTree/>
        </hashTree>
      </hashTree>
      <kg.apc.jmeter.threads.UltimateThreadGroup guiclass="x" testclass="kg.apc.jmeter.threads.UltimateThreadGroup" testname="UTG" enabled="false">
        <mapProp name="m"><stringProp name="k">v</stringProp></mapProp>
      </kg.apc.jmeter.threads.UltimateThreadGroup>
      <hashTree>
        <DummySampler testclass="kg.apc.jmeter.samplers.DummySampler" testname="dummy"/>
        <hashTree/>
      </hashTree>
    </hashTree>"#;

#[test]
fn expressions_in_typed_props_and_plugin_groups() {
    let plan = parse(&wrap(GROUP)).expect("parses");
    let groups = plan.thread_groups();
    assert_eq!(groups.len(), 2);
    let tg = &groups[0];
    assert_eq!(tg.num_threads.as_deref(), Some("${__P(threads,10)}"));
    assert!(!tg.scheduler, "an unevaluated boolProp is not true");
    assert_eq!(tg.loops, None);
    assert_eq!(tg.ramp_time, None);
    // An element with no <hashTree> after it simply has no children.
    assert_eq!(tg.samplers, ["a & b"]);
    assert!(
        tg.transactions.is_empty(),
        "enabled=\"FALSE\" disables, as in JMeter"
    );

    let utg = &groups[1];
    assert_eq!(utg.kind, ThreadGroupKind::Regular);
    assert_eq!(utg.test_class, "kg.apc.jmeter.threads.UltimateThreadGroup");
    assert!(!utg.enabled);
    assert_eq!(utg.samplers, ["dummy"]);
    assert_eq!(utg.num_threads, None);

    let utg_el = plan.all_elements().find(|e| e.name == "UTG").expect("UTG");
    let m = utg_el.prop("m").and_then(Prop::as_map).expect("mapProp");
    assert_eq!(m.get_str("k"), Some("v"));

    let json = serde_json::to_value(plan.summary()).expect("json");
    assert_eq!(json["thread_groups"][0]["kind"], "regular");
    assert_eq!(json["test_plan_name"], "Plan");
    assert_eq!(json["jmeter_version"], "5.6.3");
    assert_eq!(json["thread_groups"][1]["enabled"], false);
}

#[test]
fn text_forms_cdata_refs_comments_and_unknown_kinds() {
    let body = r#"
    <TestPlan testclass="TestPlan" testname="P" custom="c">
      <stringProp name="cdata"><![CDATA[a < b && ${x}]]></stringProp>
      <stringProp name="refs">line1&#10;tab&#x9;end &lt;&gt;&quot;&apos;</stringProp>
      <stringProp name="commented">a<!-- note -->b</stringProp>
      <stringProp name="crlf">x&#13;
y</stringProp>
      <longProp name="l"> 42 </longProp>
      <fancyProp name="f" extra="1"><inner>t</inner></fancyProp>
      <collectionProp name="c">
        <stringProp name="1">one</stringProp>
        <intProp name="2">2</intProp>
        <collectionProp name="nested"><boolProp name="b">true</boolProp></collectionProp>
      </collectionProp>
    </TestPlan>
    <hashTree/>"#;
    let plan = parse(&wrap(body)).expect("parses");
    let tp = plan.test_plan().expect("test plan");
    assert_eq!(
        tp.extra_attributes,
        [("custom".to_string(), "c".to_string())]
    );
    assert!(tp.enabled, "no enabled attribute means enabled");
    assert_eq!(tp.gui_class, None);
    assert_eq!(tp.prop_str("cdata"), Some("a < b && ${x}"));
    assert_eq!(tp.prop_str("refs"), Some("line1\ntab\tend <>\"'"));
    assert_eq!(tp.prop_str("commented"), Some("ab"));
    assert_eq!(tp.prop_str("crlf"), Some("x\r\ny"));
    assert_eq!(tp.prop_i64("l"), Some(42));
    let Some(Prop::Other(node)) = tp.prop("f") else {
        panic!("unknown kind kept")
    };
    assert_eq!(node.tag, "fancyProp");
    assert_eq!(node.attr("extra"), Some("1"));
    assert_eq!(node.child_text("inner"), Some("t"));
    let c = tp.prop_collection("c").expect("collection");
    let kinds: Vec<&str> = c.values().map(Prop::xml_tag).collect();
    assert_eq!(kinds, ["stringProp", "intProp", "collectionProp"]);
    assert_eq!(c.get_i64("2"), Some(2));
    assert_eq!(
        c.get_collection("nested").and_then(|n| n.get_bool("b")),
        Some(true)
    );
}

#[test]
fn byte_order_mark_and_reader_input() {
    let with_bom = format!("\u{feff}{}", wrap(GROUP));
    let plan = Plan::from_reader(with_bom.as_bytes()).expect("BOM accepted");
    assert_eq!(plan.test_plan_name(), Some("Plan"));
    let bare = Plan::from_reader("<jmeterTestPlan/>".as_bytes()).expect("empty plan");
    assert!(bare.elements.is_empty());
    assert_eq!(bare.test_plan_name(), None);
    assert!(bare.thread_groups().is_empty());
}

#[test]
fn empty_input() {
    for input in ["", "  \n\t "] {
        let err = parse(input).unwrap_err();
        assert!(matches!(err, PlanError::Empty { .. }), "{err}");
        assert!(err.to_string().contains("empty"), "{err}");
    }
}

#[test]
fn not_xml() {
    let err = parse("timeStamp,elapsed,label\n1,2,x\n").unwrap_err();
    assert!(matches!(err, PlanError::NotXml { .. }), "{err}");
    assert!(err.to_string().contains("not XML"), "{err}");
    let err = parse("<!-- only a comment -->").unwrap_err();
    assert!(matches!(err, PlanError::NotXml { .. }), "{err}");
}

#[test]
fn doctype_with_entities_is_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<jmeterTestPlan version="1.2"><hashTree><TestPlan testname="&lol2;"/></hashTree></jmeterTestPlan>"#;
    let err = parse(bomb).unwrap_err();
    let PlanError::Doctype { at, .. } = &err else {
        panic!("expected Doctype, got {err}")
    };
    assert_eq!(at.line, 2);
    assert!(err.to_string().contains("DOCTYPE"), "{err}");

    // Without a DOCTYPE, an entity reference is undefined and refused too.
    let err = parse(&wrap(
        r#"<TestPlan testname="x"><stringProp name="a">&xxe;</stringProp></TestPlan>"#,
    ))
    .unwrap_err();
    assert!(matches!(err, PlanError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("undefined entity &xxe;"), "{err}");
    let err = parse(&wrap(r#"<TestPlan testname="&xxe;"/>"#)).unwrap_err();
    assert!(matches!(err, PlanError::Malformed { .. }), "{err}");
}

#[test]
fn non_jmx_root() {
    let err = parse("<?xml version=\"1.0\"?>\n<testResults version=\"1.2\">\n</testResults>")
        .unwrap_err();
    let PlanError::NotJmx { root, at, .. } = &err else {
        panic!("expected NotJmx, got {err}")
    };
    assert_eq!(root, "testResults");
    assert_eq!(at.line, 2);
    assert!(err.to_string().contains("JTL result file"), "{err}");
    let err = parse("<hashTree/>").unwrap_err();
    assert!(matches!(err, PlanError::NotJmx { .. }), "{err}");
}

#[test]
fn truncated_file_names_the_open_element() {
    let text = wrap(GROUP);
    let cut = text
        .find("<hashTree>\n        <HTTPSamplerProxy")
        .expect("marker");
    let err = parse(&text[..cut + "<hashTree>".len()]).unwrap_err();
    let PlanError::Malformed { reason, .. } = &err else {
        panic!("expected Malformed, got {err}")
    };
    assert!(reason.contains("truncated"), "{err}");
    assert!(reason.contains("<hashTree> opened at line"), "{err}");

    // Cutting a real plan anywhere gives an error, never a panic or a partial plan.
    let text = wrap(GROUP);
    for end in (1..text.len() - 20).step_by(7) {
        let Some(prefix) = text.get(..end) else {
            continue;
        };
        assert!(parse(prefix).is_err(), "cut at {end} parsed");
    }
}

#[test]
fn malformed_structures_give_positions() {
    let err = parse(&wrap(
        "<TestPlan testname=\"x\">\n<stringProp name=\"a\">v</boolProp></TestPlan>",
    ))
    .unwrap_err();
    let at = err.position().expect("position");
    assert_eq!(at.line, 5, "{err}");
    assert!(err.to_string().starts_with("<JMX input>:5:"), "{err}");

    let err = parse(&wrap("<hashTree/>")).unwrap_err();
    assert!(err.to_string().contains("follows no test element"), "{err}");

    let err = parse("<jmeterTestPlan><hashTree/></jmeterTestPlan><extra/>").unwrap_err();
    assert!(err.to_string().contains("after </jmeterTestPlan>"), "{err}");

    let err = parse("<jmeterTestPlan><TestPlan/></jmeterTestPlan>").unwrap_err();
    assert!(err.to_string().contains("expected <hashTree>"), "{err}");

    let err = parse(&wrap(
        r#"<TestPlan><stringProp name="a"><b/></stringProp></TestPlan>"#,
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("unexpected element <b> inside <stringProp>"),
        "{err}"
    );

    let err = parse(&wrap(r#"<TestPlan a="1" a="2"/>"#)).unwrap_err();
    assert!(matches!(err, PlanError::Malformed { .. }), "{err}");
    assert!(
        err.to_string().contains("attribute a appears twice"),
        "{err}"
    );
}

#[test]
fn an_element_with_too_many_attributes_is_refused_and_one_at_the_limit_is_read() {
    let attrs = |n: usize| (0..n).map(|i| format!(" a{i}=\"{i}\"")).collect::<String>();
    let at_limit = format!(
        "<TestPlan testname=\"x\"{}/>\n  <hashTree/>",
        attrs(MAX_ATTRIBUTES - 1)
    );
    assert!(parse(&wrap(&at_limit)).is_ok());
    let over = format!(
        "<TestPlan testname=\"x\"{}/>\n  <hashTree/>",
        attrs(MAX_ATTRIBUTES)
    );
    let err = parse(&wrap(&over)).unwrap_err();
    assert!(matches!(err, PlanError::Malformed { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("more than {MAX_ATTRIBUTES} attributes")),
        "{err}"
    );
}

#[test]
fn not_utf8_and_utf16() {
    let mut bytes = b"<jmeterTestPlan>\n<hashTree>".to_vec();
    bytes.extend_from_slice(&[0xC3, 0x28]);
    let err = Plan::from_reader(bytes.as_slice()).unwrap_err();
    let PlanError::NotUtf8 { at, .. } = &err else {
        panic!("expected NotUtf8, got {err}")
    };
    assert_eq!((at.line, at.column, at.offset), (2, 11, 27));
    let err = Plan::from_reader([0xFF, 0xFE, b'<', 0].as_slice()).unwrap_err();
    assert!(matches!(err, PlanError::NotUtf8 { .. }), "{err}");
}

#[test]
fn nesting_is_bounded() {
    let depth = MAX_DEPTH + 10;
    let body = format!(
        "<TestPlan>{}{}</TestPlan>",
        "<x>".repeat(depth),
        "</x>".repeat(depth)
    );
    let err = parse(&wrap(&body)).unwrap_err();
    assert!(matches!(err, PlanError::TooDeep { .. }), "{err}");
    let ok = format!(
        "<TestPlan>{}{}</TestPlan>",
        "<x>".repeat(50),
        "</x>".repeat(50)
    );
    parse(&wrap(&ok)).expect("moderate nesting is fine");
}

#[test]
fn io_error_names_the_path() {
    let path = PathBuf::from("/nonexistent/dir/plan.jmx");
    let err = Plan::from_path(&path).unwrap_err();
    assert!(matches!(err, PlanError::Io { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("/nonexistent/dir/plan.jmx: cannot read"),
        "{err}"
    );
}

#[test]
fn deep_but_legal_controller_nesting_parses() {
    // 120 nested controllers: 240 levels of element + hashTree, under the limit.
    let levels = 120;
    let mut body = String::from(
        "<TestPlan testclass=\"TestPlan\"/><hashTree><ThreadGroup testclass=\"ThreadGroup\" testname=\"deep\"/>",
    );
    for _ in 0..levels - 3 {
        body.push_str("<hashTree><GenericController testclass=\"GenericController\"/>");
    }
    body.push_str("<hashTree><DebugSampler testclass=\"DebugSampler\" testname=\"bottom\"/>");
    body.push_str(&"</hashTree>".repeat(levels - 1));
    let text = format!("<jmeterTestPlan><hashTree>{body}</hashTree></jmeterTestPlan>");
    let plan = parse(&text).expect("parses");
    assert_eq!(plan.thread_groups()[0].samplers, ["bottom"]);
}

#[test]
fn mutated_input_never_panics() {
    let base = wrap(GROUP).into_bytes();
    let replacements = b"<>&\"'/=x!?;#[]\n\xC3";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let mut bytes = base.clone();
        for _ in 0..1 + next() % 3 {
            let i = (next() % bytes.len() as u64) as usize;
            bytes[i] = replacements[(next() % replacements.len() as u64) as usize];
        }
        let _ = Plan::from_reader(bytes.as_slice());
    }
}
