//! The tree-walking evaluator: statements, control flow, local variables, operators and
//! conversions, with a step budget so that no script loops forever. Names, members, calls and
//! constructors of the JMeter object model are resolved by [`super::api`].

use std::collections::HashMap;

use super::ast::{BinOp, Expr, Piece, Stmt, StmtKind, Type};
use super::value::{Obj, Value, lock};
use super::{Bindings, Dialect, ScriptError, api, names};

/// Statements and loop passes one run of a script may take: a bound for `while (true)`.
pub(crate) const MAX_STEPS: u64 = 10_000_000;

/// How a statement ended.
enum Ctl {
    Normal,
    Break,
    Continue,
    Return(Value),
}

/// One run of a script.
pub(crate) struct Interp<'r, 'a> {
    pub(crate) d: Dialect,
    pub(crate) b: &'r mut Bindings<'a>,
    locals: &'r mut HashMap<String, Value>,
    steps: u64,
    /// The line being run (for errors).
    pub(crate) line: u32,
    /// The value of the last expression statement at the top level (Groovy's and BeanShell's
    /// result when there is no `return`).
    last: Value,
}

/// A run-time error message (the line is added by the statement that failed).
pub(crate) type R<T> = Result<T, String>;

impl<'r, 'a> Interp<'r, 'a> {
    /// A run over `b` with `locals` (script variables the caller set or reads back).
    pub(crate) fn new(
        d: Dialect,
        b: &'r mut Bindings<'a>,
        locals: &'r mut HashMap<String, Value>,
    ) -> Interp<'r, 'a> {
        Interp {
            d,
            b,
            locals,
            steps: 0,
            line: 1,
            last: Value::Null,
        }
    }

    /// Runs the script: the value of its `return`, else of its last top-level expression.
    pub(crate) fn run(mut self, stmts: &[Stmt]) -> Result<Value, ScriptError> {
        for s in stmts {
            match self.stmt(s)? {
                Ctl::Return(v) => return Ok(v),
                Ctl::Normal => {}
                Ctl::Break | Ctl::Continue => {
                    return Err(ScriptError::runtime(
                        s.line,
                        "break or continue outside a loop",
                    ));
                }
            }
            if !matches!(s.kind, StmtKind::Expr(_)) {
                self.last = Value::Null;
            }
        }
        Ok(std::mem::take(&mut self.last))
    }

