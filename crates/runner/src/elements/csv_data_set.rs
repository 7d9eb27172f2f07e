//! The CSV Data Set Config (`CSVDataSet`): a file of rows whose columns become variables of the
//! virtual user at the start of every iteration.
//!
//! The whole file is parsed at compile time ([`CsvDataSet::load`]), so `--validate` reports a
//! missing or malformed file; the rows are shared (`Arc`) and a [`CsvCursor`] (one per scope of
//! the [`ShareMode`]) hands them out with one atomic increment ([`CsvDataSet::next_into`]).
//!
//! JMeter's rules followed here (apache/jmeter `config/CSVDataSet.java`, `services/FileServer.java`,
//! `save/CSVSaveService.java`, `jorphan/util/JOrphanUtils.java`):
//! - **Names.** Empty `variableNames`: the first line is the header. It is split with the quoted
//!   CSV parser on the delimiter's first character, whatever `quotedData` says
//!   (`CSVSaveService.csvSplitString`). Otherwise the names are `variableNames` split on `,`
//!   (always a comma) with empty pieces dropped (`JOrphanUtils.split(names, ",")`). Names are
//!   trimmed; values are not.
//! - **`ignoreFirstLine`** skips line 1 when names are given. With empty names, line 1 is the
//!   header and is skipped once either way.
//! - **Delimiter.** `\t` written as backslash-t means TAB, and empty means `,`. With
//!   `quotedData=false` the whole delimiter string splits the line and quotes are ordinary
//!   characters (`JOrphanUtils.split(line, delim, false)`). With `quotedData=true` only its first
//!   character is used, fields may be quoted, `""` inside quotes is a quote, and a quoted field may
//!   span lines (`CSVSaveService.csvReadFile`).
//! - **Lines** end with LF, CRLF or a lone CR (Java's `BufferedReader.readLine`). A UTF-8 BOM is
//!   dropped (`BOMInputStream`).
//! - **Blank lines.** With `quotedData=false` a blank line splits into no values at all, which
//!   `CSVDataSet.iterationStart` treats exactly like the end of the file for that iteration:
//!   every variable becomes `<EOF>`, or the thread stops when `stopThread` is set, even with
//!   `recycle`. With `quotedData=true` a blank line is a row with one empty value.
//! - **Column count.** Only `min(names, columns)` variables are set from a row. Extra columns are
//!   ignored, and variables without a column keep whatever value they had before.
//! - **End of file.** `recycle` wraps to the first data row. Otherwise `stopThread` stops the
//!   thread, or else every variable is set to `<EOF>` (property `csvdataset.eofstring`, default
//!   `<EOF>`), on every later iteration too.
//!
//! Deliberate differences: a malformed quoted file is refused at load time with its path and
//! line (JMeter logs it and serves that iteration as end-of-file); only UTF-8 is read, also for
//! an empty `fileEncoding` (JMeter: the platform default); a relative name resolves against the
//! JMX directory only (JMeter first tries the working directory); `csvdataset.eofstring` is fixed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::RunnerError;

/// The value every variable gets at the end of a file that is not recycled (JMeter's default
/// `csvdataset.eofstring`).
pub(crate) const EOF_VALUE: &str = "<EOF>";

/// CSVDataSet settings after `${…}` evaluation (the compiler fills this from the element's
/// properties: `filename`, `fileEncoding`, `variableNames`, `ignoreFirstLine`, `delimiter`,
/// `quotedData`, `recycle`, `stopThread`, `shareMode`).
#[derive(Debug, Clone, Copy)]
pub struct CsvSettings<'a> {
    /// The element's `testname`.
    pub element: &'a str,
    /// `filename`: absolute, or relative to the JMX file's directory.
    pub filename: &'a str,
    /// `fileEncoding`: empty or UTF-8.
    pub file_encoding: &'a str,
    /// `variableNames`: comma-separated; empty means the first line is the header.
    pub variable_names: &'a str,
    /// `ignoreFirstLine`: skip line 1 (only meaningful when `variable_names` is not empty).
    pub ignore_first_line: bool,
    /// `delimiter`: `\t` (backslash-t) for TAB; empty means `,`.
    pub delimiter: &'a str,
    /// `quotedData`: allow quoted fields.
    pub quoted_data: bool,
    /// `recycle`: start again at the first data row at the end of the file.
    pub recycle: bool,
    /// `stopThread`: stop the thread at the end of the file (when not recycling).
    pub stop_thread: bool,
    /// `shareMode`: see [`ShareMode::parse`].
    pub share_mode: &'a str,
}

