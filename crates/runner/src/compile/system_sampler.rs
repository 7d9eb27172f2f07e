//! The OS Process Sampler (`SystemSampler`) compiled into a [`SystemCommand`]: command,
//! arguments, environment and directory as run-time templates, `checkReturnCode`,
//! `expectedReturnCode` and `timeout` (`getPropertyAsBoolean` / `getPropertyAsInt` /
//! `getPropertyAsLong`: false, 0, 0 when absent), and the files of the standard streams.

use loadlake_plan::TestElement;

use crate::compile::Compiler;
use crate::elements::system_command::SystemCommand;
use crate::error::RunnerError;
use crate::text::template::Template;

impl Compiler<'_> {
    /// The command of OS Process Sampler `e`.
    pub(crate) fn system_command(&mut self, e: &TestElement) -> Result<SystemCommand, RunnerError> {
        let el = e.name.as_str();
        let template = |c: &Self, prop: &str, raw: &str| -> Result<Template, RunnerError> {
            let text = c.eval_deferred(el, prop, raw)?;
            c.template(el, prop, &text)
        };
        // A property of the sampler itself as a template.
        let own = |c: &Self, prop: &str| template(c, prop, e.prop_str(prop).unwrap_or(""));
        let list = |name: &str| {
            e.prop_element(name)
                .and_then(|a| a.props.get_collection("Arguments.arguments"))
                .map(|c| {
                    c.values()
                        .filter_map(|p| p.as_element())
                        .map(|a| {
                            (
                                a.prop_str("Argument.name").unwrap_or("").to_string(),
                                a.prop_str("Argument.value").unwrap_or("").to_string(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let args = list("SystemSampler.arguments")
            .iter()
            .map(|(_, v)| template(self, "SystemSampler.arguments", v))
            .collect::<Result<Vec<_>, _>>()?;
        let env = list("SystemSampler.environment")
            .iter()
            .map(|(n, v)| Ok((n.clone(), template(self, "SystemSampler.environment", v)?)))
            .collect::<Result<Vec<_>, RunnerError>>()?;
        let number = |c: &Self, prop: &str| c.number(el, prop, e.prop_str(prop), 0);
        Ok(SystemCommand {
            command: own(self, "SystemSampler.command")?,
            args,
            env,
            directory: own(self, "SystemSampler.directory")?,
            check: self
                .text(e, "SystemSampler.checkReturnCode")?
                .trim()
                .eq_ignore_ascii_case("true"),
            expected: number(self, "SystemSampler.expectedReturnCode")?,
            timeout_ms: u64::try_from(number(self, "SystemSampler.timeout")?).unwrap_or(0),
            stdin: own(self, "SystemSampler.stdin")?,
            stdout: own(self, "SystemSampler.stdout")?,
            stderr: own(self, "SystemSampler.stderr")?,
        })
    }
}
