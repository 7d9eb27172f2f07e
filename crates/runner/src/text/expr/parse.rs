//! The tokenizer and parser of the expression grammar described in [`crate::text::expr`]: text in,
//! a [`Node`] tree out (literal regular expressions compiled once here), or an error naming the
//! column and what was expected there.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::expr::value::{Value, format_number, whole_regex};

/// One token: a number, a quoted string, a name, or punctuation / an operator.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(String),
    End,
}

/// Whitespace, a number, a name or an operator (longest first), at the start of the text.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\s+|(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([\p{L}_$][\p{L}\p{N}_$]*)|(===|!==|[=!<>]=|&&|\|\||[=!][~^$]|[-()+,.?:!*/%<>;]))",
    )
    .expect("the token pattern is valid")
});

/// Splits `src` into tokens, each with its 1-based column.
fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let (mut out, mut rest, mut col) = (Vec::new(), src, 1);
    while !rest.is_empty() {
        let (tok, len) = if rest.starts_with(['"', '\'']) {
            string(rest).ok_or_else(|| format!("column {col}: the string is not closed"))?
        } else if let Some(m) = TOKEN.captures(rest) {
            let text = |i: usize| m.get(i).map(|g| g.as_str().to_string());
            let tok = match (text(1), text(2), text(3)) {
                (Some(n), ..) => Some(Tok::Num(
                    n.parse()
                        .map_err(|_| format!("column {col}: bad number {n}"))?,
                )),
                (_, Some(id), _) => Some(Tok::Ident(id)),
                (.., Some(op)) => Some(Tok::Op(op)),
                _ => None,
            };
            (tok, m.get(0).map_or(1, |g| g.len()))
        } else if rest.starts_with('=') {
            return Err(format!(
                "column {col}: assignment is not supported; use == to compare"
            ));
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            return Err(format!("column {col}: unexpected character '{c}'"));
        };
        out.extend(tok.map(|t| (t, col)));
        col += rest[..len].chars().count();
        rest = &rest[len..];
    }
    out.push((Tok::End, col));
    Ok(out)
}

/// The quoted string at the start of `s` and its length in bytes; `None` when not closed.
/// `\n`, `\t`, `\r`, `\"`, `\'` and `\\` are escapes; other backslashes stay (as in JEXL), so
/// `"\d+"` is a usable regex.
fn string(s: &str) -> Option<(Option<Tok>, usize)> {
    let mut chars = s.char_indices();
    let (_, quote) = chars.next()?;
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                e @ ('"' | '\'' | '\\') => out.push(e),
                e => out.extend(['\\', e]),
            },
            c if c == quote => return Some((Some(Tok::Str(out)), at + 1)),
            c => out.push(c),
        }
    }
    None
}

/// Binary operators (JEXL word forms included) and their precedence: higher binds tighter.
#[rustfmt::skip]
const BINARY: &[(&str, u8)] = &[
    ("||", 1), ("or", 1), ("&&", 2), ("and", 2),
    ("==", 3), ("eq", 3), ("!=", 3), ("ne", 3), ("===", 3), ("!==", 3),
    ("=~", 3), ("!~", 3), ("=^", 3), ("!^", 3), ("=$", 3), ("!$", 3),
    ("<", 4), ("lt", 4), ("<=", 4), ("le", 4), (">", 4), ("gt", 4), (">=", 4), ("ge", 4),
    ("+", 5), ("-", 5), ("*", 6), ("/", 6), ("div", 6), ("%", 6), ("mod", 6),
];

/// Global functions with their least and most argument counts.
#[rustfmt::skip]
const FUNCS: &[(&str, usize, usize)] = &[
    ("vars.get", 1, 1), ("props.get", 1, 1), ("props.getProperty", 1, 2), ("parseInt", 1, 2),
    ("parseFloat", 1, 1), ("Number", 1, 1), ("String", 1, 1), ("Boolean", 1, 1), ("empty", 1, 1),
    ("size", 1, 1), ("Math.abs", 1, 1), ("Math.floor", 1, 1), ("Math.ceil", 1, 1),
    ("Math.round", 1, 1), ("Math.sqrt", 1, 1), ("Math.pow", 2, 2), ("Math.min", 1, usize::MAX),
    ("Math.max", 1, usize::MAX), ("Math.random", 0, 0),
];

