//! The XPath Extractor (`XPathExtractor`, XPath 1.0).
//!
//! JMeter's `XPathExtractor.process` (5.6): `name` is set to the default (even an empty one),
//! `name_matchNr` to 0 and `name_1` removed; the body is parsed into a DOM — strictly as XML by
//! a non-namespace-aware, non-validating parser, or, with `tolerant`, as HTML by JTidy — and
//! `XPathUtil.putValuesForXPathInList` evaluates the query with Xalan: for a node-set, each node
//! in document order (only the `matchNumber`-th when it is ≥ 1, a random one for 0, all for a
//! negative number) gives an attribute's, text's or comment's value, or for an element the value
//! of its first child (`getFirstChild().getNodeValue()`: its text, or nothing when the first
//! child is an element); another result (a string, number or boolean) gives its string. Then
//! `name_matchNr` = the count, `name` = the first value, `name_1` … `name_N` the values, and
//! `name_N+1` … of an earlier sample removed. A document that does not parse leaves the
//! variables at the default and `_matchNr` 0 (JMeter also adds an assertion result with the
//! parser's message to the sample, which stays successful; here it is logged).
//!
//! XPath is evaluated by `sxd-xpath` (XPath 1.0) over an `sxd-document` tree. A parser without
//! namespaces keeps `p:price` as its qualified name and Xalan matches it by its local part, with
//! no namespace: the tree is built with local names only, so `//price` finds `<p:price>` and
//! `<price xmlns="…">` as in JMeter. HTML (tolerant) is parsed by html5ever, not JTidy.

use std::collections::HashMap;

use ego_tree::NodeRef;
use sxd_document::Package;
use sxd_document::dom::{ChildOfElement, ChildOfRoot, Document, Element};
use sxd_xpath::nodeset::Node as XNode;
use sxd_xpath::{Context, Factory, Value};

use crate::elements::response::Response;
use crate::text::template::{Template, UserCtx};

/// The query of an XPath Extractor: fixed, or rendered for each sample.
#[derive(Debug, Clone)]
pub enum XPathQuery {
    /// Checked when the plan is compiled.
    Fixed(String),
    /// With `${…}` set while the test runs.
    Runtime(Template),
}

/// One XPath Extractor (`XPathExtractor`).
#[derive(Debug, Clone)]
pub struct XPathExtract {
    /// The element's `testname`.
    pub name: String,
    /// `XPathExtractor.refname`.
    pub refname: String,
    /// `XPathExtractor.xpathQuery`.
    pub query: XPathQuery,
    /// The query as written (for `explain`).
    pub source: String,
    /// `XPathExtractor.default`: always stored first.
    pub default: String,
    /// `XPathExtractor.matchNumber` (empty: −1, all).
    pub match_number: i64,
    /// `XPathExtractor.tolerant`: parse the body as HTML.
    pub tolerant: bool,
}

impl XPathExtract {
    /// Sets this extractor's variables from the response body, as `XPathExtractor.process`.
    pub(crate) fn apply(&self, r: &Response<'_>, user: &mut UserCtx) {
        let name = self.refname.as_str();
        let match_nr = format!("{name}_matchNr");
        let vars = &mut user.vars;
        vars.insert(name.to_string(), self.default.clone());
        let previous: usize = vars
            .get(&match_nr)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        vars.insert(match_nr.clone(), "0".to_string());
        vars.remove(&format!("{name}_1"));
        let query = match &self.query {
            XPathQuery::Fixed(q) => q.clone(),
            XPathQuery::Runtime(t) => t.render(user, &|v: &str| v.to_string()),
        };
        let package = if self.tolerant {
            Ok(html_package(r.body))
        } else {
            xml_package(r.body)
        };
        let values = package.and_then(|p| values(p.as_document(), &query, self.match_number));
        let values = match values {
            Ok(v) => v,
            Err(why) => {
                tracing::warn!("{}: XPath {query}: {why}", self.name);
                return;
            }
        };
        store(&mut user.vars, name, &values, previous);
    }
}

/// The end of `process`: `_matchNr`, the first value in `name`, `name_1` … `name_N` (a value
/// that is null in JMeter — an element without a text first child — is not set), leftovers of
/// an earlier sample removed.
fn store(vars: &mut HashMap<String, String>, name: &str, values: &[Option<String>], prev: usize) {
    let count = values.len();
    vars.insert(format!("{name}_matchNr"), count.to_string());
    if let Some(Some(first)) = values.first() {
        vars.insert(name.to_string(), first.clone());
    }
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            vars.insert(format!("{name}_{}", i + 1), v.clone());
        }
    }
    vars.remove(&format!("{name}_{}", count + 1));
    for i in count + 2..=prev {
        vars.remove(&format!("{name}_{i}"));
    }
}

