//! The parser of the script subset: statements and expressions shared by Groovy, BeanShell (Java)
//! and JavaScript, into [`super::ast`]. Anything outside the subset is refused here, with its
//! line and the construct (`script line 4: 'new java.net.Socket' is not supported`), so that
//! `loadlake run --validate` reports it; [`check`] then refuses names, methods and classes the
//! interpreter does not know.

use super::ast::{Stmt, StmtKind, Type};
use super::lex::{Tok, Token, tokenize};
use super::{Dialect, ScriptError, names};

/// Parses a whole script.
pub(crate) fn parse(src: &str, dialect: Dialect) -> Result<Vec<Stmt>, ScriptError> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
        depth: 0,
        nest: 0,
        dialect,
        last_path: String::new(),
    };
    let mut out = Vec::new();
    while p.peek() != &Tok::End {
        if let Some(s) = p.statement()? {
            out.push(s);
        }
    }
    super::check::check(&out)?;
    Ok(out)
}

/// Packages a wildcard import may name (what it brings in is still checked by name).
const KNOWN_PACKAGES: &[&str] = &[
    "java.util",
    "java.text",
    "java.lang",
    "java.io",
    "groovy.json",
    "org.apache.jmeter",
    "org.apache.commons.lang3",
];

/// Nesting depth limit of blocks and expressions.
pub(super) const MAX_DEPTH: usize = 200;

pub(super) struct Parser {
    pub(super) toks: Vec<Token>,
    pub(super) pos: usize,
    /// Open parentheses and brackets: line breaks inside do not end a statement.
    pub(super) depth: usize,
    /// How deep blocks and expressions nest now.
    pub(super) nest: usize,
    pub(super) dialect: Dialect,
    /// The last class path read by `qualified_class`, for messages.
    pub(super) last_path: String,
}

/// Keywords that begin a construct outside the subset.
pub(super) const REFUSED_KEYWORDS: &[&str] = &[
    "class",
    "interface",
    "enum",
    "function",
    "switch",
    "synchronized",
    "do",
    "instanceof",
    "typeof",
    "delete",
    "yield",
    "await",
    "async",
    "goto",
    "assert",
    "package",
    "this",
    "super",
    "with",
];

/// Type names a declaration or cast may start with, and what they convert to.
pub(super) fn type_of(name: &str) -> Option<Type> {
    Some(match name {
        "int" | "long" | "short" | "byte" | "Integer" | "Long" | "Short" | "BigInteger" => {
            Type::Int
        }
        "double" | "float" | "Double" | "Float" | "BigDecimal" => Type::Num,
        "String" | "CharSequence" => Type::Str,
        "boolean" | "Boolean" => Type::Bool,
        "Object" | "Map" | "HashMap" | "LinkedHashMap" | "List" | "ArrayList" | "Date"
        | "Random" | "StringBuilder" | "SimpleDateFormat" | "JsonSlurper" | "char" | "var"
        | "def" | "let" | "const" | "final" | "UUID" | "File" | "SampleResult" | "Exception"
        | "JMeterVariables" => Type::Any,
        _ => return None,
    })
}

