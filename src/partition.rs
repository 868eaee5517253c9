//! Hive partitioning: which partition a row belongs to, and how a partition is named on
//! disk (`key=value/` directories, see `docs/on-disk-layout.md`). Pure: no IO.
//!
//! Values are percent-encoded the way Hive, Spark, pyarrow, DuckDB and polars decode
//! them; null is `__HIVE_DEFAULT_PARTITION__`; the empty string is an empty value
//! (`key=`), and the literal string `__HIVE_DEFAULT_PARTITION__` has its first `_`
//! encoded, so neither collides with null. No value can leave its directory level.

use std::fmt;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::{DataType, TimeUnit};
use chrono::{Datelike, FixedOffset, NaiveDate, Offset, TimeZone};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};

/// The directory value that stands for null (Hive's).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Longest partition directory name, in bytes: file systems allow 255.
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Bytes percent-encoded in partition values: all but RFC 3986's unreserved characters
/// (ASCII letters and digits, `-`, `.`, `_`, `~`), as pyarrow, DuckDB and polars write
/// them; every reader that decodes percent-encoding reads them back.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Which calendar unit a time-derived partition value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimePart {
    /// `YYYY`
    Year,
    /// `YYYY-MM`
    Month,
    /// `YYYY-MM-DD` (read back as a date)
    Day,
    /// `YYYY-MM-DDTHH`
    Hour,
}

/// The time zone a time-derived partition value is computed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Zone {
    /// UTC.
    Utc,
    /// A fixed offset from UTC (the IoT fleet's `hiveperiod` is UTC+8).
    Fixed(FixedOffset),
    /// An IANA time zone such as `Europe/London`, daylight saving included.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// A fixed offset of `hours` east of UTC; `None` beyond ±23 h.
    pub fn hours(hours: i32) -> Option<Zone> {
        FixedOffset::east_opt(hours * 3600).map(Zone::Fixed)
    }

    /// Parses `UTC`, `+08:00`/`-0530`, or an IANA name.
    pub fn parse(text: &str) -> Result<Zone> {
        if text.eq_ignore_ascii_case("utc") || text == "Z" {
            return Ok(Zone::Utc);
        }
        if let Ok(offset) = text.parse::<FixedOffset>() {
            return Ok(Zone::Fixed(offset));
        }
        text.parse::<chrono_tz::Tz>()
            .map(Zone::Named)
            .map_err(|_| Error::config(format!("unknown time zone {text:?}")))
    }

    /// Offset in seconds at UTC second `utc`.
    fn offset_at(&self, utc: i64) -> i64 {
        match self {
            Zone::Utc => 0,
            Zone::Fixed(offset) => i64::from(offset.local_minus_utc()),
            Zone::Named(tz) => chrono::DateTime::from_timestamp(utc, 0)
                .map(|t| {
                    i64::from(
                        tz.offset_from_utc_datetime(&t.naive_utc())
                            .fix()
                            .local_minus_utc(),
                    )
                })
                .unwrap_or_default(),
        }
    }
}

/// Where a partition column's value comes from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PartitionSource {
    /// A column of the data, moved out of the files into the directory name.
    Column,
    /// A calendar unit of a timestamp (or date) column, which stays in the files.
    Time {
        /// The timestamp column.
        column: String,
        /// Year, month, day or hour.
        part: TimePart,
        /// The zone the calendar is taken in.
        zone: Zone,
    },
}

/// One level of `key=value/` directories.
///
/// ```
/// use parquet_storage::partition::{PartitionField, Zone};
///
/// // The IoT fleet: hiveperiod = date of heartbeat in UTC+8, then the jobsite.
/// let by = vec![
///     PartitionField::day("hiveperiod", "heartbeat").in_zone(Zone::hours(8).unwrap()),
///     PartitionField::column("district"),
/// ];
/// assert_eq!(by[0].name(), "hiveperiod");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionField {
    name: String,
    source: PartitionSource,
}

impl PartitionField {
    /// Partition by the values of column `name`.
    pub fn column(name: impl Into<String>) -> Self {
        PartitionField {
            name: name.into(),
            source: PartitionSource::Column,
        }
    }

