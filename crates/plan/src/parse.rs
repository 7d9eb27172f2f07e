//! JMX bytes → [`Plan`]: a recursive-descent reader over quick-xml events that applies the
//! `hashTree` convention (element, then the `<hashTree>` holding its children) and reads every
//! property kind. DOCTYPE declarations and undefined entities are refused; nesting is bounded so
//! crafted input cannot exhaust the stack.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::Plan;
use crate::error::{PlanError, Position};
use crate::props::{ElementProp, NumberProp, Prop, Property, Props, XmlNode};
use crate::tree::TestElement;

/// Inputs larger than this are refused (the biggest upstream plan is about 130 KB).
pub const MAX_PLAN_BYTES: u64 = 256 * 1024 * 1024;

/// Most attributes one element may carry; JMeter writes at most a few (`guiclass`,
/// `testclass`, `testname`, `enabled`, `elementType`, `name`).
pub const MAX_ATTRIBUTES: usize = 1024;

/// Deepest element nesting accepted (each controller level costs two: element + hashTree).
pub const MAX_DEPTH: usize = 256;

/// Parses a whole JMX document held in memory; `origin` names it in errors.
pub(crate) fn parse_bytes(bytes: &[u8], origin: &str) -> Result<Plan, PlanError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(PlanError::NotUtf8 {
            origin: origin.to_string(),
            at: Position::of(bytes, 0),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| PlanError::NotUtf8 {
        origin: origin.to_string(),
        at: Position::of(bytes, e.valid_up_to()),
    })?;
    let (body, base) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, text.len() - rest.len()),
        None => (text, 0),
    };
    let trimmed = body.trim_start();
    let Some(first) = trimmed.chars().next() else {
        return Err(PlanError::Empty {
            origin: origin.to_string(),
        });
    };
    if first != '<' {
        let start: String = trimmed.chars().take(24).collect();
        return Err(PlanError::NotXml {
            origin: origin.to_string(),
            reason: format!("it starts with {start:?}"),
        });
    }
    let mut parser = Parser {
        reader: Reader::from_str(body),
        src: bytes,
        base,
        origin,
        depth: 0,
        line_at: (0, 1),
    };
    parser.document()
}

