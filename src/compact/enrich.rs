//! Enrichment: columns a compaction adds to every row, computed from the source path or
//! from a timestamp column. Typed and general: a path segment, a regex capture over the
//! path, the path itself, or the calendar date of a timestamp (epoch numbers in any unit,
//! timestamp or date columns) shifted by an offset.
//!
//! ```
//! use parquet_storage::compact::Enrichment;
//!
//! // A tree of <site>/<device>/<hour>/<file>: the site, the device, the file, and the
//! // date of `ts` (epoch seconds) in the sites' time zone, eight hours east of UTC.
//! let enrichments = [
//!     Enrichment::path_segment("site", 0),
//!     Enrichment::path_regex("device", r"^[^/]+/([^/]+)/", 1)?,
//!     Enrichment::source_file("source_file"),
//!     Enrichment::date_of("local_day", "ts", chrono::TimeDelta::hours(8)),
//! ];
//! assert_eq!(enrichments[3].name(), "local_day");
//! # Ok::<(), parquet_storage::Error>(())
//! ```

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, Date32Array, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::TimeDelta;
use regex::Regex;

use crate::error::{Error, Result};
use crate::partition::nanos_per;

const SECONDS_PER_DAY: i64 = 86_400;

/// One column added to every row.
#[derive(Debug, Clone)]
pub struct Enrichment {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    PathSegment(usize),
    PathRegex {
        regex: Regex,
        group: usize,
    },
    SourceFile,
    DateOf {
        column: String,
        offset_seconds: i64,
        epoch_unit: TimeUnit,
    },
}

impl Enrichment {
    /// Text column `name` = segment `index` (0-based) of the source path relative to the
    /// source root; null where the path has fewer segments.
    pub fn path_segment(name: impl Into<String>, index: usize) -> Self {
        Enrichment {
            name: name.into(),
            kind: Kind::PathSegment(index),
        }
    }

    /// Text column `name` = capture group `group` of `pattern` over the source path
    /// relative to the source root; null where it does not match.
    pub fn path_regex(name: impl Into<String>, pattern: &str, group: usize) -> Result<Self> {
        let regex = Regex::new(pattern).map_err(|e| Error::Config {
            message: format!("enrichment path regex {pattern:?}"),
            source: Some(Box::new(e)),
        })?;
        if group >= regex.captures_len() {
            return Err(Error::config(format!(
                "enrichment path regex {pattern:?} has no capture group {group}"
            )));
        }
        Ok(Enrichment {
            name: name.into(),
            kind: Kind::PathRegex { regex, group },
        })
    }

    /// Text column `name` = the source path relative to the source root.
    pub fn source_file(name: impl Into<String>) -> Self {
        Enrichment {
            name: name.into(),
            kind: Kind::SourceFile,
        }
    }

    /// Date column `name` = the calendar date of timestamp column `column` plus
    /// `offset` (`TimeDelta::hours(8)`: the date eight hours east of UTC). The column may
    /// hold epoch numbers (seconds unless [`with_epoch_unit`](Self::with_epoch_unit)
    /// says otherwise; integers, floats, or their text), timestamps or dates; null where
    /// it is null or unreadable.
    pub fn date_of(name: impl Into<String>, column: impl Into<String>, offset: TimeDelta) -> Self {
        Enrichment {
            name: name.into(),
            kind: Kind::DateOf {
                column: column.into(),
                offset_seconds: offset.num_seconds(),
                epoch_unit: TimeUnit::Second,
            },
        }
    }