    /// `name` = a calendar unit of timestamp column `column`, in UTC (see
    /// [`in_zone`](Self::in_zone)).
    pub fn time(name: impl Into<String>, column: impl Into<String>, part: TimePart) -> Self {
        PartitionField {
            name: name.into(),
            source: PartitionSource::Time {
                column: column.into(),
                part,
                zone: Zone::Utc,
            },
        }
    }

    /// `name` = the date of `column` (`YYYY-MM-DD`), in UTC.
    pub fn day(name: impl Into<String>, column: impl Into<String>) -> Self {
        PartitionField::time(name, column, TimePart::Day)
    }

    /// `name` = the month of `column` (`YYYY-MM`), in UTC.
    pub fn month(name: impl Into<String>, column: impl Into<String>) -> Self {
        PartitionField::time(name, column, TimePart::Month)
    }

    /// `name` = the year of `column` (`YYYY`), in UTC.
    pub fn year(name: impl Into<String>, column: impl Into<String>) -> Self {
        PartitionField::time(name, column, TimePart::Year)
    }

    /// `name` = the hour of `column` (`YYYY-MM-DDTHH`), in UTC.
    pub fn hour(name: impl Into<String>, column: impl Into<String>) -> Self {
        PartitionField::time(name, column, TimePart::Hour)
    }

    /// Takes the calendar of a time-derived field in `zone` instead of UTC.
    pub fn in_zone(mut self, zone: Zone) -> Self {
        if let PartitionSource::Time { zone: z, .. } = &mut self.source {
            *z = zone;
        }
        self
    }

    /// The partition key: the directory name before `=`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the value comes from.
    pub fn source(&self) -> &PartitionSource {
        &self.source
    }

    /// Rejects names that would be hidden or ambiguous as directory names.
    pub(crate) fn check_name(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(Error::config(format!(
                "partition key {:?}: {reason}",
                self.name
            )))
        };
        if self.name.is_empty() {
            return bad("empty");
        }
        if self.name.starts_with(['_', '.']) {
            return bad("starts with '_' or '.', which readers treat as hidden");
        }
        let encoded = utf8_percent_encode(&self.name, ESCAPED).to_string();
        if encoded != self.name {
            return bad("contains a character that needs escaping in a directory name");
        }
        Ok(())
    }
}

impl fmt::Display for PartitionField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            PartitionSource::Column => f.write_str(&self.name),
            PartitionSource::Time { column, part, zone } => {
                write!(f, "{} = {part:?} of {column} ({zone:?})", self.name)
            }
        }
    }
}

/// The directory segment `key=value` for one partition value.
pub fn encode_segment(key: &str, value: Option<&str>) -> String {
    match value {
        None => format!("{key}={NULL_PARTITION}"),
        Some(v) if v == NULL_PARTITION => format!("{key}=%5F{}", &NULL_PARTITION[1..]),
        Some(v) => format!("{key}={}", utf8_percent_encode(v, ESCAPED)),
    }
}

/// Splits a directory segment `key=value` into its key and decoded value; `None` when
/// the segment is not `key=value`.
pub fn decode_segment(segment: &str) -> Option<(String, Option<String>)> {
    let (key, value) = segment.split_once('=')?;
    if key.is_empty() {
        return None;
    }
    let key = percent_decode_str(key).decode_utf8_lossy().into_owned();
    if value == NULL_PARTITION {
        return Some((key, None));
    }
    Some((
        key,
        Some(percent_decode_str(value).decode_utf8_lossy().into_owned()),
    ))
}

/// The relative directory of a partition: `k1=v1/k2=v2` (empty for no partitioning).
pub(crate) fn partition_dir(
    fields: &[PartitionField],
    values: &[Option<String>],
) -> Result<String> {
    let mut dir = String::new();
    for (field, value) in fields.iter().zip(values) {
        let segment = encode_segment(field.name(), value.as_deref());
        if segment.len() > MAX_SEGMENT_BYTES {
            return Err(Error::config(format!(
                "partition {:?}: value {:?}… makes a directory name of {} bytes; the limit is {MAX_SEGMENT_BYTES}",
                field.name(),
                value
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect::<String>(),
                segment.len()
            )));
        }
        if !dir.is_empty() {
            dir.push('/');
        }
        dir.push_str(&segment);
    }
    Ok(dir)
}

