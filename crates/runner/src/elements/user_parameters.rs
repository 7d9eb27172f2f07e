//! The User Parameters pre-processor (`UserParameters`): a table of variable values, one column
//! per thread, written into the user's variables before each sampler in its scope, or — with
//! `per_iteration` — each time its nearest enclosing controller begins an iteration.
//!
//! JMeter's rules followed here (apache/jmeter tag `v2_13`, `modifiers/UserParameters.java`; the
//! same in 5.6): thread `n` (0-based, `JMeterContext.getThreadNum()`) takes column
//! `n % columns`; names and that column's values are paired in order, as many as the shorter
//! has; each value is evaluated just before it is stored, so a value may read a variable stored
//! by an earlier one; no column at all sets nothing. `process()` (before a sampler) does nothing
//! when `per_iteration` is set, and `iterationStart` nothing when it is not.

use crate::text::template::{Template, UserCtx};

/// A User Parameters element.
#[derive(Debug)]
pub struct UserParameters {
    /// The element's name (for `--validate`).
    pub element: String,
    /// `UserParameters.names`.
    pub names: Vec<String>,
    /// `UserParameters.thread_values`: one column of values per thread.
    pub columns: Vec<Vec<Template>>,
    /// `UserParameters.per_iteration`.
    pub per_iteration: bool,
}

impl UserParameters {
    /// Stores this user's column in its variables.
    pub fn apply(&self, user: &mut UserCtx) {
        if self.columns.is_empty() {
            return;
        }
        let thread = user.thread_num.saturating_sub(1) as usize;
        let column = &self.columns[thread % self.columns.len()];
        for (name, value) in self.names.iter().zip(column) {
            let v = value.render(user, &|v: &str| v.to_string());
            user.vars.insert(name.clone(), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::At;
    use crate::text::template::tests::{props, user};

    fn t(text: &str) -> Template {
        let at = At {
            element: "UP",
            property: "UserParameters.thread_values",
        };
        Template::parse(text, &props(), at).unwrap()
    }

    #[test]
    fn threads_take_their_column_modulo_the_columns_in_order() {
        let up = UserParameters {
            element: "UP".into(),
            names: vec!["a".into(), "b".into(), "c".into()],
            // Two columns; the second is shorter than the names: c is not set from it.
            columns: vec![vec![t("a1"), t("b1"), t("c1")], vec![t("a2"), t("[${a}]")]],
            per_iteration: false,
        };
        let mut u1 = user(&[]);
        u1.thread_num = 1;
        up.apply(&mut u1);
        assert_eq!(
            (&u1.vars["a"], &u1.vars["b"], &u1.vars["c"]),
            (&"a1".to_string(), &"b1".to_string(), &"c1".to_string())
        );
        // Thread 2 (0-based 1) takes column 1; its b reads the a it just stored.
        let mut u2 = user(&[("c", "before")]);
        u2.thread_num = 2;
        up.apply(&mut u2);
        assert_eq!(u2.vars["a"], "a2");
        assert_eq!(u2.vars["b"], "[a2]");
        assert_eq!(u2.vars["c"], "before");
        // Thread 3 (0-based 2) wraps to column 0.
        let mut u3 = user(&[]);
        u3.thread_num = 3;
        up.apply(&mut u3);
        assert_eq!(u3.vars["a"], "a1");
    }
}
