//! Failures: failing stores and inputs, unreadable and conflicting files, hidden
//! objects, and errors that name what failed.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int32Array, RecordBatch};
use object_store::{ObjectStoreExt, PutPayload};
use parquet_storage::{
    Error, RecordBatchStream, ScanOptions, StorageEngine, StorageEngineExt, WriteOptions,
};

use crate::common::{
    LARGE_ROWS, concat, large_file_options, listed, noise, read_table, stored_bytes, telemetry,
    telemetry_schema, try_scan, write,
};
use crate::per_backend;
use crate::support;
use crate::support::faulty::FaultyStore;
use crate::support::{Backend, Kind, table};

per_backend!(
    batch_with_other_schema_is_rejected,
    failing_store_leaves_nothing_visible,
    failing_input_leaves_nothing_visible,
    unreadable_files_are_named,
    hidden_objects_are_not_data,
    conflicting_files_are_named,
);

async fn batch_with_other_schema_is_rejected(b: &Backend) {
    let t = table("mismatch");
    let other =
        RecordBatch::try_from_iter([("x", Arc::new(Int32Array::from(vec![1])) as ArrayRef)])
            .unwrap();
    let stream = RecordBatchStream::new(
        telemetry_schema(),
        futures::stream::iter(vec![Ok(telemetry(0, 10)), Ok(other)]),
    );
    let err = b
        .engine
        .write_stream(&t, stream, WriteOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BatchSchemaMismatch { table, batch: 1, .. } if table == "mismatch"),
        "{err:?}"
    );
    assert!(b.raw_listing(&t).await.is_empty());
}

async fn failing_store_leaves_nothing_visible(b: &Backend) {
    for (label, batch, options) in [
        ("small", telemetry(0, 1000), WriteOptions::default()),
        ("large", noise(LARGE_ROWS, 3), large_file_options()),
    ] {
        let mut failures = 0;
        for fail_at in 1.. {
            let t = table(&format!("faulty_{label}_{fail_at}"));
            let faulty = Arc::new(FaultyStore::new(b.store(), fail_at));
            let engine = b.engine_over(|_| Arc::clone(&faulty) as _);
            let outcome = engine.write_batch(&t, batch.clone(), options.clone()).await;
            if faulty.requests() < fail_at {
                // The write finished before the failure point: every step has been tried.
                let receipt = outcome.unwrap();
                assert_eq!(b.engine.list_files(&t).await.unwrap().len(), 1);
                assert_eq!(receipt.rows, batch.num_rows() as u64);
                break;
            }
            let err = outcome.expect_err("the injected failure must surface");
            failures += 1;
            assert!(
                format!("{err:?}").contains("injected failure"),
                "{label} at {fail_at}: {err:?}"
            );
            assert!(
                b.engine.list_files(&t).await.unwrap().is_empty(),
                "{label}: a failure at request {fail_at} left a visible file"
            );
            assert!(matches!(
                b.engine.scan(&t, ScanOptions::default()).await,
                Err(Error::TableNotFound { .. })
            ));
        }
        let expected_steps = if label == "small" { 1 } else { 5 };
        assert!(
            failures >= expected_steps,
            "{label}: only {failures} failure points"
        );
    }
}

async fn failing_input_leaves_nothing_visible(b: &Backend) {
    for (label, good) in [
        ("small", vec![telemetry(0, 100), telemetry(100, 100)]),
        (
            "large",
            vec![noise(LARGE_ROWS, 4), noise(LARGE_ROWS / 2, 5)],
        ),
    ] {
        let t = table(&format!("bad_input_{label}"));
        let schema = good[0].schema();
        let items: Vec<parquet_storage::Result<RecordBatch>> = good
            .into_iter()
            .map(Ok)
            .chain([Err(Error::TableNotFound {
                backend: "upstream".into(),
                table: "source-of-the-failure".into(),
            })])
            .collect();
        let stream = RecordBatchStream::new(schema, futures::stream::iter(items));
        let err = b
            .engine
            .write_stream(&t, stream, large_file_options())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::TableNotFound { table, .. } if table == "source-of-the-failure"),
            "{label}: {err:?}"
        );
        assert!(
            b.raw_listing(&t).await.is_empty(),
            "{label}: {:?}",
            b.raw_listing(&t).await
        );
    }
}