/// Per-row codes of one partition key and the value of each code.
struct KeyCodes {
    codes: Vec<u32>,
    values: Vec<Option<String>>,
}

/// Assigns dense codes to the values of `keys` in order of first appearance.
fn assign<K: std::hash::Hash + Eq + Copy>(
    keys: impl Iterator<Item = Option<K>>,
    len: usize,
) -> (Vec<u32>, Vec<Option<K>>) {
    let mut codes = Vec::with_capacity(len);
    let mut seen: FxHashMap<Option<K>, u32> = FxHashMap::default();
    let mut distinct = Vec::new();
    for key in keys {
        let next = distinct.len() as u32;
        let code = *seen.entry(key).or_insert_with(|| {
            distinct.push(key);
            next
        });
        codes.push(code);
    }
    (codes, distinct)
}

/// Codes for text values.
fn text_codes<'a>(values: impl Iterator<Item = Option<&'a str>>, len: usize) -> KeyCodes {
    let (codes, distinct) = assign(values, len);
    let values = distinct
        .into_iter()
        .map(|v| v.map(str::to_string))
        .collect();
    KeyCodes { codes, values }
}

/// Codes for the values of a data column.
fn column_codes(name: &str, array: &ArrayRef) -> Result<KeyCodes> {
    let unsupported = || {
        Err(Error::config(format!(
            "partition column {name:?} is {}; partition by strings, integers, booleans or dates, or derive a calendar unit from a timestamp",
            array.data_type()
        )))
    };
    let len = array.len();
    match array.data_type() {
        DataType::Utf8 => Ok(text_codes(array.as_string::<i32>().iter(), len)),
        DataType::LargeUtf8 => Ok(text_codes(array.as_string::<i64>().iter(), len)),
        DataType::Utf8View => Ok(text_codes(array.as_string_view().iter(), len)),
        DataType::Dictionary(_, value)
            if matches!(**value, DataType::Utf8 | DataType::LargeUtf8) =>
        {
            let plain = arrow_cast::cast(array, value).map_err(|e| Error::config(e.to_string()))?;
            column_codes(name, &plain)
        }
        DataType::Boolean => {
            let (codes, distinct) = assign(array.as_boolean().iter(), len);
            Ok(KeyCodes {
                codes,
                values: distinct
                    .into_iter()
                    .map(|v| v.map(|b| b.to_string()))
                    .collect(),
            })
        }
        DataType::Date32 => {
            let (codes, distinct) = assign(
                array
                    .as_primitive::<arrow_array::types::Date32Type>()
                    .iter(),
                len,
            );
            let values = distinct
                .into_iter()
                .map(|d| d.map(|d| format_day(i64::from(d))))
                .collect();
            Ok(KeyCodes { codes, values })
        }
        t if t.is_integer() => {
            let ints = arrow_cast::cast(array, &DataType::Int64)
                .map_err(|e| Error::config(e.to_string()))?;
            let (codes, distinct) = assign(ints.as_primitive::<Int64Type>().iter(), len);
            Ok(KeyCodes {
                codes,
                values: distinct
                    .into_iter()
                    .map(|v| v.map(|i| i.to_string()))
                    .collect(),
            })
        }
        _ => unsupported(),
    }
}

/// Nanoseconds in one `unit`.
pub(crate) fn nanos_per(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

fn format_day(days: i64) -> String {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + 719_163).unwrap_or(i32::MAX))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("day {days}"))
}

