//! Compiling the controllers that run a part of a plan kept elsewhere: the Module Controller
//! (a controller of this plan, by its path of names) and the Include Controller (the Test
//! Fragment of another JMX file); Test Fragments themselves run only through them.
//!
//! JMeter's rules followed here (apache/jmeter tag `v2_13`, `control/ModuleController.java`,
//! `control/IncludeController.java`, `JMeter.convertSubTree`; the same in 5.6):
//! - **Module Controller.** `ModuleController.node_path` holds the names from the tree's root:
//!   the first is the GUI's root and is skipped, the second is the Test Plan's, then one per
//!   level. Every child whose name matches is followed (Module Controllers excepted) and the
//!   last complete match in tree order wins. The target runs in the Module Controller's place
//!   — a controller of the Module Controller's name whose only child is the target — with the
//!   scope of that place plus its own children; a disabled target runs all the same (JMeter
//!   enables a copy), its disabled children do not. No match: JMeter runs nothing there; the
//!   runner refuses it (a broken reference is almost always a mistake).
//! - **Include Controller.** `IncludeController.includepath` names a JMX file (absolute, or
//!   relative to the plan's folder — JMeter tries the working directory first, then the
//!   plan's). In it, the first Test Plan is entered and the first Test Fragment found there
//!   gives its children, which run as the Include Controller's children. A file without one
//!   runs nothing (JMeter logs a warning; the runner warns too).

use std::collections::HashMap;
use std::sync::Arc;

use loadlake_plan::{Plan, TestElement};

use crate::compile::{Compiler, ElementKey, Kind, Scope, kind};
use crate::error::RunnerError;
use crate::model::{DataFile, Step};

/// Included files and the Module Controllers being expanded.
#[derive(Debug, Default)]
pub(crate) struct ModuleState {
    /// Included JMX files by the name the plan gives them (kept for the whole compilation:
    /// elements are keyed by address).
    included: HashMap<String, Arc<Plan>>,
    /// Module and Include Controllers being expanded (a reference back to one of them is a
    /// cycle).
    expanding: Vec<ElementKey>,
}

/// The class of a Test Fragment.
pub(crate) const TEST_FRAGMENT: &str = "TestFragmentController";