    fn tick(&mut self) -> Result<(), ScriptError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(ScriptError::runtime(
                self.line,
                format!("the script ran more than {MAX_STEPS} steps (an endless loop?)"),
            ));
        }
        Ok(())
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<Ctl, ScriptError> {
        for s in stmts {
            match self.stmt(s)? {
                Ctl::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Ctl::Normal)
    }

    fn expr_at(&mut self, e: &Expr, line: u32) -> Result<Value, ScriptError> {
        self.line = line;
        self.expr(e).map_err(|m| ScriptError::runtime(line, m))
    }

    fn stmt(&mut self, s: &Stmt) -> Result<Ctl, ScriptError> {
        self.tick()?;
        let line = s.line;
        match &s.kind {
            StmtKind::Expr(e) => {
                self.last = self.expr_at(e, line)?;
            }
            StmtKind::Decl { name, ty, init } => {
                let v = match init {
                    Some(e) => self.expr_at(e, line)?,
                    None => Value::Null,
                };
                let v = match ty {
                    Some(t) if !v.is_null() => {
                        convert(*t, v, self.d).map_err(|m| ScriptError::runtime(line, m))?
                    }
                    _ => v,
                };
                self.locals.insert(name.clone(), v);
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr_at(cond, line)?.truthy();
                return self.block(if c { then } else { otherwise });
            }
            StmtKind::While { cond, body } => {
                while self.expr_at(cond, line)?.truthy() {
                    self.tick()?;
                    match self.block(body)? {
                        Ctl::Break => break,
                        Ctl::Return(v) => return Ok(Ctl::Return(v)),
                        Ctl::Normal | Ctl::Continue => {}
                    }
                }
            }
            StmtKind::For {
                init,
                cond,
                update,
                body,
            } => {
                if let Ctl::Return(v) = self.block(init)? {
                    return Ok(Ctl::Return(v));
                }
                loop {
                    self.tick()?;
                    if let Some(c) = cond
                        && !self.expr_at(c, line)?.truthy()
                    {
                        break;
                    }
                    match self.block(body)? {
                        Ctl::Break => break,
                        Ctl::Return(v) => return Ok(Ctl::Return(v)),
                        Ctl::Normal | Ctl::Continue => {}
                    }
                    for u in update {
                        self.expr_at(u, line)?;
                    }
                }
            }
            StmtKind::ForEach { var, iter, body } => {
                let items = match self.expr_at(iter, line)? {
                    Value::List(l) => lock(&l).clone(),
                    Value::Map(m) => lock(&m)
                        .iter()
                        .map(|(k, v)| {
                            Value::map(vec![
                                ("key".into(), Value::str(k.as_str())),
                                ("value".into(), v.clone()),
                            ])
                        })
                        .collect(),
                    Value::Str(s) => s.chars().map(|c| Value::str(c.to_string())).collect(),
                    Value::Null => {
                        return Err(ScriptError::runtime(line, "cannot iterate over null"));
                    }
                    other => {
                        return Err(ScriptError::runtime(
                            line,
                            format!("cannot iterate over a {}", other.type_name()),
                        ));
                    }
                };
                for item in items {
                    self.tick()?;
                    self.locals.insert(var.clone(), item);
                    match self.block(body)? {
                        Ctl::Break => break,
                        Ctl::Return(v) => return Ok(Ctl::Return(v)),
                        Ctl::Normal | Ctl::Continue => {}
                    }
                }
            }
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.expr_at(e, line)?,
                    None => Value::Null,
                };
                return Ok(Ctl::Return(v));
            }
            StmtKind::Break => return Ok(Ctl::Break),
            StmtKind::Continue => return Ok(Ctl::Continue),
            StmtKind::Block(b) => return self.block(b),
            StmtKind::Throw(e) => {
                let v = self.expr_at(e, line)?;
                let message = match v {
                    Value::Obj(Obj::Exception(m)) => m.to_string(),
                    other => other.text(self.d),
                };
                return Err(ScriptError::runtime(line, message));
            }
            StmtKind::Try {
                body,
                catch,
                finally,
            } => {
                let r = self.block(body);
                let r = match (r, catch) {
                    (Err(ScriptError::Runtime { message, .. }), Some((name, handler))) => {
                        self.locals
                            .insert(name.clone(), Value::Obj(Obj::Exception(message.into())));
                        self.block(handler)
                    }
                    (r, _) => r,
                };
                if !finally.is_empty()
                    && let Ctl::Return(v) = self.block(finally)?
                {
                    return Ok(Ctl::Return(v));
                }
                return r;
            }
        }
        Ok(Ctl::Normal)
    }

    /// Evaluates an expression.
    pub(crate) fn expr(&mut self, e: &Expr) -> R<Value> {
        Ok(match e {
            Expr::Lit(v) => v.clone(),
            Expr::Interp(pieces) => {
                let mut s = String::new();
                for p in pieces {
                    match p {
                        Piece::Text(t) => s.push_str(t),
                        Piece::Expr(e) => s.push_str(&self.expr(e)?.text(self.d)),
                    }
                }
                Value::str(s)
            }
            Expr::Name(n) => match self.locals.get(n) {
                Some(v) => v.clone(),
                None => api::global(self, n)?,
            },
            Expr::Member { obj, name, safe } => {
                let o = self.expr(obj)?;
                if o.is_null() && *safe {
                    return Ok(Value::Null);
                }
                api::member(self, &o, name)?
            }
            Expr::Call {
                obj,
                name,
                args,
                safe,
            } => {
                let o = match obj {
                    Some(o) => Some(self.expr(o)?),
                    None => None,
                };
                if *safe && o.as_ref().is_some_and(Value::is_null) {
                    return Ok(Value::Null);
                }
                let mut a = Vec::with_capacity(args.len());
                for x in args {
                    a.push(self.expr(x)?);
                }
                match o {
                    Some(o) => api::method(self, &o, name, a)?,
                    None => api::function(self, name, a)?,
                }
            }
            Expr::Index(o, i) => {
                let o = self.expr(o)?;
                let i = self.expr(i)?;
                index(&o, &i, self.d)?
            }
            Expr::New { class, args } => {
                let mut a = Vec::with_capacity(args.len());
                for x in args {
                    a.push(self.expr(x)?);
                }
                api::construct(self, class, a)?
            }
            Expr::Not(x) => Value::Bool(!self.expr(x)?.truthy()),
            Expr::Neg(x) => match self.expr(x)? {
                Value::Int(n) => Value::Int(n.wrapping_neg()),
                Value::Num(n) => Value::Num(-n),
                other => match (self.d, to_number(&other)) {
                    (Dialect::JavaScript, Some(n)) => Value::Num(-n),
                    _ => return Err(format!("cannot negate a {}", other.type_name())),
                },
            },
            Expr::Binary(op, l, r) => {
                let l = self.expr(l)?;
                let r = self.expr(r)?;
                binary(*op, &l, &r, self.d)?
            }
            Expr::And(l, r) => {
                let l = self.expr(l)?;
                if !l.truthy() {
                    return Ok(if self.d == Dialect::JavaScript {
                        l
                    } else {
                        Value::Bool(false)
                    });
                }
                let r = self.expr(r)?;
                if self.d == Dialect::JavaScript {
                    r
                } else {
                    Value::Bool(r.truthy())
                }
            }
            Expr::Or(l, r) => {
                let l = self.expr(l)?;
                if l.truthy() {
                    return Ok(if self.d == Dialect::JavaScript {
                        l
                    } else {
                        Value::Bool(true)
                    });
                }
                let r = self.expr(r)?;
                if self.d == Dialect::JavaScript {
                    r
                } else {
                    Value::Bool(r.truthy())
                }
            }
            Expr::Cond(c, a, b) => {
                if self.expr(c)?.truthy() {
                    self.expr(a)?
                } else {
                    self.expr(b)?
                }
            }
            Expr::Elvis(a, b) => {
                let v = self.expr(a)?;
                if v.truthy() { v } else { self.expr(b)? }
            }
            Expr::Assign { target, op, value } => {
                let mut v = self.expr(value)?;
                if let Some(op) = op {
                    let cur = self.expr(target)?;
                    v = binary(*op, &cur, &v, self.d)?;
                }
                self.assign(target, v.clone())?;
                v
            }
            Expr::IncDec {
                target,
                delta,
                prefix,
            } => {
                let cur = self.expr(target)?;
                let new = binary(BinOp::Add, &cur, &Value::Int(*delta), self.d)?;
                if !matches!(new, Value::Int(_) | Value::Num(_)) {
                    return Err(format!("cannot increment a {}", cur.type_name()));
                }
                self.assign(target, new.clone())?;
                if *prefix { new } else { cur }
            }
            Expr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for x in items {
                    out.push(self.expr(x)?);
                }
                Value::list(out)
            }
            Expr::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, x) in entries {
                    out.push((k.clone(), self.expr(x)?));
                }
                Value::map(out)
            }
            Expr::Cast(t, x) => {
                let v = self.expr(x)?;
                if v.is_null() {
                    return Ok(v);
                }
                convert(*t, v, self.d)?
            }
        })
    }

    fn assign(&mut self, target: &Expr, v: Value) -> R<()> {
        match target {
            Expr::Name(n) => {
                if names::is_global(n) && !self.locals.contains_key(n) {
                    return Err(format!("cannot assign to '{n}'"));
                }
                self.locals.insert(n.clone(), v);
                Ok(())
            }
            Expr::Member { obj, name, .. } => match self.expr(obj)? {
                Value::Map(m) => {
                    map_put(&mut lock(&m), name, v);
                    Ok(())
                }
                other => Err(format!("cannot set .{name} of a {}", other.type_name())),
            },
            Expr::Index(obj, i) => {
                let o = self.expr(obj)?;
                let i = self.expr(i)?;
                match (&o, &i) {
                    (Value::List(l), Value::Int(n)) => {
                        let mut l = lock(l);
                        let n = usize::try_from(*n).map_err(|_| "a negative index")?;
                        if n < l.len() {
                            l[n] = v;
                        } else if n == l.len() {
                            l.push(v);
                        } else {
                            return Err(format!("index {n} is past the end"));
                        }
                        Ok(())
                    }
                    (Value::Map(m), k) => {
                        map_put(&mut lock(m), &k.text(self.d), v);
                        Ok(())
                    }
                    _ => Err(format!("cannot index a {}", o.type_name())),
                }
            }
            _ => Err("cannot assign to this".into()),
        }
    }
}