/// Which users share one read position (`shareMode`).
///
/// JMeter keys the shared reader by the file name as written (trimmed) plus this scope. So two
/// CSV Data Set elements naming the same file with `shareMode.all` read from one position, as do
/// two in the same thread group with `shareMode.group`. A custom name is shared by every user of
/// every element that uses the same file and the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareMode {
    /// `shareMode.all`: one position for the whole test.
    All,
    /// `shareMode.group`: one position per thread group.
    Group,
    /// `shareMode.thread`: one position per user.
    Thread,
    /// Any other value: one position per (file, name).
    Named(String),
}

impl ShareMode {
    /// Parses `shareMode`. It accepts the resource keys `shareMode.all` / `.group` / `.thread`
    /// and the English display names that old JMX files stored (`All threads`,
    /// `Current thread group`, `Current thread`; `CSVDataSetResources.properties`, converted by
    /// `CSVDataSet.setProperty`). Anything else, even an empty value, is a custom name.
    pub fn parse(raw: &str) -> ShareMode {
        match raw {
            "shareMode.all" | "All threads" => ShareMode::All,
            "shareMode.group" | "Current thread group" => ShareMode::Group,
            "shareMode.thread" | "Current thread" => ShareMode::Thread,
            other => ShareMode::Named(other.to_string()),
        }
    }
}

/// One data row. `None` is a blank line read with `quotedData=false`: JMeter splits it into no
/// values and handles it like the end of the file.
type Row = Option<Box<[String]>>;

/// A loaded data set: the whole file read at compile time (so `--validate` reports a missing or
/// malformed file), rows shared (`Arc`).
#[derive(Debug, Clone)]
pub struct CsvDataSet {
    /// The element's `testname`.
    pub name: String,
    /// Where the rows came from: the file read (a relative name resolved against the JMX
    /// directory), or the name and "(sent with the plan)".
    pub source: String,
    /// The file name as written, trimmed: JMeter's sharing key together with [`ShareMode`].
    pub alias: String,
    /// The variable names, in column order.
    pub names: Vec<String>,
    /// `recycle`.
    pub recycle: bool,
    /// `stopThread`.
    pub stop_thread: bool,
    /// `shareMode`.
    pub share: ShareMode,
    rows: Arc<[Row]>,
}

/// A read position; clones share it (the runner creates one per data set for
/// [`ShareMode::All`], one per thread group for `Group`, one per thread for `Thread`, one per
/// name for a custom name).
#[derive(Debug, Clone, Default)]
pub struct CsvCursor {
    next: Arc<AtomicU64>,
}

/// What [`CsvDataSet::next_into`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvNext {
    /// A row's values were written into the variables.
    Assigned,
    /// End of file (or a blank unquoted line): the variables were set to `"<EOF>"`.
    Eof,
    /// End of file with `stopThread`: the user must stop. No variable was changed.
    StopThread,
}

impl CsvDataSet {
    /// Reads and parses the data file. Relative file names resolve against `base_dir` (the JMX
    /// file's directory, as JMeter's FileServer does).
    pub fn load(s: &CsvSettings<'_>, base_dir: &Path) -> Result<CsvDataSet, RunnerError> {
        let invalid =
            |value: &str, what: &str| RunnerError::invalid(s.element, "filename", value, what);
        let alias = s.filename.trim();
        if alias.is_empty() {
            return Err(invalid("", "a file name"));
        }
        // `join` keeps an absolute name as it is.
        let path = base_dir.join(alias);
        let shown = path.display().to_string();
        let bytes =
            std::fs::read(&path).map_err(|e| invalid(&shown, &format!("a readable file ({e})")))?;
        CsvDataSet::parse(s, &shown, &bytes)
    }

