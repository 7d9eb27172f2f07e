//! JMX property values (`stringProp`, `intProp`, `elementProp`, `collectionProp`, …) kept
//! losslessly as written, with lenient typed readers.
//!
//! Scalar properties keep their raw text: JMeter stores numbers as `stringProp` whenever they may
//! hold `${…}` expressions, and hand-edited files put expressions even into `intProp`/`boolProp`.
//! Nothing here fails on such text; the typed readers return `None` and the raw text stays
//! available through [`Prop::as_str`].

use serde::Serialize;

/// One property value; the variant is the XML element it was read from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prop {
    /// `<stringProp>`: text, possibly with `${…}` expressions.
    String(String),
    /// `<intProp>` (a Java `int`), raw text.
    Int(String),
    /// `<longProp>` (a Java `long`), raw text.
    Long(String),
    /// `<boolProp>`, raw text (`true`/`false`, or an expression in hand-edited files).
    Bool(String),
    /// `<doubleProp>` with `<name>`, `<value>` and `<savedValue>` children.
    Double(NumberProp),
    /// `<FloatProperty>` with `<name>`, `<value>` and `<savedValue>` children.
    Float(NumberProp),
    /// `<elementProp>`: a nested test element (HTTP arguments, the thread group's loop, …).
    Element(ElementProp),
    /// `<collectionProp>`: an ordered list; member names are kept (often a hash code, or empty).
    Collection(Props),
    /// `<mapProp>`: entries keyed by each member's `name`.
    Map(Props),
    /// `<objProp>`: an XStream-serialised Java object such as a listener's `saveConfig`.
    Obj(XmlNode),
    /// An element this parser does not know (e.g. from a plugin), kept verbatim.
    Other(XmlNode),
}

/// The payload of `doubleProp` and `FloatProperty`: value text and the optional saved value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NumberProp {
    /// Text of `<value>`.
    pub value: String,
    /// Text of `<savedValue>`, when present (JMeter's value to restore after a run).
    pub saved_value: Option<String>,
}

/// A nested test element stored as a property (`<elementProp name=… elementType=…>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ElementProp {
    /// `elementType` attribute: the element's class alias (e.g. `Arguments`, `LoopController`).
    pub element_type: String,
    /// `testclass` attribute, when written.
    pub test_class: Option<String>,
    /// `guiclass` attribute, when written.
    pub gui_class: Option<String>,
    /// `testname` attribute, when written.
    pub test_name: Option<String>,
    /// `enabled` attribute (`true` when absent, as in JMeter).
    pub enabled: bool,
    /// Attributes other than `name`, `elementType`, `testclass`, `guiclass`, `testname`, `enabled`.
    pub extra_attributes: Vec<(String, String)>,
    /// The nested properties, in file order.
    pub props: Props,
}

/// A generic XML element, used for `objProp` values and unknown property kinds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct XmlNode {
    /// Element name.
    pub tag: String,
    /// Attributes in file order.
    pub attributes: Vec<(String, String)>,
    /// Concatenated text content (whitespace-only text between child elements is dropped).
    pub text: String,
    /// Child elements in file order.
    pub children: Vec<XmlNode>,
}

impl XmlNode {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child element called `tag`.
    pub fn child(&self, tag: &str) -> Option<&XmlNode> {
        self.children.iter().find(|c| c.tag == tag)
    }

    /// The text of the first child element called `tag` (e.g. `time` in a `saveConfig`).
    pub fn child_text(&self, tag: &str) -> Option<&str> {
        self.child(tag).map(|c| c.text.as_str())
    }
}

/// One named property.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Property {
    /// The `name` attribute (or `<name>` child); may be empty, and may repeat inside collections.
    pub name: String,
    /// The value.
    pub value: Prop,
}

/// An ordered list of named properties: a test element's properties, an `elementProp`'s, or the
/// members of a `collectionProp`/`mapProp`. Lookups by name return the first match.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Props(Vec<Property>);

