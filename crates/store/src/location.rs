//! Where a store is: what `--store` (or `LOADLAKE_HOME`) may say.
//!
//! A store is a local directory (a path or a `file:///` URL) or a prefix in an S3-compatible
//! bucket (`s3://bucket/prefix`). Other object stores (`gs://`, `az://` …) and unknown schemes
//! are refused with an error, never taken for a local directory that happens to be called `s3:`.

use std::fmt;
use std::path::PathBuf;

/// Why a store location was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// An object store this version cannot reach yet.
    #[error(
        "'{0}': object storage {1}:// is not supported by this version of loadlake (s3://bucket/prefix is, and local directories: a path or file:///path)"
    )]
    ObjectStorage(String, String),
    /// A URL whose scheme no store has.
    #[error(
        "'{0}': unknown store scheme '{1}://' (a store is a local directory — a path or file:///path — or s3://bucket/prefix)"
    )]
    UnknownScheme(String, String),
    /// A `file://` URL with a host, or not an absolute path.
    #[error("'{0}': a file URL must be file:///absolute/path (no host)")]
    BadFileUrl(String),
    /// An `s3://` URL without a valid bucket name, or with an empty path segment.
    #[error("'{0}': an S3 store is s3://bucket/prefix (a bucket name, then an optional prefix)")]
    BadS3Url(String),
    /// Nothing at all.
    #[error("the store location is empty")]
    Empty,
}

/// A store's place: a local directory or a prefix of an S3 bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A local directory.
    Local(PathBuf),
    /// `s3://bucket/prefix`: the endpoint, credentials and region come from the standard AWS
    /// environment (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_REGION`, `AWS_ALLOW_HTTP` …).
    S3 {
        /// The bucket.
        bucket: String,
        /// Key prefix of the store inside the bucket, without leading or trailing `/`
        /// (empty: the bucket's root).
        prefix: String,
    },
}

impl From<PathBuf> for StoreLocation {
    /// A local directory.
    fn from(dir: PathBuf) -> StoreLocation {
        StoreLocation::Local(dir)
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Local(dir) => write!(f, "{}", dir.display()),
            StoreLocation::S3 { bucket, prefix } if prefix.is_empty() => {
                write!(f, "s3://{bucket}")
            }
            StoreLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Schemes of the object stores users are likely to name (those of the `object_store` crate)
/// that this version does not reach.
const OTHER_OBJECT_STORE_SCHEMES: &[&str] = &[
    "s3a", "gs", "gcs", "az", "adl", "azure", "abfs", "abfss", "http", "https", "memory",
];

/// The store `location` names: a path as it is, the path of a `file:///` URL, or an
/// `s3://bucket/prefix`.
pub fn parse_location(location: &str) -> Result<StoreLocation, LocationError> {
    if location.is_empty() {
        return Err(LocationError::Empty);
    }
    let Some((scheme, rest)) = location.split_once("://") else {
        return Ok(StoreLocation::Local(PathBuf::from(location)));
    };
    // A scheme is a letter then letters, digits, `+`, `-`, `.` (RFC 3986); anything else before
    // `://` is part of a path.
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return Ok(StoreLocation::Local(PathBuf::from(location)));
    }
    let scheme_lower = scheme.to_ascii_lowercase();
    match scheme_lower.as_str() {
        "file" => match rest.strip_prefix('/') {
            Some(_) => Ok(StoreLocation::Local(PathBuf::from(rest))),
            None => Err(LocationError::BadFileUrl(location.to_string())),
        },
        "s3" => parse_s3(location, rest),
        other if OTHER_OBJECT_STORE_SCHEMES.contains(&other) => Err(LocationError::ObjectStorage(
            location.to_string(),
            scheme_lower,
        )),
        _ => Err(LocationError::UnknownScheme(
            location.to_string(),
            scheme.to_string(),
        )),
    }
}

/// `bucket/prefix/…` of an `s3://` URL.
fn parse_s3(location: &str, rest: &str) -> Result<StoreLocation, LocationError> {
    let bad = || LocationError::BadS3Url(location.to_string());
    let rest = rest.trim_end_matches('/');
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    // S3 bucket names: 3–63 of lowercase letters, digits, `-`, `.`.
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'));
    let prefix_ok = prefix.is_empty()
        || prefix
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if !bucket_ok || !prefix_ok || prefix.contains(['?', '#']) {
        return Err(bad());
    }
    Ok(StoreLocation::S3 {
        bucket: bucket.to_string(),
        prefix: prefix.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(p: &str) -> StoreLocation {
        StoreLocation::Local(PathBuf::from(p))
    }

    #[test]
    fn paths_file_urls_and_s3_urls_are_stores_and_other_schemes_are_refused() {
        assert_eq!(parse_location("data").unwrap(), local("data"));
        assert_eq!(parse_location("/srv/ll").unwrap(), local("/srv/ll"));
        assert_eq!(parse_location("./a://b").unwrap(), local("./a://b"));
        assert_eq!(parse_location("file:///srv/ll").unwrap(), local("/srv/ll"));
        assert_eq!(parse_location("FILE:///x").unwrap(), local("/x"));
        assert_eq!(
            parse_location("file://host/x"),
            Err(LocationError::BadFileUrl("file://host/x".into()))
        );
        let s3 = parse_location("s3://perf-results/team-a/").unwrap();
        assert_eq!(
            s3,
            StoreLocation::S3 {
                bucket: "perf-results".into(),
                prefix: "team-a".into()
            }
        );
        assert_eq!(s3.to_string(), "s3://perf-results/team-a");
        assert_eq!(
            parse_location("s3://lake").unwrap().to_string(),
            "s3://lake"
        );
        for bad in [
            "s3://",
            "s3://Lake/x",
            "s3://lake//x",
            "s3://lake/../x",
            "s3://a",
        ] {
            assert!(
                matches!(parse_location(bad), Err(LocationError::BadS3Url(_))),
                "{bad}"
            );
        }
        let e = parse_location("gs://perf-results/team-a").unwrap_err();
        assert_eq!(
            e,
            LocationError::ObjectStorage("gs://perf-results/team-a".into(), "gs".into())
        );
        assert!(e.to_string().contains("not supported"), "{e}");
        assert!(matches!(
            parse_location("ftp://x/y"),
            Err(LocationError::UnknownScheme(_, s)) if s == "ftp"
        ));
        assert_eq!(parse_location(""), Err(LocationError::Empty));
    }
}
