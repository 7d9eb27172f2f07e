//! The test element tree built from the JMX `hashTree` convention: each element owns the
//! elements of the `<hashTree>` that follows it. Disabled elements stay in the tree, flagged.

use serde::Serialize;

use crate::props::{ElementProp, Prop, Props};
use crate::summary::ThreadGroupKind;

/// One element of a test plan (TestPlan, ThreadGroup, a sampler, a timer, …) and its children.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TestElement {
    /// XML element name: the class alias, e.g. `HTTPSamplerProxy` (legacy files: `HTTPSampler`).
    pub tag: String,
    /// `testclass` attribute (the tag when absent); may be a full Java class name for plugins.
    pub test_class: String,
    /// `guiclass` attribute; it tells apart elements that share a test class
    /// (`ConfigTestElement` + `HttpDefaultsGui` = HTTP Request Defaults, listener kinds, …).
    pub gui_class: Option<String>,
    /// `testname` attribute: the display name, which is the sample label for samplers.
    pub name: String,
    /// `enabled` attribute: JMeter reads anything but `true` (any case) as disabled, and an
    /// absent attribute as enabled. A disabled element and its subtree do not run.
    pub enabled: bool,
    /// Attributes other than `testclass`, `guiclass`, `testname` and `enabled`.
    pub extra_attributes: Vec<(String, String)>,
    /// Properties in file order.
    pub props: Props,
    /// Child elements (from the `<hashTree>` after this element), in file order.
    pub children: Vec<TestElement>,
    /// Line of the element's start tag in the source (1-based).
    pub line: u64,
}

/// Testclass names (after the last `.`) of samplers whose name does not end in `Sampler`.
const OTHER_SAMPLERS: &[&str] = &["HTTPSampler2", "TestAction"];

impl TestElement {
    /// The test class without any Java package (`kg.apc.jmeter.threads.UltimateThreadGroup`
    /// → `UltimateThreadGroup`).
    pub fn class_name(&self) -> &str {
        simple_class_name(&self.test_class)
    }

    /// The property called `name`.
    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.get(name)
    }

    /// Raw text of scalar property `name`, `${…}` kept verbatim; see [`Prop::as_str`].
    pub fn prop_str(&self, name: &str) -> Option<&str> {
        self.props.get_str(name)
    }

    /// Property `name` as a boolean, whatever kind it was written as; see [`Prop::as_bool`].
    pub fn prop_bool(&self, name: &str) -> Option<bool> {
        self.props.get_bool(name)
    }

    /// Property `name` as an integer, whatever kind it was written as; see [`Prop::as_i64`].
    pub fn prop_i64(&self, name: &str) -> Option<i64> {
        self.props.get_i64(name)
    }

    /// Property `name` as a float, whatever kind it was written as; see [`Prop::as_f64`].
    pub fn prop_f64(&self, name: &str) -> Option<f64> {
        self.props.get_f64(name)
    }

    /// The `elementProp` called `name`.
    pub fn prop_element(&self, name: &str) -> Option<&ElementProp> {
        self.props.get_element(name)
    }

    /// The members of the `collectionProp` called `name`.
    pub fn prop_collection(&self, name: &str) -> Option<&Props> {
        self.props.get_collection(name)
    }

    /// True for samplers: a test class ending in `Sampler` or `SamplerProxy` (HTTP, Java,
    /// JDBC, JSR223, Debug, BeanShell, plugin samplers, …), plus `HTTPSampler2` and
    /// `TestAction` (Flow Control Action, which JMeter does not record as a sample).
    pub fn is_sampler(&self) -> bool {
        let c = self.class_name();
        c.ends_with("Sampler") || c.ends_with("SamplerProxy") || OTHER_SAMPLERS.contains(&c)
    }

    /// True for a Transaction Controller.
    pub fn is_transaction_controller(&self) -> bool {
        self.class_name() == "TransactionController"
    }

    /// The thread group kind, if this element is a thread group: `SetupThreadGroup` (setUp),
    /// `PostThreadGroup` (tearDown), or any other class ending in `ThreadGroup`, plugins included.
    pub fn thread_group_kind(&self) -> Option<ThreadGroupKind> {
        match self.class_name() {
            "SetupThreadGroup" => Some(ThreadGroupKind::Setup),
            "PostThreadGroup" => Some(ThreadGroupKind::Teardown),
            c if c.ends_with("ThreadGroup") => Some(ThreadGroupKind::Regular),
            _ => None,
        }
    }

    /// This element's descendants, depth first in file order, disabled ones included.
    pub fn descendants(&self) -> Elements<'_> {
        Elements::new(&self.children, false)
    }

    /// This element's enabled descendants, depth first in file order; a disabled element's
    /// whole subtree is skipped, as JMeter does when it runs the plan.
    pub fn enabled_descendants(&self) -> Elements<'_> {
        Elements::new(&self.children, true)
    }
}

