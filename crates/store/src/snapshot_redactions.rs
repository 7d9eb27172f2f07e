//! Redactions of the pinned-format snapshots, one home for the store's tests
//! (`snapshot_tests.rs`) and the CLI's (`tests/e2e/snapshots.rs`, which includes this file):
//! each checks that the value it hides has the expected form before hiding it.

use insta::internals::{Content, ContentPath};

/// A redaction that checks the value is a run id (`YYYYMMDD-HHMMSS-xxxx`) first.
pub(crate) fn run_id_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        let id = value.as_str().unwrap_or_default();
        assert!(
            loadlake_schema::RunId::parse(id).is_ok(),
            "{path}: {value:?} is not a run id"
        );
        "[run_id]"
    })
}

/// A redaction that checks the value is an epoch-ms clock reading of this century first.
pub(crate) fn epoch_ms_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        let ms = value.as_i64().unwrap_or_default();
        assert!(
            (1_600_000_000_000..4_000_000_000_000).contains(&ms),
            "{path}: {value:?} is not epoch ms"
        );
        "[epoch_ms]"
    })
}

/// A redaction that checks the value is an RFC 3339 UTC time first.
pub(crate) fn rfc3339_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        let text = value.as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z'),
            "{path}: {value:?} is not an RFC 3339 UTC time"
        );
        "[rfc3339]"
    })
}

/// A redaction that checks the value is `loadlake <version>` first.
pub(crate) fn created_by_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        let text = value.as_str().unwrap_or_default();
        assert_eq!(
            text,
            format!("loadlake {}", env!("CARGO_PKG_VERSION")),
            "{path}"
        );
        "loadlake [version]"
    })
}

/// Map keys sorted, so the snapshots do not depend on serde_json's `preserve_order` feature.
pub(crate) fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_sort_maps(true);
    s
}

/// A redaction that checks the value is the key of a run's part
/// (`samples/run_id=<id>/part-….parquet`) first.
pub(crate) fn part_path_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        let text = value.as_str().unwrap_or_default();
        let ok = text
            .strip_prefix("samples/run_id=")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(id, file)| {
                loadlake_schema::RunId::parse(id).is_ok()
                    && file.starts_with("part-")
                    && file.ends_with(".parquet")
            });
        assert!(ok, "{path}: {value:?} is not the key of a part");
        "samples/run_id=[run_id]/[part].parquet"
    })
}

/// A redaction that checks the value is a positive byte count first (a Parquet file's size
/// changes with the writer's version).
pub(crate) fn byte_size_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value: Content, path: ContentPath<'_>| {
        let size = value.as_u64().unwrap_or_default();
        assert!(size > 0, "{path}: {value:?} is not a size");
        "[bytes]"
    })
}