/// Checks that `query` is XPath 1.0 (compile time).
pub(crate) fn check_query(query: &str) -> Result<(), String> {
    match Factory::new().build(query) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("an empty XPath".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// `XPathUtil.putValuesForXPathInList` on `doc`.
pub(crate) fn values(
    doc: Document<'_>,
    query: &str,
    match_number: i64,
) -> Result<Vec<Option<String>>, String> {
    let xpath = Factory::new()
        .build(query)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "an empty XPath".to_string())?;
    let context = Context::new();
    let value = xpath
        .evaluate(&context, doc.root())
        .map_err(|e| e.to_string())?;
    Ok(match value {
        Value::Nodeset(nodes) => {
            let nodes = nodes.document_order();
            let wanted = if match_number == 0 && !nodes.is_empty() {
                fastrand::usize(..nodes.len()) as i64 + 1
            } else {
                match_number
            };
            nodes
                .iter()
                .enumerate()
                .filter(|(i, _)| wanted < 0 || wanted == *i as i64 + 1)
                .map(|(_, n)| node_value(*n))
                .collect()
        }
        other => vec![Some(other.string())],
    })
}

/// A DOM node's value as `putValuesForXPathInList` reads it.
fn node_value(node: XNode<'_>) -> Option<String> {
    match node {
        XNode::Root(_) => None,
        XNode::Element(e) => first_child_value(e),
        XNode::Attribute(a) => Some(a.value().to_string()),
        XNode::Text(t) => Some(t.text().to_string()),
        XNode::Comment(c) => Some(c.text().to_string()),
        XNode::ProcessingInstruction(p) => Some(p.value().unwrap_or("").to_string()),
        XNode::Namespace(n) => Some(n.uri().to_string()),
    }
}

/// `getFirstChild().getNodeValue()`: adjacent text is one DOM text node.
fn first_child_value(e: Element<'_>) -> Option<String> {
    let children = e.children();
    match children.first()? {
        ChildOfElement::Text(_) => Some(
            children
                .iter()
                .map_while(|c| match c {
                    ChildOfElement::Text(t) => Some(t.text()),
                    _ => None,
                })
                .collect(),
        ),
        ChildOfElement::Comment(c) => Some(c.text().to_string()),
        ChildOfElement::ProcessingInstruction(p) => Some(p.value().unwrap_or("").to_string()),
        ChildOfElement::Element(_) => None,
    }
}

/// Parses `body` as XML and rebuilds it without namespaces (see the module documentation).
pub(crate) fn xml_package(body: &str) -> Result<Package, String> {
    let parsed = sxd_document::parser::parse(body).map_err(|e| format!("not XML: {e}"))?;
    let out = Package::new();
    let (src, dst) = (parsed.as_document(), out.as_document());
    for child in src.root().children() {
        match child {
            ChildOfRoot::Element(e) => dst.root().append_child(copy_element(e, dst)),
            ChildOfRoot::Comment(c) => dst.root().append_child(dst.create_comment(c.text())),
            ChildOfRoot::ProcessingInstruction(p) => dst
                .root()
                .append_child(dst.create_processing_instruction(p.target(), p.value())),
        }
    }
    Ok(out)
}

fn copy_element<'d>(e: Element<'_>, dst: Document<'d>) -> Element<'d> {
    let copy = dst.create_element(e.name().local_part());
    for a in e.attributes() {
        copy.set_attribute_value(a.name().local_part(), a.value());
    }
    // The parser splits text at entity and character references; a DOM parser (and so
    // Xalan's text()) sees one text node for the run.
    let mut text = String::new();
    for child in e.children() {
        if let ChildOfElement::Text(t) = child {
            text.push_str(t.text());
            continue;
        }
        if !text.is_empty() {
            copy.append_child(dst.create_text(&std::mem::take(&mut text)));
        }
        match child {
            ChildOfElement::Element(c) => copy.append_child(copy_element(c, dst)),
            ChildOfElement::Comment(c) => copy.append_child(dst.create_comment(c.text())),
            ChildOfElement::ProcessingInstruction(p) => {
                copy.append_child(dst.create_processing_instruction(p.target(), p.value()))
            }
            ChildOfElement::Text(_) => {}
        }
    }
    if !text.is_empty() {
        copy.append_child(dst.create_text(&text));
    }
    copy
}

/// Parses `body` as HTML (html5ever, as the CSS/JQuery Extractor) into a tree XPath reads:
/// elements by their lower-case local names, attributes, text and comments.
pub(crate) fn html_package(body: &str) -> Package {
    let html = super::css::parse_html(body);
    let out = Package::new();
    let doc = out.as_document();
    for child in html.tree.root().children() {
        if let Some(e) = html_element(child, doc) {
            doc.root().append_child(e);
        }
    }
    out
}

fn html_element<'d>(node: NodeRef<'_, scraper::Node>, doc: Document<'d>) -> Option<Element<'d>> {
    let scraper::Node::Element(e) = node.value() else {
        return None;
    };
    let copy = doc.create_element(e.name());
    for (k, v) in e.attrs() {
        copy.set_attribute_value(k, v);
    }
    for child in node.children() {
        match child.value() {
            scraper::Node::Element(_) => {
                if let Some(c) = html_element(child, doc) {
                    copy.append_child(c);
                }
            }
            scraper::Node::Text(t) => copy.append_child(doc.create_text(&t.text)),
            scraper::Node::Comment(c) => copy.append_child(doc.create_comment(&c.comment)),
            _ => {}
        }
    }
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The XML of the tests; expected values worked by hand from `putValuesForXPathInList`
    /// and checked with lxml's XPath 1.0 (libxml2), a second implementation.
    const XML: &str = r#"<?xml version="1.0"?>
<shop xmlns:p="urn:price"><item id="7"><name>apple</name><p:price>1.5</p:price></item><item id="8"><name>pear &amp; fig</name><p:price>2</p:price><!--c--></item><empty/><mixed><b>x</b>tail</mixed></shop>"#;

    fn xml(query: &str, n: i64) -> Vec<Option<String>> {
        let package = xml_package(XML).unwrap();
        values(package.as_document(), query, n).unwrap()
    }

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn node_values_follow_xpath_util() {
        assert_eq!(xml("//item/@id", -1), some(&["7", "8"]));
        assert_eq!(xml("//name", -1), some(&["apple", "pear & fig"]));
        assert_eq!(xml("//item/name/text()", 2), some(&["pear & fig"]));
        // Without namespaces p:price is matched by its local name.
        assert_eq!(xml("//price", -1), some(&["1.5", "2"]));
        // An element whose first child is an element has no value; an empty one neither.
        assert_eq!(xml("//mixed", -1), [None]);
        assert_eq!(xml("//empty", -1), [None]);
        assert_eq!(xml("//item[2]/comment()", -1), some(&["c"]));
        // Not a node-set: the value's string, whatever the match number.
        assert_eq!(xml("count(//item)", 5), some(&["2"]));
        assert_eq!(xml("sum(//price)", -1), some(&["3.5"]));
        assert_eq!(xml("string(//item[1]/@id)", -1), some(&["7"]));
        assert_eq!(xml("//item = 'x'", -1), some(&["false"]));
        // The n-th match only; a random one for 0.
        assert_eq!(xml("//item/@id", 2), some(&["8"]));
        assert!(xml("//item/@id", 3).is_empty());
        let one = xml("//item/@id", 0);
        assert!(one == some(&["7"]) || one == some(&["8"]), "{one:?}");
    }

    #[test]
    fn html_is_read_when_tolerant() {
        let page = "<html><body><form><input id='reportXML' value='&lt;r/&gt;'>\
                    <input id=other value=x></form><p>Hi <b>there</b></body></html>";
        let package = html_package(page);
        let got = values(
            package.as_document(),
            "//input[@id = 'reportXML']/@value",
            -1,
        );
        assert_eq!(got.unwrap(), some(&["<r/>"]));
        let got = values(package.as_document(), "//p", -1);
        assert_eq!(got.unwrap(), some(&["Hi "]));
        assert!(xml_package(page).is_err(), "not well-formed XML");
    }

    #[test]
    fn variables_follow_process() {
        let run = |query: &str, n: i64, vars: &mut HashMap<String, String>| {
            let e = XPathExtract {
                name: "X".into(),
                refname: "v".into(),
                query: XPathQuery::Fixed(query.into()),
                source: query.into(),
                default: "NF".into(),
                match_number: n,
                tolerant: false,
            };
            let mut user = UserCtx::new(std::mem::take(vars), 1);
            e.apply(
                &Response {
                    body: XML,
                    ..Response::default()
                },
                &mut user,
            );
            *vars = user.vars;
        };
        let get = |vars: &HashMap<String, String>, names: &str| {
            names
                .split(' ')
                .map(|n| vars.get(n).map_or("-", |v| v.as_str()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut vars = HashMap::new();
        run("//item/@id", -1, &mut vars);
        assert_eq!(get(&vars, "v v_matchNr v_1 v_2"), "7 2 7 8");
        // Match 2: one value, so v, v_1 and _matchNr = 1 (JMeter's list holds only it).
        run("//item/@id", 2, &mut vars);
        assert_eq!(get(&vars, "v v_matchNr v_1 v_2"), "8 1 8 -");
        // Nothing found: the default, _matchNr 0.
        run("//nothing", -1, &mut vars);
        assert_eq!(get(&vars, "v v_matchNr v_1"), "NF 0 -");
        // A null value counts but sets nothing: v keeps the default.
        run("//mixed", -1, &mut vars);
        assert_eq!(get(&vars, "v v_matchNr v_1"), "NF 1 -");
        // A body that is not XML: the default and _matchNr 0.
        vars.insert("v_1".into(), "old".into());
        let mut user = UserCtx::new(vars, 1);
        let e = XPathExtract {
            name: "X".into(),
            refname: "v".into(),
            query: XPathQuery::Fixed("//a".into()),
            source: "//a".into(),
            default: String::new(),
            match_number: -1,
            tolerant: false,
        };
        e.apply(
            &Response {
                body: "<a>unclosed",
                ..Response::default()
            },
            &mut user,
        );
        assert_eq!(get(&user.vars, "v v_matchNr v_1"), " 0 -");
    }

    #[test]
    fn queries_are_checked() {
        assert!(check_query("//a[@b='c']/text()").is_ok());
        assert!(check_query("//a[").is_err());
        assert!(check_query("").is_err());
    }
}
