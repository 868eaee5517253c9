#![cfg(feature = "s3")]
//! Errors a caller can act on: store failures are classified from what the store says,
//! and `Error::kind` / `Error::is_retryable` tell a caller whether trying again can help.
//! The S3 cases run against a real HTTP server on 127.0.0.1 that answers every request
//! with one fixed response.

use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use parquet_storage::{
    Error, ErrorKind, ObjectStoreEngine, S3Builder, StorageEngine, StorageEngineExt, TablePath,
    WriteOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that answers every request with `status` and `body`, after reading the
/// request (headers and a `Content-Length` body).
async fn answering(status: &'static str, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    endpoint
}

fn engine_at(endpoint: &str, bucket: &str) -> ObjectStoreEngine {
    S3Builder::new()
        .with_bucket(bucket)
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_credentials("key", "secret")
        .with_max_retries(0)
        .build()
        .unwrap()
}

fn batch() -> RecordBatch {
    RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from(vec![1, 2])) as _)]).unwrap()
}

fn table() -> TablePath {
    TablePath::new("t").unwrap()
}

#[tokio::test]
async fn a_server_error_is_retryable_and_names_the_backend() {
    let endpoint = answering(
        "503 Service Unavailable",
        "<Error><Code>SlowDown</Code></Error>",
    )
    .await;
    let engine = engine_at(&endpoint, "b");
    for err in [
        engine.list_files(&table()).await.unwrap_err(),
        engine
            .write_batch(&table(), batch(), WriteOptions::default())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
        assert!(err.is_retryable());
        assert!(err.to_string().starts_with("s3://b: "), "{err}");
    }
}

#[tokio::test]
async fn refused_credentials_are_denied_and_not_retryable() {
    let endpoint = answering(
        "403 Forbidden",
        "<Error><Code>SignatureDoesNotMatch</Code></Error>",
    )
    .await;
    let engine = engine_at(&endpoint, "b");
    let listed = engine.list_files(&table()).await.unwrap_err();
    let written = engine
        .write_batch(&table(), batch(), WriteOptions::default())
        .await
        .unwrap_err();
    for err in [listed, written] {
        assert!(matches!(err, Error::AccessDenied { .. }), "{err:?}");
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn a_missing_bucket_is_named() {
    let endpoint = answering("404 Not Found", "<Error><Code>NoSuchBucket</Code></Error>").await;
    let engine = engine_at(&endpoint, "gone");
    let err = engine.list_files(&table()).await.unwrap_err();
    match &err {
        Error::BucketNotFound { bucket, .. } => assert_eq!(bucket, "gone"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn an_unreachable_endpoint_is_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = engine_at(&endpoint, "b")
        .list_files(&table())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn bad_options_are_the_callers_input() {
    let engine = ObjectStoreEngine::memory();
    let err = engine
        .write_batch(
            &table(),
            batch(),
            WriteOptions::default().with_max_open_files(0),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(!err.is_retryable());
    let missing = engine.list_files(&table()).await;
    assert!(missing.is_ok_and(|files| files.is_empty()));
    let err = engine
        .read_all(&table(), Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
