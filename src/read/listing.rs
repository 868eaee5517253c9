//! Finding a table's data files: one recursive listing, or, when a filter can rule
//! partitions out, a walk down the `key=value/` levels that lists only the directories
//! the filter can match, several at a time.

use arrow_array::Array;
use futures::stream::{self, StreamExt, TryStreamExt};
use object_store::path::Path;

use crate::engine::DataFile;
use crate::error::Result;
use crate::filter::Filter;
use crate::naming::{TablePath, is_hidden};
use crate::partition;
use crate::store::ObjectStoreEngine;

/// Partition values by key, outermost first (`None`: null).
pub(crate) type PartitionValues = Vec<(String, Option<String>)>;

/// Directories listed at once while walking partition levels.
const LIST_CONCURRENCY: usize = 16;

/// The partition values of a file, from the `key=value` directories between the table
/// and the file.
pub(crate) fn partition_values(table: &Path, location: &Path) -> Vec<(String, Option<String>)> {
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

fn data_file(table: &Path, meta: object_store::ObjectMeta) -> DataFile {
    DataFile {
        partition_values: partition_values(table, &meta.location),
        path: meta.location.to_string(),
        size: meta.size,
        last_modified: meta.last_modified,
    }
}

fn visible(table: &Path, location: &Path) -> bool {
    location
        .prefix_match(table)
        .is_some_and(|mut rel| rel.all(|part| !is_hidden(part.as_ref())))
}

/// The table's data files as readers see them: every non-hidden object under the
/// table's directory, with pending changes applied ([`crate::txn`]), sorted by path.
pub(crate) async fn list_files(
    engine: &ObjectStoreEngine,
    table: &TablePath,
) -> Result<Vec<DataFile>> {
    let listed = list_objects(engine, table).await?;
    crate::txn::apply_pending(engine, table, listed, None).await
}

/// Every non-hidden object under the table's directory, sorted by path.
async fn list_objects(engine: &ObjectStoreEngine, table: &TablePath) -> Result<Vec<DataFile>> {
    let prefix = table.location();
    let mut files: Vec<DataFile> = engine
        .store()
        .list(Some(&prefix))
        .map_err(|e| engine.store_error("list", &prefix, e))
        .try_filter_map(|meta| {
            let file = visible(&prefix, &meta.location).then(|| data_file(&prefix, meta));
            futures::future::ready(Ok(file))
        })
        .try_collect()
        .await?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Whether `filter` rules out every row of a partition with these values (the values of
/// the levels walked so far; other columns are unknown).
pub(crate) fn rules_out(filter: &Filter, values: &[(String, Option<String>)]) -> bool {
    filter
        .bind(&|leaf| decide_on_partition(leaf, values))
        .keeps_nothing()
}

/// Decides a leaf of a filter from partition values, when its column is one of them:
/// `Some(None)` is SQL's unknown (a comparison with null).
pub(crate) fn decide_on_partition(
    leaf: &Filter,
    values: &[(String, Option<String>)],
) -> Option<Option<bool>> {
    let column = leaf.columns().first().copied()?;
    let (_, value) = values.iter().find(|(key, _)| key == column)?;
    let Some(value) = value else {
        return Some(leaf.on_null());
    };
    // Read the directory text as the literal's type and evaluate the leaf on it.
    let literal_type = match leaf {
        Filter::Compare { value, .. } | Filter::Between { low: value, .. } => value_type(value),
        Filter::In { values, .. } => values
            .first()
            .map_or(arrow_schema::DataType::Utf8, value_type),
        _ => arrow_schema::DataType::Utf8,
    };
    let column_array = partition::constant_column(Some(value), &literal_type, 1).ok()?;
    let batch = arrow_array::RecordBatch::try_from_iter([(column, column_array)]).ok()?;
    let result = leaf.evaluate(&batch).ok()?;
    Some(result.is_valid(0).then(|| result.value(0)))
}

fn value_type(value: &crate::filter::Value) -> arrow_schema::DataType {
    use crate::filter::Value;
    use arrow_schema::{DataType, TimeUnit};
    match value {
        Value::Bool(_) => DataType::Boolean,
        Value::Int(_) => DataType::Int64,
        Value::Float(_) => DataType::Float64,
        Value::Decimal { scale, .. } => DataType::Decimal128(38, *scale),
        Value::Str(_) => DataType::Utf8,
        Value::Date(_) => DataType::Date32,
        Value::Timestamp(_) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
}

/// The table's data files that `filter` may match, walking partition levels so that a
/// directory the filter rules out is never listed. Sorted by path.
pub(crate) async fn list_matching(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    filter: Option<&Filter>,
) -> Result<Vec<DataFile>> {
    let Some(filter) = filter else {
        return list_files(engine, table).await;
    };
    let listed = walk_matching(engine, table, filter).await?;
    crate::txn::apply_pending(engine, table, listed, Some(filter)).await
}

/// The data objects in the partitions `filter` may match, sorted by path.
async fn walk_matching(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    filter: &Filter,
) -> Result<Vec<DataFile>> {
    let root = table.location();
    let mut files = Vec::new();
    let mut level: Vec<(Path, PartitionValues)> = vec![(root.clone(), Vec::new())];
    while !level.is_empty() {
        let listed: Vec<_> = stream::iter(level)
            .map(|(dir, values)| async move {
                let listing = engine
                    .store()
                    .list_with_delimiter(Some(&dir))
                    .await
                    .map_err(|e| engine.store_error("list", &dir, e))?;
                Ok::<_, crate::Error>((listing, values))
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
                if !rules_out(filter, &values) {
                    next.push((dir, values));
                }
            }
        }
        level = next;
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
