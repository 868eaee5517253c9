//! The write path: [`WriteOptions`], and batches in, immutable Parquet files out (one
//! per partition, rolling to more when a file reaches its target size).
//!
//! How a file appears (see `docs/architecture.md`):
//! * up to [`WriteOptions::upload_part_size`] bytes, the encoded file is sent in one
//!   create-only `PUT` (`PutMode::Create`: S3 `If-None-Match: *`, local disk a staged
//!   file hard-linked into place), so it appears whole or not at all and never replaces
//!   another file;
//! * beyond that, it streams as a multipart upload to a hidden staging key
//!   (`{table}/_staging/{file}`), and is then published with a create-only rename (S3: a
//!   copy whose completion carries `If-None-Match: *`, then a delete of the staging key;
//!   local disk: a hard link). Memory stays bounded by part size × upload concurrency.
//!
//! Any failure aborts the upload and removes the staging key, so readers never see a
//! partial file.

mod encode;
mod file;
mod properties;
mod table;
mod upload;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use futures::StreamExt;

use crate::backend::Backend;
use crate::engine::{RecordBatchStream, WriteOptions, WriteReceipt};
use crate::error::{Error, Result};
use crate::naming::TablePath;
use crate::partition::{PartitionField, PartitionSource};
use file::FileSettings;
use table::TableWriter;
use upload::Mode;

/// Where a write puts its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// In the table, each published as it is completed.
    Table,
    /// As files of change `0` to the table, waiting in the hidden area until the change
    /// is committed ([`crate::txn`]); the receipt names the places in the table they
    /// will have.
    Pending(String),
}

/// Writes `input` to `table` as new files: one per partition, more where a file reaches
/// its target size.
pub(crate) async fn write_stream(
    backend: &Backend,
    table: &TablePath,
    mut input: RecordBatchStream,
    options: WriteOptions,
    placement: Placement,
) -> Result<WriteReceipt> {
    options.validate()?;
    let schema = match &options.schema {
        Some(registered) => registered.file_schema(&input.schema()),
        None => input.schema(),
    };
    // Column partition keys leave the files; sort columns must stay in them.
    let file_schema = data_schema(&schema, &options.partition_by);
    let mut sort_by = Vec::with_capacity(options.sort_by.len());
    for column in &options.sort_by {
        let index = file_schema.index_of(column).map_err(|_| {
            Error::config(format!(
                "sort column {column:?} is not a data column of the write"
            ))
        })?;
        sort_by.push(index);
    }
    for field in &options.partition_by {
        let needed = match field.source() {
            PartitionSource::Column => field.name(),
            PartitionSource::Time { column, .. } => column.as_str(),
        };
        if schema.field_with_name(needed).is_err() {
            return Err(Error::config(format!(
                "partition {:?} needs column {needed:?}, which the data does not have",
                field.name()
            )));
        }
    }
    let settings = FileSettings {
        backend: backend.clone(),
        table: table.to_string(),
        properties: properties::writer_properties(&options, &schema)?,
        schema: file_schema,
        mode: if options.overwrite {
            Mode::Overwrite
        } else {
            Mode::Create
        },
        part_size: options.upload_part_size,
        concurrency: options.upload_concurrency,
        max_row_group_rows: options.max_row_group_rows,
        sort_by,
        encoding_threads: options.encoding_threads,
    };
    let mut writer = TableWriter::new(settings, &options, table, placement);

    let mut rows = 0u64;
    let mut index = 0usize;
    let outcome: Result<()> = async {
        while let Some(batch) = input.next().await {
            let mut batch = batch?;
            if let Some(registered) = &options.schema {
                batch = registered.validate_at(&batch, rows)?;
            }
            check_batch_schema(table, index, &schema, &batch)?;
            index += 1;
            if batch.num_rows() == 0 {
                continue;
            }
            rows += batch.num_rows() as u64;
            writer.write(&batch).await?;
        }
        Ok(())
    }
    .await;
    if let Err(error) = outcome {
        writer.abort().await;
        return Err(error);
    }
    match writer.finish().await {
        Ok(receipt) => Ok(receipt),
        Err((error, writer)) => {
            writer.abort().await;
            Err(error)
        }
    }
}

/// The schema of the files: `schema` without the columns that become directory names.
fn data_schema(schema: &SchemaRef, partition_by: &[PartitionField]) -> SchemaRef {
    let moved = |name: &str| {
        partition_by
            .iter()
            .any(|f| *f.source() == PartitionSource::Column && f.name() == name)
    };
    if !schema.fields().iter().any(|f| moved(f.name())) {
        return Arc::clone(schema);
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| !moved(f.name()))
        .cloned()
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Compares a batch's columns with the write's schema: names, types and nullability,
/// ignoring metadata.
fn check_batch_schema(
    table: &TablePath,
    index: usize,
    expected: &Schema,
    batch: &RecordBatch,
) -> Result<()> {
    let found = batch.schema();
    let mismatch = |detail: String| Error::BatchSchemaMismatch {
        table: table.to_string(),
        batch: index,
        detail,
    };
    if found.fields().len() != expected.fields().len() {
        return Err(mismatch(format!(
            "{} columns, expected {}",
            found.fields().len(),
            expected.fields().len()
        )));
    }
    for (e, f) in expected.fields().iter().zip(found.fields()) {
        if e.name() != f.name() || e.data_type() != f.data_type() {
            return Err(mismatch(format!(
                "column {:?} {} where {:?} {} was expected",
                f.name(),
                f.data_type(),
                e.name(),
                e.data_type()
            )));
        }
        if !e.is_nullable() && f.is_nullable() {
            return Err(mismatch(format!(
                "column {:?} is nullable but the schema says NOT NULL",
                f.name()
            )));
        }
    }
    Ok(())
}
