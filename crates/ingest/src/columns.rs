//! JMeter's CSV columns: names, canonical order and the default sets of each version (from
//! apache/jmeter: `CSVSaveService.java` for the order, `SampleSaveConfiguration.java` of each
//! release for the defaults; docs/import.md gives their column counts).

/// One CSV column as JMeter names it in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JtlColumn {
    TimeStamp,
    Elapsed,
    Label,
    ResponseCode,
    ResponseMessage,
    ThreadName,
    DataType,
    Success,
    FailureMessage,
    Bytes,
    SentBytes,
    GrpThreads,
    AllThreads,
    Url,
    Filename,
    Latency,
    Encoding,
    SampleCount,
    ErrorCount,
    Hostname,
    IdleTime,
    Connect,
    /// A `sample_variables` column (header `"NAME"`).
    Variable(String),
}

/// Header names in JMeter's canonical write order.
const KNOWN: [(&str, JtlColumn); 22] = [
    ("timeStamp", JtlColumn::TimeStamp),
    ("elapsed", JtlColumn::Elapsed),
    ("label", JtlColumn::Label),
    ("responseCode", JtlColumn::ResponseCode),
    ("responseMessage", JtlColumn::ResponseMessage),
    ("threadName", JtlColumn::ThreadName),
    ("dataType", JtlColumn::DataType),
    ("success", JtlColumn::Success),
    ("failureMessage", JtlColumn::FailureMessage),
    ("bytes", JtlColumn::Bytes),
    ("sentBytes", JtlColumn::SentBytes),
    ("grpThreads", JtlColumn::GrpThreads),
    ("allThreads", JtlColumn::AllThreads),
    ("URL", JtlColumn::Url),
    ("Filename", JtlColumn::Filename),
    ("Latency", JtlColumn::Latency),
    ("Encoding", JtlColumn::Encoding),
    ("SampleCount", JtlColumn::SampleCount),
    ("ErrorCount", JtlColumn::ErrorCount),
    ("Hostname", JtlColumn::Hostname),
    ("IdleTime", JtlColumn::IdleTime),
    ("Connect", JtlColumn::Connect),
];

/// Columns a file must have for its samples to mean anything in a report.
pub const REQUIRED: [JtlColumn; 3] = [
    JtlColumn::Label,
    JtlColumn::ResponseCode,
    JtlColumn::Success,
];

impl JtlColumn {
    /// The column for a header token: a known name (case-insensitive), or a variable when the
    /// token was quoted in the header.
    pub fn from_header(token: &str, quoted: bool) -> Option<JtlColumn> {
        if quoted {
            return Some(JtlColumn::Variable(token.to_string()));
        }
        KNOWN
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
            .map(|(_, c)| c.clone())
    }

    /// The header text JMeter writes for this column.
    pub fn header_name(&self) -> String {
        match self {
            JtlColumn::Variable(v) => format!("\"{v}\""),
            other => KNOWN
                .iter()
                .find(|(_, c)| c == other)
                .map(|(n, _)| n.to_string())
                .unwrap_or_default(),
        }
    }
}

/// Parses a `--columns` list: JMeter header names, `"NAME"` for sample variables.
pub fn parse_column_list(list: &[String]) -> Result<Vec<JtlColumn>, String> {
    list.iter()
        .map(|raw| {
            let t = raw.trim();
            let (token, quoted) = match t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(inner) => (inner, true),
                None => (t, false),
            };
            JtlColumn::from_header(token, quoted).ok_or_else(|| {
                format!(
                    "unknown column '{t}' (JMeter names: {}; quote sample variables: \"NAME\")",
                    KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(",")
                )
            })
        })
        .collect()
}

/// The default columns a JMeter version writes (its `SampleSaveConfiguration` defaults).
pub fn version_preset(version: &str) -> Option<Vec<JtlColumn>> {
    use JtlColumn::*;
    let v213 = vec![
        TimeStamp,
        Elapsed,
        Label,
        ResponseCode,
        ResponseMessage,
        ThreadName,
        DataType,
        Success,
        Bytes,
        GrpThreads,
        AllThreads,
        Latency,
    ];
    let v30 = vec![
        TimeStamp,
        Elapsed,
        Label,
        ResponseCode,
        ResponseMessage,
        ThreadName,
        DataType,
        Success,
        FailureMessage,
        Bytes,
        GrpThreads,
        AllThreads,
        Latency,
        IdleTime,
    ];
    let v31 = vec![
        TimeStamp,
        Elapsed,
        Label,
        ResponseCode,
        ResponseMessage,
        ThreadName,
        DataType,
        Success,
        FailureMessage,
        Bytes,
        SentBytes,
        GrpThreads,
        AllThreads,
        Latency,
        IdleTime,
        Connect,
    ];
    let v50 = vec![
        TimeStamp,
        Elapsed,
        Label,
        ResponseCode,
        ResponseMessage,
        ThreadName,
        DataType,
        Success,
        FailureMessage,
        Bytes,
        SentBytes,
        GrpThreads,
        AllThreads,
        Url,
        Latency,
        IdleTime,
        Connect,
    ];
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    let major: u32 = major.parse().ok()?;
    let minor: u32 = minor.split('.').next()?.parse().ok()?;
    match (major, minor) {
        (2, 12..) => Some(v213),
        (3, 0) => Some(v30),
        (3, _) | (4, _) => Some(v31),
        (5.., _) => Some(v50),
        _ => None,
    }
}

/// The version preset whose column count matches, for header-less files without options.
pub fn preset_for_field_count(n: usize) -> Option<(&'static str, Vec<JtlColumn>)> {
    ["2.13", "3.0", "3.1", "5.0"]
        .into_iter()
        .filter_map(|v| Some((v, version_preset(v)?)))
        .find(|(_, cols)| cols.len() == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_documented_sizes() {
        assert_eq!(version_preset("2.13").unwrap().len(), 12);
        assert_eq!(version_preset("3.0").unwrap().len(), 14);
        assert_eq!(version_preset("4.0").unwrap().len(), 16);
        assert_eq!(version_preset("5.6.3").unwrap().len(), 17);
        assert!(version_preset("1.9").is_none());
        assert_eq!(preset_for_field_count(12).unwrap().0, "2.13");
    }

    #[test]
    fn column_list_accepts_names_and_quoted_variables() {
        let cols = parse_column_list(&["timeStamp".into(), "\"USER\"".into()]).unwrap();
        assert_eq!(
            cols,
            vec![JtlColumn::TimeStamp, JtlColumn::Variable("USER".into())]
        );
        assert!(
            parse_column_list(&["nope".into()])
                .unwrap_err()
                .contains("unknown column 'nope'")
        );
    }
}
