//! What the compiler collects on its way through a plan instead of stopping at the first
//! problem: every refusal (an unsupported element, setting or function, a value that cannot be
//! used) with where it is in the tree, reported together as [`RunnerError::Refusals`] (one alone
//! is returned as it is); warnings for what JMeter accepts silently but is likely a mistake (a
//! number that is not one, read as 0; a host, port or file name taken from a `${__P(…)}`
//! default); and the element names that are rendered per sample (`user ${name}`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use loadlake_plan::TestElement;

use crate::compile::Compiler;
use crate::compile::vars::{reference_len, split_args};
use crate::error::{At, Refusal, RunnerError};
use crate::text::template::Template;

/// Properties whose `${__P(…)}` defaults are worth a warning: where the load goes and what it
/// reads.
const WATCHED_PROPERTIES: &[&str] = &[
    "HTTPSampler.protocol",
    "HTTPSampler.domain",
    "HTTPSampler.port",
    "filename",
];

/// Refusals, warnings and run-time names collected while a plan is compiled.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The enclosing elements' names, outermost first.
    path: RefCell<Vec<String>>,
    refusals: RefCell<Vec<Refusal>>,
    /// Messages of the refusals so far (an element in the scope of several samplers is refused
    /// once).
    refused: RefCell<BTreeSet<String>>,
    warnings: RefCell<Vec<String>>,
    /// Element names holding run-time references, by their text: rendered per sample.
    names: RefCell<BTreeMap<String, Template>>,
}

impl Report {
    /// Records `error` at the current place in the tree (once per message).
    pub(crate) fn refuse(&self, error: RunnerError) {
        if !self.refused.borrow_mut().insert(error.to_string()) {
            return;
        }
        let at = self
            .path
            .borrow()
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(" > ");
        self.refusals.borrow_mut().push(Refusal { at, error });
    }

    /// Records a warning (once per text).
    pub(crate) fn warn(&self, message: String) {
        let mut w = self.warnings.borrow_mut();
        if !w.contains(&message) {
            tracing::debug!(%message, "plan warning");
            w.push(message);
        }
    }

    /// JMeter's `getPropertyAsInt` / `getPropertyAsLong`: a value that is not a number reads
    /// as 0. Warns and gives 0.
    pub(crate) fn not_a_number(&self, element: &str, property: &str, value: &str) -> i64 {
        self.warn(format!(
            "element \"{element}\", property {property}: \"{value}\" is not a whole number; \
             JMeter reads it as 0, and so does this run"
        ));
        0
    }

    /// Warns for every `${__P(name…)}` / `${__property(name…)}` in a host, port or file name
    /// of an enabled element whose property is not set, so the default is used.
    pub(crate) fn property_defaults(&self, plan: &TestElement, props: &BTreeMap<String, String>) {
        for e in std::iter::once(plan).chain(plan.enabled_descendants()) {
            for prop in WATCHED_PROPERTIES {
                if let Some(raw) = e.prop_str(prop) {
                    for w in unset_properties(raw, props) {
                        self.warn(format!("element \"{}\", property {prop}: {w}", e.name));
                    }
                }
            }
        }
    }

    /// The collected refusals as one error: the error itself when there is one, else
    /// [`RunnerError::Refusals`].
    pub(crate) fn finish(&self) -> Result<(), RunnerError> {
        let mut all = std::mem::take(&mut *self.refusals.borrow_mut());
        match all.len() {
            0 => Ok(()),
            1 => Err(all.remove(0).error),
            _ => Err(RunnerError::Refusals(all)),
        }
    }

    /// The warnings, in the order found.
    pub(crate) fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.borrow_mut())
    }

    /// The names rendered per sample.
    pub(crate) fn take_names(&self) -> BTreeMap<String, Template> {
        std::mem::take(&mut *self.names.borrow_mut())
    }

    /// The template of a name registered by [`Compiler::name_text`].
    pub(crate) fn name_template(&self, text: &str) -> Option<Template> {
        self.names.borrow().get(text).cloned()
    }
}

/// For each `__P` / `__property` call in `raw` (nested ones too) whose property is not in
/// `props`: what the call gives instead.
fn unset_properties(raw: &str, props: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = raw[from..].find("${") {
        let start = from + i + 2;
        from = start;
        let Some(len) = reference_len(&raw[start..]) else {
            break;
        };
        let inner = raw[start..start + len].trim_start();
        let (function, args) = match inner.split_once('(') {
            Some((f, rest)) if rest.ends_with(')') => (f.trim(), &rest[..rest.len() - 1]),
            _ => continue,
        };
        if function != "__P" && function != "__property" {
            continue;
        }
        let args = split_args(args);
        let name = args.first().map(|a| a.trim()).unwrap_or_default();
        if name.is_empty() || name.contains("${") || props.contains_key(name) {
            continue;
        }
        let default = if function == "__P" {
            args.get(1)
        } else {
            args.get(2)
        };
        out.push(match (function, default) {
            (_, Some(d)) => format!(
                "property {name} is not set (-J{name}=…), so {function}'s default \"{d}\" is used"
            ),
            ("__P", None) => format!(
                "property {name} is not set (-J{name}=…) and ${{__P({name})}} has no default: \
                 it gives \"1\", as in JMeter"
            ),
            _ => format!(
                "property {name} is not set (-J{name}=…) and ${{__property({name})}} has no \
                 default: it gives its name, \"{name}\", as in JMeter"
            ),
        });
    }
    out
}

