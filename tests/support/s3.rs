//! A real S3 server for the conformance suite: s3s-fs in-process on 127.0.0.1, or an
//! external S3-compatible server (moto in CI) named by `PARQUET_STORAGE_TEST_S3_ENDPOINT`.

use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use parquet_storage::{ObjectStoreEngine, S3Builder};

pub const ACCESS_KEY: &str = "test-access-key";
pub const SECRET_KEY: &str = "test-secret-key";
pub const BUCKET: &str = "test-bucket";

/// Names an external S3-compatible server to run the S3 suite against instead of the
/// in-process one (its bucket: `PARQUET_STORAGE_TEST_S3_BUCKET`, default `test-bucket`).
pub const ENDPOINT_VAR: &str = "PARQUET_STORAGE_TEST_S3_ENDPOINT";
pub const BUCKET_VAR: &str = "PARQUET_STORAGE_TEST_S3_BUCKET";

/// A builder for the test server at `endpoint` (from another process, too).
pub fn builder(endpoint: &str, bucket: &str, prefix: &str) -> S3Builder {
    S3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_bucket(bucket)
        .with_prefix(prefix)
        .with_credentials(ACCESS_KEY, SECRET_KEY)
        // object_store retries 10 times by default: a server error would take seconds.
        .with_max_retries(1)
}

/// A running S3 server; dropping it stops the in-process one.
pub struct TestS3 {
    pub endpoint: String,
    pub bucket: String,
    /// Whether the server checks request signatures (s3s-fs does, moto does not).
    pub checks_signatures: bool,
    /// Whether a PUT into a missing bucket fails (moto, AWS) rather than creating it (s3s-fs).
    pub rejects_missing_bucket: bool,
    _root: Option<tempfile::TempDir>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

impl TestS3 {
    /// Starts s3s-fs, or connects to the external server. Call inside a tokio runtime.
    pub async fn start() -> TestS3 {
        if let Ok(endpoint) = std::env::var(ENDPOINT_VAR) {
            return TestS3 {
                endpoint,
                bucket: std::env::var(BUCKET_VAR).unwrap_or_else(|_| BUCKET.into()),
                checks_signatures: false,
                rejects_missing_bucket: true,
                _root: None,
                server: None,
            };
        }
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap(); // a bucket is a directory
        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        // s3s-fs checks If-None-Match and then writes, with no lock in between: serialising
        // every request that is not a GET or HEAD makes create-only writes atomic.
        let write_lock = Arc::new(tokio::sync::Mutex::new(()));
        let server = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (service, write_lock) = (service.clone(), Arc::clone(&write_lock));
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (service, write_lock) = (service.clone(), Arc::clone(&write_lock));
                        async move {
                            let _guard = match *req.method() {
                                hyper::Method::GET | hyper::Method::HEAD => None,
                                _ => Some(write_lock.lock_owned().await),
                            };
                            service.call(req.map(s3s::Body::from)).await
                        }
                    },
                );
                let conn = http
                    .serve_connection(TokioIo::new(socket), svc)
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        TestS3 {
            endpoint,
            bucket: BUCKET.into(),
            checks_signatures: true,
            rejects_missing_bucket: false,
            _root: Some(root),
            server: Some(server),
        }
    }

    /// A builder for this server; `prefix` keeps runs apart on a shared server.
    pub fn builder(&self, prefix: &str) -> S3Builder {
        builder(&self.endpoint, &self.bucket, prefix)
    }

    pub fn engine(&self, prefix: &str) -> ObjectStoreEngine {
        self.builder(prefix).build().unwrap()
    }
}
