//! Post-processors and assertions in scope of a sampler, compiled from their JMX properties:
//! Regular Expression / JSON / Boundary Extractors into [`PostProcessor`]s and Response /
//! Duration / Size / JSON Assertions into [`Check`]s, in scope order.
//!
//! Property names and defaults follow JMeter 5.6 (`RegexExtractorSchema`, `BoundaryExtractor`,
//! `JSONPostProcessor`, `ResponseAssertion`, `DurationAssertion`, `SizeAssertion`,
//! `JSONPathAssertion`): an empty match number is 0 (random), `ISREGEX` defaults to true, an
//! empty `Assertion.test_field` of a Response Assertion tests the URL. Scope: extractors read
//! `Sample.scope` (`AbstractScopedTestElement`), the Response, Duration and Size Assertions
//! `Assertion.scope` (`AbstractScopedAssertion`); the JSON Assertion has no scope. Only the main
//! sample (`parent`, or no value) and `all` (the main sample and its sub-samples: the runner
//! records none) are supported; `children` and a variable scope are refused. What JMeter would only trip over at run time (a bad regex or JSONPath, lists of
//! different lengths, an invalid operator, a missing variable name) is refused here, naming
//! the element, the property and the value.
//!
//! Property values are substituted once, at compile time; a `${var}` set by an extractor at
//! run time is not re-read per sample in these elements.

use loadlake_plan::TestElement;
use regex::Regex;

use crate::compile::{Compiler, Scope, unsupported};
use crate::elements::assertions::response_assertion::{CONTAINS, ResponseAssertion, TestField};
use crate::elements::assertions::{
    Check, DurationCheck, JsonPathCheck, SizeCheck, SizeField, SizeOperator,
};
use crate::elements::extractors::PostProcessor;
use crate::elements::extractors::jpgc_json::{JpgcJsonExtract, JsonSubject};
use crate::elements::extractors::json::{JsonExtract, JsonItem};
use crate::elements::extractors::regex_boundary::{
    BoundaryExtract, RegexExtract, Source, TemplatePart, template_parts,
};
use crate::elements::jsonpath::JsonQuery;
use crate::error::RunnerError;

/// The `useHeaders` values, for error messages.
const SOURCES: &str =
    "one of false (body), true (response headers), request_headers, unescaped, URL, code, message";