/// One structural event, with entity references and CDATA already folded into text.
enum Ev<'a> {
    Open {
        start: BytesStart<'a>,
        empty: bool,
        at: usize,
    },
    Close,
    Text(Cow<'a, str>),
    Eof {
        at: usize,
    },
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    /// The whole input (BOM included), for positions.
    src: &'a [u8],
    /// Length of the skipped byte-order mark: reader offsets + base = input offsets.
    base: usize,
    origin: &'a str,
    depth: usize,
    /// Last (offset, line) computed, so element lines are counted incrementally.
    line_at: (usize, u64),
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> Result<Plan, PlanError> {
        let (root, empty, at) = loop {
            match self.next()? {
                Ev::Open { start, empty, at } => break (start, empty, at),
                Ev::Text(t) if is_blank(&t) => {}
                Ev::Text(_) => {
                    return Err(self.malformed(self.pos(), "text before the root element"));
                }
                Ev::Close => {
                    return Err(self.malformed(self.pos(), "closing tag before the root element"));
                }
                Ev::Eof { .. } => {
                    return Err(PlanError::NotXml {
                        origin: self.origin.to_string(),
                        reason: "it contains no element".to_string(),
                    });
                }
            }
        };
        let tag = tag_of(&root);
        if tag != "jmeterTestPlan" {
            return Err(PlanError::NotJmx {
                origin: self.origin.to_string(),
                root: tag,
                at: self.position(at),
            });
        }
        let mut plan = Plan::default();
        for (k, v) in self.attributes(&root, at)? {
            match k.as_str() {
                "version" => plan.version = Some(v),
                "properties" => plan.properties = Some(v),
                "jmeter" => plan.jmeter = Some(v),
                _ => plan.extra_attributes.push((k, v)),
            }
        }
        if !empty {
            plan.elements = self.root_children(at)?;
        }
        loop {
            match self.next()? {
                Ev::Eof { .. } => return Ok(plan),
                Ev::Text(t) if is_blank(&t) => {}
                Ev::Open { at, .. } => {
                    return Err(self.malformed(at, "an element after </jmeterTestPlan>"));
                }
                Ev::Text(_) | Ev::Close => {
                    return Err(self.malformed(self.pos(), "content after </jmeterTestPlan>"));
                }
            }
        }
    }

    /// The content of `<jmeterTestPlan>`: normally one `<hashTree>`.
    fn root_children(&mut self, opened_at: usize) -> Result<Vec<TestElement>, PlanError> {
        let mut elements = Vec::new();
        loop {
            match self.next()? {
                Ev::Open { start, empty, at } => {
                    let tag = tag_of(&start);
                    if tag != "hashTree" {
                        let msg =
                            format!("expected <hashTree> inside <jmeterTestPlan>, found <{tag}>");
                        return Err(self.malformed(at, msg));
                    }
                    if !empty {
                        elements.extend(self.hash_tree(at)?);
                    }
                }
                Ev::Text(_) => {}
                Ev::Close => return Ok(elements),
                Ev::Eof { at } => return Err(self.truncated(at, "jmeterTestPlan", opened_at)),
            }
        }
    }

    /// The content of a `<hashTree>`: element, its `<hashTree>`, element, its `<hashTree>`, …
    /// An element with no `<hashTree>` after it gets no children (JMeter always writes one).
    fn hash_tree(&mut self, opened_at: usize) -> Result<Vec<TestElement>, PlanError> {
        let mut out: Vec<TestElement> = Vec::new();
        let mut awaiting_children = false;
        loop {
            match self.next()? {
                Ev::Open { start, empty, at } => {
                    if start.name().as_ref() == "hashTree" {
                        let parent = match out.last_mut() {
                            Some(parent) if awaiting_children => parent,
                            _ => {
                                let msg = "a <hashTree> that follows no test element (each <hashTree> holds the children of the element just before it)";
                                return Err(self.malformed(at, msg));
                            }
                        };
                        if !empty {
                            parent.children = self.hash_tree(at)?;
                        }
                        awaiting_children = false;
                    } else {
                        out.push(self.element(start, empty, at)?);
                        awaiting_children = true;
                    }
                }
                Ev::Text(_) => {}
                Ev::Close => return Ok(out),
                Ev::Eof { at } => return Err(self.truncated(at, "hashTree", opened_at)),
            }
        }
    }

    fn element(
        &mut self,
        start: BytesStart<'a>,
        empty: bool,
        at: usize,
    ) -> Result<TestElement, PlanError> {
        let tag = tag_of(&start);
        let mut el = TestElement {
            line: self.line_of(at),
            enabled: true,
            ..TestElement::default()
        };
        for (k, v) in self.attributes(&start, at)? {
            match k.as_str() {
                "testclass" => el.test_class = v,
                "guiclass" => el.gui_class = Some(v),
                "testname" => el.name = v,
                "enabled" => el.enabled = jmeter_enabled(&v),
                _ => el.extra_attributes.push((k, v)),
            }
        }
        if el.test_class.is_empty() {
            el.test_class.clone_from(&tag);
        }
        if !empty {
            el.props = self.props(&tag, at)?;
        }
        el.tag = tag;
        Ok(el)
    }

    /// Property elements until the end tag of their parent `parent`.
    fn props(&mut self, parent: &str, opened_at: usize) -> Result<Props, PlanError> {
        let mut props = Props::new();
        loop {
            match self.next()? {
                Ev::Open { start, empty, at } => {
                    let Property { name, value } = self.property(start, empty, at)?;
                    props.push(name, value);
                }
                Ev::Text(_) => {}
                Ev::Close => return Ok(props),
                Ev::Eof { at } => return Err(self.truncated(at, parent, opened_at)),
            }
        }
    }

    fn property(
        &mut self,
        start: BytesStart<'a>,
        empty: bool,
        at: usize,
    ) -> Result<Property, PlanError> {
        let tag = tag_of(&start);
        let scalar = |p: &mut Self, make: fn(String) -> Prop| -> Result<Prop, PlanError> {
            let text = if empty {
                String::new()
            } else {
                p.text_only(&tag, at)?
            };
            Ok(make(text))
        };
        let mut attrs = self.attributes(&start, at)?;
        let name = take_attr(&mut attrs, "name").unwrap_or_default();
        let value = match tag.as_str() {
            "stringProp" => scalar(self, Prop::String)?,
            "intProp" => scalar(self, Prop::Int)?,
            "longProp" => scalar(self, Prop::Long)?,
            "boolProp" => scalar(self, Prop::Bool)?,
            "elementProp" => {
                let mut e = ElementProp {
                    enabled: true,
                    ..ElementProp::default()
                };
                for (k, v) in attrs {
                    match k.as_str() {
                        "elementType" => e.element_type = v,
                        "testclass" => e.test_class = Some(v),
                        "guiclass" => e.gui_class = Some(v),
                        "testname" => e.test_name = Some(v),
                        "enabled" => e.enabled = jmeter_enabled(&v),
                        _ => e.extra_attributes.push((k, v)),
                    }
                }
                if !empty {
                    e.props = self.props(&tag, at)?;
                }
                Prop::Element(e)
            }
            "collectionProp" | "mapProp" => {
                let members = if empty {
                    Props::new()
                } else {
                    self.props(&tag, at)?
                };
                if tag == "mapProp" {
                    Prop::Map(members)
                } else {
                    Prop::Collection(members)
                }
            }
            "doubleProp" | "FloatProperty" | "objProp" => {
                let node = self.node(tag.clone(), attrs, empty, at)?;
                let name = node.child_text("name").map_or(name, str::to_string);
                let value = if tag == "objProp" {
                    Prop::Obj(
                        node.children
                            .into_iter()
                            .find(|c| c.tag == "value")
                            .unwrap_or_default(),
                    )
                } else {
                    let number = NumberProp {
                        value: node.child_text("value").unwrap_or_default().to_string(),
                        saved_value: node.child_text("savedValue").map(str::to_string),
                    };
                    if tag == "doubleProp" {
                        Prop::Double(number)
                    } else {
                        Prop::Float(number)
                    }
                };
                return Ok(Property { name, value });
            }
            _ => {
                let mut attrs = attrs;
                if !name.is_empty() {
                    attrs.insert(0, ("name".to_string(), name.clone()));
                }
                Prop::Other(self.node(tag, attrs, empty, at)?)
            }
        };
        Ok(Property { name, value })
    }

    /// Text content of a scalar property; a child element there is an error.
    fn text_only(&mut self, tag: &str, opened_at: usize) -> Result<String, PlanError> {
        let mut text = String::new();
        loop {
            match self.next()? {
                Ev::Text(t) => text.push_str(&t),
                Ev::Close => return Ok(text),
                Ev::Open { start, at, .. } => {
                    let msg = format!(
                        "unexpected element <{}> inside <{tag}>, which holds only text",
                        tag_of(&start)
                    );
                    return Err(self.malformed(at, msg));
                }
                Ev::Eof { at } => return Err(self.truncated(at, tag, opened_at)),
            }
        }
    }

    /// A generic element with its text and children (objProp values, unknown kinds).
    fn node(
        &mut self,
        tag: String,
        attributes: Vec<(String, String)>,
        empty: bool,
        opened_at: usize,
    ) -> Result<XmlNode, PlanError> {
        let mut node = XmlNode {
            tag,
            attributes,
            ..XmlNode::default()
        };
        if empty {
            return Ok(node);
        }
        loop {
            match self.next()? {
                Ev::Text(t) => node.text.push_str(&t),
                Ev::Open { start, empty, at } => {
                    let attrs = self.attributes(&start, at)?;
                    node.children
                        .push(self.node(tag_of(&start), attrs, empty, at)?);
                }
                Ev::Close => break,
                Ev::Eof { at } => return Err(self.truncated(at, &node.tag, opened_at)),
            }
        }
        if !node.children.is_empty() && is_blank(&node.text) {
            node.text.clear();
        }
        Ok(node)
    }

    /// The next event that matters: comments, declarations and processing instructions are
    /// skipped, entity references resolved, DOCTYPE refused, nesting depth bounded.
    fn next(&mut self) -> Result<Ev<'a>, PlanError> {
        loop {
            let at = self.pos();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let at = self.base + self.reader.error_position() as usize;
                    return Err(self.malformed(at, format!("{e}")));
                }
            };
            return Ok(match event {
                Event::Start(start) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(PlanError::TooDeep {
                            origin: self.origin.to_string(),
                            at: self.position(at),
                            limit: MAX_DEPTH,
                        });
                    }
                    Ev::Open {
                        start,
                        empty: false,
                        at,
                    }
                }
                Event::Empty(start) => Ev::Open {
                    start,
                    empty: true,
                    at,
                },
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    Ev::Close
                }
                Event::Text(t) => Ev::Text(t.xml10_content()),
                Event::CData(c) => Ev::Text(c.xml10_content()),
                Event::GeneralRef(r) => {
                    if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => Ev::Text(Cow::Owned(c.to_string())),
                            _ => {
                                return Err(self.malformed(
                                    at,
                                    format!("invalid character reference &{};", &*r),
                                ));
                            }
                        }
                    } else if let Some(s) = resolve_predefined_entity(&r) {
                        Ev::Text(Cow::Borrowed(s))
                    } else {
                        let msg = format!(
                            "undefined entity &{};: JMX files use only &lt; &gt; &amp; &apos; &quot; and character references",
                            &*r
                        );
                        return Err(self.malformed(at, msg));
                    }
                }
                Event::DocType(_) => {
                    return Err(PlanError::Doctype {
                        origin: self.origin.to_string(),
                        at: self.position(at),
                    });
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => continue,
                Event::Eof => Ev::Eof { at },
            });
        }
    }

    fn attributes(
        &self,
        start: &BytesStart<'_>,
        at: usize,
    ) -> Result<Vec<(String, String)>, PlanError> {
        let mut out = Vec::new();
        // quick-xml's own duplicate check compares every attribute with every earlier one
        // (quadratic: a million attributes took minutes); a set does it in linear time.
        let mut seen = std::collections::HashSet::new();
        for attr in start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| {
                self.malformed(at, format!("bad attribute in <{}>: {e}", tag_of(start)))
            })?;
            if out.len() >= MAX_ATTRIBUTES {
                let msg = format!(
                    "<{}> has more than {MAX_ATTRIBUTES} attributes (the limit; JMeter writes at most a few)",
                    tag_of(start)
                );
                return Err(self.malformed(at, msg));
            }
            if !seen.insert(attr.key.as_ref().to_owned()) {
                let msg = format!(
                    "attribute {} appears twice in <{}>",
                    attr.key.as_ref(),
                    tag_of(start)
                );
                return Err(self.malformed(at, msg));
            }
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| {
                    let msg = format!(
                        "bad value of attribute {} in <{}>: {e}",
                        attr.key.as_ref(),
                        tag_of(start)
                    );
                    self.malformed(at, msg)
                })?;
            out.push((attr.key.as_ref().to_string(), value.into_owned()));
        }
        Ok(out)
    }

    /// Current input offset (just after the last event).
    fn pos(&self) -> usize {
        self.base + self.reader.buffer_position() as usize
    }

    fn position(&self, offset: usize) -> Position {
        Position::of(self.src, offset)
    }

    /// Line of `offset`, counted on from the last call (element offsets only grow).
    fn line_of(&mut self, offset: usize) -> u64 {
        let (from, line) = self.line_at;
        let offset = offset.min(self.src.len());
        if offset < from {
            return Position::of(self.src, offset).line;
        }
        let newlines = self.src[from..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.line_at = (offset, line + newlines);
        line + newlines
    }

    fn malformed(&self, at: usize, reason: impl Into<String>) -> PlanError {
        PlanError::Malformed {
            origin: self.origin.to_string(),
            at: self.position(at),
            reason: reason.into(),
        }
    }

    fn truncated(&self, at: usize, tag: &str, opened_at: usize) -> PlanError {
        let opened = self.position(opened_at);
        let msg = format!(
            "the file ends inside <{tag}> opened at line {}: it is truncated (was it still being written?)",
            opened.line
        );
        self.malformed(at, msg)
    }
}

fn tag_of(start: &BytesStart<'_>) -> String {
    start.name().as_ref().to_string()
}

fn take_attr(attrs: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let i = attrs.iter().position(|(k, _)| k == name)?;
    Some(attrs.remove(i).1)
}

/// JMeter's reading of `enabled="…"`: `Boolean.parseBoolean`, so only `true` (any case) enables.
fn jmeter_enabled(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

fn is_blank(text: &str) -> bool {
    text.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}