impl Props {
    /// An empty list.
    pub fn new() -> Props {
        Props(Vec::new())
    }

    /// Appends a property (duplicates are kept, as in collections).
    pub fn push(&mut self, name: impl Into<String>, value: Prop) {
        self.0.push(Property {
            name: name.into(),
            value,
        });
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no property.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The properties in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Property> {
        self.0.iter()
    }

    /// The values in file order (handy for collection members, whose names rarely matter).
    pub fn values(&self) -> impl Iterator<Item = &Prop> {
        self.0.iter().map(|p| &p.value)
    }

    /// The first property called `name`.
    pub fn get(&self, name: &str) -> Option<&Prop> {
        self.0.iter().find(|p| p.name == name).map(|p| &p.value)
    }

    /// Raw text of the scalar property `name`; see [`Prop::as_str`].
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Prop::as_str)
    }

    /// Property `name` as a boolean; see [`Prop::as_bool`].
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Prop::as_bool)
    }

    /// Property `name` as an integer; see [`Prop::as_i64`].
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Prop::as_i64)
    }

    /// Property `name` as a float; see [`Prop::as_f64`].
    pub fn get_f64(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(Prop::as_f64)
    }

    /// The `elementProp` called `name`.
    pub fn get_element(&self, name: &str) -> Option<&ElementProp> {
        self.get(name).and_then(Prop::as_element)
    }

    /// The members of the `collectionProp` called `name`.
    pub fn get_collection(&self, name: &str) -> Option<&Props> {
        self.get(name).and_then(Prop::as_collection)
    }
}

impl<'a> IntoIterator for &'a Props {
    type Item = &'a Property;
    type IntoIter = std::slice::Iter<'a, Property>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Property> for Props {
    fn from_iter<I: IntoIterator<Item = Property>>(iter: I) -> Self {
        Props(iter.into_iter().collect())
    }
}

