//! Compiling logic controllers (Simple, Loop, Transaction, If, While, Switch, Once Only,
//! Throughput, Runtime) and CSV Data Sets; timers are in [`crate::compile::timers`]. Every
//! controller owns the CSV Data Sets directly under it (or under its samplers): those advance
//! each time the controller begins an iteration, as JMeter's iteration listeners do (JMeter's
//! TestCompiler registers a data set with its nearest enclosing controller).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use loadlake_plan::TestElement;

use crate::compile::{Compiler, Kind, Scope, kind};
use crate::elements::csv_data_set::{CsvDataSet, CsvSettings, ShareMode};
use crate::error::At;
use crate::error::RunnerError;
use crate::model::{CsvFeed, DataFile, Step, ThroughputCounts, ThroughputRule, WhileCondition};
use crate::text::condition::Condition;
use crate::text::template::Template;

impl Compiler<'_> {
    /// A logic controller and its children, with the CSV Data Sets it owns.
    pub(crate) fn controller(
        &mut self,
        c: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<Step, RunnerError> {
        let name = self.eval(&c.name, "testname", &c.name)?;
        let mut feeds = Vec::new();
        let step = match kind(c) {
            Kind::Simple => {
                let steps = self.steps(&c.children, scope, &mut feeds)?;
                Step::Simple { name, feeds, steps }
            }
            Kind::OnceOnly => {
                let steps = self.steps(&c.children, scope, &mut feeds)?;
                Step::OnceOnly {
                    name,
                    id: self.id(),
                    feeds,
                    steps,
                }
            }
            Kind::Loop => {
                let loops = self.loops(&c.name, c.prop_str("LoopController.loops"))?;
                let continue_forever = self.flag(c, "LoopController.continue_forever", true)?;
                let steps = self.steps(&c.children, scope, &mut feeds)?;
                Step::Loop {
                    name,
                    loops,
                    id: self.id(),
                    continue_forever,
                    feeds,
                    steps,
                }
            }
            Kind::Transaction => {
                let parent = self.flag(c, "TransactionController.parent", false)?;
                // JMeter checks the assertions in the controller's scope (its own children's
                // and its ancestors') against a parent-mode transaction sample only.
                let assertions = if parent {
                    self.checks(&scope.extend(&c.children))?
                } else {
                    Vec::new()
                };
                Step::Transaction {
                    name,
                    parent,
                    include_timers: self.flag(c, "TransactionController.includeTimers", true)?,
                    assertions,
                    steps: self.steps(&c.children, scope, &mut feeds)?,
                    feeds,
                }
            }
            Kind::If => {
                let prop = "IfController.condition";
                let use_expression = self.flag(c, "IfController.useExpression", false)?;
                let condition = Condition::compile(
                    c.prop_str(prop).unwrap_or(""),
                    use_expression,
                    self.ev.props(),
                    At {
                        element: &c.name,
                        property: prop,
                    },
                )?;
                Step::If {
                    name,
                    condition: Box::new(condition),
                    evaluate_all: self.flag(c, "IfController.evaluateAll", false)?,
                    steps: self.steps(&c.children, scope, &mut feeds)?,
                    feeds,
                }
            }
            Kind::While => {
                let prop = "WhileController.condition";
                let raw = self.eval_deferred(&c.name, prop, c.prop_str(prop).unwrap_or(""))?;
                let condition = match raw.trim() {
                    "" => WhileCondition::LastSampleOk,
                    "LAST" => WhileCondition::Last,
                    _ => WhileCondition::Text(self.template(&c.name, prop, &raw)?),
                };
                let steps = self.steps(&c.children, scope, &mut feeds)?;
                Step::While {
                    name,
                    condition,
                    feeds,
                    steps,
                }
            }
            Kind::Switch => {
                let prop = "SwitchController.value";
                let raw = self.eval_deferred(&c.name, prop, c.prop_str(prop).unwrap_or(""))?;
                Step::Switch {
                    name,
                    value: self.template(&c.name, prop, &raw)?,
                    steps: self.steps(&c.children, scope, &mut feeds)?,
                    feeds,
                }
            }
            Kind::Throughput => {
                let rule = self.throughput_rule(c)?;
                let per_thread = self.flag(c, "ThroughputController.perThread", false)?;
                let shared = (!per_thread).then(|| {
                    self.shared_counts
                        .entry(c as *const TestElement)
                        .or_insert_with(|| Arc::new(Mutex::new(ThroughputCounts::default())))
                        .clone()
                });
                Step::Throughput {
                    name,
                    id: self.id(),
                    rule,
                    shared,
                    steps: self.steps(&c.children, scope, &mut feeds)?,
                    feeds,
                }
            }
            Kind::Runtime => {
                let seconds = self.count(c, "RunTime.seconds", 0)?;
                Step::Runtime {
                    name,
                    limit: Duration::from_secs(seconds),
                    steps: self.steps(&c.children, scope, &mut feeds)?,
                    feeds,
                }
            }
            Kind::ForEach => {
                let sep = if self.flag(c, "ForeachController.useSeparator", true)? {
                    "_"
                } else {
                    ""
                };
                // JMeter's GUI leaves an empty index out (then the default applies); one
                // written empty reads as 0 (`getPropertyAsInt` of "").
                let index = |me: &Self, prop: &str, absent: i64| match c.prop_str(prop) {
                    None => Ok(absent),
                    Some(raw) => me.number(&c.name, prop, Some(raw), 0),
                };
                Step::ForEach {
                    name,
                    input: format!("{}{sep}", self.text(c, "ForeachController.inputVal")?),
                    output: self.text(c, "ForeachController.returnVal")?,
                    start: index(self, "ForeachController.startIndex", 0)?,
                    end: index(self, "ForeachController.endIndex", i64::MAX)?,
                    steps: self.steps(&c.children, scope, &mut feeds)?,
                    feeds,
                }
            }
            Kind::Interleave => {
                let random = c.class_name() == "RandomController";
                // Style 0 ("ignore sub-controller blocks") takes one request of a child
                // controller at a time; only whole blocks (style 1) are implemented.
                let style = self.number(
                    &c.name,
                    "InterleaveControl.style",
                    c.prop_str("InterleaveControl.style"),
                    0,
                )?;
                let steps = self.steps(&c.children, scope, &mut feeds)?;
                if style == 0
                    && steps
                        .iter()
                        .any(|s| !matches!(s, Step::Http(_) | Step::Local(_) | Step::Action(_)))
                {
                    return Err(RunnerError::setting(
                        &c.name,
                        "InterleaveControl.style",
                        "0",
                        "\"ignore sub-controller blocks\" with a controller among the children \
                         is not implemented (uncheck it: each child controller runs as a block)",
                    ));
                }
                Step::Interleave {
                    name,
                    id: self.id(),
                    random,
                    feeds,
                    steps,
                }
            }
            Kind::Module => return self.module_controller(c, scope),
            Kind::Include => return self.include_controller(c, scope),
            _ => return Err(crate::compile::unsupported(c)),
        };
        Ok(step)
    }

    /// A run-time template of `element`'s `property`, from text already evaluated with
    /// [`crate::compile::vars::Evaluator::eval_deferred`].
    pub(crate) fn template(
        &self,
        element: &str,
        property: &str,
        text: &str,
    ) -> Result<Template, RunnerError> {
        Template::parse_with(
            text,
            self.ev.props(),
            self.ev.runtime_props(),
            At { element, property },
        )
    }

    fn throughput_rule(&self, c: &TestElement) -> Result<ThroughputRule, RunnerError> {
        let style = self.number(
            &c.name,
            "ThroughputController.style",
            c.prop_str("ThroughputController.style"),
            0,
        )?;
        match style {
            0 => Ok(ThroughputRule::Total(self.count(
                c,
                "ThroughputController.maxThroughput",
                1,
            )?)),
            1 => {
                let prop = "ThroughputController.percentThroughput";
                let raw = self.text(c, prop)?;
                let pct = match raw.trim() {
                    "" => c.prop_f64(prop).unwrap_or(100.0),
                    t => t
                        .parse::<f64>()
                        .map_err(|_| RunnerError::invalid(&c.name, prop, t, "a percentage"))?,
                };
                if !(0.0..=100.0).contains(&pct) {
                    return Err(RunnerError::invalid(
                        &c.name,
                        prop,
                        &pct.to_string(),
                        "a percentage from 0 to 100",
                    ));
                }
                Ok(ThroughputRule::Percent(pct))
            }
            other => Err(RunnerError::invalid(
                &c.name,
                "ThroughputController.style",
                &other.to_string(),
                "0 (total executions) or 1 (percent executions)",
            )),
        }
    }

    /// Marks the variables that extractors, CSV Data Sets, Counters and User Parameters set
    /// while the test runs, so that samplers read them per request instead of the start values.
    pub(crate) fn mark_runtime_variables(&mut self, tp: &TestElement) -> Result<(), RunnerError> {
        self.mark_runtime_in(tp.enabled_descendants())?;
        self.mark_modules(tp)
    }

    /// Marks the variables that `elements` set while the test runs.
    pub(crate) fn mark_runtime_in<'e>(
        &mut self,
        elements: impl Iterator<Item = &'e TestElement>,
    ) -> Result<(), RunnerError> {
        let mut names = Vec::new();
        for e in elements {
            match e.class_name() {
                "RegexExtractor" => names.push(self.text(e, "RegexExtractor.refname")?),
                "BoundaryExtractor" => names.push(self.text(e, "BoundaryExtractor.refname")?),
                "JSONPathExtractor" => names.push(self.text(e, "VAR")?),
                "JSONPostProcessor" => names.extend(
                    self.text(e, "JSONPostProcessor.referenceNames")?
                        .split(';')
                        .map(str::to_string),
                ),
                "CSVDataSet" => names.extend(self.csv_data(e)?.names.clone()),
                "CounterConfig" => names.push(self.text(e, "CounterConfig.name")?),
                "RandomVariableConfig" => names.push(self.text(e, "variableName")?),
                "ForeachController" => names.push(self.text(e, "ForeachController.returnVal")?),
                "UserParameters" => names.extend(self.user_parameter_names(e)?),
                _ => {}
            }
        }
        for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            self.ev.runtime_var(n);
        }
        Ok(())
    }

    /// The CSV Data Set `e`, read once per run.
    fn csv_data(&mut self, e: &TestElement) -> Result<CsvDataSet, RunnerError> {
        let key = e as *const TestElement;
        if let Some(d) = self.csv_loaded.get(&key) {
            return Ok(d.clone());
        }
        let text = |p: &str| self.text(e, p);
        let (filename, file_encoding, variable_names, delimiter, share_mode) = (
            text("filename")?,
            text("fileEncoding")?,
            text("variableNames")?,
            text("delimiter")?,
            text("shareMode")?,
        );
        let settings = CsvSettings {
            element: &e.name,
            filename: filename.trim(),
            file_encoding: file_encoding.trim(),
            variable_names: &variable_names,
            ignore_first_line: self.flag(e, "ignoreFirstLine", false)?,
            delimiter: &delimiter,
            quoted_data: self.flag(e, "quotedData", false)?,
            recycle: self.flag(e, "recycle", true)?,
            stop_thread: self.flag(e, "stopThread", false)?,
            share_mode: share_mode.trim(),
        };
        let data = match self.files.shipped.get(settings.filename) {
            Some(bytes) => {
                let shown = format!("{} (sent with the plan)", settings.filename);
                CsvDataSet::parse(&settings, &shown, bytes)?
            }
            None => {
                let data = CsvDataSet::load(&settings, &self.files.base_dir)?;
                let name = settings.filename.to_string();
                if !self.data_files.iter().any(|f| f.name == name) {
                    let path = self.files.base_dir.join(&name);
                    self.data_files.push(DataFile { name, path });
                }
                data
            }
        };
        self.csv_loaded.insert(key, data.clone());
        Ok(data)
    }

    /// The CSV Data Set `e` with the read position its share mode calls for.
    pub(crate) fn csv_feed(&mut self, e: &TestElement) -> Result<CsvFeed, RunnerError> {
        let data = self.csv_data(e)?;
        let path = data.source.clone();
        // JMeter keys shared positions by the file name as written (FileServer aliases).
        let key = match &data.share {
            ShareMode::All => Some(format!("all {}", data.alias)),
            ShareMode::Group => Some(format!("group {} {}", self.group_index, data.alias)),
            ShareMode::Thread => None,
            // JMeter shares a named position among the data sets of that name and file.
            ShareMode::Named(n) => Some(format!("named {n} {path}")),
        };
        let shared = key.map(|k| self.csv_cursors.entry(k).or_default().clone());
        Ok(CsvFeed {
            id: self.id(),
            data,
            shared,
        })
    }
}
