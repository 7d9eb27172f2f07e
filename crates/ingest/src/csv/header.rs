//! CSV layout detection, the way JMeter does it (`CSVSaveService` in apache/jmeter): the first
//! line is a header when its tokens are JMeter column names (or `"quoted"` sample-variable
//! names); the delimiter is the one that splits it so. Header-less files take `--columns`, a
//! `--jmeter-version` preset, or the version preset whose column count matches the rows.

use crate::columns::{
    JtlColumn, REQUIRED, parse_column_list, preset_for_field_count, version_preset,
};
use crate::error::IngestError;
use crate::options::DecodeOptions;

/// How a CSV file is laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub columns: Vec<JtlColumn>,
    pub has_header: bool,
    pub delimiter: u8,
    pub warnings: Vec<String>,
}

/// Delimiters tried when none is given, in order.
const CANDIDATES: [u8; 5] = [b',', b'\t', b';', b'|', b':'];

/// Splits one line on `delim`, honouring `"` quoting; returns (token, was quoted).
fn tokenize(line: &[u8], delim: u8) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if in_quotes {
            if c == b'"' {
                if line.get(i + 1) == Some(&b'"') {
                    cur.push(b'"');
                    i += 1;
                } else {
                    in_quotes = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == b'"' && cur.is_empty() {
            in_quotes = true;
            quoted = true;
        } else if c == delim {
            out.push((String::from_utf8_lossy(&cur).into_owned(), quoted));
            cur.clear();
            quoted = false;
        } else {
            cur.push(c);
        }
        i += 1;
    }
    out.push((String::from_utf8_lossy(&cur).into_owned(), quoted));
    out
}

/// Header columns if `tokens` form a header: every token a known name or quoted (JMeter's rule);
/// or, leniently, at least two known names and no number (unknown names become variables).
fn header_columns(tokens: &[(String, bool)], warnings: &mut Vec<String>) -> Option<Vec<JtlColumn>> {
    let known = tokens
        .iter()
        .filter(|(t, q)| !q && JtlColumn::from_header(t, false).is_some())
        .count();
    let all = tokens
        .iter()
        .all(|(t, q)| JtlColumn::from_header(t, *q).is_some());
    let lenient = known >= 2
        && tokens
            .iter()
            .all(|(t, _)| crate::csv::parse_i64(t.trim().as_bytes()).is_none());
    let is_header = lenient || (all && known >= 1);
    if !is_header {
        return None;
    }
    Some(
        tokens
            .iter()
            .map(|(t, q)| {
                JtlColumn::from_header(t, *q).unwrap_or_else(|| {
                    warnings.push(format!(
                        "header column '{t}' is not a JMeter column; kept as a sample variable"
                    ));
                    JtlColumn::Variable(t.clone())
                })
            })
            .collect(),
    )
}

/// Works out delimiter, header and columns from the first line and the options.
pub fn detect_layout(
    file: &str,
    first_line: &[u8],
    opts: &DecodeOptions,
) -> Result<Layout, IngestError> {
    let mut warnings = Vec::new();
    let given_columns = match (&opts.columns, &opts.jmeter_version) {
        (Some(list), _) => Some(parse_column_list(list).map_err(|e| IngestError::layout(file, e))?),
        (None, Some(v)) => Some(version_preset(v).ok_or_else(|| {
            IngestError::layout(
                file,
                format!("unknown JMeter version '{v}' (known: 2.12–5.6)"),
            )
        })?),
        (None, None) => None,
    };
    let delimiters: Vec<u8> = match opts.delimiter {
        Some(d) => vec![d],
        None => CANDIDATES.to_vec(),
    };
    let header = delimiters.iter().find_map(|&d| {
        let tokens = tokenize(first_line, d);
        (tokens.len() > 1 || opts.delimiter.is_some())
            .then(|| header_columns(&tokens, &mut warnings).map(|cols| (d, cols)))
            .flatten()
    });
    let (delimiter, columns, has_header) = match (header, given_columns) {
        (Some((d, _)), Some(cols)) => {
            warnings.push("the file has a header line; the given --columns replace it".into());
            (d, cols, true)
        }
        (Some((d, cols)), None) => (d, cols, true),
        (None, Some(cols)) => {
            let d = opts.delimiter.unwrap_or_else(|| {
                CANDIDATES
                    .into_iter()
                    .find(|&d| tokenize(first_line, d).len() == cols.len())
                    .unwrap_or(b',')
            });
            (d, cols, false)
        }
        (None, None) => {
            let (d, n) = delimiters
                .iter()
                .map(|&d| (d, tokenize(first_line, d).len()))
                .max_by_key(|&(_, n)| n)
                .unwrap_or((b',', 1));
            let Some((version, cols)) = preset_for_field_count(n) else {
                return Err(IngestError::layout(
                    file,
                    format!(
                        "no header line, and its {n} fields per row match no JMeter version's default columns; \
                         pass --columns timeStamp,elapsed,... or --jmeter-version"
                    ),
                ));
            };
            warnings.push(format!(
                "no header line: assumed JMeter {version}'s default columns ({n} fields)"
            ));
            (d, cols, false)
        }
    };
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|c| !columns.contains(c))
        .map(|c| c.header_name())
        .collect();
    if !missing.is_empty() {
        return Err(IngestError::MissingColumns {
            file: file.to_string(),
            missing: missing.join(", "),
            found: columns
                .iter()
                .map(|c| c.header_name())
                .collect::<Vec<_>>()
                .join(","),
        });
    }
    Ok(Layout {
        columns,
        has_header,
        delimiter,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(line: &str, opts: &DecodeOptions) -> Result<Layout, IngestError> {
        detect_layout("t.csv", line.as_bytes(), opts)
    }

    #[test]
    fn jmeter5_header_with_variables() {
        let l = detect(
            "label,responseCode,responseMessage,dataType,success,bytes,\"REFERENCE\",\"JSESSIONID\"",
            &DecodeOptions::default(),
        )
        .unwrap();
        assert!(l.has_header);
        assert_eq!(l.delimiter, b',');
        assert_eq!(l.columns[6], JtlColumn::Variable("REFERENCE".into()));
    }

    #[test]
    fn tab_and_semicolon_headers() {
        let l = detect(
            "timeStamp\telapsed\tlabel\tresponseCode\tsuccess",
            &DecodeOptions::default(),
        )
        .unwrap();
        assert_eq!(l.delimiter, b'\t');
        let l = detect(
            "timeStamp;elapsed;label;responseCode;success",
            &DecodeOptions::default(),
        )
        .unwrap();
        assert_eq!(l.delimiter, b';');
    }

    #[test]
    fn headerless_213_is_recognised_by_field_count() {
        let l = detect(
            "1436280000000,12,home,200,OK,Users 1-1,text,true,512,1,1,10",
            &DecodeOptions::default(),
        )
        .unwrap();
        assert!(!l.has_header);
        assert_eq!(l.columns.len(), 12);
        assert!(l.warnings[0].contains("2.13"));
    }

    #[test]
    fn headerless_unknown_width_asks_for_columns() {
        let err = detect("a,200,T 1-1,text,true", &DecodeOptions::default()).unwrap_err();
        assert!(err.to_string().contains("--columns"), "{err}");
    }

    #[test]
    fn missing_required_columns_are_named() {
        let err = detect(
            "timeStamp,elapsed,label,threadName,dataType,success,failureMessage,bytes",
            &DecodeOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("responseCode"), "{err}");
    }
}