/// String methods with their argument counts.
#[rustfmt::skip]
const METHODS: &[(&str, usize)] = &[
    ("length", 0), ("size", 0), ("equals", 1), ("equalsIgnoreCase", 1), ("contains", 1),
    ("includes", 1), ("startsWith", 1), ("endsWith", 1), ("indexOf", 1), ("toLowerCase", 0),
    ("toUpperCase", 0), ("trim", 0), ("matches", 1), ("isEmpty", 0), ("toString", 0),
];

/// A parsed expression tree, evaluated by [`crate::text::expr`].
#[derive(Debug)]
pub(crate) enum Node {
    /// A literal value.
    Lit(Value),
    /// `!` (also `not`), `-` or `+`.
    Unary(&'static str, Box<Node>),
    /// `cond ? yes : no`.
    Cond(Box<[Node; 3]>),
    /// An operator of [`BINARY`]; the regex of a literal `=~` / `!~` pattern.
    Bin(&'static str, Box<[Node; 2]>, Option<Regex>),
    /// A global function of [`FUNCS`] and its arguments.
    Func(&'static str, Vec<Node>),
    /// Method, receiver, arguments, the regex of a literal `.matches` pattern.
    Method(&'static str, Box<Node>, Vec<Node>, Option<Regex>),
}

/// The regex of a literal pattern, compiled once at parse time.
fn literal_regex(node: Option<&Node>, col: usize) -> Result<Option<Regex>, String> {
    match node {
        Some(Node::Lit(Value::Str(p))) => whole_regex(p)
            .map(Some)
            .map_err(|e| format!("column {col}: {e}")),
        _ => Ok(None),
    }
}

/// Nesting deeper than this is refused (no stack overflow on hostile input).
const MAX_DEPTH: usize = 200;

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::End, |t| &t.0)
    }

    fn col(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.1)
    }

    fn bump(&mut self) -> Tok {
        let tok = self.peek().clone();
        self.pos += 1;
        tok
    }

    fn eat(&mut self, op: &str) -> bool {
        let hit = matches!(self.peek(), Tok::Op(o) if o == op);
        self.pos += usize::from(hit);
        hit
    }

    fn fail<T>(&self, expected: &str) -> Result<T, String> {
        let found = match self.peek() {
            Tok::Num(n) => format!("number {}", format_number(*n)),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Ident(s) => format!("name {s}"),
            Tok::Op(o) => format!("'{o}'"),
            Tok::End => "the end of the expression".to_string(),
        };
        Err(format!(
            "column {}: expected {expected}, found {found}",
            self.col()
        ))
    }

    fn expect(&mut self, op: &str, expected: &str) -> Result<(), String> {
        if self.eat(op) {
            Ok(())
        } else {
            self.fail(expected)
        }
    }

