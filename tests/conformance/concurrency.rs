//! Several writers at once.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_array::Int64Array;
use parquet_storage::{StorageEngine, StorageEngineExt, WriteOptions};

use crate::common::{listed, read_table, telemetry};
use crate::per_backend;
use crate::support::{Backend, Kind, table};

per_backend!(concurrent_writers_make_distinct_files);

async fn concurrent_writers_make_distinct_files(b: &Backend) {
    let t = table("concurrent");
    let engine: Arc<dyn StorageEngine> = Arc::new(b.engine.clone());
    let writers = (0..16).map(|w| {
        let (engine, t) = (Arc::clone(&engine), t.clone());
        tokio::spawn(async move {
            engine
                .write_batch(&t, telemetry(w * 100, 100), WriteOptions::default())
                .await
                .unwrap()
        })
    });
    let receipts = futures::future::try_join_all(writers).await.unwrap();
    let names: BTreeSet<String> = receipts.iter().map(|r| r.files[0].path.clone()).collect();
    assert_eq!(names.len(), 16);
    let listed: BTreeSet<String> = listed(engine.as_ref(), &t).await.into_iter().collect();
    assert_eq!(listed, names);
    let all = read_table(engine.as_ref(), &t).await;
    let cycles = all.column(4).as_any().downcast_ref::<Int64Array>().unwrap();
    let mut seen: Vec<i64> = cycles.values().to_vec();
    seen.sort_unstable();
    assert_eq!(seen, (0..1600).collect::<Vec<i64>>());
}
