//! Scripts run as functions: `${__groovy(…)}` / `${__BeanShell(…)}` per use, or once before the
//! run when their value must be fixed then.

use std::collections::HashMap;

use super::{Bindings, Dialect, LiveProps, Script};
use crate::error::{At, RunnerError};
use crate::text::template::UserCtx;

/// Runs `script` as `__groovy` / `__BeanShell` do: its value as text (`""` for null, as JMeter
/// prints a null result); an error as text. `Thread.sleep` does not wait here.
pub(crate) fn run_function(
    script: &Script,
    user: &mut UserCtx,
    props: &LiveProps,
) -> Result<String, String> {
    let mut b = Bindings {
        user,
        props,
        sample: None,
        verdict: None,
        sampler_name: "",
        element: "script function",
        base_dir: "",
        params: "",
        sleep_ms: 0,
        header_edits: Vec::new(),
    };
    let v = script
        .run(&mut b, &mut HashMap::new())
        .map_err(|e| e.to_string())?;
    Ok(if v.is_null() {
        String::new()
    } else {
        v.text(script.dialect())
    })
}

/// `${__BeanShell(…)}` / `${__groovy(…)}` where the value must be fixed before the run: the
/// script runs now, once, over `vars` (the user-defined variables known now) and `props`, with
/// the plan's folder as `FileServer`'s base directory; `args[1]`, when given, is not set.
pub(crate) fn run_now(
    function: &str,
    args: &[String],
    vars: &std::collections::BTreeMap<String, String>,
    props: &LiveProps,
    base_dir: &str,
    at: At<'_>,
) -> Result<String, RunnerError> {
    let dialect = if function == "groovy" {
        Dialect::Groovy
    } else {
        Dialect::Java
    };
    let fail = |e: String| RunnerError::Script {
        element: at.element.to_string(),
        property: at.property.to_string(),
        message: format!("__{function}: {e}"),
    };
    let src = args.first().map(String::as_str).unwrap_or_default();
    let script = Script::compile(src, dialect, None).map_err(|e| fail(e.to_string()))?;
    let mut user = UserCtx::new(
        vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        1,
    );
    let mut b = Bindings {
        user: &mut user,
        props,
        sample: None,
        verdict: None,
        sampler_name: "",
        element: at.element,
        base_dir,
        params: "",
        sleep_ms: 0,
        header_edits: Vec::new(),
    };
    let v = script
        .run(&mut b, &mut HashMap::new())
        .map_err(|e| fail(e.to_string()))?;
    Ok(if v.is_null() {
        String::new()
    } else {
        v.text(dialect)
    })
}
