//! Reclaiming what writers that died left in the hidden area: staged uploads never
//! published, and the files of changes never committed. A live writer's objects are
//! left alone: a compaction's by its lease, an upload's by its age.

use std::time::Duration;

use super::{Recovery, delete_all, list_all};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::layout;
use crate::naming::{TablePath, is_hidden};

/// What [`ObjectStoreEngine::vacuum`](crate::ObjectStoreEngine::vacuum) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Vacuum {
    /// Staged uploads deleted (never published by a writer that died).
    pub staged_deleted: usize,
    /// Bytes those took.
    pub staged_bytes: u64,
    /// Per table with changes left behind: what was finished and rolled back.
    pub tables: Vec<(String, Recovery)>,
}

/// Deletes staged uploads not modified for `older_than`, finishes every committed
/// change, and rolls back the uncommitted changes whose files are all older than
/// `older_than` and that no live run holds a lease for.
pub(crate) async fn vacuum(backend: &Backend, older_than: Duration) -> Result<Vacuum> {
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::MAX);
    let mut report = Vacuum::default();
    let staged: Vec<_> = list_all(backend, &layout::staging_dir())
        .await?
        .into_iter()
        .filter(|meta| meta.last_modified < cutoff)
        .filter(|meta| {
            meta.location
                .filename()
                .is_some_and(|name| !is_hidden(name))
        })
        .collect();
    report.staged_deleted = staged.len();
    report.staged_bytes = staged.iter().map(|meta| meta.size).sum();
    delete_all(backend, staged.into_iter().map(|meta| meta.location)).await?;
    if let Some(root) = backend.local_root() {
        let hidden = root.join(layout::HIDDEN_ROOT);
        let cutoff = std::time::SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(std::time::UNIX_EPOCH);
        let (files, bytes) = tokio::task::spawn_blocking(move || unlisted_uploads(&hidden, cutoff))
            .await
            .map_err(|join| Error::task_failed("removing unlisted uploads", join))?
            .map_err(|e| Error::Config {
                message: format!("vacuum of the hidden area under {}", root.display()),
                source: Some(Box::new(e)),
            })?;
        report.staged_deleted += files;
        report.staged_bytes += bytes;
    }

    // Tables with changes: `tables/{table}/_pending/…` (a committed change keeps its
    // pending files until it is finished, so this finds those too).
    let area = layout::tables_dir();
    let mut tables: Vec<String> = Vec::new();
    for meta in list_all(backend, &area).await? {
        let Some(rest) = meta.location.prefix_match(&area) else {
            continue;
        };
        let parts: Vec<String> = rest.map(|p| p.as_ref().to_string()).collect();
        let Some(at) = parts.iter().position(|p| is_hidden(p)) else {
            continue;
        };
        if parts[at] == super::PENDING_DIR && at > 0 {
            let table = parts[..at].join("/");
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
    }
    tables.sort();
    for name in tables {
        let table = TablePath::new(&name)?;
        let recovery = super::recover_older(backend, &table, None, Some(cutoff)).await?;
        if recovery != Recovery::default() {
            report.tables.push((name, recovery));
        }
    }
    Ok(report)
}

/// On local disk, deletes the files under `dir` that object_store writes while an upload
/// runs (`name#n`: it lists none of them) and that were last written before `cutoff`:
/// what killed writers left. Says how many, and their bytes.
fn unlisted_uploads(
    dir: &std::path::Path,
    cutoff: std::time::SystemTime,
) -> std::io::Result<(usize, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                stack.push(entry.path());
                continue;
            }
            let name = entry.file_name();
            let in_progress = name
                .to_str()
                .and_then(|n| n.rsplit_once('#'))
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if in_progress && meta.modified()? < cutoff {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => {
                        files += 1;
                        bytes += meta.len();
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok((files, bytes))
}