    /// The unit of epoch numbers for [`date_of`](Self::date_of) (default: seconds).
    pub fn with_epoch_unit(mut self, unit: TimeUnit) -> Self {
        if let Kind::DateOf { epoch_unit, .. } = &mut self.kind {
            *epoch_unit = unit;
        }
        self
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's type: `Date32` for dates, `Utf8` for path values.
    pub fn data_type(&self) -> DataType {
        match self.kind {
            Kind::DateOf { .. } => DataType::Date32,
            _ => DataType::Utf8,
        }
    }

    /// The value of a path enrichment for a file at `relative`.
    fn path_value(&self, relative: &str) -> Option<String> {
        match &self.kind {
            Kind::PathSegment(i) => relative.split('/').nth(*i).map(str::to_string),
            Kind::PathRegex { regex, group } => regex
                .captures(relative)
                .and_then(|c| c.get(*group))
                .map(|m| m.as_str().to_string()),
            Kind::SourceFile => Some(relative.to_string()),
            Kind::DateOf { .. } => None,
        }
    }
}

/// Enrichments resolved against the decoded schema: the output schema, and the columns
/// each needs.
#[derive(Debug, Clone)]
pub(crate) struct Enricher {
    enrichments: Arc<[Enrichment]>,
    /// Per enrichment: the input column of a date, if it is one.
    inputs: Vec<Option<usize>>,
    output: SchemaRef,
}

impl Enricher {
    /// Checks the enrichments against `decoded` (no name clashes, date sources exist and
    /// have a usable type) and appends their columns to it.
    pub(crate) fn new(decoded: &SchemaRef, enrichments: &[Enrichment]) -> Result<Enricher> {
        let mut fields: Vec<Field> = decoded
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut inputs = Vec::with_capacity(enrichments.len());
        for e in enrichments {
            if fields.iter().any(|f| f.name() == e.name()) {
                return Err(Error::config(format!(
                    "enrichment {:?}: the source data already has a column of that name",
                    e.name()
                )));
            }
            inputs.push(match &e.kind {
                Kind::DateOf { column, .. } => {
                    let index = decoded.index_of(column).map_err(|_| {
                        Error::config(format!(
                            "enrichment {:?} needs column {column:?}, which the source data does not have",
                            e.name()
                        ))
                    })?;
                    let ty = decoded.field(index).data_type();
                    let usable = ty.is_numeric()
                        || matches!(
                            ty,
                            DataType::Timestamp(..) | DataType::Date32 | DataType::Utf8
                        );
                    if !usable {
                        return Err(Error::config(format!(
                            "enrichment {:?}: column {column:?} is {ty}, not epoch numbers, timestamps or dates",
                            e.name()
                        )));
                    }
                    Some(index)
                }
                _ => None,
            });
            fields.push(Field::new(e.name(), e.data_type(), true));
        }
        Ok(Enricher {
            enrichments: enrichments.into(),
            inputs,
            output: Arc::new(Schema::new_with_metadata(
                fields,
                decoded.metadata().clone(),
            )),
        })
    }

    /// The schema of enriched batches.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.output
    }

    /// The path values of a file at `relative` (null for non-path enrichments).
    pub(crate) fn file_values(&self, relative: &str) -> Vec<Option<String>> {
        self.enrichments
            .iter()
            .map(|e| e.path_value(relative))
            .collect()
    }

    /// `batch` with the enrichment columns appended; `file` is from
    /// [`file_values`](Self::file_values).
    pub(crate) fn apply(
        &self,
        batch: &RecordBatch,
        file: &[Option<String>],
    ) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let mut columns = batch.columns().to_vec();
        for ((e, input), value) in self.enrichments.iter().zip(&self.inputs).zip(file) {
            let array: ArrayRef = match (&e.kind, input) {
                (
                    Kind::DateOf {
                        offset_seconds,
                        epoch_unit,
                        ..
                    },
                    Some(i),
                ) => Arc::new(dates(batch.column(*i), *epoch_unit, *offset_seconds)),
                _ => Arc::new(StringArray::from_iter(std::iter::repeat_n(
                    value.as_deref(),
                    rows,
                ))),
            };
            columns.push(array);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(Arc::clone(&self.output), columns, &options).map_err(
            |source| Error::Arrow {
                table: String::new(),
                context: "adding enrichment columns".into(),
                source,
            },
        )
    }
}

/// Days since the epoch of `seconds + offset`.
fn day(seconds: i64, offset: i64) -> Option<i32> {
    i32::try_from(seconds.checked_add(offset)?.div_euclid(SECONDS_PER_DAY)).ok()
}

