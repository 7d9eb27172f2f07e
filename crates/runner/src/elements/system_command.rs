//! The OS Process Sampler (`SystemSampler`) run as JMeter's `SystemSampler.sample` with
//! `SystemCommand`: the command and its arguments (each rendered per sample) started in the
//! working directory (default: the runner's current directory, JMeter's
//! `FileServer.getDefaultBase`), with the environment variables added to the runner's; its
//! standard input from the file named, else empty; its output to the file named, else read as
//! the response body; its error to the file named, else with the output (JMeter redirects the
//! error stream into the output; read, the error's text follows the output's); the exit code
//! is the response code, and with `checkReturnCode` a code other than the expected one fails
//! the sample with JMeter 2.13's message, typo included (`Uexpected return code.  Expected [e].
//! Actual [a].`). A command that cannot start fails with no response code and
//! `Exception occured whilst executing System Call: java.io.IOException: …`, one that runs past
//! the timeout is killed and fails with no response code and `System Sampler Interupted whilst
//! executing System Call: java.lang.InterruptedException: Process timeout out after N
//! milliseconds` (JMeter 2.13's `SystemSampler` and `SystemCommand`, checked against it in
//! tests/data/runner/fidelity/resources.jmx; JMeter 5 answers 500 with other texts).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::text::template::{Template, UserCtx};

/// The settings of an OS Process Sampler.
#[derive(Debug, Clone)]
pub struct SystemCommand {
    /// `SystemSampler.command`.
    pub(crate) command: Template,
    /// `SystemSampler.arguments`: the values, in order.
    pub(crate) args: Vec<Template>,
    /// `SystemSampler.environment`: names and values.
    pub(crate) env: Vec<(String, Template)>,
    /// `SystemSampler.directory` (empty: the current directory).
    pub(crate) directory: Template,
    /// `SystemSampler.checkReturnCode`.
    pub(crate) check: bool,
    /// `SystemSampler.expectedReturnCode`.
    pub(crate) expected: i64,
    /// `SystemSampler.timeout`, ms (0: none).
    pub(crate) timeout_ms: u64,
    /// `SystemSampler.stdin`: a file the standard input is read from (empty: none).
    pub(crate) stdin: Template,
    /// `SystemSampler.stdout`: a file the output goes to instead of the body (empty: none).
    pub(crate) stdout: Template,
    /// `SystemSampler.stderr`: a file the error goes to (empty: with the output).
    pub(crate) stderr: Template,
}

/// What a command answered.
#[derive(Debug)]
pub(crate) struct CommandAnswer {
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) body: String,
    pub(crate) success: bool,
    pub(crate) elapsed_ms: i64,
}

/// One run, rendered.
struct Invocation {
    cmds: Vec<String>,
    env: Vec<(String, String)>,
    directory: String,
    timeout: Option<Duration>,
    stdin: String,
    stdout: String,
    stderr: String,
}

/// JMeter 2.13's message prefix for an `IOException` (its spelling).
const IO_FAILURE: &str = "Exception occured whilst executing System Call: ";
/// JMeter 2.13's message prefix for an `InterruptedException` (its spelling).
const INTERRUPTED: &str = "System Sampler Interupted whilst executing System Call: ";

/// Java's `FileNotFoundException` message for `path`.
fn not_found(path: &str, e: &std::io::Error) -> String {
    let text = e.to_string();
    let reason = text.split(" (os error").next().unwrap_or(&text);
    format!("{IO_FAILURE}java.io.FileNotFoundException: {path} ({reason})")
}

/// The process's standard streams: files when named (relative to the runner's directory, as
/// Java's `FileInputStream` / `FileOutputStream`), else empty input, the output read, the error
/// with it (a stream read into the body is a pipe; one going to a file is not read).
struct Streams {
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
}

impl Invocation {
    fn streams(&self) -> Result<Streams, String> {
        let stdin = match self.stdin.trim() {
            "" => Stdio::null(),
            path => Stdio::from(std::fs::File::open(path).map_err(|e| not_found(path, &e))?),
        };
        let create = |path: &str| std::fs::File::create(path).map_err(|e| not_found(path, &e));
        let out_file = match self.stdout.trim() {
            "" => None,
            path => Some(create(path)?),
        };
        let err_file = match self.stderr.trim() {
            "" => None,
            path => Some(create(path)?),
        };
        // Without an error file, the error goes where the output goes.
        let stderr = match (&err_file, &out_file) {
            (Some(f), _) | (None, Some(f)) => {
                Stdio::from(f.try_clone().map_err(|e| not_found(&self.stderr, &e))?)
            }
            (None, None) => Stdio::piped(),
        };
        Ok(Streams {
            stdin,
            stdout: out_file.map_or_else(Stdio::piped, Stdio::from),
            stderr,
        })
    }
}