async fn unreadable_files_are_named(b: &Backend) {
    let store = b.store();
    let valid = {
        let t = table("source");
        let receipt = write(&b.engine, &t, telemetry(0, 100)).await;
        stored_bytes(b, &receipt.files[0].path).await
    };
    let mut flipped = valid.to_vec();
    let middle = flipped.len() / 2;
    flipped[middle - 40..middle + 40]
        .iter_mut()
        .for_each(|b| *b = !*b);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("zero.parquet", vec![]),
        ("tiny.parquet", b"PAR1".to_vec()),
        ("truncated.parquet", valid[..valid.len() - 100].to_vec()),
        ("headless.parquet", valid[100..].to_vec()),
        (
            "notes.txt",
            b"these are not the rows you are looking for\n".repeat(10),
        ),
        ("corrupt_footer.parquet", {
            let mut v = valid.to_vec();
            let n = v.len();
            v[n - 30..n - 8].iter_mut().for_each(|b| *b = 0xFF);
            v
        }),
        ("corrupt_pages.parquet", flipped),
    ];
    for (name, bytes) in cases {
        let t = table(&format!("bad_{}", name.replace('.', "_")));
        let path = format!("{t}/{name}");
        store
            .put(
                &object_store::path::Path::from(path.as_str()),
                PutPayload::from(bytes),
            )
            .await
            .unwrap();
        let scanned = try_scan(&b.engine, &t, ScanOptions::default()).await;
        let err = scanned.expect_err(name);
        assert!(err.to_string().contains(&path), "{name}: {err}");
        assert!(
            matches!(err, Error::InvalidParquet { .. }),
            "{name}: {err:?}"
        );
        // A file whose footer is intact still has readable metadata.
        if !matches!(name, "corrupt_pages.parquet" | "headless.parquet") {
            let err = b.engine.file_metadata(&path).await.unwrap_err();
            assert!(err.to_string().contains(&path), "{name}: {err}");
        }
    }
    let err = b
        .engine
        .file_metadata("source/missing.parquet")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { path, .. } if path == "source/missing.parquet"),
        "{err:?}"
    );
}

async fn hidden_objects_are_not_data(b: &Backend) {
    let t = table("hidden");
    let receipt = write(&b.engine, &t, telemetry(0, 10)).await;
    let store = b.store();
    for hidden in [
        "hidden/_SUCCESS",
        "hidden/.crc",
        "hidden/_staging/x.parquet",
        "hidden/.tmp/y.parquet",
    ] {
        store
            .put(
                &object_store::path::Path::from(hidden),
                PutPayload::from_static(b"junk"),
            )
            .await
            .unwrap();
    }
    // A neighbouring table whose name extends this one's is not part of it.
    b.engine
        .write_batch(&table("hidden2"), telemetry(0, 3), WriteOptions::default())
        .await
        .unwrap();
    let files = listed(&b.engine, &t).await;
    assert_eq!(files, vec![receipt.files[0].path.clone()]);
    assert_eq!(read_table(&b.engine, &t).await.num_rows(), 10);
}

async fn conflicting_files_are_named(b: &Backend) {
    let t = table("conflict");
    let first = write(&b.engine, &t, telemetry(0, 10)).await;
    let other = RecordBatch::try_from_iter([(
        "battery_id",
        Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef,
    )])
    .unwrap();
    let second = write(&b.engine, &t, other).await;
    let result = try_scan(&b.engine, &t, ScanOptions::default()).await;
    match result.unwrap_err() {
        Error::SchemaConflict {
            first_path, path, ..
        } => {
            assert_eq!(first_path, first.files[0].path);
            assert_eq!(path, second.files[0].path);
        }
        other => panic!("unexpected {other:?}"),
    }
    // A scan that does not need the conflicting column reads both files: the second
    // lacks "voltage", so its rows read it as nulls.
    let read = try_scan(
        &b.engine,
        &t,
        ScanOptions::default().with_projection(["voltage"]),
    )
    .await
    .unwrap();
    let voltage = concat(&read, &read[0].schema());
    assert_eq!(voltage.num_rows(), 12);
    assert_eq!(voltage.column(0).null_count(), 2 + 1); // the second file's rows, and row 0
}

// ---------------------------------------------------------------------------------------
// S3 only: errors that name the bucket or the credentials

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_rejected_credentials_and_missing_bucket_are_named() {
    let backend = Backend::start(Kind::S3).await;
    let server = backend.s3.as_ref().unwrap();
    let t = table("t");
    if backend.capabilities.checks_signatures {
        let engine = server
            .builder("creds")
            .with_credentials(support::s3::ACCESS_KEY, "wrong-secret")
            .build()
            .unwrap();
        let err = engine
            .write_batch(&t, telemetry(0, 5), WriteOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AccessDenied { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("s3://{}/creds", server.bucket)),
            "{err}"
        );
        let err = engine.list_files(&t).await.unwrap_err();
        assert!(matches!(err, Error::AccessDenied { .. }), "{err:?}");
    }
    let engine = server
        .builder("")
        .with_bucket("no-such-bucket-here")
        .build()
        .unwrap();
    let err = engine.list_files(&t).await.unwrap_err();
    match &err {
        Error::BucketNotFound { bucket, .. } => assert_eq!(bucket, "no-such-bucket-here"),
        other => panic!("unexpected {other:?}"),
    }
    if backend.capabilities.rejects_missing_bucket {
        let err = engine
            .write_batch(&t, telemetry(0, 5), WriteOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::BucketNotFound { .. }), "{err:?}");
    }
}
