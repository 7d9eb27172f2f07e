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
