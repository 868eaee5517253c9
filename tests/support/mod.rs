//! Shared test support: the backends of the conformance suite and store wrappers.
#![allow(dead_code)]

/// Generates one `#[tokio::test]` per check and backend: `memory::name`, `local::name`,
/// `s3::name`. The checks are `async fn name(backend: &Backend)` beside the call, which
/// must have `Backend` and `Kind` in scope.
#[macro_export]
macro_rules! per_backend {
    ($($check:ident),* $(,)?) => {
        mod memory { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() { super::$check(&super::Backend::start(super::Kind::Memory).await).await }
        )* }
        mod local { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() { super::$check(&super::Backend::start(super::Kind::Local).await).await }
        )* }
        mod s3 { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() { super::$check(&super::Backend::start(super::Kind::S3).await).await }
        )* }
    };
}

pub mod faulty;
pub mod s3;

use std::sync::Arc;

use object_store::ObjectStore;
use parquet_storage::{ObjectStoreEngine, TablePath};

/// Which backend a conformance check runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Memory,
    Local,
    S3,
}

/// What a backend does, where checks depend on it: each [`Backend`] declares its own when
/// it starts (as opendal's behaviour tests declare a service's capabilities), and checks
/// branch on these rather than on the backend's [`Kind`].
pub struct Capabilities {
    /// Every request is a round trip over the network to a server (S3), so checks that
    /// make thousands of requests run fewer property cases.
    pub remote: bool,
    /// The server checks request signatures, so wrong credentials are refused (s3s-fs
    /// does; moto and the backends without a server do not).
    pub checks_signatures: bool,
    /// A PUT into a missing bucket fails (moto, AWS) rather than creating the bucket
    /// (s3s-fs); false where there are no buckets.
    pub rejects_missing_bucket: bool,
    /// An upload its writer never finished is an object listings show (on local disk,
    /// the file being written), so `vacuum` can find it; S3's incomplete multipart
    /// uploads and memory's are not objects.
    pub lists_incomplete_uploads: bool,
}

/// An engine on a fresh, empty root, and what keeps that root alive.
pub struct Backend {
    pub kind: Kind,
    pub capabilities: Capabilities,
    pub engine: ObjectStoreEngine,
    pub s3: Option<s3::TestS3>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    pub async fn start(kind: Kind) -> Backend {
        match kind {
            Kind::Memory => Backend {
                kind,
                capabilities: Capabilities {
                    remote: false,
                    checks_signatures: false,
                    rejects_missing_bucket: false,
                    lists_incomplete_uploads: false,
                },
                engine: ObjectStoreEngine::memory(),
                s3: None,
                _dir: None,
            },
            Kind::Local => {
                let dir = tempfile::tempdir().unwrap();
                Backend {
                    kind,
                    capabilities: Capabilities {
                        remote: false,
                        checks_signatures: false,
                        rejects_missing_bucket: false,
                        lists_incomplete_uploads: true,
                    },
                    engine: ObjectStoreEngine::local(dir.path().join("root")).unwrap(),
                    s3: None,
                    _dir: Some(dir),
                }
            }
            Kind::S3 => {
                let server = s3::TestS3::start().await;
                // A fresh prefix per check, so checks can share an external server.
                // Kept short: s3s-fs stores multipart metadata in a file named after the key.
                let prefix = format!("r-{:x}", uuid::Uuid::now_v7().as_u128() & 0xffff_ffff_ffff);
                Backend {
                    kind,
                    capabilities: Capabilities {
                        remote: true,
                        checks_signatures: server.checks_signatures,
                        rejects_missing_bucket: server.rejects_missing_bucket,
                        lists_incomplete_uploads: false,
                    },
                    engine: server.engine(&prefix),
                    s3: Some(server),
                    _dir: None,
                }
            }
        }
    }

    /// The store under the engine (already rooted at the backend's prefix).
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(self.engine.object_store())
    }

    /// A second engine on the same root, seeing the store through `wrap`.
    pub fn engine_over(
        &self,
        wrap: impl FnOnce(Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore>,
    ) -> ObjectStoreEngine {
        ObjectStoreEngine::new(wrap(self.store()), self.engine.to_string())
    }

    /// Every object under `table`, hidden ones included, as paths relative to the root.
    pub async fn raw_listing(&self, table: &TablePath) -> Vec<String> {
        listing(&self.store(), table.as_str()).await
    }
}

/// `rows` cells drawn from `values`; about one in six null when `nullable`.
pub fn cells<T: std::fmt::Debug + Clone + 'static>(
    values: impl proptest::strategy::Strategy<Value = T> + 'static,
    nullable: bool,
    rows: usize,
) -> proptest::strategy::BoxedStrategy<Vec<Option<T>>> {
    use proptest::strategy::Strategy;
    if nullable {
        proptest::collection::vec(proptest::option::weighted(0.85, values), rows).boxed()
    } else {
        proptest::collection::vec(values.prop_map(Some), rows).boxed()
    }
}

