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
