//! `${…}` substitution done once when the plan is compiled: `${name}` from user-defined
//! variables, `${__P(name,default)}` and `${__property(name,var,default)}` from the run's
//! properties (the CLI's `-Jname=value`). As in JMeter, an unknown variable stays verbatim
//! (`${UNDEF}`).
//!
//! What can only be known per request — functions such as `__Random` ([`RUNTIME_FUNCTIONS`]) and
//! variables that extractors or CSV Data Sets set while the test runs — is left verbatim by
//! [`Evaluator::eval_deferred`], for [`crate::text::template::Template`] to fill in at run time;
//! [`Evaluator::eval`] refuses them where a value must be fixed (thread counts, hosts, …).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{At, RunnerError};
use crate::text::functions;

/// Functions evaluated per request by [`crate::text::template::Template`].
pub(crate) const RUNTIME_FUNCTIONS: &[&str] = &[
    "Random",
    "RandomString",
    "time",
    "threadNum",
    "counter",
    "UUID",
    "V",
    "jexl3",
    "jexl2",
    "javaScript",
    "intSum",
    "longSum",
    "groovy",
    "BeanShell",
    "evalVar",
    "eval",
    "FileToString",
    "base64Encode",
];

/// Substitutes variables and property functions in property values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Evaluator<'p> {
    vars: BTreeMap<String, String>,
    props: Option<&'p BTreeMap<String, String>>,
    /// Variables that elements set while the test runs: never folded at compile time.
    runtime_vars: BTreeSet<String>,
    /// The run's properties as scripts write them while the test runs.
    live: crate::script::LiveProps,
    /// The properties the plan's scripts write, which `${__P(…)}` reads at run time.
    runtime_props: Option<crate::script::RuntimeProps>,
    /// The plan's folder (`FileServer.getFileServer().getBaseDir()` in a script run now).
    pub(crate) base_dir: String,
}

impl<'p> Evaluator<'p> {
    /// An evaluator over the run's properties, with no variables yet.
    pub(crate) fn new(props: &'p BTreeMap<String, String>) -> Evaluator<'p> {
        Evaluator {
            vars: BTreeMap::new(),
            props: Some(props),
            runtime_vars: BTreeSet::new(),
            live: crate::script::LiveProps::new(props),
            runtime_props: None,
            base_dir: String::new(),
        }
    }

    /// The run's live properties (seeded with `-J` values; scripts write them).
    pub(crate) fn live_props(&self) -> crate::script::LiveProps {
        self.live.clone()
    }

    /// The properties the plan's scripts write (see
    /// [`super::scripts::written_properties`]): `${__P(…)}` of those is left for run
    /// time by [`Evaluator::eval_deferred`] and read from [`Evaluator::live_props`].
    pub(crate) fn script_properties(&mut self, written: Option<Option<BTreeSet<String>>>) {
        self.runtime_props =
            written.map(|names| crate::script::RuntimeProps::new(self.live.clone(), names));
    }

    /// What [`Evaluator::script_properties`] set.
    pub(crate) fn runtime_props(&self) -> Option<&crate::script::RuntimeProps> {
        self.runtime_props.as_ref()
    }

    /// The run's properties.
    pub(crate) fn props(&self) -> &'p BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.props.unwrap_or(&EMPTY)
    }

    /// Marks `name` as set at run time (by an extractor or a CSV Data Set): `${name}` is then
    /// left for run time by [`Evaluator::eval_deferred`].
    pub(crate) fn runtime_var(&mut self, name: &str) {
        self.runtime_vars.insert(name.trim().to_string());
    }

    /// Defines (or redefines) variable `name`.
    pub(crate) fn define(&mut self, name: &str, value: String) {
        self.vars.insert(name.trim().to_string(), value);
    }

