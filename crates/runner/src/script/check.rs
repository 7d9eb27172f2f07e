//! The check after parsing: names, methods and classes outside the subset are refused.

use std::collections::BTreeSet;

use super::ast::{Expr, Piece, Stmt, StmtKind};
use super::{ScriptError, names};

/// Refuses names, methods and classes outside the subset: a name must be declared or assigned
/// in the script, or be one of the script variables and classes [`api`] knows.
pub(super) fn check(stmts: &[Stmt]) -> Result<(), ScriptError> {
    let mut declared = BTreeSet::new();
    for s in stmts {
        declared_in(s, &mut declared);
    }
    for s in stmts {
        check_stmt(s, &declared)?;
    }
    Ok(())
}

fn declared_in(s: &Stmt, out: &mut BTreeSet<String>) {
    let mut exprs = Vec::new();
    match &s.kind {
        StmtKind::Decl { name, init, .. } => {
            out.insert(name.clone());
            exprs.extend(init);
        }
        StmtKind::ForEach { var, body, .. } => {
            out.insert(var.clone());
            body.iter().for_each(|s| declared_in(s, out));
        }
        StmtKind::Try {
            body,
            catch,
            finally,
        } => {
            body.iter().chain(finally).for_each(|s| declared_in(s, out));
            if let Some((name, handler)) = catch {
                out.insert(name.clone());
                handler.iter().for_each(|s| declared_in(s, out));
            }
        }
        StmtKind::If {
            then, otherwise, ..
        } => then
            .iter()
            .chain(otherwise)
            .for_each(|s| declared_in(s, out)),
        StmtKind::While { body, .. } | StmtKind::Block(body) => {
            body.iter().for_each(|s| declared_in(s, out))
        }
        StmtKind::For {
            init, update, body, ..
        } => {
            init.iter().chain(body).for_each(|s| declared_in(s, out));
            exprs.extend(update);
        }
        StmtKind::Expr(e) => exprs.push(e),
        _ => {}
    }
    for e in exprs {
        if let Expr::Assign { target, .. } = e
            && let Expr::Name(n) = &**target
        {
            out.insert(n.clone());
        }
    }
}

fn check_stmt(s: &Stmt, declared: &BTreeSet<String>) -> Result<(), ScriptError> {
    let ex = |e: &Expr| check_expr(e, declared, s.line);
    let all = |b: &[Stmt]| b.iter().try_for_each(|s| check_stmt(s, declared));
    match &s.kind {
        StmtKind::Expr(e) | StmtKind::Throw(e) => ex(e),
        StmtKind::Decl { init, .. } => init.iter().try_for_each(ex),
        StmtKind::If {
            cond,
            then,
            otherwise,
        } => {
            ex(cond)?;
            all(then)?;
            all(otherwise)
        }
        StmtKind::While { cond, body } => {
            ex(cond)?;
            all(body)
        }
        StmtKind::For {
            init,
            cond,
            update,
            body,
        } => {
            all(init)?;
            cond.iter().try_for_each(ex)?;
            update.iter().try_for_each(ex)?;
            all(body)
        }
        StmtKind::ForEach { iter, body, .. } => {
            ex(iter)?;
            all(body)
        }
        StmtKind::Return(e) => e.iter().try_for_each(ex),
        StmtKind::Break | StmtKind::Continue => Ok(()),
        StmtKind::Block(b) => all(b),
        StmtKind::Try {
            body,
            catch,
            finally,
        } => {
            all(body)?;
            if let Some((_, h)) = catch {
                all(h)?;
            }
            all(finally)
        }
    }
}

fn check_expr(e: &Expr, declared: &BTreeSet<String>, line: u32) -> Result<(), ScriptError> {
    let ex = |e: &Expr| check_expr(e, declared, line);
    match e {
        Expr::Lit(_) => Ok(()),
        Expr::Interp(pieces) => pieces.iter().try_for_each(|p| match p {
            Piece::Text(_) => Ok(()),
            Piece::Expr(e) => ex(e),
        }),
        Expr::Name(n) => {
            if declared.contains(n) || names::is_global(n) || names::is_class(n) {
                Ok(())
            } else {
                Err(ScriptError::new(line, &format!("'{n}'")))
            }
        }
        Expr::Member { obj, .. } => ex(obj),
        Expr::Call {
            obj, name, args, ..
        } => {
            match obj {
                Some(o) => {
                    ex(o)?;
                    if !names::is_method(name) {
                        return Err(ScriptError::new(line, &format!("'.{name}()'")));
                    }
                }
                None => {
                    if !names::is_function(name) {
                        return Err(ScriptError::new(line, &format!("'{name}()'")));
                    }
                }
            }
            args.iter().try_for_each(ex)
        }
        Expr::Index(a, b)
        | Expr::Binary(_, a, b)
        | Expr::And(a, b)
        | Expr::Or(a, b)
        | Expr::Elvis(a, b) => {
            ex(a)?;
            ex(b)
        }
        Expr::New { args, .. } | Expr::List(args) => args.iter().try_for_each(ex),
        Expr::Not(a) | Expr::Neg(a) | Expr::Cast(_, a) => ex(a),
        Expr::Cond(a, b, c) => {
            ex(a)?;
            ex(b)?;
            ex(c)
        }
        Expr::Assign { target, value, .. } => {
            ex(target)?;
            ex(value)
        }
        Expr::IncDec { target, .. } => ex(target),
        Expr::Map(entries) => entries.iter().try_for_each(|(_, e)| ex(e)),
    }
}