/// Sets `key` in a map (kept in insertion order).
pub(crate) fn map_put(m: &mut Vec<(String, Value)>, key: &str, v: Value) -> Value {
    match m.iter_mut().find(|(k, _)| k == key) {
        Some((_, old)) => std::mem::replace(old, v),
        None => {
            m.push((key.to_string(), v));
            Value::Null
        }
    }
}

/// `o[i]`: a list element (Groovy counts negative indexes from the end), a map entry, a
/// character.
fn index(o: &Value, i: &Value, d: Dialect) -> R<Value> {
    match (o, i) {
        (Value::List(l), Value::Int(_) | Value::Num(_)) => {
            let l = lock(l);
            let n = match i {
                Value::Int(n) => *n,
                Value::Num(f) => *f as i64,
                _ => 0,
            };
            let at = if n < 0 && d == Dialect::Groovy {
                l.len() as i64 + n
            } else {
                n
            };
            Ok(usize::try_from(at)
                .ok()
                .and_then(|k| l.get(k).cloned())
                .unwrap_or(Value::Null))
        }
        (Value::Map(m), k) => {
            let key = k.text(d);
            Ok(lock(m)
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null))
        }
        (Value::Str(s), Value::Int(n)) => Ok(usize::try_from(*n)
            .ok()
            .and_then(|k| s.chars().nth(k))
            .map(|c| Value::str(c.to_string()))
            .unwrap_or(Value::Null)),
        (Value::Null, _) => Err("cannot index null".into()),
        _ => Err(format!(
            "cannot index a {} with a {}",
            o.type_name(),
            i.type_name()
        )),
    }
}