/// Codes for a calendar unit of a timestamp or date column.
fn time_codes(name: &str, array: &ArrayRef, part: TimePart, zone: &Zone) -> Result<KeyCodes> {
    let seconds: Vec<Option<i64>> = match array.data_type() {
        DataType::Timestamp(unit, _) => {
            let per_second = 1_000_000_000 / nanos_per(*unit);
            let raw = arrow_cast::cast(array, &DataType::Int64)
                .map_err(|e| Error::config(e.to_string()))?;
            raw.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v.div_euclid(per_second)))
                .collect()
        }
        DataType::Date32 => array
            .as_primitive::<Int32Type>()
            .iter()
            .map(|d| d.map(|d| i64::from(d) * 86_400))
            .collect(),
        other => {
            return Err(Error::config(format!(
                "partition {name:?}: source column is {other}, not a timestamp or date"
            )));
        }
    };
    // Local seconds: a fixed zone adds one offset; a named zone looks its offset up
    // once per UTC hour.
    let mut offsets: FxHashMap<i64, i64> = FxHashMap::default();
    let local = seconds.into_iter().map(|s| {
        s.map(|s| {
            let offset = match zone {
                Zone::Named(_) => *offsets
                    .entry(s.div_euclid(3600))
                    .or_insert_with(|| zone.offset_at(s)),
                _ => zone.offset_at(s),
            };
            s + offset
        })
    });
    let bucket_seconds = if part == TimePart::Hour {
        3_600
    } else {
        86_400
    };
    let (codes, distinct) = assign(
        local.map(|s| s.map(|s| s.div_euclid(bucket_seconds))),
        array.len(),
    );
    let formatted: Vec<Option<String>> = distinct
        .into_iter()
        .map(|bucket| {
            bucket.map(|b| {
                let days = if part == TimePart::Hour {
                    b.div_euclid(24)
                } else {
                    b
                };
                let day = format_day(days);
                match part {
                    TimePart::Day => day,
                    TimePart::Hour => format!("{day}T{:02}", b.rem_euclid(24)),
                    TimePart::Month => day[..7].to_string(),
                    TimePart::Year => day[..4].to_string(),
                }
            })
        })
        .collect();
    // Months and years: several day buckets share one value; merge their codes.
    let (remap, values) = {
        let (remap, distinct) = assign(
            formatted.iter().map(|v| Some(v.as_deref())),
            formatted.len(),
        );
        (
            remap,
            distinct
                .into_iter()
                .map(|v| v.flatten().map(str::to_string))
                .collect(),
        )
    };
    let codes = codes.into_iter().map(|c| remap[c as usize]).collect();
    Ok(KeyCodes { codes, values })
}

/// The rows of one partition of a batch.
#[derive(Debug)]
pub(crate) struct PartitionSlice {
    /// One value per partition field (`None`: null).
    pub(crate) values: Vec<Option<String>>,
    /// The rows, without the columns that became directory names.
    pub(crate) batch: RecordBatch,
}