impl Compiler<'_> {
    /// The extractors of `scope`, in order.
    pub(crate) fn post_processors(
        &self,
        scope: &Scope<'_>,
    ) -> Result<Vec<PostProcessor>, RunnerError> {
        let mut out = Vec::new();
        for e in &scope.extractors {
            self.main_sample_only(e, "Sample.scope")?;
            out.push(match e.class_name() {
                "RegexExtractor" => PostProcessor::Regex(self.regex_extractor(e)?),
                "JSONPostProcessor" => PostProcessor::Json(self.json_extractor(e)?),
                "BoundaryExtractor" => PostProcessor::Boundary(self.boundary_extractor(e)?),
                "JSONPathExtractor" => PostProcessor::JpgcJson(self.jpgc_json_extractor(e)?),
                "HtmlExtractor" => PostProcessor::Css(Box::new(self.css_extractor(e)?)),
                "XPathExtractor" => PostProcessor::XPath(Box::new(self.xpath_extractor(e)?)),
                "JSR223PostProcessor" | "BeanShellPostProcessor" => {
                    PostProcessor::Script(Box::new(self.script_element(e)?))
                }
                _ => return Err(unsupported(e)),
            });
        }
        Ok(out)
    }

    /// The assertions of `scope`, in order.
    pub(crate) fn checks(&self, scope: &Scope<'_>) -> Result<Vec<Check>, RunnerError> {
        let mut out = Vec::new();
        for a in &scope.assertions {
            out.push(match a.class_name() {
                "ResponseAssertion" => {
                    self.main_sample_only(a, "Assertion.scope")?;
                    Check::Response(self.response_assertion(a)?)
                }
                "DurationAssertion" => {
                    self.main_sample_only(a, "Assertion.scope")?;
                    let prop = "DurationAssertion.duration";
                    Check::Duration(DurationCheck {
                        name: a.name.clone(),
                        max_ms: self.number(&a.name, prop, a.prop_str(prop), 0)?,
                    })
                }
                "SizeAssertion" => {
                    self.main_sample_only(a, "Assertion.scope")?;
                    Check::Size(self.size_assertion(a)?)
                }
                "JSONPathAssertion" => Check::JsonPath(self.json_assertion(a)?),
                "JSR223Assertion" | "BeanShellAssertion" => {
                    Check::Script(Box::new(self.script_element(a)?))
                }
                _ => return Err(unsupported(a)),
            });
        }
        Ok(out)
    }

    /// Refuses a scope other than the main sample, or the main sample and its sub-samples
    /// (`all`): JMeter's `getSampleList` gives the sample and its sub-results, and a runner
    /// sample has none (a redirect chain is one sample, see docs/runner.md).
    fn main_sample_only(&self, e: &TestElement, prop: &str) -> Result<(), RunnerError> {
        let value = self.text(e, prop)?;
        match value.trim() {
            "" | "parent" | "all" => Ok(()),
            _ => Err(RunnerError::setting(
                &e.name,
                prop,
                &value,
                "only the main sample (parent, or all where the sample has no sub-samples) is \
                 supported; sub-samples only (children) and a variable scope are not",
            )),
        }
    }

    /// A `useHeaders` property.
    fn source(&self, e: &TestElement, prop: &str) -> Result<Source, RunnerError> {
        let value = self.text(e, prop)?;
        if value.trim().eq_ignore_ascii_case("as_document") {
            return Err(RunnerError::setting(
                &e.name,
                prop,
                &value,
                "extracting the text of documents (PDF, Office, …) is not implemented",
            ));
        }
        Source::from_use_headers(&value)
            .ok_or_else(|| RunnerError::invalid(&e.name, prop, &value, SOURCES))
    }

    /// A variable name (trimmed, not empty).
    pub(crate) fn refname(&self, e: &TestElement, prop: &str) -> Result<String, RunnerError> {
        let value = self.text(e, prop)?;
        let name = value.trim();
        if name.is_empty() {
            return Err(RunnerError::invalid(
                &e.name,
                prop,
                &value,
                "a variable name",
            ));
        }
        Ok(name.to_string())
    }

    /// A match number; empty is 0 (random), as JMeter's integer properties.
    pub(crate) fn match_number(&self, e: &TestElement, prop: &str) -> Result<i64, RunnerError> {
        self.number(&e.name, prop, e.prop_str(prop), 0)
    }

    fn regex_extractor(&self, e: &TestElement) -> Result<RegexExtract, RunnerError> {
        let source = self.source(e, "RegexExtractor.useHeaders")?;
        let raw = self.text(e, "RegexExtractor.regex")?;
        let regex = Regex::new(&raw).map_err(|err| {
            let why = format!(
                "a regular expression in Rust syntax (no look-around or back-references): {err}"
            );
            RunnerError::invalid(&e.name, "RegexExtractor.regex", &raw, &why)
        })?;
        let template = self.text(e, "RegexExtractor.template")?;
        let groups = regex.captures_len() - 1;
        for part in template_parts(&template) {
            if let TemplatePart::Group(g) = part
                && g > groups
            {
                let why = format!(
                    "a template whose $n$ groups exist (the regex has {groups} groups; $0$ is the whole match)"
                );
                return Err(RunnerError::invalid(
                    &e.name,
                    "RegexExtractor.template",
                    &template,
                    &why,
                ));
            }
        }
        Ok(RegexExtract {
            name: e.name.clone(),
            refname: self.refname(e, "RegexExtractor.refname")?,
            regex,
            template,
            match_number: self.match_number(e, "RegexExtractor.match_number")?,
            default: self.text(e, "RegexExtractor.default")?,
            default_empty: self.flag(e, "RegexExtractor.default_empty_value", false)?,
            source,
        })
    }

    /// The jp@gc JSON Path Extractor: `VAR`, `JSONPATH`, `DEFAULT`, `SUBJECT` (`VAR` reads
    /// the variable `VARIABLE`, anything else the body), `INPUT_FORMAT` (only JSON; the YAML
    /// input is refused).
    fn jpgc_json_extractor(&self, e: &TestElement) -> Result<JpgcJsonExtract, RunnerError> {
        let format = self.text(e, "INPUT_FORMAT")?;
        if !matches!(format.as_str(), "" | "JSON") {
            return Err(RunnerError::setting(
                &e.name,
                "INPUT_FORMAT",
                &format,
                "only JSON input is implemented (the plugin converts YAML to JSON first)",
            ));
        }
        let raw = self.text(e, "JSONPATH")?;
        let path = JsonQuery::parse(&raw)
            .map_err(|why| RunnerError::invalid(&e.name, "JSONPATH", &raw, &why))?;
        let subject = if self.text(e, "SUBJECT")? == "VAR" {
            JsonSubject::Variable(self.text(e, "VARIABLE")?)
        } else {
            JsonSubject::Body
        };
        Ok(JpgcJsonExtract {
            name: e.name.clone(),
            var: self.text(e, "VAR")?,
            path,
            default: self.text(e, "DEFAULT")?,
            subject,
        })
    }

    fn boundary_extractor(&self, e: &TestElement) -> Result<BoundaryExtract, RunnerError> {
        Ok(BoundaryExtract {
            name: e.name.clone(),
            refname: self.refname(e, "BoundaryExtractor.refname")?,
            left: self.text(e, "BoundaryExtractor.lboundary")?,
            right: self.text(e, "BoundaryExtractor.rboundary")?,
            match_number: self.match_number(e, "BoundaryExtractor.match_number")?,
            default: self.text(e, "BoundaryExtractor.default")?,
            default_empty: self.flag(e, "BoundaryExtractor.default_empty_value", false)?,
            source: self.source(e, "BoundaryExtractor.useHeaders")?,
        })
    }

    fn json_extractor(&self, e: &TestElement) -> Result<JsonExtract, RunnerError> {
        const NAMES: &str = "JSONPostProcessor.referenceNames";
        const PATHS: &str = "JSONPostProcessor.jsonPathExprs";
        const DEFAULTS: &str = "JSONPostProcessor.defaultValues";
        const NUMBERS: &str = "JSONPostProcessor.match_numbers";
        let (names_raw, paths_raw) = (self.text(e, NAMES)?, self.text(e, PATHS)?);
        let defaults_raw = self.text(e, DEFAULTS)?;
        let (names, paths) = (java_split(&names_raw), java_split(&paths_raw));
        let defaults = java_split(&defaults_raw);
        let n = names.len();
        if paths.len() != n {
            let why = format!("a ;-separated list with one JSONPath per variable of {NAMES} ({n})");
            return Err(RunnerError::invalid(&e.name, PATHS, &paths_raw, &why));
        }
        if defaults.len() != n {
            let why = format!(
                "a ;-separated list with one default per variable of {NAMES} ({n}); empty entries \
                 at the end are dropped, as by Java's String.split: write a space for them"
            );
            return Err(RunnerError::invalid(&e.name, DEFAULTS, &defaults_raw, &why));
        }
        // getMatchNumbersAsInt: blank → all 0 (random); fewer entries → 0 for the rest.
        let numbers_raw = self.text(e, NUMBERS)?;
        let mut numbers = vec![0i64; n];
        if !numbers_raw.trim().is_empty() {
            let entries = java_split(&numbers_raw);
            let parsed: Option<Vec<i64>> = entries.iter().map(|s| s.trim().parse().ok()).collect();
            match parsed {
                Some(p) if p.len() <= n => numbers[..p.len()].copy_from_slice(&p),
                _ => {
                    let why = format!("at most {n} whole numbers separated by ;");
                    return Err(RunnerError::invalid(&e.name, NUMBERS, &numbers_raw, &why));
                }
            }
        }
        let mut items = Vec::with_capacity(n);
        for (i, ((name, path), default)) in names.iter().zip(&paths).zip(&defaults).enumerate() {
            let refname = name.trim();
            if refname.is_empty() {
                return Err(RunnerError::invalid(
                    &e.name,
                    NAMES,
                    &names_raw,
                    "a ;-separated list of variable names",
                ));
            }
            let path = JsonQuery::parse(path.trim())
                .map_err(|why| RunnerError::invalid(&e.name, PATHS, path.trim(), &why))?;
            items.push(JsonItem {
                refname: refname.to_string(),
                path,
                match_number: numbers[i],
                default: default.to_string(),
            });
        }
        Ok(JsonExtract {
            name: e.name.clone(),
            items,
            compute_concat: self.flag(e, "JSONPostProcessor.compute_concat", false)?,
        })
    }

    fn response_assertion(&self, a: &TestElement) -> Result<ResponseAssertion, RunnerError> {
        const FIELD: &str = "Assertion.test_field";
        let field_raw = self.text(a, FIELD)?;
        let field = match field_raw.trim() {
            "Assertion.response_data" => TestField::ResponseData,
            "Assertion.response_code" => TestField::ResponseCode,
            "Assertion.response_message" => TestField::ResponseMessage,
            "Assertion.response_headers" => TestField::ResponseHeaders,
            "Assertion.request_headers" => TestField::RequestHeaders,
            // JMeter's getStringToCheck: anything else is the URL.
            "Assertion.sample_label" | "" => TestField::SampleLabel,
            "Assertion.request_data" => {
                let why = "the runner does not keep the request data (JMeter's sampler data)";
                return Err(RunnerError::setting(&a.name, FIELD, &field_raw, why));
            }
            "Assertion.response_data_as_document" => {
                let why = "extracting the text of documents (PDF, Office, …) is not implemented";
                return Err(RunnerError::setting(&a.name, FIELD, &field_raw, why));
            }
            _ => {
                let why = "one of Assertion.response_data, Assertion.response_code, \
                           Assertion.response_message, Assertion.response_headers, \
                           Assertion.request_headers, Assertion.sample_label";
                return Err(RunnerError::invalid(&a.name, FIELD, &field_raw, why));
            }
        };
        let test_type = self.number(
            &a.name,
            "Assertion.test_type",
            a.prop_str("Assertion.test_type"),
            CONTAINS,
        )?;
        if !(0..64).contains(&test_type) {
            let why = "a sum of MATCH=1, CONTAINS=2, NOT=4, EQUALS=8, SUBSTRING=16, OR=32";
            return Err(RunnerError::invalid(
                &a.name,
                "Assertion.test_type",
                &test_type.to_string(),
                why,
            ));
        }
        let mut patterns = Vec::new();
        let prop = "Asserion.test_strings";
        if let Some(strings) = a.prop_collection(prop) {
            for raw in strings.values().filter_map(|p| p.as_str()) {
                patterns.push(self.eval_deferred(&a.name, prop, raw)?);
            }
        }
        let dynamic = patterns.iter().any(|p| p.contains("${"));
        let templates = if dynamic {
            patterns
                .iter()
                .map(|p| self.template(&a.name, prop, p))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        let custom = self.text(a, "Assertion.custom_message")?;
        let assume_success = self.flag(a, "Assertion.assume_success", false)?;
        let assertion = ResponseAssertion::new(
            a.name.clone(),
            field,
            test_type,
            if dynamic {
                Vec::new()
            } else {
                patterns.clone()
            },
            assume_success,
            (!custom.is_empty()).then_some(custom),
        )
        .map_err(|bad| {
            let why = "a regular expression in Rust syntax (no look-around or back-references)";
            RunnerError::invalid(&a.name, "Asserion.test_strings", &bad, why)
        })?;
        Ok(if dynamic {
            assertion.with_templates(patterns, templates)
        } else {
            assertion
        })
    }

    fn size_assertion(&self, a: &TestElement) -> Result<SizeCheck, RunnerError> {
        let size_raw = self.text(a, "SizeAssertion.size")?;
        let size = size_raw.trim().parse::<i64>().map_err(|_| {
            RunnerError::invalid(
                &a.name,
                "SizeAssertion.size",
                &size_raw,
                "a whole number of bytes",
            )
        })?;
        let op_prop = "SizeAssertion.operator";
        let code = self.number(&a.name, op_prop, a.prop_str(op_prop), 0)?;
        let operator = SizeOperator::from_code(code).ok_or_else(|| {
            let why = "1 (=), 2 (!=), 3 (>), 4 (<), 5 (>=) or 6 (<=)";
            RunnerError::invalid(&a.name, op_prop, &code.to_string(), why)
        })?;
        let field_raw = self.text(a, "Assertion.test_field")?;
        let field = SizeField::from_property(&field_raw).ok_or_else(|| {
            let why = "one of SizeAssertion.response_network_size, SizeAssertion.response_headers, \
                       SizeAssertion.response_data, SizeAssertion.response_code, \
                       SizeAssertion.response_message";
            RunnerError::invalid(&a.name, "Assertion.test_field", &field_raw, why)
        })?;
        Ok(SizeCheck {
            name: a.name.clone(),
            size,
            operator,
            field,
        })
    }

    fn json_assertion(&self, a: &TestElement) -> Result<JsonPathCheck, RunnerError> {
        let path_raw = self.text(a, "JSON_PATH")?;
        let path = JsonQuery::parse(&path_raw)
            .map_err(|why| RunnerError::invalid(&a.name, "JSON_PATH", &path_raw, &why))?;
        let expected = self.text(a, "EXPECTED_VALUE")?;
        let validate = self.flag(a, "JSONVALIDATION", false)?;
        let expect_null = self.flag(a, "EXPECT_NULL", false)?;
        let invert = self.flag(a, "INVERT", false)?;
        let is_regex = self.flag(a, "ISREGEX", true)?;
        JsonPathCheck::new(
            a.name.clone(),
            path,
            expected.clone(),
            validate,
            expect_null,
            invert,
            is_regex,
        )
        .map_err(|err| {
            let why = format!("a regular expression (ISREGEX is set): {err}");
            RunnerError::invalid(&a.name, "EXPECTED_VALUE", &expected, &why)
        })
    }
}

