//! Atomic changes to a table's set of files: add some files and remove others so that
//! this crate's readers see either the whole change or none of it, whenever the
//! process dies. Compaction runs use it (`docs/compaction.md`, "Idempotency and crash
//! safety").
//!
//! A change's files wait in the hidden area of the engine's root
//! ([`HIDDEN_ROOT`](crate::layout::HIDDEN_ROOT)`/tables/{table}/_pending/`), outside the
//! table's tree and never under a `.parquet` name, so no reader and no glob sees them.
//! Its records are small JSON objects in hidden directories of the table (`_txn/`,
//! `_manifest/`, `_lease/`), so a table's directory copied or deleted takes its history
//! along. The protocol, for a change `id`:
//! 1. **Stage**: new files are written as `_pending/{id}/{name}.staged` in the hidden
//!    area.
//! 2. **Commit**: the record `{table}/_txn/{id}.json` (files added, with their places and
//!    sizes; files removed; the sources a compaction consumed) is created, create-only.
//!    This is the commit point: from here on the change has happened.
//! 3. **Publish**: every staged file is copied to its place in the table
//!    (create-only), then every removed file is deleted.
//! 4. **Finish**: the record moves to `{table}/_manifest/{id}.json` (what stays for
//!    idempotency: which sources are in the table), then the record and the staged
//!    copies are deleted.
//!
//! Readers list the data files first and `_txn/` after: for each pending record they
//! drop the removed files and read the added ones from their staged copies (which exist
//! until the record is gone). [`ObjectStoreEngine::recover`](crate::ObjectStoreEngine::recover)
//! finishes every committed change and deletes the staging of every uncommitted one
//! that no live run holds; runs call it before they start. One run at a time may change
//! a table: it holds the table's [`lease`] while it runs.

pub mod lease;
pub mod vacuum;

use std::collections::BTreeSet;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::engine::{DataFile, WrittenFile};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::layout;
use crate::naming::{TablePath, is_hidden};

/// Hidden directory, in the table, of committed changes not yet finished.
pub const TXN_DIR: &str = "_txn";
/// Hidden directory, in the table, of finished changes' records (kept: they say what
/// was consumed).
pub const MANIFEST_DIR: &str = "_manifest";
/// Directory, in the table's part of the hidden area, of the files of changes being made.
pub const PENDING_DIR: &str = "_pending";

/// Store requests run at once while publishing or cleaning up.
const CONCURRENCY: usize = 8;

/// A file a change adds: where it goes in the table, and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedFile {
    /// Path relative to the table directory, partition directories included.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// A source file a compaction consumed: what makes a re-run skip it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceKey {
    /// Path in the source store.
    pub path: String,
    /// Size in bytes when it was read.
    pub size: u64,
    /// The store's entity tag when it was read, if it has one.
    pub e_tag: Option<String>,
}

/// The record of one change, as committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// The change's id: 12 hex digits of Unix milliseconds, then 8 random ones (so
    /// records sort by time).
    pub id: String,
    /// What made the change (`ingest`, `compact`).
    pub kind: String,
    /// Files added, relative to the table.
    pub added: Vec<AddedFile>,
    /// Files removed, relative to the table.
    pub removed: Vec<String>,
    /// Sources consumed (ingest runs).
    pub sources: Vec<SourceKey>,
}

/// One change being prepared: its files are written as pending files of its id.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    table: TablePath,
    id: String,
}

