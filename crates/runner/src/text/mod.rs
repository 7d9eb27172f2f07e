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
//! A second pair is inherent between this module and [`crate::script`]: `${__groovy(…)}` /
//! `${__BeanShell(…)}` are functions whose body is a script, and a script's `vars`, string
//! interpolation (`"${x}"`) and date / encoding helpers are this module's templates and
//! functions. Every other module depends on `text` one way.
//!
//! What is fixed before the run (`${var}` of user-defined variables, `__P`) is substituted by
//! [`crate::compile::vars`] instead.

pub(crate) mod condition;
pub(crate) mod expr;
pub(crate) mod functions;
pub(crate) mod template;
pub(crate) mod timefmt;
pub(crate) mod url;

use std::collections::BTreeMap;

/// The run's properties (`-Jname=value`), by name.
pub(crate) type Props = BTreeMap<String, String>;

/// Standard base64 with padding (RFC 4648): Basic authentication's credentials,
/// `__base64Encode` and scripts' `Base64.getEncoder()`.
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::template::tests::{render, user};

    #[test]
    fn base64_eval_var_and_file_to_string_functions() {
        let mut u = user(&[("x", "7"), ("tpl", "id-${x}-${__threadNum}")]);
        // jmeter-plugins __base64Encode: RFC 7617's example credentials.
        assert_eq!(
            render("${__base64Encode(Aladdin:open sesame)}", &mut u),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(render("${__base64Encode(ab,b64)}", &mut u), "YWI=");
        assert_eq!(u.vars["b64"], "YWI=");
        // EvalVarFunction: the value is parsed and run (user 3); undefined → empty.
        assert_eq!(render("${__evalVar(tpl)}", &mut u), "id-7-3");
        assert_eq!(render("[${__evalVar(nope)}]", &mut u), "[]");
        // FileToString: the whole file, into the variable too; unreadable → **ERR**.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body.json");
        std::fs::write(&path, "{\"a\": 1}\n").unwrap();
        let p = path.display().to_string();
        assert_eq!(
            render(&format!("${{__FileToString({p},,body)}}"), &mut u),
            "{\"a\": 1}\n"
        );
        assert_eq!(u.vars["body"], "{\"a\": 1}\n");
        assert_eq!(
            render("${__FileToString(/nonexistent/x)}", &mut u),
            "**ERR**"
        );
    }

    #[test]
    fn env_and_machine_name_functions() {
        let mut u = user(&[("v", "PATH")]);
        // jmeter-plugins __env(name[,var[,default]]): the process's variable, else the default,
        // else the name itself (as __property); static calls are fixed before the run.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(render("${__env(PATH)}", &mut u), path);
        assert_eq!(render("${__env(${v})}", &mut u), path);
        assert_eq!(render("${__env(PATH,saved)}", &mut u), path);
        assert_eq!(u.vars["saved"], path);
        let missing = "LOADLAKE_TEST_SURELY_UNSET_VARIABLE";
        assert_eq!(
            render(&format!("${{__env({missing},,dflt)}}"), &mut u),
            "dflt"
        );
        assert_eq!(render(&format!("${{__env({missing})}}"), &mut u), missing);
        // __machineName: what `hostname` prints, when the command is there.
        let name = render("${__machineName()}", &mut u);
        assert!(!name.is_empty());
        if let Ok(out) = std::process::Command::new("hostname").output() {
            assert_eq!(name, String::from_utf8_lossy(&out.stdout).trim());
        }
        assert_eq!(render("${__machineName(host)}", &mut u), name);
        assert_eq!(u.vars["host"], name);
    }

    #[test]
    fn basic_credentials_are_rfc_4648_base64() {
        // RFC 7617's example: Aladdin / open sesame.
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b""), "");
    }
}
