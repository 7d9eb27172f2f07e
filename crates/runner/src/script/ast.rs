//! The syntax tree of a parsed script ([`super::parse`] builds it, [`super::eval`] walks it).

use super::value::Value;

/// A statement and the line it starts on.
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    pub line: u32,
    pub kind: StmtKind,
}

/// What a statement does.
#[derive(Debug, Clone)]
pub(crate) enum StmtKind {
    /// An expression evaluated for its effect (a call, an assignment).
    Expr(Expr),
    /// `String x = …`, `def x = …`, `var x = …`, `int i = …` (the type converts numbers).
    Decl {
        name: String,
        ty: Option<Type>,
        init: Option<Expr>,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    For {
        init: Vec<Stmt>,
        cond: Option<Expr>,
        update: Vec<Expr>,
        body: Vec<Stmt>,
    },
    /// `for (String s : list)`, `for (s in list)`, `for (var s of list)`.
    ForEach {
        var: String,
        iter: Expr,
        body: Vec<Stmt>,
    },
    Return(Option<Expr>),
    Break,
    Continue,
    Block(Vec<Stmt>),
    /// `try { } catch (Exception e) { } finally { }`.
    Try {
        body: Vec<Stmt>,
        catch: Option<(String, Vec<Stmt>)>,
        finally: Vec<Stmt>,
    },
    /// `throw new Exception("…")`.
    Throw(Expr),
}

/// The declared or cast type, as far as it changes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    /// `int`, `long`, `short`, `Integer`, `Long`.
    Int,
    /// `double`, `float`, `Double`, `Float`.
    Num,
    /// `String`.
    Str,
    /// `boolean`, `Boolean`.
    Bool,
    /// Anything else (`Object`, `def`, `var`, `List<String>`): no conversion.
    Any,
}

/// A piece of a Groovy `"…${expr}…"` string.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(String),
    Expr(Expr),
}

/// An expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Lit(Value),
    /// A Groovy string with `${…}` / `$name` parts.
    Interp(Vec<Piece>),
    /// A local variable, a script variable (`vars`, `prev`, …) or a class (`Integer`, `System`).
    Name(String),
    /// `obj.name` (`?.` when `safe`): a JSON member, `File.separator`, `arr.length`.
    Member {
        obj: Box<Expr>,
        name: String,
        safe: bool,
    },
    /// `obj.name(args)`, or a global function `name(args)` (`parseInt`) when `obj` is `None`.
    Call {
        obj: Option<Box<Expr>>,
        name: String,
        args: Vec<Expr>,
        safe: bool,
    },
    Index(Box<Expr>, Box<Expr>),
    /// `new Class(args)` (the class's simple name).
    New {
        class: String,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Groovy's `a ?: b`.
    Elvis(Box<Expr>, Box<Expr>),
    Assign {
        target: Box<Expr>,
        op: Option<BinOp>,
        value: Box<Expr>,
    },
    /// `x++`, `--x` …: `delta` ±1, `prefix` gives the new value.
    IncDec {
        target: Box<Expr>,
        delta: i64,
        prefix: bool,
    },
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    /// `(int) x`, `x as Integer`.
    Cast(Type, Box<Expr>),
}

/// Binary operators (`&&`, `||` are [`Expr::And`], [`Expr::Or`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    /// `===`.
    StrictEq,
    /// `!==`.
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Stmt {
    /// The expressions this statement holds itself (not those of the statements nested in it).
    pub(crate) fn exprs(&self) -> Vec<&Expr> {
        match &self.kind {
            StmtKind::Expr(e) | StmtKind::Throw(e) | StmtKind::Return(Some(e)) => vec![e],
            StmtKind::Decl { init, .. } => init.iter().collect(),
            StmtKind::If { cond, .. } | StmtKind::While { cond, .. } => vec![cond],
            StmtKind::For { cond, update, .. } => cond.iter().chain(update).collect(),
            StmtKind::ForEach { iter, .. } => vec![iter],
            StmtKind::Return(None)
            | StmtKind::Break
            | StmtKind::Continue
            | StmtKind::Block(_)
            | StmtKind::Try { .. } => Vec::new(),
        }
    }

    /// The statements nested in this one, in order.
    pub(crate) fn nested(&self) -> Vec<&Stmt> {
        match &self.kind {
            StmtKind::If {
                then, otherwise, ..
            } => then.iter().chain(otherwise).collect(),
            StmtKind::While { body, .. }
            | StmtKind::ForEach { body, .. }
            | StmtKind::Block(body) => body.iter().collect(),
            StmtKind::For { init, body, .. } => init.iter().chain(body).collect(),
            StmtKind::Try {
                body,
                catch,
                finally,
            } => body
                .iter()
                .chain(catch.iter().flat_map(|(_, h)| h))
                .chain(finally)
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Expr {
    /// The expressions directly inside this one.
    pub(crate) fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Lit(_) | Expr::Name(_) => Vec::new(),
            Expr::Interp(pieces) => pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Expr(e) => Some(e),
                    Piece::Text(_) => None,
                })
                .collect(),
            Expr::Member { obj, .. } => vec![obj],
            Expr::Call { obj, args, .. } => obj.iter().map(|o| &**o).chain(args).collect(),
            Expr::New { args, .. } | Expr::List(args) => args.iter().collect(),
            Expr::Index(a, b)
            | Expr::Binary(_, a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Elvis(a, b) => vec![a, b],
            Expr::Assign { target, value, .. } => vec![target, value],
            Expr::Not(a) | Expr::Neg(a) | Expr::Cast(_, a) | Expr::IncDec { target: a, .. } => {
                vec![a]
            }
            Expr::Cond(a, b, c) => vec![a, b, c],
            Expr::Map(m) => m.iter().map(|(_, e)| e).collect(),
        }
    }
}

/// Calls `f` on every statement of `stmts` and of the statements nested in them, in order.
pub(crate) fn each_stmt<'s>(stmts: &'s [Stmt], f: &mut dyn FnMut(&'s Stmt)) {
    for s in stmts {
        f(s);
        each_stmt_nested(s, f);
    }
}

fn each_stmt_nested<'s>(s: &'s Stmt, f: &mut dyn FnMut(&'s Stmt)) {
    for n in s.nested() {
        f(n);
        each_stmt_nested(n, f);
    }
}

/// Calls `f` on every expression of `e`, `e` first, then its parts.
pub(crate) fn each_expr<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    f(e);
    for c in e.children() {
        each_expr(c, f);
    }
}
