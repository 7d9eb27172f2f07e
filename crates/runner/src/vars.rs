//! `${…}` substitution, done once when the plan is compiled: `${name}` from user-defined
//! variables, `${__P(name,default)}` and `${__property(name,var,default)}` from the run's
//! properties (the CLI's `-Jname=value`). Every other function is refused with an error that
//! names the element and property. As in JMeter, an unknown variable stays verbatim (`${UNDEF}`).

use std::collections::BTreeMap;

use crate::error::RunnerError;

/// Substitutes variables and property functions in property values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Evaluator<'p> {
    vars: BTreeMap<String, String>,
    props: Option<&'p BTreeMap<String, String>>,
}

/// Where a value comes from, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    pub element: &'a str,
    pub property: &'a str,
}

impl<'p> Evaluator<'p> {
    /// An evaluator over the run's properties, with no variables yet.
    pub fn new(props: &'p BTreeMap<String, String>) -> Evaluator<'p> {
        Evaluator {
            vars: BTreeMap::new(),
            props: Some(props),
        }
    }

    /// Defines (or redefines) variable `name`.
    pub fn define(&mut self, name: &str, value: String) {
        self.vars.insert(name.trim().to_string(), value);
    }

    /// The variables defined so far, sorted by name.
    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// `text` with every `${…}` it can resolve replaced.
    pub fn eval(&self, text: &str, at: At<'_>) -> Result<String, RunnerError> {
        if !text.contains("${") {
            return Ok(text.to_string());
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(len) = reference_len(after) else {
                // No closing brace: JMeter keeps the text as it is.
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let inner = &after[..len];
            out.push_str(&self.reference(inner, at)?);
            rest = &after[len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value of one `${inner}` reference.
    fn reference(&self, inner: &str, at: At<'_>) -> Result<String, RunnerError> {
        let Some(call) = inner.strip_prefix("__") else {
            return Ok(match self.vars.get(inner.trim()) {
                Some(v) => v.clone(),
                None => format!("${{{inner}}}"),
            });
        };
        let (name, args) = match call.find('(') {
            Some(open) if call.ends_with(')') => (&call[..open], &call[open + 1..call.len() - 1]),
            _ => (call, ""),
        };
        let function = format!("__{name}");
        let args = split_args(args)
            .into_iter()
            .map(|a| self.eval(&a, at))
            .collect::<Result<Vec<_>, _>>()?;
        let arg = |i: usize| args.get(i).map(String::as_str);
        let lookup = |key: &str| self.props.and_then(|p| p.get(key.trim())).cloned();
        match name {
            "P" => {
                let key = arg(0).unwrap_or_default();
                Ok(lookup(key).unwrap_or_else(|| arg(1).unwrap_or("1").to_string()))
            }
            "property" => {
                let key = arg(0).unwrap_or_default();
                Ok(lookup(key).unwrap_or_else(|| match arg(2) {
                    Some(default) => default.to_string(),
                    None => key.to_string(),
                }))
            }
            _ => Err(RunnerError::UnsupportedFunction {
                element: at.element.to_string(),
                property: at.property.to_string(),
                function,
            }),
        }
    }
}

/// Length of the reference body after `${`, up to (not including) its matching `}`; nested
/// `${…}` count.
fn reference_len(after: &str) -> Option<usize> {
    let bytes = after.as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 2;
            continue;
        }
        if bytes[i] == b'}' {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// Splits function arguments on commas that are neither escaped (`\,`) nor inside a nested
/// `${…}`; `\,` becomes `,` and `\\` becomes `\`.
fn split_args(args: &str) -> Vec<String> {
    if args.is_empty() {
        return Vec::new();
    }
    let mut out = vec![String::new()];
    let mut depth = 0usize;
    let mut chars = args.chars().peekable();
    while let Some(c) = chars.next() {
        let current = out.last_mut();
        let Some(current) = current else { break };
        match c {
            '\\' if depth == 0 && matches!(chars.peek(), Some(',' | '\\')) => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '$' if chars.peek() == Some(&'{') => {
                depth += 1;
                current.push(c);
            }
            '}' if depth > 0 => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => out.push(String::new()),
            _ => current.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: At<'static> = At {
        element: "Home",
        property: "HTTPSampler.path",
    };

    fn evaluator(props: &BTreeMap<String, String>) -> Evaluator<'_> {
        let mut e = Evaluator::new(props);
        e.define("HOST", "example.org".into());
        e
    }

    #[test]
    fn substitutes_variables_and_properties() {
        let props = BTreeMap::from([("port".to_string(), "8080".to_string())]);
        let e = evaluator(&props);
        let eval = |t: &str| e.eval(t, AT).unwrap();
        assert_eq!(
            eval("http://${HOST}:${__P(port,80)}/"),
            "http://example.org:8080/"
        );
        assert_eq!(eval("${__P(missing,7)}"), "7");
        assert_eq!(eval("${__P(missing)}"), "1");
        assert_eq!(eval("${__P(missing,)}"), "");
        assert_eq!(eval("${__property(port,,9)}"), "8080");
        assert_eq!(eval("${__property(nope,,9)}"), "9");
        assert_eq!(eval("${__property(nope)}"), "nope");
        assert_eq!(eval("${ HOST }"), "example.org");
        assert_eq!(eval("${UNDEF}-${"), "${UNDEF}-${");
        assert_eq!(eval("${__P(missing,${__P(port)})}"), "8080");
        assert_eq!(eval(r"${__P(missing,a\,b)}"), "a,b");
    }

    #[test]
    fn refuses_other_functions_naming_element_and_property() {
        let props = BTreeMap::new();
        let e = evaluator(&props);
        let err = e.eval("/x?ms=${__Random(1,5)}", AT).unwrap_err();
        assert!(matches!(
            &err,
            RunnerError::UnsupportedFunction { element, property, function }
                if element == "Home" && property == "HTTPSampler.path" && function == "__Random"
        ));
        assert!(e.eval("${__threadNum}", AT).is_err());
    }
}
