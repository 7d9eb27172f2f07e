//! Format sniffing: JTL XML or CSV, k6's `--out json` or `--out csv`, Gatling's `simulation.log`
//! (text or binary), and a clear refusal of
//! empty and non-text files.

use std::io::BufRead;

use crate::error::IngestError;

/// The result formats loadlake decodes: JMeter's two JTL encodings, k6's two outputs and
/// Gatling's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JtlFormat {
    /// JMeter JTL CSV.
    Csv,
    /// JMeter JTL XML.
    Xml,
    /// k6 `--out json`: one JSON object (a `Metric` or a `Point`) per line.
    K6Json,
    /// k6 `--out csv`: `metric_name,timestamp,metric_value,<tags>…`.
    K6Csv,
    /// Gatling's `simulation.log`: text (3.0–3.12) or binary (3.13+).
    Gatling,
}

impl JtlFormat {
    /// The name stored in the run manifest's sources (`csv`, `xml`, `k6-json`, `k6-csv`,
    /// `gatling`).
    pub fn as_str(self) -> &'static str {
        match self {
            JtlFormat::Csv => "csv",
            JtlFormat::Xml => "xml",
            JtlFormat::K6Json => "k6-json",
            JtlFormat::K6Csv => "k6-csv",
            JtlFormat::Gatling => "gatling",
        }
    }

    /// The format named `name` ([`as_str`](Self::as_str)'s names), if one.
    pub fn from_name(name: &str) -> Option<JtlFormat> {
        [
            JtlFormat::Csv,
            JtlFormat::Xml,
            JtlFormat::K6Json,
            JtlFormat::K6Csv,
            JtlFormat::Gatling,
        ]
        .into_iter()
        .find(|f| f.as_str() == name)
    }

    /// Whether this is one of k6's outputs.
    pub fn is_k6(self) -> bool {
        matches!(self, JtlFormat::K6Json | JtlFormat::K6Csv)
    }
}

/// The first fields of every k6 CSV header (k6's `internal/output/csv`).
const K6_CSV_HEADER: &[u8] = b"metric_name,timestamp,metric_value";

/// Looks at the first bytes (without consuming them) and decides the format: a Gatling record
/// name and a TAB (`RUN\t`, `USER\t`…) or the binary RUN record (`00 00 00 00 n` and a digit)
/// is Gatling; `<` is XML; a JSON object whose `type` is `Metric` or `Point` is k6 JSON; k6's
/// CSV header is k6 CSV; anything else is JTL CSV.
pub fn sniff(
    file: &str,
    reader: &mut impl BufRead,
    forced: Option<JtlFormat>,
) -> Result<JtlFormat, IngestError> {
    let head = reader.fill_buf().map_err(|e| IngestError::io(file, e))?;
    if head.is_empty() {
        return Err(IngestError::Empty {
            file: file.to_string(),
        });
    }
    let sample = &head[..head.len().min(4096)];
    if forced == Some(JtlFormat::Gatling) {
        return Ok(JtlFormat::Gatling);
    }
    if crate::gatling::looks_like_gatling(sample) {
        return Ok(JtlFormat::Gatling);
    }
    if sample.contains(&0) {
        return Err(IngestError::NotJtl {
            file: file.to_string(),
            reason: "it contains NUL bytes (a binary file?)".into(),
        });
    }
    if let Some(f) = forced {
        return Ok(f);
    }
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(IngestError::Empty {
            file: file.to_string(),
        });
    };
    let text = &text[start..];
    let line = &text[..text.iter().position(|&b| b == b'\n').unwrap_or(text.len())];
    match text[0] {
        b'<' => Ok(JtlFormat::Xml),
        b'{' if is_k6_json_line(line) => Ok(JtlFormat::K6Json),
        b'{' => Err(IngestError::NotJtl {
            file: file.to_string(),
            reason: "it is JSON, but not k6's --out json (its first line has no \"type\":\"Metric\" or \"type\":\"Point\")".into(),
        }),
        _ if line.starts_with(K6_CSV_HEADER) => Ok(JtlFormat::K6Csv),
        _ => Ok(JtlFormat::Csv),
    }
}

/// Whether `line` (or its start, for a line longer than the sniffed bytes) is a k6 JSON line:
/// an object with `"type":"Metric"` or `"type":"Point"` (k6 writes no spaces; its key order
/// changed in 0.38, so the key is looked for anywhere).
fn is_k6_json_line(line: &[u8]) -> bool {
    let has = |needle: &[u8]| line.windows(needle.len()).any(|w| w == needle);
    has(br#""type":"Metric""#) || has(br#""type":"Point""#)
}

#[cfg(test)]
mod tests {
    use super::{JtlFormat, sniff};

    fn sniffed(text: &str) -> Result<JtlFormat, String> {
        sniff("f", &mut text.as_bytes(), None).map_err(|e| e.to_string())
    }

    #[test]
    fn k6_outputs_are_told_by_content() {
        let old = r#"{"type":"Metric","data":{"name":"vus","type":"gauge"},"metric":"vus"}"#;
        let new = r#"{"metric":"http_reqs","type":"Point","data":{"time":"2025-01-01T00:00:00Z","value":1,"tags":null}}"#;
        assert_eq!(sniffed(old), Ok(JtlFormat::K6Json));
        assert_eq!(sniffed(&format!("\n{new}\n")), Ok(JtlFormat::K6Json));
        assert_eq!(
            sniffed("metric_name,timestamp,metric_value,check,error\n"),
            Ok(JtlFormat::K6Csv)
        );
        // A JTL named .json is still a JTL: the name plays no part.
        assert_eq!(
            sniffed("timeStamp,elapsed,label,responseCode,success\n"),
            Ok(JtlFormat::Csv)
        );
        assert_eq!(sniffed("<?xml version=\"1.0\"?>"), Ok(JtlFormat::Xml));
        let other = sniffed(r#"{"a":1}"#).unwrap_err();
        assert!(other.contains("not k6's --out json"), "{other}");
    }

    #[test]
    fn names_round_trip() {
        for f in [
            JtlFormat::Csv,
            JtlFormat::Xml,
            JtlFormat::K6Json,
            JtlFormat::K6Csv,
            JtlFormat::Gatling,
        ] {
            assert_eq!(JtlFormat::from_name(f.as_str()), Some(f));
        }
        assert_eq!(JtlFormat::from_name("locust"), None);
    }
}
