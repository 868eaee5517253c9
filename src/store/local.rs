//! Local disk: a directory holds the tables.

use std::path::Path;
use std::sync::Arc;

use object_store::local::LocalFileSystem;

use super::ObjectStoreEngine;
use crate::error::{Error, Result};
use crate::layout;

impl ObjectStoreEngine {
    /// An engine storing tables under the directory `root`, which is created if missing.
    ///
    /// Writes are staged under a temporary name and appear by an atomic hard link that
    /// fails if the target exists, so no write can replace a file and no reader sees a
    /// half-written one. Deleting a file removes directories it leaves empty.
    pub fn local(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref();
        let config_error =
            |what: &str, source: Box<dyn std::error::Error + Send + Sync>| Error::Config {
                message: format!("local backend: cannot {what} {}", root.display()),
                source: Some(source),
            };
        std::fs::create_dir_all(root).map_err(|e| config_error("create directory", e.into()))?;
        let root = std::fs::canonicalize(root).map_err(|e| config_error("resolve", e.into()))?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| config_error("open", e.into()))?
            .with_automatic_cleanup(true);
        // object_store removes the directories a delete leaves empty; the staging
        // directory, which every writer shares, must never be one of them, or a writer
        // creating it while another removes it fails. A file of its own keeps it.
        let staging = root.join(layout::HIDDEN_ROOT).join("staging");
        std::fs::create_dir_all(&staging)
            .and_then(|()| std::fs::write(staging.join(layout::KEEP_FILE), b""))
            .map_err(|e| config_error("prepare the hidden area of", e.into()))?;
        let label = url::Url::from_directory_path(&root)
            .map(|u| u.to_string())
            .unwrap_or_else(|()| format!("file://{}", root.display()));
        Ok(
            ObjectStoreEngine::new(Arc::new(store), label.trim_end_matches('/'))
                .with_local_root(&root),
        )
    }
}