impl Parser {
    pub(super) fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    pub(super) fn peek_at(&self, k: usize) -> &Tok {
        let i = (self.pos + k).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    pub(super) fn line(&self) -> u32 {
        self.toks[self.pos].line
    }

    pub(super) fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub(super) fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    pub(super) fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(i) if i == w)
    }

    pub(super) fn eat(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.next();
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, op: &str) -> Result<(), ScriptError> {
        if self.eat(op) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{op}'")))
        }
    }

    pub(super) fn unexpected(&self, wanted: &str) -> ScriptError {
        let found = match self.peek() {
            Tok::Ident(i) => format!("'{i}'"),
            Tok::Int(n) => n.to_string(),
            Tok::Num(n) => n.to_string(),
            Tok::Str { .. } => "a string".into(),
            Tok::Op(o) => format!("'{o}'"),
            Tok::End => "the end of the script".into(),
        };
        ScriptError::syntax(self.line(), &format!("expected {wanted}, found {found}"))
    }

    pub(super) fn ident(&mut self) -> Result<String, ScriptError> {
        match self.peek().clone() {
            Tok::Ident(i) => {
                self.next();
                Ok(i)
            }
            _ => Err(self.unexpected("a name")),
        }
    }

    pub(super) fn refuse(&self, what: &str) -> ScriptError {
        ScriptError::new(self.line(), what)
    }

    /// A statement's end: `;`, or (Groovy, JavaScript, and leniently BeanShell) a line break,
    /// `}` or the end.
    fn end_statement(&mut self) -> Result<(), ScriptError> {
        if self.eat(";") {
            return Ok(());
        }
        let t = &self.toks[self.pos];
        if t.newline_before || matches!(t.tok, Tok::Op("}") | Tok::End) {
            return Ok(());
        }
        Err(self.unexpected("';' or a line break"))
    }

    pub(super) fn block_or_statement(&mut self) -> Result<Vec<Stmt>, ScriptError> {
        if self.is_op("{") {
            return self.block();
        }
        Ok(self.statement()?.into_iter().collect())
    }

    pub(super) fn block(&mut self) -> Result<Vec<Stmt>, ScriptError> {
        self.expect("{")?;
        self.nest += 1;
        if self.nest > MAX_DEPTH {
            return Err(self.refuse("blocks nested this deep"));
        }
        let mut out = Vec::new();
        while !self.is_op("}") {
            if self.peek() == &Tok::End {
                return Err(self.unexpected("'}'"));
            }
            if let Some(s) = self.statement()? {
                out.push(s);
            }
        }
        self.next();
        self.nest -= 1;
        Ok(out)
    }

    /// One statement (`None` for an empty one or an import).
    fn statement(&mut self) -> Result<Option<Stmt>, ScriptError> {
        let line = self.line();
        let stmt = |kind| Ok(Some(Stmt { line, kind }));
        if self.eat(";") {
            return Ok(None);
        }
        if self.is_op("{") {
            return stmt(StmtKind::Block(self.block()?));
        }
        let Tok::Ident(word) = self.peek().clone() else {
            let e = self.expr()?;
            self.end_statement()?;
            return stmt(StmtKind::Expr(e));
        };
        if REFUSED_KEYWORDS.contains(&word.as_str()) {
            return Err(self.refuse(&format!("'{word}'")));
        }
        match word.as_str() {
            "import" => {
                self.next();
                let mut path = self.ident()?;
                while self.eat(".") {
                    if self.eat("*") {
                        path.push_str(".*");
                        break;
                    }
                    path.push('.');
                    path.push_str(&self.ident()?);
                }
                let class = path.rsplit('.').next().unwrap_or_default();
                // `import a.b.*;` or BeanShell's `import a.b;` of a package: what it brings in is
                // still checked by name.
                let package = path.strip_suffix(".*").or_else(|| {
                    class
                        .starts_with(|c: char| c.is_lowercase())
                        .then_some(path.as_str())
                });
                let known = match package {
                    Some(package) => KNOWN_PACKAGES.iter().any(|p| package.starts_with(p)),
                    None => names::is_class(class),
                };
                if !known {
                    return Err(ScriptError::new(line, &format!("'import {path}'")));
                }
                self.end_statement()?;
                Ok(None)
            }
            "if" => {
                self.next();
                let cond = self.paren_expr()?;
                let then = self.block_or_statement()?;
                let otherwise = if self.is_word("else") {
                    self.next();
                    self.block_or_statement()?
                } else {
                    Vec::new()
                };
                stmt(StmtKind::If {
                    cond,
                    then,
                    otherwise,
                })
            }
            "while" => {
                self.next();
                let cond = self.paren_expr()?;
                let body = self.block_or_statement()?;
                stmt(StmtKind::While { cond, body })
            }
            "for" => {
                self.next();
                self.for_statement(line)
            }
            "return" => {
                self.next();
                let t = &self.toks[self.pos];
                let value = if t.newline_before || matches!(t.tok, Tok::Op(";" | "}") | Tok::End) {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.end_statement()?;
                stmt(StmtKind::Return(value))
            }
            "break" | "continue" => {
                self.next();
                self.end_statement()?;
                stmt(if word == "break" {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                })
            }
            "throw" => {
                self.next();
                let e = self.expr()?;
                self.end_statement()?;
                stmt(StmtKind::Throw(e))
            }
            "try" => {
                self.next();
                let body = self.block()?;
                let mut catch = None;
                while self.is_word("catch") {
                    self.next();
                    self.expect("(")?;
                    let mut name = self.ident()?;
                    while self.eat(".") || self.eat("|") {
                        name = self.ident()?;
                    }
                    if let Tok::Ident(n) = self.peek().clone() {
                        self.next();
                        name = n;
                    }
                    self.expect(")")?;
                    let handler = self.block()?;
                    // Every exception is one kind here: the first handler catches it.
                    catch.get_or_insert((name, handler));
                }
                let finally = if self.is_word("finally") {
                    self.next();
                    self.block()?
                } else {
                    Vec::new()
                };
                stmt(StmtKind::Try {
                    body,
                    catch,
                    finally,
                })
            }
            _ => match self.declaration()? {
                Some(decls) if decls.len() == 1 => {
                    self.end_statement()?;
                    Ok(decls.into_iter().next())
                }
                Some(decls) => {
                    self.end_statement()?;
                    stmt(StmtKind::Block(decls))
                }
                None => {
                    let e = self.expr()?;
                    self.end_statement()?;
                    stmt(StmtKind::Expr(e))
                }
            },
        }
    }

    /// `Type name = …[, name = …]`, `def name = …`, `var name`, when the tokens say so.
    fn declaration(&mut self) -> Result<Option<Vec<Stmt>>, ScriptError> {
        let start = self.pos;
        let line = self.line();
        let mut ty = None;
        while let Tok::Ident(w) = self.peek().clone() {
            if !matches!(w.as_str(), "final" | "static" | "private" | "public") {
                break;
            }
            ty = Some(Type::Any);
            self.next();
        }
        let Tok::Ident(first) = self.peek().clone() else {
            self.pos = start;
            return Ok(None);
        };
        let mut named_type = type_of(&first);
        // A type is followed by a name (after `[]` or `<…>`), else this is an expression.
        let mut k = 1;
        if matches!(self.peek_at(1), Tok::Op("<")) {
            let mut depth = 0;
            loop {
                match self.peek_at(k) {
                    Tok::Op("<") => depth += 1,
                    Tok::Op(">") => depth -= 1,
                    Tok::Op(">>") => depth -= 2,
                    Tok::Ident(_) | Tok::Op(",") | Tok::Op("?") | Tok::Op(".") => {}
                    _ => break,
                }
                k += 1;
                if depth <= 0 {
                    break;
                }
            }
        }
        if k > 1 {
            // `List<String> l`: a generic type converts nothing.
            named_type = named_type.map(|_| Type::Any);
        }
        while matches!(self.peek_at(k), Tok::Op("[")) && matches!(self.peek_at(k + 1), Tok::Op("]"))
        {
            k += 2;
            // An array (`String[] parts`): no conversion of the whole value.
            named_type = named_type.map(|_| Type::Any);
        }
        let is_decl = matches!(self.peek_at(k), Tok::Ident(_))
            && !matches!(self.peek_at(k), Tok::Ident(w) if w == "in" || w == "as" || w == "instanceof");
        if !is_decl {
            if ty.is_some() {
                return Err(self.unexpected("a declaration"));
            }
            self.pos = start;
            return Ok(None);
        }
        let ty = match named_type {
            Some(t) => t,
            // An unknown class as a type: only a declaration of an unknown class.
            // A class of the subset as a type (`HeaderManager hm = …`): no conversion.
            None if names::is_class(&first) => Type::Any,
            None if first.chars().next().is_some_and(char::is_uppercase) => {
                return Err(self.refuse(&format!("'{first}'")));
            }
            None => {
                self.pos = start;
                return Ok(None);
            }
        };
        self.pos += k;
        let mut out = Vec::new();
        loop {
            let name = self.ident()?;
            let init = if self.eat("=") {
                Some(self.expr()?)
            } else {
                None
            };
            out.push(Stmt {
                line,
                kind: StmtKind::Decl {
                    name,
                    ty: Some(ty),
                    init,
                },
            });
            if !self.eat(",") {
                break;
            }
        }
        Ok(Some(out))
    }

    fn for_statement(&mut self, line: u32) -> Result<Option<Stmt>, ScriptError> {
        self.expect("(")?;
        self.depth += 1;
        // for (Type x : e) / for (x in e) / for (var x of e)
        let save = self.pos;
        let mut names = Vec::new();
        while let Tok::Ident(w) = self.peek().clone() {
            names.push(w);
            self.next();
            if matches!(self.peek(), Tok::Op("<")) {
                break;
            }
        }
        let each = match (names.last(), self.peek()) {
            (Some(n), Tok::Op(":")) => Some(n.clone()),
            _ if names.len() >= 2
                && matches!(names.last().map(String::as_str), Some("in" | "of")) =>
            {
                Some(names[names.len() - 2].clone())
            }
            _ => None,
        };
        if let Some(var) = each {
            if self.is_op(":") {
                self.next();
            }
            if names.last().map(String::as_str) == Some("in") && self.dialect == Dialect::JavaScript
            {
                return Err(self.refuse("'for (… in …)' over keys"));
            }
            let iter = self.expr()?;
            self.depth -= 1;
            self.expect(")")?;
            let body = self.block_or_statement()?;
            return Ok(Some(Stmt {
                line,
                kind: StmtKind::ForEach { var, iter, body },
            }));
        }
        self.pos = save;
        let mut init = Vec::new();
        if !self.is_op(";") {
            match self.declaration()? {
                Some(d) => init.extend(d),
                None => loop {
                    let e = self.expr()?;
                    init.push(Stmt {
                        line,
                        kind: StmtKind::Expr(e),
                    });
                    if !self.eat(",") {
                        break;
                    }
                },
            }
        }
        self.expect(";")?;
        let cond = if self.is_op(";") {
            None
        } else {
            Some(self.expr()?)
        };
        self.expect(";")?;
        let mut update = Vec::new();
        while !self.is_op(")") {
            update.push(self.expr()?);
            if !self.eat(",") {
                break;
            }
        }
        self.depth -= 1;
        self.expect(")")?;
        let body = self.block_or_statement()?;
        Ok(Some(Stmt {
            line,
            kind: StmtKind::For {
                init,
                cond,
                update,
                body,
            },
        }))
    }
}
