//! Extractors that read the body as a document: the CSS/JQuery Extractor (`HtmlExtractor`) and
//! the XPath Extractor (`XPathExtractor`), compiled from their JMX properties into
//! [`CssExtract`] and [`XPathExtract`].
//!
//! Property names follow JMeter 5.6's `HtmlExtractor` (`HtmlExtractor.refname`, `expr`,
//! `attribute`, `match_number`, `default`, `default_empty_value`, `extractor_impl`); the scope
//! (`Sample.scope`) is checked by the caller as for every extractor. The selector may hold
//! `${…}` set while the test runs (a Random Variable picking `tr:nth-child(${i})`): it is then
//! rendered for each sample, and checked here with `1` in place of each run-time reference.

use loadlake_plan::TestElement;

use crate::compile::Compiler;
use crate::elements::extractors::css::{CssExpr, CssExtract, jsoup_selector, parse_selector};
use crate::elements::extractors::xpath::{XPathExtract, XPathQuery, check_query};
use crate::error::RunnerError;

/// `HtmlExtractor.expr`.
const EXPR: &str = "HtmlExtractor.expr";

impl Compiler<'_> {
    /// A CSS/JQuery Extractor. `extractor_impl` empty or `JSOUP` is JSoup; `JODD` (Jodd's
    /// Lagarto parser, whose text is not whitespace-normalised) is refused; anything else is
    /// invalid (JMeter throws "Extractor implementation: … is unknown").
    pub(crate) fn css_extractor(&self, e: &TestElement) -> Result<CssExtract, RunnerError> {
        const IMPL: &str = "HtmlExtractor.extractor_impl";
        let implementation = self.text(e, IMPL)?;
        match implementation.as_str() {
            "" | "JSOUP" => {}
            "JODD" => {
                return Err(RunnerError::setting(
                    &e.name,
                    IMPL,
                    &implementation,
                    "only the JSOUP implementation (JMeter's default) is implemented; JODD's \
                     parser and text rules differ",
                ));
            }
            _ => {
                return Err(RunnerError::invalid(
                    &e.name,
                    IMPL,
                    &implementation,
                    "JSOUP, JODD or empty",
                ));
            }
        }
        let attribute = self.text(e, "HtmlExtractor.attribute")?;
        if attribute.trim_start().starts_with("abs:") {
            return Err(RunnerError::setting(
                &e.name,
                "HtmlExtractor.attribute",
                &attribute,
                "jsoup's abs: prefix (a URL made absolute) is not implemented",
            ));
        }
        let raw = self.eval_deferred(&e.name, EXPR, e.prop_str(EXPR).unwrap_or(""))?;
        let template = self.template(&e.name, EXPR, &raw)?;
        let invalid = |text: &str, why: String| {
            let why = format!("a CSS selector as jsoup reads it: {why}");
            RunnerError::invalid(&e.name, EXPR, text, &why)
        };
        let expr = match template.as_static() {
            Some(text) => {
                let css = jsoup_selector(text).map_err(|why| invalid(text, why))?;
                let selector = parse_selector(&css).map_err(|why| invalid(text, why))?;
                CssExpr::Fixed(Box::new(selector))
            }
            None => {
                let text = template.with_placeholders("1");
                jsoup_selector(&text)
                    .and_then(|css| parse_selector(&css))
                    .map_err(|why| invalid(&raw, why))?;
                CssExpr::Runtime(template)
            }
        };
        Ok(CssExtract {
            name: e.name.clone(),
            refname: self.refname(e, "HtmlExtractor.refname")?,
            source: raw,
            expr,
            attribute,
            match_number: self.match_number(e, "HtmlExtractor.match_number")?,
            default: self.text(e, "HtmlExtractor.default")?,
            default_empty: self.flag(e, "HtmlExtractor.default_empty_value", false)?,
        })
    }

    /// An XPath Extractor (JMeter 5.6's `XPathExtractor` properties). `tolerant` parses the body
    /// as HTML; `namespace` (a namespace-aware parser and prefixes from
    /// `xpath.namespace.config`), `fragment` (the matched node as XML text), `validate` (DTD
    /// validation) and `download_dtds` are refused; `whitespace` only acts with validation in
    /// JMeter (`setIgnoringElementContentWhitespace`), and `quiet`, `report_errors`,
    /// `show_warnings` only change Tidy's logging: they are accepted.
    pub(crate) fn xpath_extractor(&self, e: &TestElement) -> Result<XPathExtract, RunnerError> {
        const QUERY: &str = "XPathExtractor.xpathQuery";
        for (prop, why) in [
            (
                "XPathExtractor.namespace",
                "a namespace-aware document (prefixes bound by xpath.namespace.config) is not \
                 implemented; without it names are matched by their local part",
            ),
            (
                "XPathExtractor.fragment",
                "returning the matched node as XML text is not implemented",
            ),
            (
                "XPathExtractor.validate",
                "validating the document against its DTD is not implemented",
            ),
            (
                "XPathExtractor.download_dtds",
                "fetching external DTDs is not implemented",
            ),
        ] {
            if self.flag(e, prop, false)? {
                return Err(RunnerError::setting(&e.name, prop, "true", why));
            }
        }
        let raw = self.eval_deferred(&e.name, QUERY, e.prop_str(QUERY).unwrap_or(""))?;
        let template = self.template(&e.name, QUERY, &raw)?;
        let invalid = |why: String| {
            let why = format!("an XPath 1.0 expression: {why}");
            RunnerError::invalid(&e.name, QUERY, &raw, &why)
        };
        let query = match template.as_static() {
            Some(text) => {
                check_query(text).map_err(invalid)?;
                XPathQuery::Fixed(text.to_string())
            }
            None => {
                check_query(&template.with_placeholders("1")).map_err(invalid)?;
                XPathQuery::Runtime(template)
            }
        };
        Ok(XPathExtract {
            name: e.name.clone(),
            refname: self.refname(e, "XPathExtractor.refname")?,
            query,
            source: raw,
            default: self.text(e, "XPathExtractor.default")?,
            // getPropertyAsInt(MATCH_NUMBER, -1): empty is -1 (all).
            match_number: self.number(
                &e.name,
                "XPathExtractor.matchNumber",
                e.prop_str("XPathExtractor.matchNumber"),
                -1,
            )?,
            tolerant: self.flag(e, "XPathExtractor.tolerant", false)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::elements::extractors::PostProcessor;
    use crate::error::RunnerError;
    use crate::model::Step;

    /// One HTTP sampler with `child` (an element of class `class`, string properties
    /// `name=value`) under it.
    fn compiled(class: &str, props: &[&str]) -> Result<Vec<PostProcessor>, RunnerError> {
        let props: String = props
            .iter()
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                let v = v.replace('&', "&amp;").replace('<', "&lt;");
                format!(r#"<stringProp name="{k}">{v}</stringProp>"#)
            })
            .collect();
        let xml = crate::compile::assertions_extractors::tests::plan(&format!(
            r#"<{class} testclass="{class}" testname="X" enabled="true">{props}</{class}><hashTree/>"#
        ));
        let plan: loadlake_plan::Plan = xml.parse().expect("a plan");
        let runnable = crate::compile(&plan, &BTreeMap::new())?;
        match runnable.groups[0].steps.first() {
            Some(Step::Http(h)) => Ok(h.extractors.clone()),
            other => panic!("expected one HTTP step, got {other:?}"),
        }
    }

    fn error(class: &str, props: &[&str]) -> String {
        match compiled(class, props) {
            Ok(p) => panic!("compiled: {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn css_extractors_compile_with_jmeter_defaults() {
        let post = compiled(
            "HtmlExtractor",
            &[
                "HtmlExtractor.refname=v",
                "HtmlExtractor.expr=form[name=\"VA43\"] input",
                "HtmlExtractor.attribute=value",
                "HtmlExtractor.extractor_impl=JSOUP",
            ],
        )
        .unwrap();
        let [PostProcessor::Css(c)] = post.as_slice() else {
            panic!("{post:?}");
        };
        // An empty match number is 0 (getPropertyAsInt), a random match.
        assert_eq!((c.refname.as_str(), c.match_number), ("v", 0));
        assert!(post[0].describe().contains("attribute value of CSS"));
        let runtime = compiled(
            "HtmlExtractor",
            &[
                "HtmlExtractor.refname=v",
                "HtmlExtractor.expr=tr:nth-child(${i}) > td",
            ],
        )
        .unwrap();
        assert!(
            matches!(&runtime[0], PostProcessor::Css(c) if matches!(c.expr, crate::elements::extractors::css::CssExpr::Runtime(_)))
        );
    }

    #[test]
    fn css_refusals_name_the_property() {
        let cases: [(&[&str], &str); 5] = [
            (
                &[
                    "HtmlExtractor.refname=v",
                    "HtmlExtractor.expr=a",
                    "HtmlExtractor.extractor_impl=JODD",
                ],
                "HtmlExtractor.extractor_impl = \"JODD\" is not supported: only the JSOUP",
            ),
            (
                &[
                    "HtmlExtractor.refname=v",
                    "HtmlExtractor.expr=a",
                    "HtmlExtractor.extractor_impl=X",
                ],
                "property HtmlExtractor.extractor_impl: \"X\" is not JSOUP, JODD or empty",
            ),
            (
                &[
                    "HtmlExtractor.refname=v",
                    "HtmlExtractor.expr=a:contains(x)",
                ],
                "property HtmlExtractor.expr: \"a:contains(x)\" is not a CSS selector as jsoup reads it",
            ),
            (
                &["HtmlExtractor.refname=v", "HtmlExtractor.expr=a[href~=x]"],
                "is not a CSS selector as jsoup reads it: jsoup's [attr~=regex]",
            ),
            (
                &[
                    "HtmlExtractor.refname=v",
                    "HtmlExtractor.expr=a",
                    "HtmlExtractor.attribute=abs:href",
                ],
                "HtmlExtractor.attribute = \"abs:href\" is not supported",
            ),
        ];
        for (props, want) in cases {
            let e = error("HtmlExtractor", props);
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn xpath_extractors_compile_and_refuse_what_is_not_implemented() {
        let post = compiled(
            "XPathExtractor",
            &[
                "XPathExtractor.refname=v",
                "XPathExtractor.xpathQuery=//a/@b",
            ],
        )
        .unwrap();
        // getPropertyAsInt(MATCH_NUMBER, -1): all matches when left out.
        assert!(matches!(&post[0], PostProcessor::XPath(x) if x.match_number == -1 && !x.tolerant));
        let e = error(
            "XPathExtractor",
            &["XPathExtractor.refname=v", "XPathExtractor.xpathQuery=//a["],
        );
        assert!(
            e.contains(
                "property XPathExtractor.xpathQuery: \"//a[\" is not an XPath 1.0 expression"
            ),
            "{e}"
        );
        for prop in ["namespace", "fragment", "validate", "download_dtds"] {
            let p = format!("XPathExtractor.{prop}=true");
            let e = error(
                "XPathExtractor",
                &[
                    "XPathExtractor.refname=v",
                    "XPathExtractor.xpathQuery=/",
                    &p,
                ],
            );
            assert!(
                e.contains(&format!(
                    "XPathExtractor.{prop} = \"true\" is not supported"
                )),
                "{e}"
            );
        }
    }
}
