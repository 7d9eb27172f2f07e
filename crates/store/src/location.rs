//! Where a store is: what `--store` (or `LOADLAKE_HOME`) may say.
//!
//! A store is a local directory, given as a path or a `file://` URL. Object storage
//! (`s3://`, `gs://`, `az://` …) is not supported by this version; naming it is an error, never
//! a local directory that happens to be called `s3:`.

use std::path::PathBuf;

/// Why a store location was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// An object-storage URL: this version keeps stores in local directories.
    #[error(
        "'{0}': object storage ({1}://) is not supported by this version of loadlake; a store is a local directory (a path or file:///path)"
    )]
    ObjectStorage(String, String),
    /// A URL whose scheme no store has.
    #[error(
        "'{0}': unknown store scheme '{1}://' (a store is a local directory: a path or file:///path)"
    )]
    UnknownScheme(String, String),
    /// A `file://` URL with a host, or not an absolute path.
    #[error("'{0}': a file URL must be file:///absolute/path (no host)")]
    BadFileUrl(String),
    /// Nothing at all.
    #[error("the store location is empty")]
    Empty,
}

/// Schemes of the object stores users are likely to name (those of the `object_store` crate).
const OBJECT_STORE_SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "gcs", "az", "adl", "azure", "abfs", "abfss", "http", "https", "memory",
];

/// The local directory `location` names: a path as it is, or the path of a `file:///` URL.
pub fn store_dir(location: &str) -> Result<PathBuf, LocationError> {
    if location.is_empty() {
        return Err(LocationError::Empty);
    }
    let Some((scheme, rest)) = location.split_once("://") else {
        return Ok(PathBuf::from(location));
    };
    // A scheme is a letter then letters, digits, `+`, `-`, `.` (RFC 3986); anything else before
    // `://` is part of a path.
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return Ok(PathBuf::from(location));
    }
    let scheme_lower = scheme.to_ascii_lowercase();
    if scheme_lower == "file" {
        return match rest.strip_prefix('/') {
            Some(_) => Ok(PathBuf::from(rest)),
            None => Err(LocationError::BadFileUrl(location.to_string())),
        };
    }
    if OBJECT_STORE_SCHEMES.contains(&scheme_lower.as_str()) {
        return Err(LocationError::ObjectStorage(
            location.to_string(),
            scheme_lower,
        ));
    }
    Err(LocationError::UnknownScheme(
        location.to_string(),
        scheme.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_file_urls_are_directories_and_other_schemes_are_refused() {
        assert_eq!(store_dir("data").unwrap(), PathBuf::from("data"));
        assert_eq!(store_dir("/srv/ll").unwrap(), PathBuf::from("/srv/ll"));
        assert_eq!(store_dir("./a://b").unwrap(), PathBuf::from("./a://b"));
        assert_eq!(
            store_dir("file:///srv/ll").unwrap(),
            PathBuf::from("/srv/ll")
        );
        assert_eq!(store_dir("FILE:///x").unwrap(), PathBuf::from("/x"));
        assert_eq!(
            store_dir("file://host/x"),
            Err(LocationError::BadFileUrl("file://host/x".into()))
        );
        let e = store_dir("s3://perf-results/team-a").unwrap_err();
        assert_eq!(
            e,
            LocationError::ObjectStorage("s3://perf-results/team-a".into(), "s3".into())
        );
        assert!(e.to_string().contains("not supported"), "{e}");
        assert!(
            matches!(store_dir("GS://b"), Err(LocationError::ObjectStorage(_, s)) if s == "gs")
        );
        assert!(matches!(
            store_dir("ftp://x/y"),
            Err(LocationError::UnknownScheme(_, s)) if s == "ftp"
        ));
        assert_eq!(store_dir(""), Err(LocationError::Empty));
    }
}
