//! Format sniffing: XML or CSV, and a clear refusal of empty and non-text files.

use std::io::BufRead;

use crate::error::IngestError;

/// The two JTL encodings JMeter writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JtlFormat {
    Csv,
    Xml,
}

impl JtlFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            JtlFormat::Csv => "csv",
            JtlFormat::Xml => "xml",
        }
    }
}

/// Looks at the first bytes (without consuming them) and decides the format.
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
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(IngestError::Empty {
            file: file.to_string(),
        }),
        Some(b'<') => Ok(JtlFormat::Xml),
        Some(_) => Ok(JtlFormat::Csv),
    }
}
