//! If / While Controller conditions ([`Condition`]): the text is a [`Template`] rendered per user,
//! then compared with "true" or evaluated as an expression; expressions that are only known once
//! rendered are parsed through a bounded [`ExprCache`], and their syntax is checked at compile time
//! with placeholders ([`check_with_placeholders`]). Built on [`crate::text::template`] and
//! [`crate::text::expr`], used by the If and While Controllers.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{At, RunnerError};
use crate::text::expr::{Env, Expr, ExprCache};
use crate::text::template::{Template, UserCtx, check_with_placeholders};

/// IfController.condition (or a While condition), parsed at compile time.
#[derive(Debug, Clone)]
pub struct Condition {
    source: String,
    template: Template,
    use_expression: bool,
    fixed: Option<Arc<Expr>>,
    cache: ExprCache,
    props: Arc<BTreeMap<String, String>>,
}

impl Condition {
    /// `use_expression` = IfController.useExpression: true → the rendered text is compared with
    /// "true" case-insensitively; false → the rendered text is evaluated as an expression (JMeter
    /// uses JavaScript there). Syntax is checked now, with placeholders for `${…}` (see
    /// [`check_with_placeholders`]), so errors show at `--validate`.
    pub(crate) fn compile(
        text: &str,
        use_expression: bool,
        props: &BTreeMap<String, String>,
        at: At<'_>,
    ) -> Result<Condition, RunnerError> {
        let template = Template::parse(text, props, at)?;
        let mut fixed = None;
        if !use_expression {
            let checked = match template.as_static() {
                Some(s) => Expr::parse(s.trim()).map(|e| fixed = Some(Arc::new(e))),
                None => check_with_placeholders(&template),
            };
            checked.map_err(|e| {
                let expected = format!("a condition the runner can evaluate ({e})");
                RunnerError::invalid(at.element, at.property, text, &expected)
            })?;
        }
        Ok(Condition {
            source: text.to_string(),
            template,
            use_expression,
            fixed,
            cache: ExprCache::default(),
            props: Arc::new(props.clone()),
        })
    }

    /// The condition rendered for `user` and trimmed, as IfController.getCondition() reads it.
    pub fn render(&self, user: &mut UserCtx) -> String {
        self.template
            .render(user, &|v: &str| v.to_string())
            .trim()
            .to_string()
    }

    /// Renders and evaluates for `user`. In expression mode the value must print as `true` or
    /// `false` (JMeter's IfController: anything else is "BAD CONDITION"); `Err` says why the
    /// text could not be evaluated (JMeter then logs and takes the condition as false).
    pub fn eval(&self, user: &mut UserCtx) -> Result<bool, String> {
        let text = self.render(user);
        if self.use_expression {
            return Ok(text.eq_ignore_ascii_case("true"));
        }
        let parsed;
        let expr = match &self.fixed {
            Some(e) => &**e,
            None => {
                parsed = self.cache.get(&text);
                (*parsed).as_ref().map_err(|e| format!("[{text}]: {e}"))?
            }
        };
        let env = Env {
            vars: &user.vars,
            props: &self.props,
        };
        let value = expr.eval(&env).map_err(|e| format!("[{text}]: {e}"))?;
        match value.to_js_string().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("[{text}] gave {other}, expected true or false")),
        }
    }

    /// The source text, as written in the plan.
    pub fn source(&self) -> &str {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::expr::CACHE_LIMIT;
    use crate::text::expr::tests::{props, vars};

    const AT: At<'static> = At {
        element: "If",
        property: "IfController.condition",
    };

    fn user(pairs: &[(&str, &str)]) -> UserCtx {
        let mut vars = vars();
        vars.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        UserCtx::new(vars, 1)
    }

    fn cond(text: &str, use_expression: bool) -> Result<Condition, RunnerError> {
        Condition::compile(text, use_expression, &props(), AT)
    }

    #[test]
    fn condition_evaluates_the_rendered_text() {
        let c = cond(r#""${s}" == "abc" && ${n} < 20"#, false).unwrap();
        assert_eq!(c.source(), r#""${s}" == "abc" && ${n} < 20"#);
        let mut u = user(&[]);
        assert_eq!(c.eval(&mut u), Ok(true));
        u.vars.insert("n".into(), "30".into());
        assert_eq!(c.eval(&mut u), Ok(false));
        // The IfController idiom for "is x defined": "\${x}" stays literal after substitution.
        let defined = cond(r#""${x}" != "\${x}""#, false).unwrap();
        assert_eq!(defined.eval(&mut u), Ok(false));
        u.vars.insert("x".into(), "1".into());
        assert_eq!(defined.eval(&mut u), Ok(true));
        // IfController.computeResultFromString: the result must print as true or false.
        assert!(
            cond("1 + 1", false)
                .unwrap()
                .eval(&mut u)
                .unwrap_err()
                .contains("expected true or false")
        );
        assert_eq!(cond("'true'", false).unwrap().eval(&mut u), Ok(true));
        // A rendered text that does not parse is an error (JMeter logs it and takes false).
        let c = cond("${n} > 1", false).unwrap();
        u.vars.insert("n".into(), "1)".into());
        assert!(c.eval(&mut u).unwrap_err().contains("[1) > 1]"));
    }

    #[test]
    fn condition_compile_checks_syntax_with_placeholders() {
        for bad in [
            "${n} <",
            r#""${s}" = "a""#,
            "${__jexl3(1)} &&",
            "vars.get('x').foo()",
            "1 +",
        ] {
            match cond(bad, false) {
                Err(RunnerError::InvalidValue {
                    element,
                    property,
                    value,
                    expected,
                }) => {
                    assert_eq!(
                        (element.as_str(), property.as_str(), value.as_str()),
                        ("If", "IfController.condition", bad)
                    );
                    assert!(
                        expected.starts_with("a condition the runner can evaluate (column"),
                        "{expected}"
                    );
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for good in [
            "${JMeterThread.last_sample_ok}",
            r#""${s}".length > 2"#,
            "${s}.length > 2",
            "${__jexl3(1 < 2)}",
            "!${flag}",
            "'${a}${b}' == '${c}'",
        ] {
            assert!(cond(good, false).is_ok(), "{good}");
        }
        // useExpression: the text is only compared with "true", so it is not parsed.
        assert!(cond("${n} <", true).is_ok());
        assert!(matches!(
            cond("${__chooseRandom(1)}", true),
            Err(RunnerError::UnsupportedFunction { .. })
        ));
    }

    #[test]
    fn condition_use_expression_compares_with_true_ignoring_case() {
        // IfController.evaluateExpression: cond.equalsIgnoreCase("true"), after trimming.
        let mut u = user(&[("flag", "True")]);
        for (text, want) in [
            ("${__jexl3(${n} > 5)}", true),
            ("TRUE", true),
            ("yes", false),
            (" ${flag} ", true),
            ("${__jexl3(${n} > 50)}", false),
        ] {
            assert_eq!(cond(text, true).unwrap().eval(&mut u), Ok(want), "{text}");
        }
    }

    #[test]
    fn condition_cache_stays_bounded() {
        let c = cond("${n} > 5", false).unwrap();
        let mut u = user(&[]);
        for i in 0..200 {
            u.vars.insert("n".into(), i.to_string());
            assert_eq!(c.eval(&mut u), Ok(i > 5));
        }
        assert!(c.cache.0.lock().unwrap().len() <= CACHE_LIMIT);
        // Clones share the cache.
        assert!(Arc::ptr_eq(&c.cache.0, &c.clone().cache.0));
    }
}
