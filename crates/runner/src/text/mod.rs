//! Text that changes while a test runs: run-time templates ([`template`]: `${var}` and function
//! calls, rendered per request and user), the functions they call ([`functions`], with `__time`'s
//! formats in [`timefmt`]), the expression language of conditions and `__jexl3` /
//! `__javaScript` ([`expr`]) and the If / While conditions built on both ([`condition`]).
//!
//! One cycle is inherent here: a template holds function calls whose arguments are templates
//! again, so [`template`] and [`functions`] use each other (the template ↔ expression pair:
//! `__jexl3(…)` is a template whose rendered text is an expression). [`expr`] itself needs no
//! templates: JMeter substitutes `${…}` before it parses an expression.
//!
//! What is fixed before the run (`${var}` of user-defined variables, `__P`) is substituted by
//! [`crate::compile::vars`] instead.

pub(crate) mod condition;
pub(crate) mod expr;
pub(crate) mod functions;
pub(crate) mod template;
pub(crate) mod timefmt;

use std::collections::BTreeMap;

/// The run's properties (`-Jname=value`), by name.
pub(crate) type Props = BTreeMap<String, String>;