/// Depth-first, file-order iterator over test elements, optionally skipping disabled subtrees.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    stack: Vec<std::slice::Iter<'a, TestElement>>,
    skip_disabled: bool,
}

impl<'a> Elements<'a> {
    /// Walks `roots` and their descendants; with `skip_disabled`, disabled subtrees are left out.
    pub fn new(roots: &'a [TestElement], skip_disabled: bool) -> Elements<'a> {
        Elements {
            stack: vec![roots.iter()],
            skip_disabled,
        }
    }

    /// Nesting depth of the element returned last (0 for the roots given to [`Elements::new`]).
    pub fn depth(&self) -> usize {
        self.stack.len().saturating_sub(2)
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a TestElement;

    fn next(&mut self) -> Option<&'a TestElement> {
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                Some(el) if self.skip_disabled && !el.enabled => continue,
                Some(el) => {
                    self.stack.push(el.children.iter());
                    return Some(el);
                }
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

pub(crate) fn simple_class_name(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(name: &str, enabled: bool, children: Vec<TestElement>) -> TestElement {
        TestElement {
            tag: "GenericController".into(),
            test_class: "GenericController".into(),
            name: name.into(),
            enabled,
            children,
            ..TestElement::default()
        }
    }

    #[test]
    fn iterators_walk_in_file_order_and_skip_disabled_subtrees() {
        let roots = vec![
            el(
                "a",
                true,
                vec![
                    el("a1", true, vec![]),
                    el("a2", false, vec![el("a2x", true, vec![])]),
                ],
            ),
            el("b", true, vec![]),
        ];
        let all: Vec<&str> = Elements::new(&roots, false)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(all, ["a", "a1", "a2", "a2x", "b"]);
        let enabled: Vec<&str> = Elements::new(&roots, true)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(enabled, ["a", "a1", "b"]);
        let mut it = Elements::new(&roots, false);
        let depths: Vec<(String, usize)> = std::iter::from_fn(|| {
            let e = it.next()?;
            Some((e.name.clone(), it.depth()))
        })
        .collect();
        assert_eq!(depths[3], ("a2x".to_string(), 2));
        assert_eq!(depths[4], ("b".to_string(), 0));
    }

    #[test]
    fn classifies_by_simple_class_name() {
        let mut e = el("x", true, vec![]);
        e.test_class = "kg.apc.jmeter.threads.UltimateThreadGroup".into();
        assert_eq!(e.class_name(), "UltimateThreadGroup");
        assert_eq!(e.thread_group_kind(), Some(ThreadGroupKind::Regular));
        e.test_class = "PostThreadGroup".into();
        assert_eq!(e.thread_group_kind(), Some(ThreadGroupKind::Teardown));
        for s in [
            "HTTPSamplerProxy",
            "HTTPSampler2",
            "TestAction",
            "JSR223Sampler",
            "a.b.DummySampler",
        ] {
            e.test_class = s.into();
            assert!(e.is_sampler(), "{s}");
        }
        for s in ["ResultCollector", "SampleTimeout", "TransactionController"] {
            e.test_class = s.into();
            assert!(!e.is_sampler(), "{s}");
        }
    }
}
