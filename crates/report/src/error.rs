//! Rendering errors.

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("rendering template {template}: {source}")]
    Template {
        template: &'static str,
        #[source]
        source: minijinja::Error,
    },
    #[error("serializing report data: {0}")]
    Json(#[from] serde_json::Error),
    #[error("writing XML: {0}")]
    Xml(#[from] std::io::Error),
}
