//! Amazon S3 and S3-compatible servers (MinIO, moto, s3s): configuration only.

use std::sync::Arc;

use object_store::RetryConfig;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3CopyIfNotExists};
use object_store::prefix::PrefixStore;

use super::ObjectStoreEngine;
use crate::error::{Error, Result};

/// Builds an S3 engine, from the standard `AWS_*` environment variables, explicit
/// settings, or both (explicit settings win).
///
/// Create-only writes use S3's conditional `PUT` (`If-None-Match: *`); large files are
/// uploaded in parts to a staging key and published with a conditional copy, so the
/// builder turns on [`S3CopyIfNotExists::Multipart`] unless told otherwise.
///
/// ```no_run
/// use parquet_storage::S3Builder;
///
/// let engine = S3Builder::from_env()
///     .with_bucket("telemetry")
///     .with_prefix("prod/v1")
///     .with_endpoint("http://127.0.0.1:9000") // MinIO, moto, ...
///     .with_allow_http(true)
///     .build()?;
/// # Ok::<(), parquet_storage::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct S3Builder {
    inner: AmazonS3Builder,
    prefix: String,
    copy_if_not_exists_set: bool,
}

impl S3Builder {
    /// A builder with nothing set: no environment variables are read.
    pub fn new() -> Self {
        S3Builder::default()
    }

    /// A builder seeded from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT`,
    /// `AWS_ALLOW_HTTP`, `AWS_BUCKET` and the other variables object_store knows.
    pub fn from_env() -> Self {
        let inner = AmazonS3Builder::from_env();
        let copy_if_not_exists_set = inner
            .get_config_value(&AmazonS3ConfigKey::CopyIfNotExists)
            .is_some();
        S3Builder {
            inner,
            prefix: String::new(),
            copy_if_not_exists_set,
        }
    }

    /// The bucket.
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.inner = self.inner.with_bucket_name(bucket);
        self
    }

    /// A key prefix under which all tables live (empty: the bucket's root).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().trim_matches('/').to_string();
        self
    }

    /// The endpoint of an S3-compatible server, such as `http://127.0.0.1:9000`. Requests
    /// then use path-style addressing (`endpoint/bucket/key`), which such servers expect.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.inner = self
            .inner
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false);
        self
    }

    /// The region (default `us-east-1`).
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.inner = self.inner.with_region(region);
        self
    }

    /// Static credentials.
    pub fn with_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.inner = self
            .inner
            .with_access_key_id(access_key_id)
            .with_secret_access_key(secret_access_key);
        self
    }

    /// A session token, for temporary credentials.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.inner = self.inner.with_token(token);
        self
    }

    /// Allows `http://` endpoints (for local S3-compatible servers).
    pub fn with_allow_http(mut self, allow: bool) -> Self {
        self.inner = self.inner.with_allow_http(allow);
        self
    }

    /// How often a failed request is retried (object_store's default: 10, with backoff).
    pub fn with_max_retries(mut self, max_retries: usize) -> Self {
        self.inner = self.inner.with_retry(RetryConfig {
            max_retries,
            ..RetryConfig::default()
        });
        self
    }

    /// How a conditional copy is done; the default, [`S3CopyIfNotExists::Multipart`],
    /// works on AWS and on servers that honour `If-None-Match` on multipart completion.
    pub fn with_copy_if_not_exists(mut self, mode: S3CopyIfNotExists) -> Self {
        self.inner = self.inner.with_copy_if_not_exists(mode);
        self.copy_if_not_exists_set = true;
        self
    }

    /// Any other object_store S3 setting.
    pub fn with_config(mut self, key: AmazonS3ConfigKey, value: impl Into<String>) -> Self {
        if key == AmazonS3ConfigKey::CopyIfNotExists {
            self.copy_if_not_exists_set = true;
        }
        self.inner = self.inner.with_config(key, value);
        self
    }

    /// Builds the engine. No request is sent: a missing bucket or a rejected credential
    /// shows up as [`Error::BucketNotFound`] or [`Error::AccessDenied`] on first use.
    pub fn build(self) -> Result<ObjectStoreEngine> {
        let bucket = (self.inner)
            .get_config_value(&AmazonS3ConfigKey::Bucket)
            .filter(|bucket| !bucket.is_empty())
            .ok_or_else(|| {
                Error::config("S3 backend: no bucket (use with_bucket or set AWS_BUCKET)")
            })?;
        let mut inner = self.inner;
        if !self.copy_if_not_exists_set {
            inner = inner.with_copy_if_not_exists(S3CopyIfNotExists::Multipart);
        }
        let s3 = inner.build().map_err(|source| Error::Config {
            message: format!("S3 backend for bucket {bucket:?}"),
            source: Some(Box::new(source)),
        })?;
        let label = if self.prefix.is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{}", self.prefix)
        };
        let engine = if self.prefix.is_empty() {
            ObjectStoreEngine::new(Arc::new(s3), label)
        } else {
            let prefix = object_store::path::Path::from(self.prefix.as_str());
            ObjectStoreEngine::new(Arc::new(PrefixStore::new(s3, prefix)), label)
        };
        Ok(engine.with_bucket(&bucket))
    }
}
