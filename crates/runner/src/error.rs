//! The runner's errors: what made a plan impossible to compile, or a run stop early. Every
//! variant names the element (its `testname`) and, where there is one, the property at fault, so
//! the user knows what to change in the JMX. [`At`] carries that element and property to
//! where a value is parsed.

use loadlake_schema::SinkError;

/// Why a plan could not be compiled or run.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The JMX has no enabled `TestPlan` element.
    #[error("the JMX has no enabled TestPlan element")]
    NoTestPlan,

    /// The plan has no enabled thread group, so there is nothing to run.
    #[error("the test plan has no enabled thread group: nothing to run")]
    NoThreadGroups,

    /// An enabled element the native runner does not implement. It is never skipped silently:
    /// disable it in the plan, or run the plan with JMeter.
    #[error(
        "element \"{element}\" ({class}) is not supported by the native runner; disable it in \
         the plan or run the plan with JMeter"
    )]
    Unsupported {
        /// The element's `testname`.
        element: String,
        /// Its test class (without Java package).
        class: String,
    },

    /// A supported element uses a setting the native runner does not implement.
    #[error("element \"{element}\": {property} = \"{value}\" is not supported: {reason}")]
    UnsupportedSetting {
        /// The element's `testname`.
        element: String,
        /// The property name.
        property: String,
        /// The property's value (after variable substitution).
        value: String,
        /// What is supported instead.
        reason: String,
    },

    /// A `${__function(…)}` the native runner does not implement.
    #[error(
        "element \"{element}\", property {property}: function {function} is not supported by \
         the native runner (see docs/runner.md for the functions it implements)"
    )]
    UnsupportedFunction {
        /// The element's `testname`.
        element: String,
        /// The property whose value calls the function.
        property: String,
        /// The function name, e.g. `__Random`.
        function: String,
    },

    /// A per-request function where the value must be fixed before the run (a thread count,
    /// a host, a timer's delay, an assertion's pattern, …).
    #[error(
        "element \"{element}\", property {property}: function {function} gives a new value per \
         request; the native runner needs a fixed value here"
    )]
    RuntimeFunction {
        /// The element's `testname`.
        element: String,
        /// The property whose value calls the function.
        property: String,
        /// The function name, e.g. `__Random`.
        function: String,
    },

    /// A property value that cannot be used (not a number, a malformed regex, …).
    #[error("element \"{element}\", property {property}: \"{value}\" is not {expected}")]
    InvalidValue {
        /// The element's `testname`.
        element: String,
        /// The property name.
        property: String,
        /// The value after variable substitution.
        value: String,
        /// What was expected, e.g. "a whole number".
        expected: String,
    },

    /// A thread group loops forever and nothing bounds it in time.
    #[error(
        "thread group \"{group}\" loops forever and has no duration: set ThreadGroup.scheduler \
         and ThreadGroup.duration, a loop count, or a run duration"
    )]
    Unbounded {
        /// The thread group's `testname`.
        group: String,
    },

    /// The open-model options cannot be used as given.
    #[error("open model: {0}")]
    OpenModel(String),

    /// The sample sink refused a batch; the run was stopped.
    #[error("the sample sink failed: {0}")]
    Sink(#[from] SinkError),

    /// A sample could not be added to a batch (an Arrow error, reported as text).
    #[error("could not build a sample batch: {0}")]
    Batch(String),

    /// A script (a JSR223 / BeanShell element) outside the supported subset, malformed, or
    /// unreadable.
    #[error(
        "element \"{element}\", property {property}: {message} (docs/scripts.md lists what \
         runs natively)"
    )]
    Script {
        /// The element's `testname`.
        element: String,
        /// The property holding the script (`script`, `filename`).
        property: String,
        /// The refusal with its script line (`script line 4: 'new java.net.Socket' is not
        /// supported`).
        message: String,
    },

    /// Several things in the plan the native runner cannot run, all found in one pass, each
    /// with where it is (a single one is reported as its own error).
    #[error(
        "the native runner cannot run this plan: {} problems (fix or disable each, or run the \
         plan with JMeter):{}",
        .0.len(),
        list(.0)
    )]
    Refusals(Vec<Refusal>),
}

/// One of [`RunnerError::Refusals`]: what is refused and where.
#[derive(Debug)]
pub struct Refusal {
    /// The names of the enclosing elements, outermost first (`"Group" > "Sampler"`).
    pub at: String,
    /// What is refused.
    pub error: RunnerError,
}

/// The refusals numbered, one per line.
fn list(all: &[Refusal]) -> String {
    all.iter()
        .enumerate()
        .map(|(i, r)| format!("\n  {}. at {}: {}", i + 1, r.at, r.error))
        .collect()
}

impl RunnerError {
    /// Shorthand for [`RunnerError::InvalidValue`].
    pub(crate) fn invalid(
        element: &str,
        property: &str,
        value: &str,
        expected: &str,
    ) -> RunnerError {
        RunnerError::InvalidValue {
            element: element.to_string(),
            property: property.to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    /// Shorthand for [`RunnerError::UnsupportedSetting`].
    pub(crate) fn setting(element: &str, property: &str, value: &str, reason: &str) -> RunnerError {
        RunnerError::UnsupportedSetting {
            element: element.to_string(),
            property: property.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Where a value comes from, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    pub element: &'a str,
    pub property: &'a str,
}
