//! Test definitions: JMeter JMX test plans read into a lossless element tree, load stages files
//! and SLA rule files ([`sla`]). Every JMX of JMeter 2.x to 6.0 loads:
//! the `hashTree` convention becomes parent/child [`TestElement`]s, every property kind
//! (`stringProp` … `objProp`, `mapProp`) becomes a [`Prop`] that keeps its raw text, and disabled
//! elements stay in the tree, flagged. Typed readers (`prop_str`, `prop_bool`, `prop_i64`) accept
//! any property kind and never fail on `${…}` expressions. [`PlanSummary`] is the part the
//! importer stores in a run manifest; the native runner (crates/runner) compiles the tree itself.
//!
//! Input is untrusted: DOCTYPE declarations (XML bombs, external entities) are refused, size and
//! nesting are bounded, and errors name the file, line and column.
//!
//! ```
//! use loadlake_plan::Plan;
//!
//! let jmx = r#"<jmeterTestPlan version="1.2" properties="5.0" jmeter="5.6.3"><hashTree>
//!   <TestPlan testclass="TestPlan" testname="Shop" enabled="true"/>
//!   <hashTree>
//!     <ThreadGroup testclass="ThreadGroup" testname="Buyers" enabled="true">
//!       <stringProp name="ThreadGroup.num_threads">${__P(users,10)}</stringProp>
//!     </ThreadGroup>
//!     <hashTree>
//!       <HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="Home" enabled="true"/>
//!       <hashTree/>
//!     </hashTree>
//!   </hashTree>
//! </hashTree></jmeterTestPlan>"#;
//! let plan: Plan = jmx.parse()?;
//! assert_eq!(plan.test_plan_name(), Some("Shop"));
//! let groups = plan.thread_groups();
//! assert_eq!(groups[0].num_threads.as_deref(), Some("${__P(users,10)}"));
//! assert_eq!(groups[0].samplers, ["Home"]);
//! # Ok::<(), loadlake_plan::PlanError>(())
//! ```

mod duration;
pub mod error;
pub mod kpi;
mod parse;
pub mod props;
mod rate;
pub mod sla;
pub mod stages;
pub mod summary;
pub mod tree;

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

pub use duration::parse_duration;
pub use error::{PlanError, Position};
pub use kpi::{Comparison, Kpi, KpiMetric, StopRule};
pub use parse::{MAX_ATTRIBUTES, MAX_DEPTH, MAX_PLAN_BYTES};
pub use props::{ElementProp, NumberProp, Prop, Property, Props, XmlNode, is_expression};
pub use stages::{LoadProfile, Stage, StageShape, StagesError};
pub use summary::{PlanSummary, ThreadGroupKind, ThreadGroupSummary};
pub use tree::{Elements, TestElement};

/// Name used in errors for input that does not come from a file.
const READER_ORIGIN: &str = "<JMX input>";

/// A parsed JMX file: the `<jmeterTestPlan>` attributes and the top-level elements (the
/// TestPlan, plus a WorkBench in files saved before JMeter 4.0).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// `version` attribute of `<jmeterTestPlan>` (always `1.2` in practice).
    pub version: Option<String>,
    /// `properties` attribute: the save-format version (`5.0` for 5.x, `2.8` for 2.13).
    pub properties: Option<String>,
    /// `jmeter` attribute: the JMeter version that saved the file (absent in very old files).
    pub jmeter: Option<String>,
    /// Other attributes of `<jmeterTestPlan>`.
    pub extra_attributes: Vec<(String, String)>,
    /// Top-level elements in file order.
    pub elements: Vec<TestElement>,
}

impl Plan {
    /// Reads and parses the JMX file at `path`; errors name the path.
    pub fn from_path(path: &Path) -> Result<Plan, PlanError> {
        let origin = path.display().to_string();
        let file = File::open(path).map_err(|source| PlanError::Io {
            origin: origin.clone(),
            source,
        })?;
        read_limited(file, &origin)
    }

    /// Reads and parses a JMX document from `reader` (read whole; at most [`MAX_PLAN_BYTES`]).
    pub fn from_reader<R: Read>(reader: R) -> Result<Plan, PlanError> {
        read_limited(reader, READER_ORIGIN)
    }

    /// Parses a JMX document held in memory; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Plan, PlanError> {
        if bytes.len() as u64 > MAX_PLAN_BYTES {
            return Err(PlanError::TooLarge {
                origin: origin.to_string(),
                limit: MAX_PLAN_BYTES,
            });
        }
        parse::parse_bytes(bytes, origin)
    }

    /// The TestPlan element (the first top-level element whose class is `TestPlan`).
    pub fn test_plan(&self) -> Option<&TestElement> {
        self.elements.iter().find(|e| e.class_name() == "TestPlan")
    }

    /// The test plan's name (its `testname`).
    pub fn test_plan_name(&self) -> Option<&str> {
        self.test_plan().map(|tp| tp.name.as_str())
    }

    /// Thread groups (setUp, regular, tearDown, plugin groups) in file order, disabled ones
    /// included and flagged. The WorkBench, which never runs, is not searched.
    pub fn thread_groups(&self) -> Vec<ThreadGroupSummary> {
        let mut out = Vec::new();
        for top in &self.elements {
            if top.class_name() != "WorkBench" {
                summary::find_thread_groups(std::slice::from_ref(top), &mut out);
            }
        }
        out
    }

    /// The summary stored in the run manifest.
    pub fn summary(&self) -> PlanSummary {
        PlanSummary::of(self)
    }

    /// Every element of the plan, depth first in file order, disabled ones included.
    pub fn all_elements(&self) -> Elements<'_> {
        Elements::new(&self.elements, false)
    }

    /// The elements that would run: depth first in file order, disabled subtrees skipped.
    pub fn enabled_elements(&self) -> Elements<'_> {
        Elements::new(&self.elements, true)
    }
}

impl FromStr for Plan {
    type Err = PlanError;

    fn from_str(s: &str) -> Result<Plan, PlanError> {
        Plan::from_bytes(s.as_bytes(), READER_ORIGIN)
    }
}

fn read_limited<R: Read>(reader: R, origin: &str) -> Result<Plan, PlanError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_PLAN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| PlanError::Io {
            origin: origin.to_string(),
            source,
        })?;
    Plan::from_bytes(&bytes, origin)
}