/// `engine` with a lease short enough that a run killed while holding it frees the
/// table quickly, and that a second run waits for it.
pub fn short_lease(engine: ObjectStoreEngine) -> ObjectStoreEngine {
    engine.with_lease_settings(parquet_storage::txn::lease::LeaseSettings {
        ttl: std::time::Duration::from_millis(400),
        wait: std::time::Duration::from_secs(5),
    })
}

/// Every object the crate keeps for `table` besides its data: the pending files of its
/// changes (in the hidden area) and its records (`_txn/`, `_manifest/`, `_lease/` in the
/// table's directory), as paths relative to the root.
pub async fn hidden_listing(backend: &Backend, table: &TablePath) -> Vec<String> {
    hidden_listing_of(&backend.store(), table).await
}

/// [`hidden_listing`] of a store.
pub async fn hidden_listing_of(store: &Arc<dyn ObjectStore>, table: &TablePath) -> Vec<String> {
    let pending = format!("{}/tables/{}", parquet_storage::HIDDEN_ROOT, table.as_str());
    let mut all = listing(store, &pending).await;
    for records in ["_txn", "_manifest", "_lease"] {
        all.extend(listing(store, &format!("{}/{records}", table.as_str())).await);
    }
    all.sort();
    all
}

/// Uploads staged in the hidden area, not (yet) published (its own hidden files, such
/// as the one that keeps the directory on local disk, are not uploads).
pub async fn staged_uploads(store: &Arc<dyn ObjectStore>) -> Vec<String> {
    let mut staged = listing(store, &format!("{}/staging", parquet_storage::HIDDEN_ROOT)).await;
    staged.retain(|p| {
        !p.rsplit('/')
            .next()
            .is_some_and(|name| name.starts_with('.'))
    });
    staged
}

/// Every object under `prefix`, sorted.
pub async fn listing(store: &Arc<dyn ObjectStore>, prefix: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let prefix = object_store::path::Path::from(prefix);
    let mut all: Vec<String> = store
        .list(Some(&prefix))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    all.sort();
    all
}

pub fn table(path: &str) -> TablePath {
    TablePath::new(path).unwrap()
}

/// The Python that has pyarrow, DuckDB and polars, the readers users run: the one
/// `PARQUET_STORAGE_TEST_PYTHON` names (`.ci/run` sets it), else the repository's
/// `.venv`. `None` (with the reason printed) when there is none; under `CI=true` a
/// missing one fails the test, so CI never skips the check.
pub fn readers_python() -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var_os("PARQUET_STORAGE_TEST_PYTHON").map(std::path::PathBuf::from),
        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")),
    ];
    for python in candidates.into_iter().flatten() {
        let works = std::process::Command::new(&python)
            .args(["-c", "import pyarrow, duckdb, polars"])
            .output()
            .is_ok_and(|out| out.status.success());
        if works {
            return Some(python);
        }
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but no Python with pyarrow, duckdb and polars: set PARQUET_STORAGE_TEST_PYTHON"
    );
    println!(
        "note: no Python with pyarrow, duckdb and polars (set PARQUET_STORAGE_TEST_PYTHON or make .venv); the check with other readers is skipped"
    );
    None
}

/// What each reader read from one directory: `Ok((rows, sum of id))` or its error.
pub type ReadersView = std::collections::BTreeMap<String, Result<(u64, i64), String>>;

/// What pyarrow, DuckDB and polars read from each directory.
pub fn read_with_other_readers(
    python: &std::path::Path,
    dirs: &[std::path::PathBuf],
) -> Vec<ReadersView> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/read_tables.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(dirs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "read_tables.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            ["pyarrow", "duckdb", "polars"]
                .into_iter()
                .map(|reader| {
                    let read = match &value[reader] {
                        serde_json::Value::Array(pair) => {
                            Ok((pair[0].as_u64().unwrap(), pair[1].as_i64().unwrap()))
                        }
                        other => Err(other.to_string()),
                    };
                    (reader.to_string(), read)
                })
                .collect()
        })
        .collect()
}

/// The reject records (one JSON object per line) of a compaction, read from `store`;
/// none when the run rejected nothing (`rejects_path` is `None`).
pub async fn reject_records(
    store: &dyn ObjectStore,
    rejects_path: Option<&str>,
) -> Vec<serde_json::Value> {
    use object_store::ObjectStoreExt;
    let Some(path) = rejects_path else {
        return Vec::new();
    };
    let bytes = store
        .get(&object_store::path::Path::from(path))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::str::from_utf8(&bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