impl Change {
    pub(crate) fn begin(table: &TablePath) -> Self {
        // Milliseconds then 32 random bits, in hex: sorts by time, and short, since it
        // lengthens every staged path.
        let millis = chrono::Utc::now().timestamp_millis().max(0);
        let random = uuid::Uuid::now_v7().as_u128() as u32;
        Change {
            table: table.clone(),
            id: format!("{millis:012x}{random:08x}"),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Where the change's file at `relative` (in the table) is written before it is
    /// published.
    pub(crate) fn pending_file(&self, relative: &str) -> String {
        layout::pending_file(self.table.as_str(), &self.id, relative)
    }

    /// Commits: creates the record (the commit point), then publishes and finishes.
    /// `written` are the change's pending files, by the places in the table they go to
    /// (as a write placed as pending files of this change reports them), `removed` data
    /// files of the table.
    pub(crate) async fn commit(
        self,
        backend: &Backend,
        kind: &str,
        written: &[WrittenFile],
        removed: &[DataFile],
        sources: Vec<SourceKey>,
    ) -> Result<ChangeRecord> {
        let table = self.table.as_str();
        let prefix = format!("{table}/");
        let added = written
            .iter()
            .map(|f| {
                let path = f.path.strip_prefix(&prefix).ok_or_else(|| {
                    Error::internal(format!("{} is not a file of table {table}", f.path))
                })?;
                Ok(AddedFile {
                    path: path.to_string(),
                    size: f.bytes,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let removed = removed
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(&prefix)
                    .map(str::to_string)
                    .ok_or_else(|| Error::internal(format!("{} is not in {table}", f.path)))
            })
            .collect::<Result<Vec<_>>>()?;
        let record = ChangeRecord {
            id: self.id.clone(),
            kind: kind.to_string(),
            added,
            removed,
            sources,
        };
        let location = layout::change_record(table, TXN_DIR, &self.id);
        let body = encode(&record, &location)?;
        backend
            .store()
            .put_opts(
                &location,
                PutPayload::from(body),
                PutOptions::from(PutMode::Create),
            )
            .await
            .map_err(|e| backend.error("commit", &location, e))?;
        finish(backend, &self.table, &record).await?;
        Ok(record)
    }
}

fn encode(record: &ChangeRecord, location: &Path) -> Result<Bytes> {
    serde_json::to_vec_pretty(record)
        .map(Bytes::from)
        .map_err(|e| Error::internal(format!("encoding change record {location}: {e}")))
}

/// Publishes a committed change and retires its record. Every step tolerates having
/// been done already, so a half-finished change can be finished again.
async fn finish(backend: &Backend, table: &TablePath, record: &ChangeRecord) -> Result<()> {
    let store = backend.store();
    let name = table.as_str();
    // Owned paths, not references: a stream of references makes the caller's future
    // not `Send` for every lifetime, so that it could not be spawned.
    let moves: Vec<(Path, Path)> = (record.added.iter())
        .map(|file| {
            let from = Path::from(layout::pending_file(name, &record.id, &file.path));
            (from, Path::from(format!("{name}/{}", file.path)))
        })
        .collect();
    futures::stream::iter(moves)
        .map(|(from, to)| async move {
            match store.copy_if_not_exists(&from, &to).await {
                Ok(()) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
                // Staged copy gone: published before, unless the final one is gone too.
                Err(object_store::Error::NotFound { .. }) => store
                    .head(&to)
                    .await
                    .map(|_| ())
                    .map_err(|e| backend.error("publish", &to, e)),
                Err(e) => Err(backend.error("publish", &to, e)),
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    let removed: Vec<Path> = (record.removed.iter())
        .map(|p| Path::from(format!("{name}/{p}")))
        .collect();
    delete_all(backend, removed).await?;
    let manifest = layout::change_record(name, MANIFEST_DIR, &record.id);
    let body = encode(record, &manifest)?;
    store
        .put(&manifest, PutPayload::from(body))
        .await
        .map_err(|e| backend.error("record manifest", &manifest, e))?;
    let txn = layout::change_record(name, TXN_DIR, &record.id);
    delete_all(backend, [txn]).await?;
    delete_prefix(backend, &layout::pending_dir(name, &record.id)).await
}

/// Deletes objects; ones already gone are fine.
pub(crate) async fn delete_all(
    backend: &Backend,
    paths: impl IntoIterator<Item = Path>,
) -> Result<()> {
    let store = backend.store();
    futures::stream::iter(paths)
        .map(|path| async move {
            match store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(backend.error("delete", &path, e)),
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .map(drop)
}

/// Every object under `prefix`.
pub(crate) async fn list_all(
    backend: &Backend,
    prefix: &Path,
) -> Result<Vec<object_store::ObjectMeta>> {
    backend
        .store()
        .list(Some(prefix))
        .try_collect()
        .await
        .map_err(|e| backend.error("list", prefix, e))
}

async fn delete_prefix(backend: &Backend, prefix: &Path) -> Result<()> {
    let paths = list_all(backend, prefix).await?;
    delete_all(backend, paths.into_iter().map(|meta| meta.location)).await
}

/// Records of `table` under `dir`, in id order.
async fn records(backend: &Backend, table: &TablePath, dir: &str) -> Result<Vec<ChangeRecord>> {
    let prefix = layout::records_dir(table.as_str(), dir);
    let mut locations: Vec<Path> = list_all(backend, &prefix)
        .await?
        .into_iter()
        .map(|meta| meta.location)
        .collect();
    locations.sort();
    futures::stream::iter(locations)
        .map(|location| async move {
            let bytes = backend
                .store()
                .get(&location)
                .await
                .map_err(|e| backend.error("get", &location, e))?
                .bytes()
                .await
                .map_err(|e| backend.error("get", &location, e))?;
            serde_json::from_slice::<ChangeRecord>(&bytes).map_err(|e| Error::InvalidRecord {
                backend: backend.label().to_string(),
                path: location.to_string(),
                source: Box::new(e),
            })
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await
}

/// What [`ObjectStoreEngine::recover`](crate::ObjectStoreEngine::recover) (or the start
/// of a compaction run) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// Committed changes it finished (their ids).
    pub finished: Vec<String>,
    /// Uncommitted changes whose staged files it deleted (their ids).
    pub rolled_back: Vec<String>,
    /// Uncommitted changes it left alone because a live run holds the table's lease
    /// for them.
    pub live: Vec<String>,
}

/// Finishes every committed change of `table` and rolls back every uncommitted one (a
/// run that died before its commit point), except the change of a run that holds the
/// table's lease (`own` is the caller's own change, which it may roll back).
pub(crate) async fn recover(
    backend: &Backend,
    table: &TablePath,
    own: Option<&str>,
) -> Result<Recovery> {
    recover_older(backend, table, own, None).await
}

/// [`recover`], rolling back only changes whose files were all last written before
/// `cutoff` (all of them without one).
pub(crate) async fn recover_older(
    backend: &Backend,
    table: &TablePath,
    own: Option<&str>,
    cutoff: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Recovery> {
    let mut recovery = Recovery::default();
    let committed = records(backend, table, TXN_DIR).await?;
    for record in &committed {
        finish(backend, table, record).await?;
        recovery.finished.push(record.id.clone());
    }
    let live = lease::live_change(backend, table)
        .await?
        .filter(|change| Some(change.as_str()) != own);
    let pending = layout::pending_root(table.as_str());
    let listing = backend
        .store()
        .list_with_delimiter(Some(&pending))
        .await
        .map_err(|e| backend.error("list", &pending, e))?;
    for dir in listing.common_prefixes {
        let Some(id) = dir.filename().map(str::to_string) else {
            continue;
        };
        if live.as_deref() == Some(id.as_str()) {
            recovery.live.push(id);
            continue;
        }
        let files = list_all(backend, &dir).await?;
        if cutoff.is_some_and(|cutoff| files.iter().any(|f| f.last_modified >= cutoff)) {
            continue;
        }
        delete_all(backend, files.into_iter().map(|meta| meta.location)).await?;
        recovery.rolled_back.push(id);
    }
    Ok(recovery)
}

/// The sources every committed change of `table` consumed, finished or not.
pub(crate) async fn consumed_sources(
    backend: &Backend,
    table: &TablePath,
) -> Result<BTreeSet<SourceKey>> {
    let mut consumed = BTreeSet::new();
    for dir in [MANIFEST_DIR, TXN_DIR] {
        for record in records(backend, table, dir).await? {
            consumed.extend(record.sources);
        }
    }
    Ok(consumed)
}

/// The table's data files as readers must see them while changes are pending: listed
/// `files` (from a listing made *before* this call), without the files pending changes
/// remove, with the files they add (read from their staged copies when not listed).
/// `filter` prunes added files by partition as the listing did.
pub(crate) async fn apply_pending(
    backend: &Backend,
    table: &TablePath,
    mut files: Vec<DataFile>,
    filter: Option<&Filter>,
) -> Result<Vec<DataFile>> {
    let pending = records(backend, table, TXN_DIR).await?;
    if pending.is_empty() {
        return Ok(files);
    }
    let root = table.location();
    let listed: BTreeSet<String> = files.iter().map(|f| f.path.clone()).collect();
    for record in pending {
        let in_table = |p: &str| format!("{}/{p}", table.as_str());
        let removed: BTreeSet<String> = record.removed.iter().map(|p| in_table(p)).collect();
        files.retain(|f| !removed.contains(&f.path));
        for added in &record.added {
            let final_path = in_table(&added.path);
            let hidden = added.path.split('/').any(is_hidden);
            // Published already (and listed): read it where it is.
            if hidden || listed.contains(&final_path) {
                continue;
            }
            let partition_values =
                layout::partition_values(&root, &Path::from(final_path.as_str()));
            if filter.is_some_and(|f| f.rules_out_partition(&partition_values)) {
                continue;
            }
            files.push(DataFile {
                path: layout::pending_file(table.as_str(), &record.id, &added.path),
                size: added.size,
                last_modified: chrono::Utc::now(),
                partition_values,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
