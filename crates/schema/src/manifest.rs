//! The run manifest (`<store>/runs/<id>.json`): what a run is, where its samples came from and
//! how the import went. Serialized with serde; its shape is part of the store format.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::run_id::RunId;

/// Version of the manifest layout, bumped on incompatible change.
///
/// - 1: the run's parts are every `*.parquet` under `samples/run_id=<id>/`.
/// - 2: the manifest also lists its part files ([`RunManifest::files`]); on object storage
///   readers read exactly those (an uncommitted or abandoned part is never read). Version 1
///   manifests (no list) still open: their parts are listed from the directory.
pub const MANIFEST_FORMAT_VERSION: u32 = 2;

/// One Parquet part of a run, as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartFile {
    /// Key relative to the store root, `/`-separated (`samples/run_id=<id>/part-….parquet`).
    pub path: String,
    /// Size of the object in bytes.
    pub size_bytes: u64,
    /// Rows in the part.
    pub rows: u64,
}

/// Lifecycle state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Being written; never visible in a listing (kept for the runner and streams).
    Importing,
    /// Every sample of every source is in the store.
    Complete,
    /// The run was cut short (e.g. a sample stream disconnected); what was acknowledged is kept.
    Incomplete,
    /// The run failed; kept only for diagnosis.
    Failed,
}

impl RunStatus {
    /// The value shown in listings and the `runs` table.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Importing => "importing",
            RunStatus::Complete => "complete",
            RunStatus::Incomplete => "incomplete",
            RunStatus::Failed => "failed",
        }
    }
}

/// One source file of a run and what the decoder found in it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceFile {
    /// The path as given on import.
    pub path: String,
    pub size_bytes: u64,
    /// `xxh3-128:<hex>` of the file's bytes; equal hashes mean a re-import.
    pub content_hash: String,
    /// `csv`, `xml`, `k6-json`, `k6-csv` or `gatling`.
    pub format: String,
    /// The JMeter column names the decoder used, in file order (CSV), or the attributes seen (XML).
    pub columns: Vec<String>,
    /// CSV only: whether the first line was a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_header: Option<bool>,
    /// CSV only: the field delimiter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub samples: u64,
    pub rejected: u64,
    /// Non-fatal findings (truncated tail, extra fields, ...).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The load tool that wrote the file when its format says (`gatling`); absent for JTL and k6
    /// files, whose format names the tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The tool's version when the file says it (Gatling's RUN record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
}

impl SourceFile {
    /// The load tool that wrote the file: [`tool`](Self::tool) when recorded, else the one its
    /// format belongs to (`csv`, `xml` → `jmeter`; `k6-json`, `k6-csv` → `k6`; `gatling`).
    pub fn tool_name(&self) -> &str {
        if let Some(t) = &self.tool {
            return t;
        }
        match self.format.as_str() {
            "k6-json" | "k6-csv" => "k6",
            "gatling" => "gatling",
            _ => "jmeter",
        }
    }
}

/// Summary of the rows that could not be imported (kept in `runs/<id>.rejects.jsonl`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RejectSummary {
    pub count: u64,
    /// The first few reasons, for a quick look without opening the rejects file.
    #[serde(default)]
    pub first: Vec<String>,
}

/// Everything the store knows about a run besides its samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunManifest {
    pub format_version: u32,
    pub run_id: RunId,
    pub name: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub status: RunStatus,
    /// Why the run is not `complete`, when the writer knew (a stream broke off, the run was
    /// stopped early, its writer died and the store recovered the acknowledged parts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub sources: Vec<SourceFile>,
    /// Rows in the run (every kind).
    pub samples: u64,
    /// Rows with `success = false`.
    pub errors: u64,
    /// Earliest sample start (ms since epoch), if the sources have timestamps.
    pub first_ts_ms: Option<i64>,
    /// Latest sample end (start + elapsed, ms since epoch), if known.
    pub last_ts_ms: Option<i64>,
    pub imported_at: DateTime<Utc>,
    #[serde(default)]
    pub rejects: RejectSummary,
    /// Parquet part files under `samples/run_id=<id>/`.
    pub parts: u32,
    /// The part files themselves (format 2; empty in format 1 manifests).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PartFile>,
    /// Summary of the attached JMX plan, if any (thread groups → cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    /// The program that wrote the run.
    pub created_by: String,
}

impl RunManifest {
    /// Wall-clock span of the run in ms (last sample end − first sample start).
    pub fn duration_ms(&self) -> Option<i64> {
        Some(self.last_ts_ms? - self.first_ts_ms?)
    }
}
