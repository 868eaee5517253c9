//! Where things are in a backend: the object keys of tables, data files and the crate's
//! hidden objects, and the partition values a file's key carries. Pure: no IO.

use object_store::path::Path;

use crate::error::{Error, Result};
use crate::naming::is_hidden;
use crate::partition::{self, PartitionValues};

/// The object path of a path as listed (already encoded: taken as is).
pub(crate) fn location(path: &str) -> Result<Path> {
    Path::parse(path).map_err(|e| Error::config(format!("invalid object path {path:?}: {e}")))
}

/// The partition values of a file, from the `key=value` directories between the table
/// and the file.
pub(crate) fn partition_values(table: &Path, location: &Path) -> PartitionValues {
    let Some(parts) = location.prefix_match(table) else {
        return Vec::new();
    };
    let parts: Vec<_> = parts.collect();
    let directories = &parts[..parts.len().saturating_sub(1)];
    directories
        .iter()
        .filter_map(|part| partition::decode_segment(part.as_ref()))
        .collect()
}

/// Whether `location` is a data object of the table at `table`: under it, with no
/// hidden segment on the way.
pub(crate) fn is_visible(table: &Path, location: &Path) -> bool {
    location
        .prefix_match(table)
        .is_some_and(|mut rel| rel.all(|part| !is_hidden(part.as_ref())))
}

/// The one directory of a backend's root where this crate keeps what is not (yet) a
/// table's data: staged uploads, the files and records of changes, leases. Hidden (a
/// leading `_`), outside every table's tree, and no object in it ends in `.parquet`, so
/// no reader and no glob a user writes picks anything up from it.
pub const HIDDEN_ROOT: &str = "_parquet_storage";

/// A file that keeps the staging directory on local disk (never an upload; hidden).
pub(crate) const KEEP_FILE: &str = ".keep";

/// Suffix of a change's files before they are published.
const STAGED_SUFFIX: &str = ".staged";

/// Where one object is written before it is published under its own name: multipart
/// uploads, and on local disk every file.
pub(crate) fn upload_staging(id: &uuid::Uuid) -> Path {
    Path::from(format!("{HIDDEN_ROOT}/staging/{}", id.simple()))
}

/// The directory of staged uploads.
pub(crate) fn staging_dir() -> Path {
    Path::from(format!("{HIDDEN_ROOT}/staging"))
}

/// The directory under which the files of every table's changes wait.
pub(crate) fn tables_dir() -> Path {
    Path::from(format!("{HIDDEN_ROOT}/tables"))
}

/// A table's hidden directory of records: `kind` is `_txn` (committed changes),
/// `_manifest` (finished ones) or `_lease` (who may change it). They are small JSON
/// objects no reader takes for data, and they stay with the table: a table's directory
/// copied or deleted takes its changes' history along.
pub(crate) fn records_dir(table: &str, kind: &str) -> Path {
    Path::from(format!("{table}/{kind}"))
}

/// The directory, in the hidden area, of the files of `table`'s changes not yet
/// published (they are Parquet, so they stay out of the table's tree). The `_` keeps it
/// apart from the directories of tables nested in the path.
fn pending_area(table: &str) -> String {
    format!("{HIDDEN_ROOT}/tables/{table}/_pending")
}

/// [`pending_area`] as an object path.
pub(crate) fn pending_root(table: &str) -> Path {
    Path::from(pending_area(table))
}

/// Where file `relative` (partition directories included) of change `id` to `table`
/// waits until it is published: under its file name alone (names are unique within a
/// change), without `.parquet`. The change's record keeps the place in the table.
pub(crate) fn pending_file(table: &str, id: &str, relative: &str) -> String {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    let stem = name.strip_suffix(".parquet").unwrap_or(name);
    format!("{}/{id}/{stem}{STAGED_SUFFIX}", pending_area(table))
}

/// The directory of change `id`'s pending files.
pub(crate) fn pending_dir(table: &str, id: &str) -> Path {
    Path::from(format!("{}/{id}", pending_area(table)))
}

/// The record of change `id` under `kind` (`_txn` or `_manifest`).
pub(crate) fn change_record(table: &str, kind: &str, id: &str) -> Path {
    Path::from(format!("{}/{id}.json", records_dir(table, kind)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_objects_never_end_in_parquet_and_pending_paths_invert() {
        let key = pending_file("a/b", "c1", "day=2024-01-01/x.parquet");
        assert_eq!(key, "_parquet_storage/tables/a/b/_pending/c1/x.staged");
        let rejects = pending_file("a/b", "c1", "_rejects/c1.ndjson");
        assert_eq!(
            rejects,
            "_parquet_storage/tables/a/b/_pending/c1/c1.ndjson.staged"
        );
        assert!(
            !upload_staging(&uuid::Uuid::now_v7())
                .as_ref()
                .ends_with(".parquet")
        );
        assert!(is_hidden(HIDDEN_ROOT));
    }
}
