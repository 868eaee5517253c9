//! The conformance suite: every engine-level check is written once, in the module of
//! its concern, and run against each backend: memory, local disk (a temporary
//! directory) and S3 (a real S3 server on 127.0.0.1: s3s-fs in-process, or the server
//! named by `PARQUET_STORAGE_TEST_S3_ENDPOINT`, which CI points at moto for a second
//! run). A check's tests are named `<module>::<backend>::<check>`, so `-- s3` selects
//! the S3 runs. Checks that depend on what a backend does branch on the
//! [`support::Capabilities`] it declares, never on which backend it is.

#[path = "../support/mod.rs"]
mod support;

mod common;
mod concurrency;
mod failures;
mod reads;
mod schemas;
mod writes;