/// Java's `String.split(";")`: trailing empty entries are dropped, but an empty text is one
/// empty entry.
fn java_split(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return vec![""];
    }
    let mut parts: Vec<&str> = text.split(';').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::Step;

    /// A plan with one HTTP sampler whose children are `children` (elements + hashTrees); also
    /// the plan of the markup extractors' tests.
    pub(crate) fn plan(children: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2" properties="5.0" jmeter="5.6.3"><hashTree>
  <TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="P" enabled="true"/>
  <hashTree>
    <ThreadGroup guiclass="ThreadGroupGui" testclass="ThreadGroup" testname="G" enabled="true">
      <stringProp name="ThreadGroup.num_threads">1</stringProp>
    </ThreadGroup>
    <hashTree>
      <HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" testname="S" enabled="true">
        <stringProp name="HTTPSampler.domain">localhost</stringProp>
        <stringProp name="HTTPSampler.path">/</stringProp>
      </HTTPSamplerProxy>
      <hashTree>{children}</hashTree>
    </hashTree>
  </hashTree>
</hashTree></jmeterTestPlan>"#
        )
    }

    /// An element of class `class` with string properties written `name=value`.
    fn el(class: &str, name: &str, props: &[&str]) -> String {
        let props: String = props
            .iter()
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                let v = v.replace('&', "&amp;").replace('<', "&lt;");
                format!(r#"<stringProp name="{k}">{v}</stringProp>"#)
            })
            .collect();
        format!(
            r#"<{class} testclass="{class}" testname="{name}" enabled="true">{props}</{class}><hashTree/>"#
        )
    }

    fn compiled(children: &str) -> Result<(Vec<PostProcessor>, Vec<Check>), RunnerError> {
        let plan: loadlake_plan::Plan = plan(children).parse().unwrap();
        let runnable = crate::compile(&plan, &BTreeMap::new())?;
        match runnable.groups[0].steps.first() {
            Some(Step::Http(h)) => Ok((h.extractors.clone(), h.assertions.clone())),
            other => panic!("expected one HTTP step, got {other:?}"),
        }
    }

    fn error(children: &str) -> String {
        compiled(children).unwrap_err().to_string()
    }

    #[test]
    fn extractors_compile_in_order_with_jmeter_defaults() {
        let regex = [
            "RegexExtractor.useHeaders=URL",
            "RegexExtractor.refname= host ",
            "RegexExtractor.regex=//([^/]+)",
            "RegexExtractor.template=$1$",
            "RegexExtractor.default=NF",
            "RegexExtractor.default_empty_value=true",
        ];
        let json = [
            "JSONPostProcessor.referenceNames=a; b",
            "JSONPostProcessor.jsonPathExprs=$.a ;b.c",
            "JSONPostProcessor.defaultValues=NA; NB",
            "JSONPostProcessor.match_numbers=-1",
            "JSONPostProcessor.compute_concat=true",
        ];
        let boundary = [
            "BoundaryExtractor.useHeaders=true",
            "BoundaryExtractor.refname=loc",
            "BoundaryExtractor.lboundary=Location: ",
            "BoundaryExtractor.rboundary=\n",
            "BoundaryExtractor.match_number=2",
        ];
        let children = el("RegexExtractor", "R", &regex)
            + &el("JSONPostProcessor", "J", &json)
            + &el("BoundaryExtractor", "B", &boundary);
        let (post, checks) = compiled(&children).unwrap();
        assert!(checks.is_empty());
        let [
            PostProcessor::Regex(r),
            PostProcessor::Json(j),
            PostProcessor::Boundary(b),
        ] = post.as_slice()
        else {
            panic!("{post:?}");
        };
        // An empty match number is 0 (random), as JMeter's int properties.
        let got = (
            r.refname.as_str(),
            r.source,
            r.match_number,
            r.default_empty,
        );
        assert_eq!(got, ("host", Source::Url, 0, true));
        let items: Vec<(&str, &str, i64, &str)> = j
            .items
            .iter()
            .map(|i| (&*i.refname, &*i.path.text, i.match_number, &*i.default))
            .collect();
        // Names and paths trimmed, defaults not; the missing match number is 0.
        assert_eq!(items, [("a", "$.a", -1, "NA"), ("b", "b.c", 0, " NB")]);
        assert!(j.compute_concat);
        let got = (&*b.left, &*b.right, b.match_number, b.source);
        assert_eq!(got, ("Location: ", "\n", 2, Source::ResponseHeaders));
        assert!(!post[0].needs_body() && post[1].needs_body() && !post[2].needs_body());
        let line = post[2].describe();
        assert!(
            line.contains(r#"between "Location: " and "\n", match 2"#),
            "{line}"
        );
    }

    #[test]
    fn assertions_compile_in_order() {
        let size = [
            "SizeAssertion.size=100",
            "SizeAssertion.operator=6",
            "Assertion.test_field=SizeAssertion.response_headers",
        ];
        let json = [
            "JSON_PATH=$.ok",
            "EXPECTED_VALUE=true",
            "JSONVALIDATION=true",
        ];
        let response = [
            "Assertion.test_field=Assertion.response_headers",
            "Assertion.test_type=16",
        ];
        let children = el(
            "DurationAssertion",
            "D",
            &["DurationAssertion.duration=1500"],
        ) + &el("SizeAssertion", "S", &size)
            + &el("JSONPathAssertion", "J", &json)
            + &el("ResponseAssertion", "R", &response);
        let (_, checks) = compiled(&children).unwrap();
        let [
            Check::Duration(d),
            Check::Size(s),
            Check::JsonPath(j),
            Check::Response(r),
        ] = checks.as_slice()
        else {
            panic!("{checks:?}");
        };
        assert_eq!(d.max_ms, 1500);
        let got = (s.size, s.operator, s.field);
        assert_eq!(got, (100, SizeOperator::LessOrEqual, SizeField::Headers));
        assert!(
            j.validate && j.is_regex && !j.invert && !j.expect_null,
            "ISREGEX defaults to true"
        );
        assert_eq!((r.field, r.test_type), (TestField::ResponseHeaders, 16));
        // No test field: JMeter's getStringToCheck tests the URL; no test type is CONTAINS.
        let (_, checks) = compiled(&el("ResponseAssertion", "U", &[])).unwrap();
        let url_contains =
            |r: &ResponseAssertion| r.field == TestField::SampleLabel && r.test_type == CONTAINS;
        assert!(matches!(&checks[0], Check::Response(r) if url_contains(r)));
    }

    /// `AbstractScopedTestElement.getSampleList` with scope `all`: the sample, then its
    /// sub-results — the sample alone when it has none, as every runner sample.
    #[test]
    fn scope_all_is_the_main_sample() {
        let (extractors, _) = compiled(&el(
            "RegexExtractor",
            "R",
            &["RegexExtractor.refname=v", "Sample.scope=all"],
        ))
        .unwrap();
        assert_eq!(extractors.len(), 1);
        let (_, checks) =
            compiled(&el("ResponseAssertion", "A", &["Assertion.scope=all"])).unwrap();
        assert_eq!(checks.len(), 1);
    }

    #[test]
    fn scopes_other_than_parent_are_refused() {
        let e = error(&el(
            "RegexExtractor",
            "R",
            &["RegexExtractor.refname=v", "Sample.scope=children"],
        ));
        let want =
            "element \"R\": Sample.scope = \"children\" is not supported: only the main sample";
        assert!(e.starts_with(want), "{e}");
        let e = error(&el(
            "JSONPostProcessor",
            "J",
            &[
                "JSONPostProcessor.referenceNames=v",
                "Sample.scope=variable",
            ],
        ));
        assert!(e.contains("Sample.scope = \"variable\""), "{e}");
        let props = [
            "SizeAssertion.size=1",
            "SizeAssertion.operator=1",
            "Assertion.scope=children",
        ];
        for class in ["ResponseAssertion", "DurationAssertion", "SizeAssertion"] {
            let e = error(&el(class, "A", &props));
            let want = "element \"A\": Assertion.scope = \"children\" is not supported";
            assert!(e.starts_with(want), "{class}: {e}");
        }
        // Explicit parent is fine; the JSON Assertion has no scope property.
        assert!(compiled(&el("DurationAssertion", "D", &["Assertion.scope=parent"])).is_ok());
        assert!(
            compiled(&el(
                "JSONPathAssertion",
                "J",
                &["JSON_PATH=$", "Assertion.scope=all"]
            ))
            .is_ok()
        );
    }

    #[test]
    fn unsupported_settings_and_bad_values_are_named() {
        let cases: [(&str, &[&str], &str); 13] = [
            (
                "RegexExtractor",
                &[
                    "RegexExtractor.refname=v",
                    "RegexExtractor.useHeaders=as_document",
                ],
                "RegexExtractor.useHeaders = \"as_document\" is not supported: extracting the text of documents",
            ),
            (
                "RegexExtractor",
                &["RegexExtractor.refname=v", "RegexExtractor.useHeaders=body"],
                "property RegexExtractor.useHeaders: \"body\" is not one of false (body)",
            ),
            (
                "RegexExtractor",
                &["RegexExtractor.refname=v", "RegexExtractor.regex=(?<=a)b"],
                "property RegexExtractor.regex: \"(?<=a)b\" is not a regular expression in Rust syntax",
            ),
            (
                "RegexExtractor",
                &[
                    "RegexExtractor.refname=v",
                    "RegexExtractor.regex=(a)",
                    "RegexExtractor.template=$2$",
                ],
                "property RegexExtractor.template: \"$2$\" is not a template whose $n$ groups exist (the regex has 1 groups",
            ),
            (
                "BoundaryExtractor",
                &["BoundaryExtractor.refname= "],
                "property BoundaryExtractor.refname: \" \" is not a variable name",
            ),
            (
                "JSONPostProcessor",
                &[
                    "JSONPostProcessor.referenceNames=a;b",
                    "JSONPostProcessor.jsonPathExprs=$.a;$.b",
                    "JSONPostProcessor.defaultValues=x;",
                ],
                "property JSONPostProcessor.defaultValues: \"x;\" is not a ;-separated list with one default per variable",
            ),
            (
                "JSONPostProcessor",
                &[
                    "JSONPostProcessor.referenceNames=a",
                    "JSONPostProcessor.jsonPathExprs=$.a[?(@.x =~ /y/)]",
                ],
                "property JSONPostProcessor.jsonPathExprs: \"$.a[?(@.x =~ /y/)]\" is not a JSONPath in RFC 9535 syntax (at position",
            ),
            (
                "JSONPostProcessor",
                &[
                    "JSONPostProcessor.referenceNames=a",
                    "JSONPostProcessor.jsonPathExprs=$.a",
                    "JSONPostProcessor.match_numbers=1;2",
                ],
                "property JSONPostProcessor.match_numbers: \"1;2\" is not at most 1 whole numbers",
            ),
            (
                "ResponseAssertion",
                &["Assertion.test_field=Assertion.request_data"],
                "Assertion.test_field = \"Assertion.request_data\" is not supported",
            ),
            (
                "ResponseAssertion",
                &["Assertion.test_field=Assertion.response_data_as_document"],
                "is not supported: extracting the text of documents",
            ),
            (
                "SizeAssertion",
                &["SizeAssertion.size=10", "SizeAssertion.operator=7"],
                "property SizeAssertion.operator: \"7\" is not 1 (=), 2 (!=)",
            ),
            (
                "SizeAssertion",
                &["SizeAssertion.operator=1"],
                "property SizeAssertion.size: \"\" is not a whole number of bytes",
            ),
            (
                "JSONPathAssertion",
                &["JSON_PATH=$.a", "EXPECTED_VALUE=(", "JSONVALIDATION=true"],
                "property EXPECTED_VALUE: \"(\" is not a regular expression (ISREGEX is set)",
            ),
        ];
        for (class, props, want) in cases {
            let e = error(&el(class, "X", props));
            assert!(e.contains(want), "{class}: {e}");
        }
    }

    #[test]
    fn java_split_drops_trailing_empty_entries() {
        assert_eq!(java_split(""), [""]);
        assert_eq!(java_split("a;"), ["a"]);
        assert_eq!(java_split(";a"), ["", "a"]);
        assert!(java_split(";").is_empty());
        assert_eq!(java_split("a; ;"), ["a", " "]);
    }
}