/// The date of each value of `array`, read as described at [`Enrichment::date_of`].
fn dates(array: &ArrayRef, epoch_unit: TimeUnit, offset: i64) -> Date32Array {
    let per_second = 1_000_000_000 / nanos_per(epoch_unit);
    let from_int = |v: i64, per_second: i64| day(v.div_euclid(per_second), offset);
    let from_float = |v: f64| {
        let seconds = (v / per_second as f64).floor();
        (seconds.is_finite() && seconds.abs() < 1e15)
            .then(|| day(seconds as i64, offset))
            .flatten()
    };
    match array.data_type() {
        DataType::Timestamp(unit, _) => {
            let per = 1_000_000_000 / nanos_per(*unit);
            let raw = arrow_cast::cast(array, &DataType::Int64).ok();
            collect(raw.as_ref(), |a| {
                a.as_primitive::<Int64Type>()
                    .iter()
                    .map(|v| v.and_then(|v| from_int(v, per)))
                    .collect()
            })
        }
        DataType::Date32 => array
            .as_primitive::<arrow_array::types::Date32Type>()
            .iter()
            .map(|d| d.and_then(|d| day(i64::from(d) * SECONDS_PER_DAY, offset)))
            .collect(),
        DataType::Utf8 => array
            .as_string::<i32>()
            .iter()
            .map(|t| {
                let t = t?.trim();
                match t.parse::<i64>() {
                    Ok(v) => from_int(v, per_second),
                    Err(_) => match t.parse::<f64>() {
                        Ok(v) => from_float(v),
                        Err(_) => arrow_cast::parse::string_to_timestamp_nanos(t)
                            .ok()
                            .and_then(|n| day(n.div_euclid(1_000_000_000), offset)),
                    },
                }
            })
            .collect(),
        t if t.is_floating() => {
            let raw = arrow_cast::cast(array, &DataType::Float64).ok();
            collect(raw.as_ref(), |a| {
                a.as_primitive::<Float64Type>()
                    .iter()
                    .map(|v| v.and_then(from_float))
                    .collect()
            })
        }
        _ => {
            let raw = arrow_cast::cast(array, &DataType::Int64).ok();
            collect(raw.as_ref(), |a| {
                a.as_primitive::<Int64Type>()
                    .iter()
                    .map(|v| v.and_then(|v| from_int(v, per_second)))
                    .collect()
            })
        }
    }
}

fn collect(array: Option<&ArrayRef>, f: impl FnOnce(&ArrayRef) -> Date32Array) -> Date32Array {
    match array {
        Some(a) => f(a),
        None => Date32Array::from(Vec::<Option<i32>>::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, Int64Array, TimestampMillisecondArray};

    fn days(array: ArrayRef, unit: TimeUnit) -> Vec<Option<i32>> {
        dates(&array, unit, 8 * 3600).iter().collect()
    }

    #[test]
    fn dates_cross_midnight_with_the_offset() {
        // 2024-11-04T15:59:59Z is 23:59:59 at +8; one second later is the 5th there.
        let (before, after) = (1_730_735_999i64, 1_730_736_000i64);
        let (d4, d5) = (Some(20031), Some(20032));
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(before), Some(after), None]));
        assert_eq!(days(ints, TimeUnit::Second), [d4, d5, None]);
        let millis: ArrayRef = Arc::new(Int64Array::from(vec![before * 1000, after * 1000]));
        assert_eq!(days(millis, TimeUnit::Millisecond), [d4, d5]);
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![before as f64 + 0.5, f64::NAN]));
        assert_eq!(days(floats, TimeUnit::Second), [d4, None]);
        let ts: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![after * 1000]));
        assert_eq!(days(ts, TimeUnit::Second), [d5]);
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            "1730736000",
            "x",
            "2024-11-04T15:00:00Z",
        ]));
        assert_eq!(days(text, TimeUnit::Second), [d5, None, d4]);
    }

    #[test]
    fn path_values() {
        let relative = "BRCB/dev1/2024110413/2024110413.txt.gz";
        assert_eq!(
            Enrichment::path_segment("d", 0)
                .path_value(relative)
                .as_deref(),
            Some("BRCB")
        );
        assert_eq!(Enrichment::path_segment("d", 9).path_value(relative), None);
        let hour = Enrichment::path_regex("h", r"/(\d{10})/", 1).unwrap();
        assert_eq!(hour.path_value(relative).as_deref(), Some("2024110413"));
        assert!(Enrichment::path_regex("h", "(", 1).is_err());
        assert!(Enrichment::path_regex("h", "a", 1).is_err());
    }
}