    /// Parses the data file's `bytes`; `shown` names the file in errors.
    pub fn parse(
        s: &CsvSettings<'_>,
        shown: &str,
        bytes: &[u8],
    ) -> Result<CsvDataSet, RunnerError> {
        check_encoding(s)?;
        let invalid =
            |value: &str, what: &str| RunnerError::invalid(s.element, "filename", value, what);
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let bad = |line: usize, what: &str| invalid(&format!("{shown}:{line}"), what);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            bad(
                line_at(bytes, e.valid_up_to()),
                "UTF-8 text (invalid bytes)",
            )
        })?;

        let delim = match s.delimiter {
            "\\t" => "\t",
            "" => ",",
            d => d,
        };
        // Non-empty by the match above.
        let delim_char = delim.chars().next().unwrap_or(',');

        let mut pos = 0;
        let names: Vec<String> = if s.variable_names.is_empty() {
            let (header, next) = next_line(text, 0);
            pos = next;
            let (fields, _) = read_quoted_record(header, 0, delim_char)
                .map_err(|(_, why)| bad(1, &format!("a valid header line: {why}")))?;
            if fields.is_empty() {
                let why = "a header line naming the variables (variableNames is empty), but the \
                           file is empty or starts with a blank line";
                return Err(bad(1, why));
            }
            fields.iter().map(|n| n.trim().to_string()).collect()
        } else {
            if s.ignore_first_line {
                pos = next_line(text, 0).1;
            }
            let pieces = s.variable_names.split(',').filter(|n| !n.is_empty());
            pieces.map(|n| n.trim().to_string()).collect()
        };

        let mut rows: Vec<Row> = Vec::new();
        if s.quoted_data {
            while pos < text.len() {
                let (fields, next) =
                    read_quoted_record(text, pos, delim_char).map_err(|(at, why)| {
                        bad(
                            line_at(text.as_bytes(), at),
                            &format!("valid quoted CSV: {why}"),
                        )
                    })?;
                rows.push(Some(fields.into_boxed_slice()));
                pos = next;
            }
        } else {
            while pos < text.len() {
                let (line, next) = next_line(text, pos);
                if line.is_empty() {
                    tracing::warn!(
                        "CSV Data Set \"{}\": {shown}:{} is blank; like JMeter, the iteration \
                         that reads it gets <EOF> values (or stops the thread with stopThread)",
                        s.element,
                        line_at(text.as_bytes(), pos)
                    );
                    rows.push(None);
                } else {
                    rows.push(Some(line.split(delim).map(str::to_string).collect()));
                }
                pos = next;
            }
        }
        tracing::debug!(
            "CSV Data Set \"{}\": {} rows from {shown}",
            s.element,
            rows.len()
        );
        Ok(CsvDataSet {
            name: s.element.to_string(),
            source: shown.to_string(),
            alias: s.filename.trim().to_string(),
            names,
            recycle: s.recycle,
            stop_thread: s.stop_thread,
            share: ShareMode::parse(s.share_mode),
            rows: rows.into(),
        })
    }

    /// The number of data rows (header and ignored first line excluded; blank unquoted lines
    /// included).
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Reads the next row for a user at the start of an iteration and writes its variables into
    /// `vars`, JMeter's way (recycle → wrap around to the first data row; !recycle && stopThread
    /// → StopThread; !recycle && !stopThread → every variable = `"<EOF>"`).
    pub fn next_into(&self, cursor: &CsvCursor, vars: &mut HashMap<String, String>) -> CsvNext {
        let index = cursor.next.fetch_add(1, Ordering::Relaxed);
        let len = self.rows.len() as u64;
        let row = if index < len {
            self.rows.get(index as usize)
        } else if self.recycle && len > 0 {
            self.rows.get((index % len) as usize)
        } else {
            None
        };
        match row {
            Some(Some(values)) => {
                for (name, value) in self.names.iter().zip(values.iter()) {
                    set_var(vars, name, value);
                }
                CsvNext::Assigned
            }
            _ if self.stop_thread => CsvNext::StopThread,
            _ => {
                for name in &self.names {
                    set_var(vars, name, EOF_VALUE);
                }
                CsvNext::Eof
            }
        }
    }
}