/// A number from a value: numbers, and (JavaScript's coercion) numeric strings and booleans.
pub(crate) fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(*n as f64),
        Value::Num(n) => Some(*n),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Null => Some(0.0),
        Value::Str(s) => {
            let t = s.trim();
            if t.is_empty() {
                Some(0.0)
            } else {
                t.parse().ok()
            }
        }
        _ => None,
    }
}

/// Converts for a declared type or a cast.
pub(crate) fn convert(t: Type, v: Value, d: Dialect) -> R<Value> {
    Ok(match (t, v) {
        (Type::Any, v) => v,
        (Type::Int, Value::Int(n)) => Value::Int(n),
        (Type::Int, Value::Num(n)) => Value::Int(n as i64),
        (Type::Int, Value::Str(s)) => Value::Int(
            s.trim()
                .parse()
                .map_err(|_| format!("NumberFormatException: For input string: \"{s}\""))?,
        ),
        (Type::Num, Value::Int(n)) => Value::Num(n as f64),
        (Type::Num, Value::Num(n)) => Value::Num(n),
        (Type::Num, Value::Str(s)) => Value::Num(
            s.trim()
                .parse()
                .map_err(|_| format!("NumberFormatException: For input string: \"{s}\""))?,
        ),
        (Type::Str, v) => Value::str(v.text(d)),
        (Type::Bool, Value::Bool(b)) => Value::Bool(b),
        (Type::Bool, Value::Str(s)) => Value::Bool(s.trim().eq_ignore_ascii_case("true")),
        (t, v) => return Err(format!("cannot convert a {} to {t:?}", v.type_name())),
    })
}

