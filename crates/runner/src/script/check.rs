//! The check after parsing: names, methods and classes outside the subset are refused.

use std::collections::BTreeSet;

use super::ast::{Expr, Stmt, StmtKind, each_expr, each_stmt};
use super::{ScriptError, names};

/// Refuses names, methods and classes outside the subset: a name must be declared or assigned
/// in the script, or be one of the script variables and classes [`names`] knows.
pub(super) fn check(stmts: &[Stmt]) -> Result<(), ScriptError> {
    let mut declared = BTreeSet::new();
    each_stmt(stmts, &mut |s| {
        match &s.kind {
            StmtKind::Decl { name, .. } | StmtKind::ForEach { var: name, .. } => {
                declared.insert(name.clone());
            }
            StmtKind::Try {
                catch: Some((name, _)),
                ..
            } => {
                declared.insert(name.clone());
            }
            _ => {}
        }
        for e in s.exprs() {
            each_expr(e, &mut |e| {
                if let Expr::Assign { target, .. } = e
                    && let Expr::Name(n) = &**target
                {
                    declared.insert(n.clone());
                }
            });
        }
    });
    let mut refused = None;
    each_stmt(stmts, &mut |s| {
        for e in s.exprs() {
            each_expr(e, &mut |e| {
                if refused.is_none() {
                    refused = refusal(e, &declared).map(|c| ScriptError::new(s.line, &c));
                }
            });
        }
    });
    refused.map_or(Ok(()), Err)
}

/// What is refused about `e` itself (not its parts), quoted.
fn refusal(e: &Expr, declared: &BTreeSet<String>) -> Option<String> {
    match e {
        Expr::Name(n) if !(declared.contains(n) || names::is_global(n) || names::is_class(n)) => {
            Some(format!("'{n}'"))
        }
        Expr::Call {
            obj: Some(_), name, ..
        } if !names::is_method(name) => Some(format!("'.{name}()'")),
        Expr::Call {
            obj: None, name, ..
        } if !names::is_function(name) => Some(format!("'{name}()'")),
        _ => None,
    }
}
