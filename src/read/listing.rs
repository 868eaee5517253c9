//! Finding a table's data files: one recursive listing, or, when a filter can rule
//! partitions out, a walk down the `key=value/` levels that lists only the directories
//! the filter can match, several at a time.

use futures::stream::{self, StreamExt, TryStreamExt};
use object_store::path::Path;

use crate::backend::Backend;
use crate::engine::DataFile;
use crate::error::Result;
use crate::filter::Filter;
use crate::layout;
use crate::naming::{TablePath, is_hidden};
use crate::partition;

/// Directories listed at once while walking partition levels.
const LIST_CONCURRENCY: usize = 16;

fn data_file(table: &Path, meta: object_store::ObjectMeta) -> DataFile {
    DataFile {
        partition_values: layout::partition_values(table, &meta.location),
        path: meta.location.to_string(),
        size: meta.size,
        last_modified: meta.last_modified,
    }
}

/// The table's data files as readers see them: every non-hidden object under the
/// table's directory, with pending changes applied ([`crate::txn`]), sorted by path.
pub(crate) async fn list_files(backend: &Backend, table: &TablePath) -> Result<Vec<DataFile>> {
    let listed = list_objects(backend, table).await?;
    crate::txn::apply_pending(backend, table, listed, None).await
}

/// Every non-hidden object under the table's directory, sorted by path.
async fn list_objects(backend: &Backend, table: &TablePath) -> Result<Vec<DataFile>> {
    let prefix = table.location();
    let mut files: Vec<DataFile> = backend
        .store()
        .list(Some(&prefix))
        .map_err(|e| backend.error("list", &prefix, e))
        .try_filter_map(|meta| {
            let file =
                layout::is_visible(&prefix, &meta.location).then(|| data_file(&prefix, meta));
            futures::future::ready(Ok(file))
        })
        .try_collect()
        .await?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The table's data files that `filter` may match, walking partition levels so that a
/// directory the filter rules out is never listed. Sorted by path.
pub(crate) async fn list_matching(
    backend: &Backend,
    table: &TablePath,
    filter: Option<&Filter>,
) -> Result<Vec<DataFile>> {
    let Some(filter) = filter else {
        return list_files(backend, table).await;
    };
    let listed = walk_matching(backend, table, filter).await?;
    crate::txn::apply_pending(backend, table, listed, Some(filter)).await
}

/// The data objects in the partitions `filter` may match, sorted by path.
async fn walk_matching(
    backend: &Backend,
    table: &TablePath,
    filter: &Filter,
) -> Result<Vec<DataFile>> {
    let root = table.location();
    let mut files = Vec::new();
    let mut level: Vec<(Path, partition::PartitionValues)> = vec![(root.clone(), Vec::new())];
    while !level.is_empty() {
        let listed: Vec<_> = stream::iter(level)
            .map(|(dir, values)| async move {
                let listing = backend
                    .store()
                    .list_with_delimiter(Some(&dir))
                    .await
                    .map_err(|e| backend.error("list", &dir, e))?;
                Ok::<_, crate::error::Error>((listing, values))
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .try_collect()
            .await?;
        let mut next = Vec::new();
        for (listing, values) in listed {
            for meta in listing.objects {
                let hidden = meta.location.filename().is_none_or(is_hidden);
                if !hidden {
                    files.push(data_file(&root, meta));
                }
            }
            for dir in listing.common_prefixes {
                let Some(name) = dir.filename() else { continue };
                if is_hidden(name) {
                    continue;
                }
                let mut values = values.clone();
                if let Some(pair) = partition::decode_segment(name) {
                    values.push(pair);
                }
                if !filter.rules_out_partition(&values) {
                    next.push((dir, values));
                }
            }
        }
        level = next;
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