/// Value equality (`==`; `strict` for `===`).
pub(crate) fn equals(l: &Value, r: &Value, d: Dialect, strict: bool) -> bool {
    match (l, r) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (a, b) if a.as_f64().is_some() && b.as_f64().is_some() => a.as_f64() == b.as_f64(),
        (Value::Str(_) | Value::Builder(_), Value::Str(_) | Value::Builder(_)) => {
            l.text(d) == r.text(d)
        }
        (Value::Date(a), Value::Date(b)) => a == b,
        (Value::List(_) | Value::Map(_), Value::List(_) | Value::Map(_)) => {
            l.to_json() == r.to_json()
        }
        (Value::Obj(a), Value::Obj(b)) => a == b,
        _ if d == Dialect::JavaScript && !strict => match (to_number(l), to_number(r)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        _ => false,
    }
}

/// A binary operator.
pub(crate) fn binary(op: BinOp, l: &Value, r: &Value, d: Dialect) -> R<Value> {
    use BinOp::*;
    match op {
        Eq => return Ok(Value::Bool(equals(l, r, d, false))),
        Ne => return Ok(Value::Bool(!equals(l, r, d, false))),
        StrictEq => return Ok(Value::Bool(equals(l, r, d, true))),
        StrictNe => return Ok(Value::Bool(!equals(l, r, d, true))),
        _ => {}
    }
    let texty = |v: &Value| matches!(v, Value::Str(_) | Value::Builder(_));
    if op == Add && (texty(l) || texty(r)) {
        return Ok(Value::str(l.text(d) + &r.text(d)));
    }
    if op == Add
        && let Value::List(a) = l
    {
        let mut out = lock(a).clone();
        match r {
            Value::List(b) => out.extend(lock(b).iter().cloned()),
            other => out.push(other.clone()),
        }
        return Ok(Value::list(out));
    }
    if matches!(op, Lt | Le | Gt | Ge) {
        let ord = match (l, r) {
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::Date(a), Value::Date(b)) => a.cmp(b),
            _ => {
                let (a, b) = numbers(l, r, d, op)?;
                match a.partial_cmp(&b) {
                    Some(o) => o,
                    None => return Ok(Value::Bool(false)),
                }
            }
        };
        return Ok(Value::Bool(match op {
            Lt => ord.is_lt(),
            Le => ord.is_le(),
            Gt => ord.is_gt(),
            _ => ord.is_ge(),
        }));
    }
    if let (Value::Int(a), Value::Int(b)) = (l, r) {
        let (a, b) = (*a, *b);
        return Ok(match op {
            Add => Value::Int(a.wrapping_add(b)),
            Sub => Value::Int(a.wrapping_sub(b)),
            Mul => Value::Int(a.wrapping_mul(b)),
            Div => match d {
                Dialect::Java if b == 0 => return Err("ArithmeticException: / by zero".into()),
                Dialect::Java => Value::Int(a.wrapping_div(b)),
                Dialect::Groovy if b == 0 => {
                    return Err("ArithmeticException: Division by zero".into());
                }
                _ if b != 0 && a % b == 0 => Value::Int(a / b),
                _ => Value::Num(a as f64 / b as f64),
            },
            Rem => {
                if b == 0 {
                    if d == Dialect::JavaScript {
                        return Ok(Value::Num(f64::NAN));
                    }
                    return Err("ArithmeticException: / by zero".into());
                }
                Value::Int(a.wrapping_rem(b))
            }
            _ => unreachable_op(op)?,
        });
    }
    let (a, b) = numbers(l, r, d, op)?;
    Ok(Value::Num(match op {
        Add => a + b,
        Sub => a - b,
        Mul => a * b,
        Div => a / b,
        Rem => a % b,
        _ => unreachable_op(op)?,
    }))
}

fn unreachable_op<T>(op: BinOp) -> R<T> {
    Err(format!("operator {op:?} misplaced"))
}

/// Both operands as numbers (JavaScript coerces strings; the others refuse).
fn numbers(l: &Value, r: &Value, d: Dialect, op: BinOp) -> R<(f64, f64)> {
    let num = |v: &Value| {
        if d == Dialect::JavaScript {
            to_number(v)
        } else {
            v.as_f64()
        }
    };
    match (num(l), num(r)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!(
            "operator {op:?} does not apply to a {} and a {}",
            l.type_name(),
            r.type_name()
        )),
    }
}