    /// The variables defined so far, sorted by name.
    pub(crate) fn variables(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// `text` with every `${…}` it can resolve replaced; a run-time function is an error (the
    /// value must be fixed before the run).
    pub(crate) fn eval(&self, text: &str, at: At<'_>) -> Result<String, RunnerError> {
        self.substitute(text, at, false)
    }

    /// `text` with what is known now replaced, and run-time functions and variables set at run
    /// time left verbatim for [`crate::text::template::Template`].
    pub(crate) fn eval_deferred(&self, text: &str, at: At<'_>) -> Result<String, RunnerError> {
        self.substitute(text, at, true)
    }

    fn substitute(&self, text: &str, at: At<'_>, defer: bool) -> Result<String, RunnerError> {
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
            out.push_str(&self.reference(inner, at, defer)?);
            rest = &after[len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value of one `${inner}` reference.
    fn reference(&self, inner: &str, at: At<'_>, defer: bool) -> Result<String, RunnerError> {
        let Some(call) = inner.strip_prefix("__") else {
            let name = inner.trim();
            return Ok(match self.vars.get(name) {
                Some(_) if defer && self.runtime_vars.contains(name) => format!("${{{inner}}}"),
                Some(v) => v.clone(),
                None => format!("${{{inner}}}"),
            });
        };
        let (name, args) = match call.find('(') {
            Some(open) if call.ends_with(')') => (&call[..open], &call[open + 1..call.len() - 1]),
            _ => (call, ""),
        };
        let function = format!("__{name}");
        if RUNTIME_FUNCTIONS.contains(&name) {
            if defer {
                return Ok(format!("${{{inner}}}"));
            }
            if matches!(name, "BeanShell" | "groovy") {
                // Where a value must be fixed before the run (a timer's delay, a variable), the
                // script runs now, once, over the variables and properties known now.
                let args = split_args(args)
                    .into_iter()
                    .map(|a| self.substitute(&a, at, false))
                    .collect::<Result<Vec<_>, _>>()?;
                return crate::script::function::run_now(
                    name,
                    &args,
                    &self.vars,
                    &self.live,
                    &self.base_dir,
                    at,
                );
            }
            return Err(RunnerError::RuntimeFunction {
                element: at.element.to_string(),
                property: at.property.to_string(),
                function,
            });
        }
        let args = split_args(args)
            .into_iter()
            .map(|a| self.substitute(&a, at, defer))
            .collect::<Result<Vec<_>, _>>()?;
        let arg = |i: usize| args.get(i).map(String::as_str);
        let lookup = |key: &str| self.props.and_then(|p| p.get(key.trim())).cloned();
        if defer
            && matches!(name, "P" | "property")
            && self
                .runtime_props
                .as_ref()
                .is_some_and(|r| r.reads(arg(0).unwrap_or_default()))
        {
            return Ok(format!("${{{inner}}}"));
        }
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        match name {
            "P" | "property" => Ok(functions::property(&function, &strs, &lookup).0),
            "env" => Ok(functions::property(&function, &strs, &functions::env_lookup).0),
            "machineName" => Ok(functions::machine_name()),
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
pub(crate) fn reference_len(after: &str) -> Option<usize> {
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
pub(crate) fn split_args(args: &str) -> Vec<String> {
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
        let err = e.eval("/x?ms=${__nosuch(1,5)}", AT).unwrap_err();
        assert!(matches!(
            &err,
            RunnerError::UnsupportedFunction { element, property, function }
                if element == "Home" && property == "HTTPSampler.path" && function == "__nosuch"
        ));
        assert!(matches!(
            e.eval("${__threadNum}", AT),
            Err(RunnerError::RuntimeFunction { .. })
        ));
    }

    #[test]
    fn deferred_evaluation_leaves_run_time_references() {
        let props = BTreeMap::from([("n".to_string(), "9".to_string())]);
        let mut e = evaluator(&props);
        e.define("TOKEN", "none yet".into());
        e.runtime_var("TOKEN");
        let eval = |t: &str| e.eval_deferred(t, AT).unwrap();
        assert_eq!(
            eval("/x/${HOST}/${TOKEN}?r=${__Random(1,${__P(n)})}"),
            "/x/example.org/${TOKEN}?r=${__Random(1,${__P(n)})}"
        );
        // Where a value must be fixed the UDV's start value is used, and run-time functions
        // are refused naming the function.
        assert_eq!(e.eval("${TOKEN}", AT).unwrap(), "none yet");
        let err = e.eval("${__counter(TRUE)}", AT).unwrap_err();
        assert!(
            matches!(&err, RunnerError::RuntimeFunction { function, .. } if function == "__counter")
        );
        assert!(e.eval_deferred("${__nosuch}", AT).is_err());
    }
}
