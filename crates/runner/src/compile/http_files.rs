//! File uploads and multipart bodies of an HTTP Request, decided as JMeter's `HTTPSamplerBase`
//! and `HTTPHC4Impl` do (apache/jmeter tag `v2_13`; the same rules in 5.x):
//!
//! - `getSendFileAsPostBody`: exactly one file, with a path and no parameter name → a POST
//!   without arguments, a PUT or a PATCH sends the file itself as the body, with the file's MIME
//!   type (else `application/x-www-form-urlencoded`) unless a Header Manager sets a
//!   `Content-Type`.
//! - `getUseMultipartForPost`: a POST with "Use multipart/form-data" or with files not sent as
//!   the body → `multipart/form-data` ([`crate::http::multipart`]): the arguments (those whose
//!   name is blank or a lone `${…}` skipped, as `Argument.isSkippable`), then the files.
//! - Otherwise files are not sent (a POST with arguments and one unnamed file sends the form),
//!   as in JMeter; `--validate` warns.
//!
//! Files are read when the plan is compiled, relative to the plan's folder (JMeter 5 resolves
//! them against the base directory; 2.13 against the working directory), and sent to agents
//! with the plan. A file path or a multipart value set while the test runs is refused, except
//! run-time values in the arguments of a multipart body without files.

use std::path::Path;

use bytes::Bytes;
use loadlake_plan::TestElement;

use crate::compile::Compiler;
use crate::error::RunnerError;
use crate::http::multipart::{FilePart, Multipart, TextPart, new_boundary};
use crate::model::DataFile;

/// One `HTTPFileArg`, substituted.
pub(crate) struct FileArg {
    path: String,
    param: String,
    mime: String,
}

/// What files and multipart make of a request's body.
pub(crate) enum FileBody {
    /// Nothing changes: the arguments are sent as usual.
    None,
    /// This body (a multipart body or a file), with the `Content-Type` sent when no Header
    /// Manager sets one; `fixed`: no run-time references to fill in (a file's bytes).
    Body {
        body: Bytes,
        content_type: String,
        fixed: bool,
    },
}

/// A text argument for a multipart body.
pub(crate) struct PartArg<'a> {
    /// `Argument.name`.
    pub name: &'a str,
    /// `Argument.value`.
    pub value: &'a str,
}

impl Compiler<'_> {
    /// The sampler's `HTTPsampler.Files` (rows without a path left out).
    pub(crate) fn file_args(&self, s: &TestElement) -> Result<Vec<FileArg>, RunnerError> {
        let Some(list) = s
            .prop_element("HTTPsampler.Files")
            .and_then(|f| f.props.get_collection("HTTPFileArgs.files"))
        else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for f in list.values().filter_map(|p| p.as_element()) {
            let text = |prop: &str| self.eval(&s.name, prop, f.prop_str(prop).unwrap_or(""));
            let path = text("File.path")?.trim().to_string();
            if path.is_empty() {
                continue;
            }
            out.push(FileArg {
                path,
                param: text("File.paramname")?.trim().to_string(),
                mime: text("File.mimetype")?.trim().to_string(),
            });
        }
        Ok(out)
    }

    /// The body that files and multipart make for sampler `s` (see the module documentation).
    pub(crate) fn file_body(
        &mut self,
        s: &TestElement,
        method: &str,
        args: &[PartArg<'_>],
        charset: &str,
    ) -> Result<FileBody, RunnerError> {
        let el = s.name.as_str();
        let files = self.file_args(s)?;
        let multipart_flag = self.flag(s, "HTTPSampler.DO_MULTIPART_POST", false)?;
        let as_body = files.len() == 1 && files[0].param.is_empty();
        let post = method == "POST";
        if post && (multipart_flag || (!files.is_empty() && !as_body)) {
            if args
                .iter()
                .any(|a| a.name.contains("${") || a.value.contains("${"))
                && !files.is_empty()
            {
                return Err(RunnerError::setting(
                    el,
                    "HTTPsampler.Files",
                    &files[0].path,
                    "a multipart body with files and values set while the test runs is not \
                     implemented",
                ));
            }
            let mut parts = Multipart {
                boundary: new_boundary(),
                charset: (!charset.is_empty()).then(|| charset.to_string()),
                browser_compatible: self.flag(
                    s,
                    "HTTPSampler.BROWSER_COMPATIBLE_MULTIPART",
                    false,
                )?,
                texts: args
                    .iter()
                    .filter(|a| !skippable(a.name))
                    .map(|a| TextPart {
                        name: a.name.to_string(),
                        value: a.value.to_string(),
                    })
                    .collect(),
                files: Vec::new(),
            };
            for f in &files {
                let content = self.read_upload(el, &f.path)?;
                parts.files.push(FilePart {
                    name: f.param.clone(),
                    filename: file_name(&f.path),
                    mime_type: f.mime.clone(),
                    content,
                });
            }
            return Ok(FileBody::Body {
                body: Bytes::from(parts.body()),
                content_type: parts.content_type(),
                fixed: !files.is_empty(),
            });
        }
        let sends_file =
            as_body && ((post && args.is_empty()) || matches!(method, "PUT" | "PATCH"));
        if sends_file {
            let f = &files[0];
            let content = self.read_upload(el, &f.path)?;
            let content_type = if f.mime.is_empty() {
                "application/x-www-form-urlencoded".to_string()
            } else {
                f.mime.clone()
            };
            return Ok(FileBody::Body {
                body: Bytes::from(content),
                content_type,
                fixed: true,
            });
        }
        if !files.is_empty() {
            self.report.warn(format!(
                "element \"{el}\": its files are not sent with a {method} request{}, as in JMeter",
                if post { " that has arguments" } else { "" }
            ));
        }
        Ok(FileBody::None)
    }

    /// An upload's bytes: sent with the plan, else read relative to the plan's folder.
    fn read_upload(&mut self, el: &str, path: &str) -> Result<Vec<u8>, RunnerError> {
        if path.contains("${") {
            return Err(RunnerError::setting(
                el,
                "File.path",
                path,
                "a file chosen while the test runs is not implemented (the runner reads uploads \
                 when the plan is compiled)",
            ));
        }
        if let Some(bytes) = self.files.shipped.get(path) {
            return Ok(bytes.clone());
        }
        let full = self.files.base_dir.join(path);
        let bytes = std::fs::read(&full).map_err(|err| {
            RunnerError::invalid(
                el,
                "File.path",
                &full.to_string_lossy(),
                &format!("a readable file ({err})"),
            )
        })?;
        if !self.data_files.iter().any(|f| f.name == path) {
            self.data_files.push(DataFile {
                name: path.to_string(),
                path: full,
            });
        }
        Ok(bytes)
    }
}

/// `Argument.isSkippable`: a blank name, or a name that is a lone `${…}` left unset.
fn skippable(name: &str) -> bool {
    let t = name.trim();
    t.is_empty() || (t.starts_with("${") && name.ends_with('}'))
}

/// `java.io.File.getName()`: the last component of `path` (`/` or `\`).
fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
        .rsplit('\\')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skippable_names_follow_argument_is_skippable() {
        assert!(skippable(""));
        assert!(skippable("  "));
        assert!(skippable("${unset}"));
        assert!(!skippable("a${b}"));
        assert!(!skippable("title"));
    }

    #[test]
    fn file_names_are_the_last_component() {
        assert_eq!(file_name("data/up/a.csv"), "a.csv");
        assert_eq!(file_name("Assignment 5.csv"), "Assignment 5.csv");
        assert_eq!(file_name("C:\\tmp\\x.jpg"), "x.jpg");
    }
}