impl SystemCommand {
    /// The command line as written (`--validate`).
    pub(crate) fn describe(&self) -> String {
        let mut line = self.command.source().to_string();
        for a in &self.args {
            line.push(' ');
            line.push_str(a.source());
        }
        line
    }

    /// Runs the command for `user` (in a thread of its own: the user's task waits without
    /// blocking others).
    pub(crate) async fn run(&self, user: &mut UserCtx) -> CommandAnswer {
        let raw = |v: &str| v.to_string();
        let mut cmds = vec![self.command.render(user, &raw)];
        cmds.extend(self.args.iter().map(|a| a.render(user, &raw)));
        let inv = Invocation {
            cmds,
            env: self
                .env
                .iter()
                .map(|(n, v)| (n.clone(), v.render(user, &raw)))
                .collect(),
            directory: self.directory.render(user, &raw),
            timeout: (self.timeout_ms > 0).then(|| Duration::from_millis(self.timeout_ms)),
            stdin: self.stdin.render(user, &raw),
            stdout: self.stdout.render(user, &raw),
            stderr: self.stderr.render(user, &raw),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(inv.run());
        });
        let (outcome, elapsed_ms) = rx.await.unwrap_or((
            Err(format!("{INTERRUPTED}java.lang.InterruptedException")),
            0,
        ));
        match outcome {
            Ok((code, body)) => {
                let ok = !self.check || i64::from(code) == self.expected;
                CommandAnswer {
                    code: code.to_string(),
                    message: if ok {
                        "OK".to_string()
                    } else {
                        format!(
                            "Uexpected return code.  Expected [{}]. Actual [{code}].",
                            self.expected
                        )
                    },
                    body,
                    success: ok,
                    elapsed_ms,
                }
            }
            // JMeter 2.13 sets no response code when the command fails to run.
            Err(message) => CommandAnswer {
                code: String::new(),
                message,
                body: String::new(),
                success: false,
                elapsed_ms,
            },
        }
    }
}

impl Invocation {
    /// Starts the process, reads its output and waits for it (or the timeout): the exit code
    /// and the output, or JMeter's message; and the elapsed ms.
    fn run(self) -> (Result<(i32, String), String>, i64) {
        let dir = if self.directory.trim().is_empty() {
            std::env::current_dir().unwrap_or_default()
        } else {
            std::path::PathBuf::from(&self.directory)
        };
        let Some((program, args)) = self.cmds.split_first() else {
            return (Err("no command".to_string()), 0);
        };
        let start = Instant::now();
        let elapsed = |s: Instant| i64::try_from(s.elapsed().as_millis()).unwrap_or(i64::MAX);
        let streams = match self.streams() {
            Ok(s) => s,
            Err(message) => return (Err(message), elapsed(start)),
        };
        let spawned = Command::new(program)
            .args(args)
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .current_dir(&dir)
            .stdin(streams.stdin)
            .stdout(streams.stdout)
            .stderr(streams.stderr)
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                // Java's ProcessBuilder.start: `Cannot run program "x" (in directory "d"):
                // error=2, No such file or directory`.
                let text = e.to_string();
                let reason = text.split(" (os error").next().unwrap_or(&text);
                let message = format!(
                    "{IO_FAILURE}java.io.IOException: \
                     Cannot run program \"{program}\" (in directory \"{}\"): error={}, {reason}",
                    dir.display(),
                    e.raw_os_error().unwrap_or(0)
                );
                return (Err(message), elapsed(start));
            }
        };
        let reader = |stream: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                if let Some(mut s) = stream {
                    let _ = s.read_to_end(&mut text);
                }
                text
            })
        };
        let out = reader(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let err = reader(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => break Err(e.to_string()),
            }
            if self.timeout.is_some_and(|t| start.elapsed() >= t) {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "{INTERRUPTED}java.lang.InterruptedException: Process timeout out after {} \
                     milliseconds",
                    self.timeout.map_or(0, |t| t.as_millis())
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let ms = elapsed(start);
        if status.is_err() {
            // A process that was killed may have left children holding its output open: its
            // readers are not waited for (they end with the pipes).
            return (status.map(|_| (0, String::new())), ms);
        }
        let mut body = out.join().unwrap_or_default();
        body.extend(err.join().unwrap_or_default());
        let outcome = status.map(|s| (exit_code(s), String::from_utf8_lossy(&body).into_owned()));
        (outcome, ms)
    }
}

/// The exit code as Java's `Process.exitValue` gives it: a process ended by a signal has
/// 128 + the signal.
fn exit_code(s: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = s.signal() {
            return 128 + signal;
        }
    }
    s.code().unwrap_or(-1)
}
