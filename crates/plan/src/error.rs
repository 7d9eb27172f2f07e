//! Why a JMX file could not be read as a test plan, with where in the file and what to do next.

use std::fmt;

/// A place in the input: byte offset (0-based) plus line and column (1-based, column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Byte offset from the start of the input (a UTF-8 byte-order mark counts).
    pub offset: u64,
    /// Line number, starting at 1.
    pub line: u64,
    /// Column in characters, starting at 1.
    pub column: u64,
}

impl Position {
    /// The position of byte `offset` in `bytes` (clamped to the end of the input).
    pub fn of(bytes: &[u8], offset: usize) -> Position {
        let offset = offset.min(bytes.len());
        let before = &bytes[..offset];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let newlines = before.iter().filter(|&&b| b == b'\n').count();
        let tail = &before[line_start..];
        let column = match std::str::from_utf8(tail) {
            Ok(s) => s.chars().count(),
            Err(_) => tail.len(),
        };
        Position {
            offset: offset as u64,
            line: newlines as u64 + 1,
            column: column as u64 + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A JMX input that could not be turned into a [`crate::Plan`].
///
/// `origin` is the file path (from [`crate::Plan::from_path`]) or a generic name for readers.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file could not be opened or read.
    #[error("{origin}: cannot read the test plan: {source}")]
    Io {
        /// File path or input name.
        origin: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The input holds nothing but whitespace.
    #[error(
        "{origin}: the file is empty; a JMeter test plan (.jmx) is an XML document whose root is <jmeterTestPlan>"
    )]
    Empty {
        /// File path or input name.
        origin: String,
    },
    /// The input is bigger than any plausible test plan.
    #[error(
        "{origin}: larger than {limit} bytes; that is not a JMeter test plan, check the file name"
    )]
    TooLarge {
        /// File path or input name.
        origin: String,
        /// The size limit in bytes.
        limit: u64,
    },
    /// The bytes are not UTF-8 (JMeter always saves plans as UTF-8).
    #[error(
        "{origin}:{at}: not UTF-8 text (byte {offset}); JMeter saves plans as UTF-8, re-save or convert the file",
        offset = .at.offset
    )]
    NotUtf8 {
        /// File path or input name.
        origin: String,
        /// First byte that is not valid UTF-8.
        at: Position,
    },
    /// The input is not XML at all.
    #[error(
        "{origin}: not XML ({reason}); a JMeter test plan (.jmx) starts with <?xml or <jmeterTestPlan>"
    )]
    NotXml {
        /// File path or input name.
        origin: String,
        /// What was found instead.
        reason: String,
    },
    /// Well-formed start, but the root element is not `<jmeterTestPlan>`.
    #[error(
        "{origin}:{at}: the root element is <{root}>, not <jmeterTestPlan>: not a JMeter test plan{hint}",
        hint = not_jmx_hint(.root)
    )]
    NotJmx {
        /// File path or input name.
        origin: String,
        /// The root element's name.
        root: String,
        /// Where the root element starts.
        at: Position,
    },
    /// A `<!DOCTYPE>` was found; it is refused because DTDs can define entities (XML bombs,
    /// external entities) and JMeter never writes one.
    #[error(
        "{origin}:{at}: <!DOCTYPE> is refused: it can define entities (XML bombs, external files) and JMeter never writes one; delete it if you trust the file"
    )]
    Doctype {
        /// File path or input name.
        origin: String,
        /// Where the declaration starts.
        at: Position,
    },
    /// XML syntax error, a truncated file, or a structure JMeter could not load either.
    #[error("{origin}:{at}: malformed test plan: {reason}")]
    Malformed {
        /// File path or input name.
        origin: String,
        /// Where the problem was detected.
        at: Position,
        /// What is wrong and, where possible, how to fix it.
        reason: String,
    },
    /// Elements nested deeper than the parser accepts (protects the stack from crafted input).
    #[error(
        "{origin}:{at}: elements are nested more than {limit} levels deep; no JMeter plan needs that, the file is probably crafted or broken"
    )]
    TooDeep {
        /// File path or input name.
        origin: String,
        /// Where the limit was crossed.
        at: Position,
        /// The nesting limit.
        limit: usize,
    },
}

impl PlanError {
    /// Where in the input the problem is, when the error is about a place in it.
    pub fn position(&self) -> Option<Position> {
        match self {
            PlanError::NotUtf8 { at, .. }
            | PlanError::NotJmx { at, .. }
            | PlanError::Doctype { at, .. }
            | PlanError::Malformed { at, .. }
            | PlanError::TooDeep { at, .. } => Some(*at),
            PlanError::Io { .. }
            | PlanError::Empty { .. }
            | PlanError::TooLarge { .. }
            | PlanError::NotXml { .. } => None,
        }
    }
}

fn not_jmx_hint(root: &str) -> &'static str {
    match root {
        "testResults" => " (it is a JTL result file: import it as results, not as a plan)",
        "hashTree" => " (the <jmeterTestPlan> wrapper is missing)",
        _ => "",
    }
}
