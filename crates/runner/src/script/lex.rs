//! The tokenizer of the script subset: identifiers, numbers, single- and double-quoted strings
//! (Java / JavaScript escapes; Groovy's `"…${expr}…"` interpolation is kept as raw text for
//! [`super::parse`]), operators and punctuation, each with its line. Comments (`//`, `/* */`)
//! are skipped; a newline is remembered on the next token, since Groovy and JavaScript end a
//! statement at a line end.

use super::ScriptError;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An identifier or keyword.
    Ident(String),
    /// A whole number literal (`42`, `42L`).
    Int(i64),
    /// A decimal literal (`1.5`, `2d`).
    Num(f64),
    /// A single-quoted string, or a double-quoted one (`interpolate`: may hold Groovy `${…}`).
    Str { text: String, interpolate: bool },
    /// An operator or punctuation mark.
    Op(&'static str),
    /// The end of the script.
    End,
}

/// A token, its line (1-based) and whether a line break came before it.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub line: u32,
    pub newline_before: bool,
}

/// Operators, longest first.
const OPS: [&str; 46] = [
    ">>>=", "===", "!==", "<<=", ">>=", "?.", "?:", "==", "!=", "<=", ">=", "&&", "||", "++", "--",
    "+=", "-=", "*=", "/=", "%=", "->", "<<", ">>", "::", "=~", "**", "+", "-", "*", "/", "%", "=",
    "<", ">", "!", "?", ":", ".", ",", ";", "(", ")", "{", "}", "[", "]",
];

/// Characters that are tokens of their own but not in the subset (bit operators, `@`, `` ` ``,
/// `#`, `~`, `^`, single `&` / `|`).
const REFUSED: &str = "&|^~@`#\\";

/// Splits `src` into tokens.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ScriptError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut newline) = (0usize, 1u32, false);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            newline = true;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    line += 1;
                    newline = true;
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        let start_line = line;
        let tok = if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            Tok::Ident(chars[start..i].iter().collect())
        } else if c.is_ascii_digit() {
            number(&chars, &mut i, line)?
        } else if c == '"' || c == '\'' {
            if c == '"' && chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"') {
                return Err(ScriptError::new(line, "'\"\"\"' (a multi-line string)"));
            }
            let (text, lines) = string(&chars, &mut i, c, line)?;
            line += lines;
            Tok::Str {
                text,
                interpolate: c == '"',
            }
        } else if let Some(op) = OPS.iter().find(|op| {
            op.chars()
                .enumerate()
                .all(|(k, oc)| chars.get(i + k) == Some(&oc))
        }) {
            i += op.chars().count();
            Tok::Op(op)
        } else if REFUSED.contains(c) {
            return Err(ScriptError::new(line, &format!("'{c}'")));
        } else {
            return Err(ScriptError::syntax(
                line,
                &format!("unexpected character '{c}'"),
            ));
        };
        out.push(Token {
            tok,
            line: start_line,
            newline_before: std::mem::take(&mut newline),
        });
    }
    out.push(Token {
        tok: Tok::End,
        line,
        newline_before: true,
    });
    Ok(out)
}

fn number(chars: &[char], i: &mut usize, line: u32) -> Result<Tok, ScriptError> {
    let start = *i;
    if chars[*i] == '0' && matches!(chars.get(*i + 1), Some('x' | 'X')) {
        *i += 2;
        let s = *i;
        while *i < chars.len() && chars[*i].is_ascii_hexdigit() {
            *i += 1;
        }
        let text: String = chars[s..*i].iter().collect();
        skip_suffix(chars, i);
        return i64::from_str_radix(&text, 16)
            .map(Tok::Int)
            .map_err(|_| ScriptError::syntax(line, &format!("bad number 0x{text}")));
    }
    while *i < chars.len() && chars[*i].is_ascii_digit() {
        *i += 1;
    }
    let mut decimal = false;
    if chars.get(*i) == Some(&'.') && chars.get(*i + 1).is_some_and(|c| c.is_ascii_digit()) {
        decimal = true;
        *i += 1;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
    }
    if matches!(chars.get(*i), Some('e' | 'E')) {
        decimal = true;
        *i += 1;
        if matches!(chars.get(*i), Some('+' | '-')) {
            *i += 1;
        }
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
    }
    let text: String = chars[start..*i].iter().collect();
    if matches!(chars.get(*i), Some('d' | 'D' | 'f' | 'F')) {
        decimal = true;
    }
    skip_suffix(chars, i);
    let bad = || ScriptError::syntax(line, &format!("bad number {text}"));
    if decimal {
        text.parse().map(Tok::Num).map_err(|_| bad())
    } else {
        text.parse().map(Tok::Int).map_err(|_| bad())
    }
}

/// Java's and Groovy's number suffixes (`L`, `d`, `f`, `G`).
fn skip_suffix(chars: &[char], i: &mut usize) {
    if matches!(
        chars.get(*i),
        Some('l' | 'L' | 'd' | 'D' | 'f' | 'F' | 'g' | 'G')
    ) {
        *i += 1;
    }
}

/// A quoted string from `chars[*i]` (the quote); its text and the line breaks inside.
fn string(
    chars: &[char],
    i: &mut usize,
    quote: char,
    line: u32,
) -> Result<(String, u32), ScriptError> {
    let mut out = String::new();
    let mut lines = 0;
    *i += 1;
    loop {
        let Some(&c) = chars.get(*i) else {
            return Err(ScriptError::syntax(line, "a string is not closed"));
        };
        *i += 1;
        match c {
            c if c == quote => return Ok((out, lines)),
            '\n' => {
                lines += 1;
                out.push(c);
            }
            '\\' => {
                let Some(&e) = chars.get(*i) else {
                    return Err(ScriptError::syntax(line, "a string is not closed"));
                };
                *i += 1;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    '0' => out.push('\0'),
                    // Kept escaped for the interpolation pass, which removes the backslash.
                    '$' if quote == '"' => out.push_str("\\$"),
                    'u' => {
                        let hex: String =
                            chars.get(*i..*i + 4).unwrap_or_default().iter().collect();
                        let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                        let Some(ch) = ch else {
                            return Err(ScriptError::syntax(line, "bad \\u escape"));
                        };
                        *i += 4;
                        out.push(ch);
                    }
                    other => out.push(other),
                }
            }
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens_lines_and_newlines() {
        assert_eq!(
            toks("x += 0x1F; y = 1.5e1 // c\n'a\\'b'"),
            [
                Tok::Ident("x".into()),
                Tok::Op("+="),
                Tok::Int(31),
                Tok::Op(";"),
                Tok::Ident("y".into()),
                Tok::Op("="),
                Tok::Num(15.0),
                Tok::Str {
                    text: "a'b".into(),
                    interpolate: false
                },
                Tok::End
            ]
        );
        let t = tokenize("a\n/* x\n */ b === 10L").unwrap();
        assert_eq!((t[1].line, t[1].newline_before), (3, true));
        assert_eq!(t[2].tok, Tok::Op("==="));
        assert_eq!(t[3].tok, Tok::Int(10));
    }

    #[test]
    fn refusals_and_errors_name_the_line() {
        let e = tokenize("a = 1\nb = a & 2").unwrap_err();
        assert_eq!(e.to_string(), "script line 2: '&' is not supported");
        let e = tokenize("x = \"abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "script line 1: syntax error: a string is not closed"
        );
    }
}