/// Sets `name` to `value`, reusing the existing allocation when the variable exists.
fn set_var(vars: &mut HashMap<String, String>, name: &str, value: &str) {
    match vars.get_mut(name) {
        Some(old) => {
            old.clear();
            old.push_str(value);
        }
        None => {
            vars.insert(name.to_string(), value.to_string());
        }
    }
}

/// Refuses any `fileEncoding` but UTF-8 (Java's names `UTF-8` / `UTF8`, any case) or empty.
fn check_encoding(s: &CsvSettings<'_>) -> Result<(), RunnerError> {
    let enc = s.file_encoding.trim();
    if enc.is_empty() || enc.eq_ignore_ascii_case("UTF-8") || enc.eq_ignore_ascii_case("UTF8") {
        return Ok(());
    }
    Err(RunnerError::setting(
        s.element,
        "fileEncoding",
        s.file_encoding,
        "the native runner reads CSV files as UTF-8 only (set UTF-8 or leave it empty, and \
         convert the file to UTF-8)",
    ))
}

/// The physical line starting at byte `pos` and the position after its terminator (LF, CRLF or
/// a lone CR, as Java's `BufferedReader.readLine`).
fn next_line(text: &str, pos: usize) -> (&str, usize) {
    let rest = &text[pos..];
    match rest.find(['\n', '\r']) {
        None => (rest, text.len()),
        Some(i) => {
            let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
            (&rest[..i], pos + i + skip)
        }
    }
}

/// The 1-based line number of byte `at` (LF, CRLF and a lone CR each end a line).
fn line_at(bytes: &[u8], at: usize) -> usize {
    let head = &bytes[..at.min(bytes.len())];
    let mut line = 1;
    for (i, b) in head.iter().enumerate() {
        if *b == b'\n' || (*b == b'\r' && head.get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
    }
    line
}

/// The states of `CSVSaveService.csvReadFile`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    /// At the start of a field.
    Initial,
    /// Inside an unquoted field.
    Plain,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: either `""` or the closing quote.
    EmbeddedQuote,
}

