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

/// An engine on a fresh, empty root, and what keeps that root alive.
pub struct Backend {
    pub kind: Kind,
    pub engine: ObjectStoreEngine,
    pub s3: Option<s3::TestS3>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    pub async fn start(kind: Kind) -> Backend {
        match kind {
            Kind::Memory => Backend {
                kind,
                engine: ObjectStoreEngine::memory(),
                s3: None,
                _dir: None,
            },
            Kind::Local => {
                let dir = tempfile::tempdir().unwrap();
                Backend {
                    kind,
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
        use futures::TryStreamExt;
        let prefix = object_store::path::Path::from(table.as_str());
        let mut all: Vec<String> = self
            .store()
            .list(Some(&prefix))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap();
        all.sort();
        all
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

/// Every object of the hidden area that belongs to `table` (staged files, change
/// records, leases), as paths relative to the root.
pub async fn hidden_listing(backend: &Backend, table: &TablePath) -> Vec<String> {
    use futures::TryStreamExt;
    let prefix = object_store::path::Path::from(format!(
        "{}/tables/{}",
        parquet_storage::HIDDEN_ROOT,
        table.as_str()
    ));
    let mut all: Vec<String> = backend
        .store()
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