impl Compiler<'_> {
    /// The value of `r`, or `fallback` after recording its error as a refusal.
    pub(crate) fn keep<T>(&self, r: Result<T, RunnerError>, fallback: T) -> T {
        r.unwrap_or_else(|e| {
            self.report.refuse(e);
            fallback
        })
    }

    /// Runs `f` for element `e` (so that what it refuses is located inside `e`); its error is
    /// recorded as a refusal and gives `None`.
    pub(crate) fn within<T>(
        &mut self,
        e: &TestElement,
        f: impl FnOnce(&mut Self) -> Result<T, RunnerError>,
    ) -> Option<T> {
        self.report.path.borrow_mut().push(e.name.clone());
        let r = f(self);
        let out = match r {
            Ok(v) => Some(v),
            Err(err) => {
                self.report.refuse(err);
                None
            }
        };
        self.report.path.borrow_mut().pop();
        out
    }

    /// Records element `e` as unsupported.
    pub(crate) fn refuse_element(&mut self, e: &TestElement) {
        self.within(e, |_| Err::<(), _>(crate::compile::unsupported(e)));
    }

    /// An element's name (`testname`) as JMeter reads it: its value, rendered per sample like
    /// any property. What is fixed is substituted now; a name that still holds a run-time
    /// reference (`user ${name}`, `${__threadNum}`) is kept as written and its template
    /// registered, to be rendered for each sample (see [`Report::name_template`]).
    pub(crate) fn name_text(&self, element: &str, raw: &str) -> Result<String, RunnerError> {
        let at = At {
            element,
            property: "testname",
        };
        let text = self.ev.eval_deferred(raw, at)?;
        if !text.contains("${") {
            return Ok(text);
        }
        let t = Template::parse_with(&text, self.ev.props(), self.ev.runtime_props(), at)?;
        if let Some(fixed) = t.as_static() {
            return Ok(fixed.to_string());
        }
        self.report
            .names
            .borrow_mut()
            .entry(text.clone())
            .or_insert(t);
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props() -> BTreeMap<String, String> {
        BTreeMap::from([("set".to_string(), "9".to_string())])
    }

    #[test]
    fn unset_properties_name_the_property_and_what_is_used() {
        let p = props();
        assert!(unset_properties("127.0.0.1", &p).is_empty());
        assert!(unset_properties("${__P(set,1)}", &p).is_empty());
        assert_eq!(
            unset_properties("${__P(port,8080)}", &p),
            ["property port is not set (-Jport=…), so __P's default \"8080\" is used"]
        );
        assert_eq!(
            unset_properties("${__P(host)}", &p),
            [
                "property host is not set (-Jhost=…) and ${__P(host)} has no default: it gives \
                 \"1\", as in JMeter"
            ]
        );
        assert_eq!(
            unset_properties("${__property(h,,x)}", &p),
            ["property h is not set (-Jh=…), so __property's default \"x\" is used"]
        );
        // Nested calls are found too; other functions and variables are not properties.
        assert_eq!(
            unset_properties("${__P(a,${__P(b,2)})}-${x}-${__Random(1,2)}", &p),
            [
                "property a is not set (-Ja=…), so __P's default \"${__P(b,2)}\" is used",
                "property b is not set (-Jb=…), so __P's default \"2\" is used"
            ]
        );
    }

    #[test]
    fn one_refusal_is_returned_as_it_is_and_several_together_with_their_place() {
        let r = Report::default();
        assert!(r.finish().is_ok());
        r.path.borrow_mut().push("G".into());
        r.refuse(RunnerError::NoThreadGroups);
        assert!(matches!(r.finish(), Err(RunnerError::NoThreadGroups)));
        r.refuse(RunnerError::invalid("A", "p", "v", "x"));
        r.path.borrow_mut().push("S".into());
        r.refuse(RunnerError::invalid("B", "q", "w", "y"));
        // The same refusal again (an element in scope of several samplers) counts once.
        r.refuse(RunnerError::invalid("B", "q", "w", "y"));
        let text = r.finish().unwrap_err().to_string();
        assert_eq!(
            text,
            "the native runner cannot run this plan: 2 problems (fix or disable each, or run the \
             plan with JMeter):\n  1. at \"G\": element \"A\", property p: \"v\" is not x\n  \
             2. at \"G\" > \"S\": element \"B\", property q: \"w\" is not y"
        );
    }

    #[test]
    fn a_number_that_is_not_one_reads_as_zero_with_a_warning_given_once() {
        let r = Report::default();
        assert_eq!(r.not_a_number("T", "ConstantTimer.delay", "1000 + ${x}"), 0);
        assert_eq!(r.not_a_number("T", "ConstantTimer.delay", "1000 + ${x}"), 0);
        assert_eq!(
            r.take_warnings(),
            [
                "element \"T\", property ConstantTimer.delay: \"1000 + ${x}\" is not a whole \
                 number; JMeter reads it as 0, and so does this run"
            ]
        );
    }
}