/// Reads one record from byte `pos` the way `CSVSaveService.csvReadFile` does. It returns the
/// fields and the position after the record, or the byte position and reason of a parse error.
/// A blank line gives one empty field; a record always consumes at least one character.
fn read_quoted_record(
    text: &str,
    pos: usize,
    delim: char,
) -> Result<(Vec<String>, usize), (usize, &'static str)> {
    let mut state = QuoteState::Initial;
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quote_start = pos;
    let mut pushed = false;
    for (off, ch) in text[pos..].char_indices() {
        let at = pos + off;
        let ends_field = ch == delim || ch == '\n' || ch == '\r';
        pushed = false;
        match state {
            QuoteState::Initial if ch == '"' => {
                state = QuoteState::Quoted;
                quote_start = at;
            }
            QuoteState::Initial | QuoteState::Plain if ends_field => {
                pushed = true;
                state = QuoteState::Initial;
            }
            QuoteState::Initial => {
                field.push(ch);
                state = QuoteState::Plain;
            }
            QuoteState::Plain if ch == '"' => {
                return Err((at, "a quote inside an unquoted field"));
            }
            QuoteState::Plain => field.push(ch),
            QuoteState::Quoted if ch == '"' => state = QuoteState::EmbeddedQuote,
            QuoteState::Quoted => field.push(ch),
            QuoteState::EmbeddedQuote if ch == '"' => {
                field.push('"');
                state = QuoteState::Quoted;
            }
            QuoteState::EmbeddedQuote if ends_field => {
                pushed = true;
                state = QuoteState::Initial;
            }
            QuoteState::EmbeddedQuote => {
                return Err((
                    at,
                    "text after the closing quote of a quoted field (a quote inside quotes is \
                     written \"\")",
                ));
            }
        }
        if pushed {
            fields.push(std::mem::take(&mut field));
        }
        if (ch == '\n' || ch == '\r') && state != QuoteState::Quoted {
            let mut next = at + 1;
            if ch == '\r' && text[next..].starts_with('\n') {
                next += 1;
            }
            return Ok((fields, next));
        }
    }
    if state == QuoteState::Quoted {
        return Err((quote_start, "a quoted field with no closing quote"));
    }
    if !field.is_empty() || pushed || state == QuoteState::EmbeddedQuote {
        fields.push(field);
    }
    Ok((fields, text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/csv")
    }

    fn settings(file: &str) -> CsvSettings<'_> {
        CsvSettings {
            element: "Users",
            filename: file,
            file_encoding: "UTF-8",
            variable_names: "",
            ignore_first_line: false,
            delimiter: ",",
            quoted_data: false,
            recycle: true,
            stop_thread: false,
            share_mode: "shareMode.all",
        }
    }

    fn load(s: &CsvSettings<'_>) -> CsvDataSet {
        CsvDataSet::load(s, &dir()).unwrap()
    }

    fn load_err(s: &CsvSettings<'_>) -> String {
        CsvDataSet::load(s, &dir()).unwrap_err().to_string()
    }

    /// `n` iterations through one cursor: the outcome (A, E or S) and the listed variables
    /// (`-` when unset), e.g. `"A alice|a1"`.
    fn take(s: &CsvSettings<'_>, n: usize, names: &str) -> Vec<String> {
        let ds = load(s);
        let cursor = CsvCursor::default();
        let mut vars = HashMap::new();
        (0..n)
            .map(|_| {
                let k = match ds.next_into(&cursor, &mut vars) {
                    CsvNext::Assigned => "A",
                    CsvNext::Eof => "E",
                    CsvNext::StopThread => "S",
                };
                let v: Vec<&str> = names
                    .split(',')
                    .map(|n| vars.get(n).map_or("-", |v| v))
                    .collect();
                format!("{k} {}", v.join("|"))
            })
            .collect()
    }

    #[test]
    fn header_names_the_variables_and_recycle_wraps_to_the_first_data_row() {
        // users.csv: "user,pass" then alice/a1, bob/b2 (LF endings).
        let s = settings("users.csv");
        assert_eq!(load(&s).names, ["user", "pass"]);
        assert_eq!(load(&s).row_count(), 2);
        let got = take(&s, 4, "user,pass");
        assert_eq!(got, ["A alice|a1", "A bob|b2", "A alice|a1", "A bob|b2"]);
        // An empty delimiter means a comma.
        let s = CsvSettings { delimiter: "", ..s };
        assert_eq!(load(&s).names, ["user", "pass"]);
    }

    #[test]
    fn end_of_file_without_recycle_sets_eof_or_stops_the_thread() {
        let mut s = settings("users.csv");
        s.recycle = false;
        let got = take(&s, 4, "user,pass");
        assert_eq!(
            got,
            ["A alice|a1", "A bob|b2", "E <EOF>|<EOF>", "E <EOF>|<EOF>"]
        );
        // stopThread: JMeter throws before setting <EOF>, so the variables keep their values.
        s.stop_thread = true;
        assert_eq!(take(&s, 3, "user"), ["A alice", "A bob", "S bob"]);
        // With recycle, stopThread never triggers at the end of the file.
        s.recycle = true;
        assert_eq!(take(&s, 3, "user"), ["A alice", "A bob", "A alice"]);
    }

    #[test]
    fn variable_names_and_ignore_first_line() {
        let mut s = settings("users.csv");
        // JOrphanUtils.split(names, ",", true) drops empty pieces; names are trimmed.
        s.variable_names = ",u ,, p,";
        assert_eq!(load(&s).names, ["u", "p"]);
        assert_eq!(
            take(&s, 1, "u,p"),
            ["A user|pass"],
            "line 1 is data when names are given"
        );
        s.ignore_first_line = true;
        assert_eq!(take(&s, 3, "u"), ["A alice", "A bob", "A alice"]);
    }

    #[test]
    fn fewer_columns_keep_old_values_and_extra_columns_are_ignored() {
        // ragged.csv: "1,2,3" / "4" / "5,6,7,8". CSVDataSet.iterationStart:
        // `for (a = 0; a < vars.length && a < lineValues.length; a++)`.
        let mut s = settings("ragged.csv");
        s.variable_names = "a,b,c";
        assert_eq!(take(&s, 3, "a,b,c"), ["A 1|2|3", "A 4|2|3", "A 5|6|7"]);
        s.variable_names = "a,b,c,d";
        assert_eq!(take(&s, 1, "a,d"), ["A 1|-"]);
    }

    #[test]
    fn unquoted_data_splits_on_the_whole_delimiter_and_keeps_quotes() {
        // multi.csv: `x::"y"::` and `a:b::c`.
        let mut s = settings("multi.csv");
        s.variable_names = "p,q,r";
        s.delimiter = "::";
        assert_eq!(take(&s, 2, "p,q,r"), ["A x|\"y\"|", "A a:b|c|"]);
    }

    #[test]
    fn tab_delimiter_is_written_as_backslash_t() {
        // tabs.tsv: "id<TAB>label" / "7<TAB>a b,c".
        let mut s = settings("tabs.tsv");
        s.delimiter = "\\t";
        assert_eq!(load(&s).names, ["id", "label"]);
        assert_eq!(take(&s, 1, "id,label"), ["A 7|a b,c"]);
    }

    #[test]
    fn quoted_data_handles_delimiters_doubled_quotes_and_newlines_in_quotes() {
        // quoted.csv (CRLF endings): header `"name";"note"`, then `"a;b";"say ""hi"""`,
        // a quoted field spanning two lines with an empty second field, and `plain;x`.
        let mut s = settings("quoted.csv");
        s.delimiter = ";";
        s.quoted_data = true;
        assert_eq!(load(&s).names, ["name", "note"]);
        let got = take(&s, 4, "name,note");
        let want = [
            "A a;b|say \"hi\"",
            "A multi\r\nline|",
            "A plain|x",
            "A a;b|say \"hi\"",
        ];
        assert_eq!(got, want);
        // Without quotedData the header is still split quote-aware (CSVDataSet.initVars uses
        // CSVSaveService.csvSplitString), but data lines are split on `;` with quotes kept.
        s.quoted_data = false;
        assert_eq!(load(&s).names, ["name", "note"]);
        assert_eq!(take(&s, 1, "name"), ["A \"a"]);
    }

    #[test]
    fn blank_lines_follow_jmeter_in_both_modes() {
        // blank.csv: "v" header, then "1", "", "2".
        // quotedData=false: JOrphanUtils.split("") is empty, handled like EOF for that iteration,
        // and with stopThread it stops the thread even though recycle is on.
        let mut s = settings("blank.csv");
        assert_eq!(take(&s, 4, "v"), ["A 1", "E <EOF>", "A 2", "A 1"]);
        s.stop_thread = true;
        assert_eq!(take(&s, 2, "v"), ["A 1", "S 1"]);
        // quotedData=true: csvReadFile returns one empty string for a blank line.
        s.quoted_data = true;
        assert_eq!(take(&s, 3, "v"), ["A 1", "A ", "A 2"]);
    }

    #[test]
    fn a_utf8_bom_is_dropped_and_utf8_values_are_kept() {
        // bom.csv: EF BB BF, then "città,prix" / "Zürich,5€", each ended by a lone CR.
        let mut s = settings("bom.csv");
        for enc in ["UTF-8", "", "utf8"] {
            s.file_encoding = enc;
            assert_eq!(load(&s).names, ["città", "prix"]);
            assert_eq!(take(&s, 1, "città,prix"), ["A Zürich|5€"]);
        }
    }

    #[test]
    fn other_encodings_are_refused() {
        let mut s = settings("users.csv");
        s.file_encoding = "ISO-8859-1";
        let err = CsvDataSet::load(&s, &dir()).unwrap_err();
        assert!(
            matches!(err, RunnerError::UnsupportedSetting { ref property, .. } if property == "fileEncoding")
        );
        assert!(err.to_string().contains("ISO-8859-1"), "{err}");
    }

    #[test]
    fn a_missing_file_names_the_element_and_the_resolved_path() {
        let err = load_err(&settings("nope.csv"));
        let path = dir().join("nope.csv").display().to_string();
        assert!(err.contains("\"Users\"") && err.contains(&path), "{err}");
        // An absolute file name is used as is.
        let abs = dir().join("users.csv");
        let ds = CsvDataSet::load(&settings(abs.to_str().unwrap()), Path::new("/nonexistent"));
        assert_eq!(ds.unwrap().source, abs.display().to_string());
        assert!(load_err(&settings("  ")).contains("a file name"));
    }

    #[test]
    fn malformed_files_report_the_path_and_line() {
        let err_at = |s: &CsvSettings<'_>, line: u32| {
            let err = load_err(s);
            let at = format!("{}:{line}", dir().join(s.filename).display());
            assert!(err.contains(&at), "{err}");
            err
        };
        let mut s = settings("bad_quote.csv");
        s.quoted_data = true;
        // Line 3 is `x,ab"c`: "Cannot have quote-char in plain field".
        err_at(&s, 3);
        // Line 2 opens a quote that never closes.
        s.filename = "unclosed.csv";
        err_at(&s, 2);
        // Invalid UTF-8 on line 2 (a Latin-1 é).
        assert!(err_at(&settings("latin1.csv"), 2).contains("UTF-8"));
        // An empty file cannot provide the header.
        assert!(err_at(&settings("empty.csv"), 1).contains("empty"));
    }

    #[test]
    fn an_empty_file_with_names_is_at_eof_immediately() {
        let mut s = settings("empty.csv");
        s.variable_names = "a";
        assert_eq!(take(&s, 2, "a"), ["E <EOF>", "E <EOF>"]);
        s.stop_thread = true;
        assert_eq!(take(&s, 1, "a"), ["S -"]);
    }

    #[test]
    fn share_modes_parse_keys_and_old_display_names() {
        use ShareMode::*;
        let raw = [
            "shareMode.all",
            "All threads",
            "shareMode.group",
            "Current thread group",
        ];
        assert_eq!(raw.map(ShareMode::parse), [All, All, Group, Group]);
        let raw = ["shareMode.thread", "Current thread", "pool-1"];
        assert_eq!(
            raw.map(ShareMode::parse),
            [Thread, Thread, Named("pool-1".into())]
        );
    }

    #[test]
    fn cursors_share_positions_between_clones_only() {
        let ds = load(&settings("users.csv"));
        let (shared, own) = (CsvCursor::default(), CsvCursor::default());
        let read = |c: &CsvCursor| {
            let mut vars = HashMap::new();
            ds.next_into(c, &mut vars);
            vars["user"].clone()
        };
        assert_eq!(read(&shared), "alice");
        assert_eq!(read(&shared.clone()), "bob");
        assert_eq!(read(&own), "alice");
    }

    #[test]
    fn concurrent_readers_take_every_row_exactly_once_per_pass() {
        // 8 threads × 250 reads over a 2-row recycled file: 1000 of each row.
        let ds = load(&settings("users.csv"));
        let cursor = CsvCursor::default();
        let alices: usize = std::thread::scope(|scope| {
            let readers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        let mut vars = HashMap::new();
                        (0..250)
                            .filter(|_| {
                                ds.next_into(&cursor, &mut vars);
                                vars["user"] == "alice"
                            })
                            .count()
                    })
                })
                .collect();
            readers.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(alices, 1000);
    }

    #[test]
    fn quoted_records_follow_csv_read_file() {
        let rec = |t: &str| read_quoted_record(t, 0, ',').map(|(f, end)| (f.join("|"), end));
        assert_eq!(rec("a,b"), Ok(("a|b".into(), 3)));
        assert_eq!(rec("a,\n"), Ok(("a|".into(), 3)));
        assert_eq!(rec("\"\""), Ok((String::new(), 2)));
        assert_eq!(
            (rec("a\r\nb"), rec("a\rb")),
            (Ok(("a".into(), 3)), Ok(("a".into(), 2)))
        );
        assert!(rec("\"a\"b").is_err() && rec("a\"").is_err());
        assert_eq!(line_at(b"a\r\nb\rc\nd", 8), 4);
    }
}