impl Prop {
    /// Raw text of a scalar property (string, int, long, bool, or the `<value>` of a double or
    /// float), exactly as written, `${…}` expressions included. `None` for structured kinds.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Prop::String(s) | Prop::Int(s) | Prop::Long(s) | Prop::Bool(s) => Some(s),
            Prop::Double(n) | Prop::Float(n) => Some(&n.value),
            Prop::Element(_)
            | Prop::Collection(_)
            | Prop::Map(_)
            | Prop::Obj(_)
            | Prop::Other(_) => None,
        }
    }

    /// A scalar read as a boolean: `true`/`false` in any case, surrounding whitespace ignored.
    /// `None` for anything else (an empty string, an unevaluated `${…}`, a structured kind).
    pub fn as_bool(&self) -> Option<bool> {
        parse_bool(self.as_str()?)
    }

    /// A scalar read as an integer: decimal text such as `-1` or `+5`, or an integral float
    /// such as `100.0`. `None` for anything else (empty, `${…}`, out of range, fractional).
    pub fn as_i64(&self) -> Option<i64> {
        parse_i64(self.as_str()?)
    }

    /// A scalar read as a float (`1.5`, `100`, `1e3`). `None` for anything else.
    pub fn as_f64(&self) -> Option<f64> {
        parse_f64(self.as_str()?)
    }

    /// True when the scalar's text holds a `${…}` variable or function reference that must be
    /// evaluated before use.
    pub fn is_expression(&self) -> bool {
        self.as_str().is_some_and(is_expression)
    }

    /// The nested element of an `elementProp`.
    pub fn as_element(&self) -> Option<&ElementProp> {
        match self {
            Prop::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The members of a `collectionProp`.
    pub fn as_collection(&self) -> Option<&Props> {
        match self {
            Prop::Collection(c) => Some(c),
            _ => None,
        }
    }

    /// The entries of a `mapProp`.
    pub fn as_map(&self) -> Option<&Props> {
        match self {
            Prop::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The `<value>` element of an `objProp`.
    pub fn as_obj(&self) -> Option<&XmlNode> {
        match self {
            Prop::Obj(o) => Some(o),
            _ => None,
        }
    }

    /// The JMX element name this property kind is written as.
    pub fn xml_tag(&self) -> &str {
        match self {
            Prop::String(_) => "stringProp",
            Prop::Int(_) => "intProp",
            Prop::Long(_) => "longProp",
            Prop::Bool(_) => "boolProp",
            Prop::Double(_) => "doubleProp",
            Prop::Float(_) => "FloatProperty",
            Prop::Element(_) => "elementProp",
            Prop::Collection(_) => "collectionProp",
            Prop::Map(_) => "mapProp",
            Prop::Obj(_) => "objProp",
            Prop::Other(node) => &node.tag,
        }
    }
}

impl ElementProp {
    /// The nested property called `name`.
    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.get(name)
    }

    /// Raw text of the nested scalar property `name`; see [`Prop::as_str`].
    pub fn prop_str(&self, name: &str) -> Option<&str> {
        self.props.get_str(name)
    }

    /// Nested property `name` as a boolean; see [`Prop::as_bool`].
    pub fn prop_bool(&self, name: &str) -> Option<bool> {
        self.props.get_bool(name)
    }

    /// Nested property `name` as an integer; see [`Prop::as_i64`].
    pub fn prop_i64(&self, name: &str) -> Option<i64> {
        self.props.get_i64(name)
    }
}

/// True when `text` holds a `${…}` variable or function reference.
pub fn is_expression(text: &str) -> bool {
    text.contains("${")
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

pub(crate) fn parse_i64(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(n);
    }
    let f = parse_f64(t)?;
    // 2^63 is exactly representable; anything at or beyond it does not fit in an i64.
    let in_range = (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f);
    (f.fract() == 0.0 && in_range).then_some(f as i64)
}

pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    let t = text.trim();
    // Rust also accepts "inf"/"nan", which no JMeter numeric field means; keep to finite numbers.
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_leniently() {
        assert_eq!(Prop::String(" 5 ".into()).as_i64(), Some(5));
        assert_eq!(Prop::Int("-1".into()).as_i64(), Some(-1));
        assert_eq!(Prop::String("100.0".into()).as_i64(), Some(100));
        assert_eq!(Prop::String("1.5".into()).as_i64(), None);
        assert_eq!(Prop::String("1e300".into()).as_i64(), None);
        assert_eq!(Prop::String("".into()).as_i64(), None);
        assert_eq!(Prop::String("${THREADS}".into()).as_i64(), None);
        assert_eq!(
            Prop::Long("1211836583000".into()).as_i64(),
            Some(1_211_836_583_000)
        );
        assert_eq!(Prop::Bool("TRUE".into()).as_bool(), Some(true));
        assert_eq!(Prop::String("false".into()).as_bool(), Some(false));
        assert_eq!(Prop::Bool("${flag}".into()).as_bool(), None);
        assert_eq!(Prop::String("nan".into()).as_f64(), None);
        let d = Prop::Double(NumberProp {
            value: "0.5".into(),
            saved_value: Some("0.0".into()),
        });
        assert_eq!(d.as_f64(), Some(0.5));
        assert_eq!(d.as_str(), Some("0.5"));
        assert!(Prop::String("a${X}b".into()).is_expression());
        assert!(!Prop::Collection(Props::new()).is_expression());
        assert_eq!(Prop::Collection(Props::new()).as_str(), None);
    }

    #[test]
    fn props_lookup_returns_first_match() {
        let mut p = Props::new();
        p.push("a", Prop::String("1".into()));
        p.push("a", Prop::String("2".into()));
        assert_eq!(p.get_str("a"), Some("1"));
        assert_eq!(p.len(), 2);
        assert_eq!(p.get("b"), None);
    }
}
