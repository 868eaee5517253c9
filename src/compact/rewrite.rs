//! In-place compaction: the many small files of a partition (from many appends)
//! rewritten as a few target-size files, as one atomic change ([`crate::txn`]): readers
//! see the old files or the new ones, never both and never neither.

use std::collections::BTreeMap;

use crate::engine::DataFile;
use crate::engine::ScanOptions;
use crate::engine::WriteOptions;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::naming::TablePath;
use crate::partition::{self, PartitionField};
use crate::read;
use crate::store::ObjectStoreEngine;
use crate::txn::lease::Lease;
use crate::txn::{self, Recovery};

/// What an in-place compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RewriteSummary {
    /// The change's id (empty when nothing needed rewriting).
    pub change_id: String,
    /// Partitions rewritten (those with more than one file).
    pub partitions: usize,
    /// Files replaced.
    pub files_before: usize,
    /// Files written in their place.
    pub files_after: usize,
    /// Rows rewritten.
    pub rows: u64,
    /// Bytes of the replaced files.
    pub bytes_before: u64,
    /// Bytes of the new files.
    pub bytes_after: u64,
    /// What was finished or rolled back of earlier changes that died.
    pub recovered: Recovery,
}

/// Rewrites every partition of `table` that `partitions` may match (a filter on
/// partition columns; `None`: all) and that has more than one file into files of
/// `options`' target size, sorted as `options` says. Files are taken whole. Files
/// appended meanwhile are left alone. One compaction of a table at a time: it holds the
/// table's lease while it runs ([`ObjectStoreEngine::with_lease_settings`]), and first
/// [recovers](ObjectStoreEngine::recover) what earlier ones left.
pub async fn compact_in_place(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    partitions: Option<&Filter>,
    options: WriteOptions,
) -> Result<RewriteSummary> {
    let (change, lease) = engine.begin_change(table).await?;
    let outcome = rewrite(engine, table, partitions, options, change, &lease).await;
    lease.release().await;
    outcome
}

async fn rewrite(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    partitions: Option<&Filter>,
    options: WriteOptions,
    change: txn::Change,
    lease: &Lease,
) -> Result<RewriteSummary> {
    let recovered = txn::recover(engine.backend(), table, Some(change.id())).await?;
    let listed = read::listing::list_matching(engine.backend(), table, partitions).await?;
    let mut by_partition: BTreeMap<Vec<(String, Option<String>)>, Vec<DataFile>> = BTreeMap::new();
    for file in listed {
        by_partition
            .entry(file.partition_values.clone())
            .or_default()
            .push(file);
    }
    by_partition.retain(|_, files| files.len() > 1);
    let Some(keys) = by_partition.keys().next().cloned() else {
        return Ok(RewriteSummary {
            recovered,
            ..RewriteSummary::default()
        });
    };
    // Every partition of a table has the same keys; the rewrite writes them back.
    let partition_by: Vec<PartitionField> = keys
        .iter()
        .map(|(key, _)| PartitionField::column(key.clone()))
        .collect();
    let files: Vec<DataFile> = by_partition.values().flatten().cloned().collect();
    let rows = read::scan_listed(
        engine.backend(),
        table,
        files.clone(),
        false,
        ScanOptions::default(),
    )
    .await?;
    let options = options
        .with_partition_by(partition_by)
        .with_stem(table.name())
        .with_overwrite(false);
    let receipt = engine
        .write_pending(table, change.id(), rows, options)
        .await?;

    // Partition values go through a typed column and back: check each new file landed
    // in the directory its rows came from before anything is committed.
    let dirs: Vec<String> = by_partition
        .keys()
        .map(|values| {
            let segments: Vec<String> = values
                .iter()
                .map(|(k, v)| partition::encode_segment(k, v.as_deref()))
                .collect();
            format!("{table}/{}/", segments.join("/"))
        })
        .collect();
    if let Some(stray) = receipt
        .files
        .iter()
        .find(|f| !dirs.iter().any(|d| f.path.starts_with(d)))
    {
        let _ = txn::recover(engine.backend(), table, None).await;
        return Err(Error::internal(format!(
            "compacting {table}: {} would change its partition; nothing was replaced",
            stray.path
        )));
    }
    let summary = RewriteSummary {
        change_id: change.id().to_string(),
        partitions: by_partition.len(),
        files_before: files.len(),
        files_after: receipt.files.len(),
        rows: receipt.rows,
        bytes_before: files.iter().map(|f| f.size).sum(),
        bytes_after: receipt.bytes,
        recovered,
    };
    lease.check().await?;
    change
        .commit(
            engine.backend(),
            "compact",
            &receipt.files,
            &files,
            Vec::new(),
        )
        .await?;
    Ok(summary)
}