impl Compiler<'_> {
    /// A Module Controller: its target, found by path, inside a controller of its own name.
    pub(crate) fn module_controller(
        &mut self,
        c: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<Step, RunnerError> {
        let prop = "ModuleController.node_path";
        let path: Vec<&str> = c
            .prop_collection(prop)
            .map(|p| p.values().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let shown = path.join(" > ");
        let Some(tp) = self.test_plan else {
            return Err(RunnerError::NoTestPlan);
        };
        let mut found = None;
        if path.len() >= 2 {
            find_by_path(std::slice::from_ref(tp), &path, 1, &mut found);
        }
        let Some(target) = found else {
            return Err(RunnerError::invalid(
                &c.name,
                prop,
                &shown,
                "the path of an element of this plan",
            ));
        };
        if !is_controller(target) {
            return Err(RunnerError::setting(
                &c.name,
                prop,
                &shown,
                "a Module Controller runs a controller or Test Fragment",
            ));
        }
        let key = c as *const TestElement;
        let step = self.expanding(key, &c.name, prop, |me| me.controller(target, scope))?;
        Ok(Step::Simple {
            name: self.eval(&c.name, "testname", &c.name)?,
            feeds: Vec::new(),
            steps: vec![step],
        })
    }

    /// An Include Controller: the children of the included file's Test Fragment.
    pub(crate) fn include_controller(
        &mut self,
        c: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<Step, RunnerError> {
        let plan = self.included_plan(c)?;
        let mut feeds = Vec::new();
        let steps = match test_fragment(&plan.elements) {
            Some(fragment) => {
                let key = c as *const TestElement;
                let prop = "IncludeController.includepath";
                self.expanding(key, &c.name, prop, |me| {
                    me.steps(&fragment.children, scope, &mut feeds)
                })?
            }
            None => {
                self.report.warn(format!(
                    "element \"{}\": the included file has no Test Fragment; the Include \
                     Controller runs nothing, as in JMeter",
                    c.name
                ));
                Vec::new()
            }
        };
        Ok(Step::Simple {
            name: self.eval(&c.name, "testname", &c.name)?,
            feeds,
            steps,
        })
    }

    /// Runs `f` with `key` marked as being expanded; a reference back to it is refused.
    fn expanding<T>(
        &mut self,
        key: ElementKey,
        element: &str,
        prop: &str,
        f: impl FnOnce(&mut Self) -> Result<T, RunnerError>,
    ) -> Result<T, RunnerError> {
        if self.modules.expanding.contains(&key) {
            return Err(RunnerError::setting(
                element,
                prop,
                "",
                "it leads back to itself (a Module or Include Controller inside what it runs)",
            ));
        }
        self.modules.expanding.push(key);
        let r = f(self);
        self.modules.expanding.pop();
        r
    }

    /// The file an Include Controller names, read once (from the files sent with the plan, or
    /// relative to the plan's folder).
    pub(crate) fn included_plan(&mut self, c: &TestElement) -> Result<Arc<Plan>, RunnerError> {
        let prop = "IncludeController.includepath";
        let name = self.text(c, prop)?.trim().to_string();
        if name.is_empty() {
            return Err(RunnerError::invalid(&c.name, prop, "", "a JMX file name"));
        }
        if let Some(p) = self.modules.included.get(&name) {
            return Ok(p.clone());
        }
        let unreadable = |why: String| RunnerError::invalid(&c.name, prop, &name, &why);
        let plan = match self.files.shipped.get(&name) {
            Some(bytes) => Plan::from_bytes(bytes, &name).map_err(|e| unreadable(e.to_string()))?,
            None => {
                let path = self.files.base_dir.join(&name);
                let bytes = std::fs::read(&path).map_err(|e| {
                    unreadable(format!("a readable JMX file ({}: {e})", path.display()))
                })?;
                let plan = Plan::from_bytes(&bytes, &path.display().to_string())
                    .map_err(|e| unreadable(format!("a JMX file ({e})")))?;
                if !self.data_files.iter().any(|f| f.name == name) {
                    self.data_files.push(DataFile {
                        name: name.clone(),
                        path,
                    });
                }
                plan
            }
        };
        let plan = Arc::new(plan);
        self.modules.included.insert(name, plan.clone());
        Ok(plan)
    }

    /// Marks the variables set at run time by the elements of the Test Fragments (enabled or
    /// not: a Module Controller may run a disabled one) and of the included files.
    pub(crate) fn mark_modules(&mut self, tp: &TestElement) -> Result<(), RunnerError> {
        for f in tp
            .children
            .iter()
            .filter(|e| e.class_name() == TEST_FRAGMENT)
        {
            self.mark_runtime_in(f.children.iter().flat_map(|e| {
                std::iter::once(e)
                    .filter(|e| e.enabled)
                    .chain(e.enabled_descendants())
            }))?;
        }
        let includes: Vec<&TestElement> = tp
            .enabled_descendants()
            .filter(|e| e.class_name() == "IncludeController")
            .collect();
        for c in includes {
            // A file that cannot be read is refused where the controller is compiled.
            if let Ok(plan) = self.included_plan(c)
                && let Some(fragment) = test_fragment(&plan.elements)
            {
                self.mark_runtime_in(fragment.children.iter().flat_map(|e| {
                    std::iter::once(e)
                        .filter(|e| e.enabled)
                        .chain(e.enabled_descendants())
                }))?;
            }
        }
        Ok(())
    }
}

/// JMeter's `ModuleController.traverse`: the last element matching `path[level..]` below
/// `nodes`, Module Controllers skipped.
fn find_by_path<'t>(
    nodes: &'t [TestElement],
    path: &[&str],
    level: usize,
    found: &mut Option<&'t TestElement>,
) {
    if level >= path.len() {
        return;
    }
    for n in nodes {
        if n.class_name() == "ModuleController" || n.name != path[level] {
            continue;
        }
        if level + 1 == path.len() {
            *found = Some(n);
        }
        find_by_path(&n.children, path, level + 1, found);
    }
}

/// Whether `e` is a controller a Module Controller can run: any logic controller or Test
/// Fragment (JMeter's `ModuleController` takes any `Controller` of the tree). Matched without a
/// wildcard so that a new [`Kind`] has to be placed here as well as in the compiler's dispatch.
fn is_controller(e: &TestElement) -> bool {
    match kind(e) {
        Kind::Simple
        | Kind::Module
        | Kind::Include
        | Kind::ForEach
        | Kind::Interleave
        | Kind::Loop
        | Kind::Transaction
        | Kind::If
        | Kind::While
        | Kind::Switch
        | Kind::OnceOnly
        | Kind::Throughput
        | Kind::Runtime => true,
        // A sampler in JMeter's tree (it implements Controller only to hold children).
        Kind::ThreadGroup(_)
        | Kind::Parallel
        | Kind::Http
        | Kind::Action
        | Kind::Local
        | Kind::CsvData
        | Kind::Modifier
        | Kind::HttpDefaults
        | Kind::Headers
        | Kind::Auth
        | Kind::Cache
        | Kind::Dns
        | Kind::Cookies
        | Kind::Timer
        | Kind::Assertion
        | Kind::Extractor
        | Kind::Variables
        | Kind::Listener
        | Kind::ScriptSampler
        | Kind::ScriptPre
        | Kind::RegexParams
        | Kind::Unsupported => false,
    }
}

/// JMeter's `IncludeController.getProperBranch`: the first Test Plan is entered, the first
/// Test Fragment found is the branch.
fn test_fragment(elements: &[TestElement]) -> Option<&TestElement> {
    for e in elements {
        match e.class_name() {
            "TestPlan" => return test_fragment(&e.children),
            TEST_FRAGMENT => return Some(e),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(xml: &str) -> Plan {
        Plan::from_bytes(xml.as_bytes(), "test").unwrap()
    }

    const TREE: &str = r#"<?xml version="1.0"?><jmeterTestPlan version="1.2"><hashTree>
      <TestPlan testclass="TestPlan" testname="Plan" enabled="true"/>
      <hashTree>
        <TestFragmentController testclass="TestFragmentController" testname="Frag" enabled="false"/>
        <hashTree>
          <GenericController testclass="GenericController" testname="Login" enabled="true"/>
          <hashTree/>
        </hashTree>
        <ThreadGroup testclass="ThreadGroup" testname="G" enabled="true"/>
        <hashTree>
          <GenericController testclass="GenericController" testname="Login" enabled="true"/>
          <hashTree/>
          <ModuleController testclass="ModuleController" testname="Login" enabled="true"/>
          <hashTree/>
        </hashTree>
      </hashTree>
    </hashTree></jmeterTestPlan>"#;

    #[test]
    fn module_paths_skip_the_root_and_the_last_match_wins() {
        let p = plan(TREE);
        let tp = &p.elements[0];
        let find = |path: &[&str]| {
            let mut found = None;
            find_by_path(std::slice::from_ref(tp), path, 1, &mut found);
            found.map(|e| (e.class_name().to_string(), e.name.clone()))
        };
        // The first name (the GUI's root) is not compared.
        assert_eq!(
            find(&["anything", "Plan", "Frag"]),
            Some(("TestFragmentController".into(), "Frag".into()))
        );
        // The Module Controller named "Login" is skipped; the controller in G is found.
        assert_eq!(
            find(&["Test Plan", "Plan", "G", "Login"]),
            Some(("GenericController".into(), "Login".into()))
        );
        assert_eq!(
            find(&["Test Plan", "Plan", "Frag", "Login"]).map(|f| f.1),
            Some("Login".into())
        );
        assert_eq!(find(&["Test Plan", "Other", "G"]), None);
        assert_eq!(find(&["Test Plan"]), None);
    }

    #[test]
    fn the_first_fragment_of_the_first_test_plan_is_included() {
        let p = plan(TREE);
        assert_eq!(
            test_fragment(&p.elements).map(|f| f.name.as_str()),
            Some("Frag")
        );
        let none = plan(
            r#"<?xml version="1.0"?><jmeterTestPlan version="1.2"><hashTree>
            <TestPlan testclass="TestPlan" testname="Plan" enabled="true"/><hashTree/>
            </hashTree></jmeterTestPlan>"#,
        );
        assert!(test_fragment(&none.elements).is_none());
    }
}
