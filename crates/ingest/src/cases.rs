//! Case names: the thread group a sample belongs to.
//!
//! JMeter names threads `<group name> <group#>-<thread#>`; the case is the name without that
//! suffix. With a JMX plan attached, its thread-group names are matched first (longest prefix),
//! and samples without a thread name get the group of their label when exactly one group has a
//! sampler with that label.

use std::borrow::Cow;
use std::collections::HashMap;

/// Maps a sample's thread name (or label) to its case name.
#[derive(Debug, Clone, Default)]
pub struct CaseResolver {
    /// Thread-group names from the plan, longest first.
    groups: Vec<String>,
    /// Sampler label → the only group that has it.
    label_group: HashMap<String, String>,
}

/// `<name> <digits>-<digits>` → `<name>`.
pub fn strip_thread_suffix(thread: &str) -> &str {
    let Some((name, suffix)) = thread.rsplit_once(' ') else {
        return thread;
    };
    let Some((g, t)) = suffix.split_once('-') else {
        return thread;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(g) && digits(t) { name } else { thread }
}

impl CaseResolver {
    /// A resolver that knows the plan's thread groups and which labels each one samples.
    pub fn from_plan(groups: impl IntoIterator<Item = (String, Vec<String>)>) -> Self {
        let mut names = Vec::new();
        let mut owners: HashMap<String, Option<String>> = HashMap::new();
        for (group, labels) in groups {
            for label in labels {
                owners
                    .entry(label)
                    .and_modify(|o| {
                        if o.as_deref() != Some(group.as_str()) {
                            *o = None
                        }
                    })
                    .or_insert_with(|| Some(group.clone()));
            }
            names.push(group);
        }
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        CaseResolver {
            groups: names,
            label_group: owners
                .into_iter()
                .filter_map(|(l, g)| Some((l, g?)))
                .collect(),
        }
    }

    /// The case of a sample, if it can be told.
    pub fn resolve<'a>(&'a self, thread: Option<&'a str>, label: &str) -> Option<Cow<'a, str>> {
        match thread {
            Some(t) if !t.is_empty() => {
                let planned = self.groups.iter().find(|g| {
                    t.strip_prefix(g.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
                });
                Some(Cow::Borrowed(match planned {
                    Some(g) => g.as_str(),
                    None => strip_thread_suffix(t),
                }))
            }
            _ => self
                .label_group
                .get(label)
                .map(|g| Cow::Borrowed(g.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_jmeter_thread_suffix_only() {
        assert_eq!(strip_thread_suffix("Thread Group 1-17"), "Thread Group");
        assert_eq!(
            strip_thread_suffix("Groupe d'unités 1-1"),
            "Groupe d'unités"
        );
        assert_eq!(
            strip_thread_suffix("setUp Thread Group 1-1"),
            "setUp Thread Group"
        );
        assert_eq!(strip_thread_suffix("worker-3"), "worker-3");
        assert_eq!(strip_thread_suffix("Group 1-x"), "Group 1-x");
    }

    #[test]
    fn plan_groups_win_and_labels_fill_missing_threads() {
        let r = CaseResolver::from_plan([
            (
                "Checkout 2".to_string(),
                vec!["pay".to_string(), "home".to_string()],
            ),
            (
                "Browse".to_string(),
                vec!["home".to_string(), "search".to_string()],
            ),
        ]);
        // "Checkout 2 1-3" would strip to "Checkout 2" too, but a plan group named "Checkout 2"
        // must also win over a shorter group that is its prefix.
        assert_eq!(
            r.resolve(Some("Checkout 2 1-3"), "pay").as_deref(),
            Some("Checkout 2")
        );
        assert_eq!(r.resolve(None, "search").as_deref(), Some("Browse"));
        assert_eq!(
            r.resolve(None, "home"),
            None,
            "label in two groups is ambiguous"
        );
        assert_eq!(r.resolve(Some(""), "pay").as_deref(), Some("Checkout 2"));
    }
}
