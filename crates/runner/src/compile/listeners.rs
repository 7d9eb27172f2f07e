//! Elements that only watch or report a run, which the runner records without them: JMeter's
//! core listeners and the common non-core ones (jmeter-plugins graph and file writers, the
//! Backend Listener, Save Responses to a file), accepted and listed by `--validate` with what
//! is not done; and the DNS Cache Manager, which has no effect on how the runner resolves
//! names (checked here: a custom resolver is refused).

use loadlake_plan::TestElement;

use crate::compile::Compiler;
use crate::error::RunnerError;

/// Listener classes (simple names) accepted and not run, with what is lost.
pub(crate) const LISTENERS: &[(&str, &str)] = &[
    ("ResultCollector", "the runner records every sample itself"),
    ("Summariser", "the runner records every sample itself"),
    (
        "BackendListener",
        "its metrics are not sent; query the run's samples instead",
    ),
    (
        "ResultSaver",
        "responses are not saved to files (Save Responses to a file)",
    ),
    (
        "CorrectedResultCollector",
        "a jmeter-plugins graph: the runner records every sample itself",
    ),
    (
        "CompositeResultCollector",
        "a jmeter-plugins composite graph: the runner records every sample itself",
    ),
    (
        "BlazeMeterUploader",
        "results are not uploaded to BlazeMeter; the run's samples are in the store",
    ),
    (
        "FlexibleFileWriter",
        "nothing is written to its file; the runner records every sample itself",
    ),
    ("ConsoleStatusLogger", "the runner reports its own progress"),
    (
        "GraphsGeneratorListener",
        "no graphs are written; loadlake reports make them",
    ),
    (
        "PerfMonCollector",
        "server metrics (PerfMon agent) are not collected",
    ),
    (
        "PrometheusListener",
        "no Prometheus metrics are served; query the run's samples instead",
    ),
    (
        "PrometheusMetricsConfig",
        "no Prometheus metrics are served; query the run's samples instead",
    ),
];

impl Compiler<'_> {
    /// Records listener `e` as recognised and not run, with its note.
    pub(crate) fn ignore(&mut self, e: &TestElement) {
        let note = LISTENERS
            .iter()
            .find(|(c, _)| *c == e.class_name())
            .map_or("not run", |(_, n)| n);
        self.ignored
            .push(format!("\"{}\" ({}: {note})", e.name, e.class_name()));
    }

    /// The DNS Cache Manager (`DNSCacheManager`, JMeter 2.13's system or custom resolver): with
    /// the system resolver it only caches names per thread, which changes nothing for the
    /// runner (a user resolves a host when it opens a connection, and keeps the connection) —
    /// accepted with a warning; a custom resolver (other DNS servers, static hosts) is refused.
    pub(crate) fn dns_cache_manager(&self, e: &TestElement) -> Result<(), RunnerError> {
        let hosts = e
            .prop_collection("DNSCacheManager.hosts")
            .is_some_and(|h| !h.is_empty());
        if self.flag(e, "DNSCacheManager.isCustomResolver", false)? || hosts {
            return Err(RunnerError::setting(
                &e.name,
                "DNSCacheManager.isCustomResolver",
                "true",
                "a custom resolver (DNS servers, static hosts) is not implemented; the system \
                 resolver is used",
            ));
        }
        self.report.warn(format!(
            "element \"{}\" (DNS Cache Manager): no effect here — each user resolves a host when \
             it opens a connection and keeps that connection (JMeter's per-thread cache, and \
             clearEachIteration, change nothing measurable)",
            e.name
        ));
        Ok(())
    }
}