/// Splits `batch` by partition, in one pass: per key column a code per row (hashing
/// each value once), the codes combined into a group per row, then one `take` per
/// group. Rows keep their order within a partition.
pub(crate) fn split(batch: &RecordBatch, fields: &[PartitionField]) -> Result<Vec<PartitionSlice>> {
    let schema = batch.schema();
    let mut keys = Vec::with_capacity(fields.len());
    for field in fields {
        let codes = match &field.source {
            PartitionSource::Column => {
                let index = schema.index_of(field.name()).map_err(|_| {
                    Error::config(format!(
                        "partition column {:?} is not in the data",
                        field.name()
                    ))
                })?;
                column_codes(field.name(), batch.column(index))?
            }
            PartitionSource::Time { column, part, zone } => {
                let index = schema.index_of(column).map_err(|_| {
                    Error::config(format!(
                        "partition {:?}: source column {column:?} is not in the data",
                        field.name()
                    ))
                })?;
                time_codes(field.name(), batch.column(index), *part, zone)?
            }
        };
        keys.push(codes);
    }
    // Data columns: everything but the columns that became directory names.
    let kept: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| {
            let name = schema.field(i).name();
            !fields
                .iter()
                .any(|f| f.source == PartitionSource::Column && f.name() == name)
        })
        .collect();
    let data = batch.project(&kept).map_err(|source| Error::Arrow {
        table: String::new(),
        context: "dropping partition columns".into(),
        source,
    })?;

    // Combine the per-key codes into one group per row.
    let rows = batch.num_rows();
    let mut groups: Vec<u32> = vec![0; rows];
    let mut group_values: Vec<Vec<u32>> = vec![Vec::new()];
    for key in &keys {
        let width = key.values.len().max(1) as u64;
        let combined = groups
            .iter()
            .zip(&key.codes)
            .map(|(g, c)| Some(u64::from(*g) * width + u64::from(*c)));
        let (codes, distinct) = assign(combined, rows);
        group_values = distinct
            .into_iter()
            .map(|id| {
                let id = id.unwrap_or_default();
                let mut path = group_values[(id / width) as usize].clone();
                path.push((id % width) as u32);
                path
            })
            .collect();
        groups = codes;
    }
    if fields.is_empty() {
        return Ok(vec![PartitionSlice {
            values: Vec::new(),
            batch: data,
        }]);
    }

    let values_of = |codes: &[u32]| -> Vec<Option<String>> {
        codes
            .iter()
            .zip(&keys)
            .map(|(c, k)| k.values[*c as usize].clone())
            .collect()
    };
    if group_values.len() == 1 {
        return Ok(vec![PartitionSlice {
            values: values_of(&group_values[0]),
            batch: data,
        }]);
    }
    // Counting sort of row numbers by group.
    let mut counts = vec![0u32; group_values.len()];
    for g in &groups {
        counts[*g as usize] += 1;
    }
    let mut starts = Vec::with_capacity(counts.len());
    let mut total = 0u32;
    for c in &counts {
        starts.push(total);
        total += c;
    }
    let mut order = vec![0u32; rows];
    let mut next = starts.clone();
    for (row, g) in groups.iter().enumerate() {
        order[next[*g as usize] as usize] = row as u32;
        next[*g as usize] += 1;
    }
    let order = UInt32Array::from(order);
    let mut slices = Vec::with_capacity(group_values.len());
    for (group, codes) in group_values.iter().enumerate() {
        let indices = order.slice(starts[group] as usize, counts[group] as usize);
        let rows = arrow_select::take::take_record_batch(&data, &indices).map_err(|source| {
            Error::Arrow {
                table: String::new(),
                context: "splitting a batch by partition".into(),
                source,
            }
        })?;
        slices.push(PartitionSlice {
            values: values_of(codes),
            batch: rows,
        });
    }
    Ok(slices)
}

/// Types a partition column can be read back as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueType {
    Int64,
    Date32,
    Utf8,
}

impl ValueType {
    pub(crate) fn data_type(self) -> DataType {
        match self {
            ValueType::Int64 => DataType::Int64,
            ValueType::Date32 => DataType::Date32,
            ValueType::Utf8 => DataType::Utf8,
        }
    }
}

/// The narrowest type all `values` parse as: integers, dates (`YYYY-MM-DD`), or text.
pub(crate) fn infer_type<'a>(values: impl Iterator<Item = &'a str>) -> ValueType {
    let (mut ints, mut dates, mut any) = (true, true, false);
    for v in values {
        any = true;
        // "007" stays text: as a number it would lose its zeros.
        ints &= v.parse::<i64>().is_ok()
            && !(v.len() > 1 && v.trim_start_matches('-').starts_with('0'));
        dates &= v.len() == 10 && NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok();
        if !ints && !dates {
            return ValueType::Utf8;
        }
    }
    match (any, ints, dates) {
        (true, true, _) => ValueType::Int64,
        (true, _, true) => ValueType::Date32,
        _ => ValueType::Utf8,
    }
}

/// A column of `rows` copies of one partition value, of type `ty`.
pub(crate) fn constant_column(value: Option<&str>, ty: &DataType, rows: usize) -> Result<ArrayRef> {
    let single: ArrayRef = Arc::new(arrow_array::StringArray::from(vec![value]));
    let typed = arrow_cast::cast(&single, ty).map_err(|source| Error::Arrow {
        table: String::new(),
        context: format!("reading partition value {value:?} as {ty}"),
        source,
    })?;
    if value.is_some() && typed.is_null(0) {
        return Err(Error::config(format!(
            "partition value {value:?} is not a {ty}"
        )));
    }
    let indices = UInt32Array::from(vec![0u32; rows]);
    arrow_select::take::take(&typed, &indices, None).map_err(|source| Error::Arrow {
        table: String::new(),
        context: "repeating a partition value".into(),
        source,
    })
}