    /// Counts one more level of nesting, refusing too many.
    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "column {}: expression nested too deeply",
                self.col()
            ));
        }
        Ok(())
    }

    fn ternary(&mut self) -> Result<Node, String> {
        self.nest()?;
        let cond = self.binary(1)?;
        let node = if self.eat("?") {
            let yes = self.ternary()?;
            self.expect(":", "':' of the ?: operator")?;
            let no = self.ternary()?;
            Node::Cond(Box::new([cond, yes, no]))
        } else {
            cond
        };
        self.depth -= 1;
        Ok(node)
    }

    fn binary(&mut self, min: u8) -> Result<Node, String> {
        let mut lhs = self.unary()?;
        while let Tok::Op(t) | Tok::Ident(t) = self.peek() {
            let Some(&(op, prec)) = BINARY.iter().find(|b| b.0 == t) else {
                break;
            };
            if prec < min {
                break;
            }
            self.bump();
            let col = self.col();
            let rhs = self.binary(prec + 1)?;
            let re = if op.ends_with('~') {
                literal_regex(Some(&rhs), col)?
            } else {
                None
            };
            lhs = Node::Bin(op, Box::new([lhs, rhs]), re);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, String> {
        self.nest()?;
        let op = match self.peek() {
            Tok::Op(t) | Tok::Ident(t) => ["!", "-", "+", "not"].into_iter().find(|u| u == t),
            _ => None,
        };
        let node = match op {
            Some(op) => {
                self.bump();
                Node::Unary(if op == "not" { "!" } else { op }, Box::new(self.unary()?))
            }
            None => self.postfix()?,
        };
        self.depth -= 1;
        Ok(node)
    }

    fn postfix(&mut self) -> Result<Node, String> {
        let mut node = self.primary()?;
        while self.eat(".") {
            let col = self.col();
            let Tok::Ident(name) = self.peek() else {
                return self.fail("a method name after '.'");
            };
            let Some(&(method, arity)) = METHODS.iter().find(|m| m.0 == name) else {
                return Err(format!("column {col}: unsupported method .{name}"));
            };
            self.bump();
            let args = match self.peek() {
                Tok::Op(o) if o == "(" => self.args()?,
                _ if method == "length" => Vec::new(),
                _ => return self.fail(&format!("'(' after .{method}")),
            };
            if args.len() != arity {
                return Err(format!("column {col}: .{method} takes {arity} argument(s)"));
            }
            let re = if method == "matches" {
                literal_regex(args.first(), col)?
            } else {
                None
            };
            node = Node::Method(method, Box::new(node), args, re);
        }
        Ok(node)
    }

    fn args(&mut self) -> Result<Vec<Node>, String> {
        self.expect("(", "'('")?;
        let mut args = Vec::new();
        if self.eat(")") {
            return Ok(args);
        }
        loop {
            args.push(self.ternary()?);
            if self.eat(")") {
                return Ok(args);
            }
            self.expect(",", "',' or ')'")?;
        }
    }

    fn primary(&mut self) -> Result<Node, String> {
        let col = self.col();
        let mut name = match self.bump() {
            Tok::Num(n) => return Ok(Node::Lit(Value::Num(n))),
            Tok::Str(s) => return Ok(Node::Lit(Value::Str(s))),
            Tok::Op(o) if o == "(" => {
                let inner = self.ternary()?;
                self.expect(")", "')'")?;
                return Ok(inner);
            }
            Tok::Ident(id) => id,
            _ => {
                self.pos -= 1;
                return self.fail("a value");
            }
        };
        let constant = match name.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" | "undefined" => Some(Value::Null),
            "NaN" => Some(Value::Num(f64::NAN)),
            "Infinity" => Some(Value::Num(f64::INFINITY)),
            _ => None,
        };
        if let Some(value) = constant {
            return Ok(Node::Lit(value));
        }
        if matches!(name.as_str(), "vars" | "props" | "Math") {
            self.expect(".", &format!("'.' after {name}"))?;
            let Tok::Ident(member) = self.peek() else {
                return self.fail(&format!("a method of {name}"));
            };
            name = format!("{name}.{member}");
            self.bump();
        }
        let Some(&(func, min, max)) = FUNCS.iter().find(|f| f.0 == name) else {
            return Err(format!(
                "column {col}: unknown name {name}; expected a literal, vars.get(…), props.get(…), \
                 a supported function or a parenthesised expression"
            ));
        };
        let args = self.args()?;
        if args.len() < min || args.len() > max {
            return Err(format!(
                "column {col}: {func} does not take {} argument(s)",
                args.len()
            ));
        }
        Ok(Node::Func(func, args))
    }
}

/// Parses `src` into a tree; the error names the column and what was expected there.
pub(crate) fn parse(src: &str) -> Result<Node, String> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
    };
    let root = p.ternary()?;
    p.eat(";");
    if p.peek() != &Tok::End {
        return p.fail("an operator or the end of the expression");
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use crate::text::expr::Expr;

    #[test]
    fn parse_errors_name_the_column_and_what_was_expected() {
        let cases = [
            (
                "1 +",
                "column 4: expected a value, found the end of the expression",
            ),
            ("a == 1", "column 1: unknown name a"),
            ("'abc", "column 1: the string is not closed"),
            ("x = 1", "column 3: assignment is not supported"),
            (
                "1 2",
                "column 3: expected an operator or the end of the expression, found number 2",
            ),
            ("'a'.foo()", "column 5: unsupported method .foo"),
            ("'a'.trim", "column 9: expected '(' after .trim"),
            (
                "parseInt()",
                "column 1: parseInt does not take 0 argument(s)",
            ),
            ("(1", "column 3: expected ')', found the end"),
            ("1 ? 2", "column 6: expected ':' of the ?: operator"),
            ("'a' =~ '('", "column 8: bad regular expression"),
            ("#", "column 1: unexpected character '#'"),
            ("vars.put('a', 1)", "column 1: unknown name vars.put"),
        ];
        for (src, want) in cases {
            let err = Expr::parse(src).unwrap_err();
            assert!(err.contains(want), "{src}: {err}");
        }
        let deep = format!("{}1{}", "(".repeat(1000), ")".repeat(1000));
        assert!(
            Expr::parse(&deep)
                .unwrap_err()
                .contains("nested too deeply")
        );
    }
}