/// A NaiveDate's days since the epoch.
pub(crate) fn days_since_epoch(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - 719_163
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{StringArray, TimestampMicrosecondArray};
    use proptest::prelude::*;

    #[test]
    fn special_values() {
        assert_eq!(
            encode_segment("site", None),
            "site=__HIVE_DEFAULT_PARTITION__"
        );
        assert_eq!(encode_segment("site", Some("")), "site=");
        assert_eq!(
            encode_segment("site", Some(NULL_PARTITION)),
            "site=%5F_HIVE_DEFAULT_PARTITION__"
        );
        assert_eq!(
            encode_segment("site", Some("a/b=c%d")),
            "site=a%2Fb%3Dc%25d"
        );
        assert_eq!(encode_segment("site", Some("..")), "site=..");
        assert_eq!(
            encode_segment("site", Some("Zürich west")),
            "site=Z%C3%BCrich%20west"
        );
        assert_eq!(encode_segment("day", Some("2024-11-03")), "day=2024-11-03");
        assert_eq!(
            decode_segment("site=%5F_HIVE_DEFAULT_PARTITION__"),
            Some(("site".into(), Some(NULL_PARTITION.into())))
        );
        assert_eq!(
            decode_segment("site="),
            Some(("site".into(), Some(String::new())))
        );
        assert_eq!(decode_segment("noequals"), None);
    }

    proptest! {
        #[test]
        fn segments_round_trip_and_stay_one_level(value in proptest::option::of(any::<String>())) {
            let segment = encode_segment("k", value.as_deref());
            prop_assert!(!segment.contains('/') && !segment.contains('\\'));
            prop_assert!(segment.chars().all(|c| c.is_ascii_graphic()));
            prop_assert_ne!(segment.as_str(), ".");
            prop_assert_ne!(segment.as_str(), "..");
            prop_assert_eq!(decode_segment(&segment), Some(("k".to_string(), value)));
        }
    }

    #[test]
    fn days_in_zones() {
        // 2024-11-03T20:00Z: still the 3rd in UTC, already the 4th in UTC+8.
        let ts = 1_730_664_000_000_000i64;
        let batch = RecordBatch::try_from_iter([
            (
                "ts",
                Arc::new(TimestampMicrosecondArray::from(vec![ts]).with_timezone("UTC"))
                    as ArrayRef,
            ),
            ("x", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ])
        .unwrap();
        let day = |zone| {
            split(&batch, &[PartitionField::day("d", "ts").in_zone(zone)]).unwrap()[0].values[0]
                .clone()
        };
        assert_eq!(day(Zone::Utc).as_deref(), Some("2024-11-03"));
        assert_eq!(day(Zone::hours(8).unwrap()).as_deref(), Some("2024-11-04"));
        assert_eq!(
            day(Zone::parse("America/New_York").unwrap()).as_deref(),
            Some("2024-11-03")
        );
        let hour = split(&batch, &[PartitionField::hour("h", "ts")]).unwrap();
        assert_eq!(hour[0].values[0].as_deref(), Some("2024-11-03T20"));
        let month = split(&batch, &[PartitionField::month("m", "ts")]).unwrap();
        assert_eq!(month[0].values[0].as_deref(), Some("2024-11"));
        assert_eq!(month[0].batch.num_columns(), 2, "the source column stays");
    }

    #[test]
    fn inference() {
        assert_eq!(infer_type(["1", "-20"].into_iter()), ValueType::Int64);
        assert_eq!(infer_type(["2024-11-03"].into_iter()), ValueType::Date32);
        assert_eq!(infer_type(["007"].into_iter()), ValueType::Utf8);
        assert_eq!(infer_type(["2024-11"].into_iter()), ValueType::Utf8);
        assert_eq!(infer_type(["1", "2024-11-03"].into_iter()), ValueType::Utf8);
    }
}
