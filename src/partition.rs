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

/// Partition values by key, outermost first (`None`: null).
pub(crate) type PartitionValues = Vec<(String, Option<String>)>;

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
    /// A fixed offset from UTC, such as UTC+8.
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

    /// Offset in seconds at UTC second `utc`; `None` for an instant outside the
    /// calendar's range (about ±262,000 years), which has no offset in a named zone.
    fn offset_at(&self, utc: i64) -> Option<i64> {
        match self {
            Zone::Utc => Some(0),
            Zone::Fixed(offset) => Some(i64::from(offset.local_minus_utc())),
            Zone::Named(tz) => {
                let instant = chrono::DateTime::from_timestamp(utc, 0)?;
                let offset = tz.offset_from_utc_datetime(&instant.naive_utc()).fix();
                Some(i64::from(offset.local_minus_utc()))
            }
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
/// // The date of `ts` in the sites' time zone, then the site.
/// let by = vec![
///     PartitionField::day("local_day", "ts").in_zone(Zone::parse("Asia/Singapore")?),
///     PartitionField::column("site"),
/// ];
/// assert_eq!(by[0].name(), "local_day");
/// # Ok::<(), parquet_storage::Error>(())
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
                    .map_or(NULL_PARTITION.to_string(), |v| v.chars().take(40).collect()),
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

/// Largest id range [`assign_dense`] handles with a lookup table (16 MiB of table);
/// wider ranges are hashed.
const DENSE_IDS: u64 = 1 << 22;

/// [`assign`] for ids known to be below `bound`: a lookup table instead of a hash per
/// row. Same result: dense codes in order of first appearance.
fn assign_dense(
    ids: impl Iterator<Item = Option<u32>>,
    bound: usize,
    len: usize,
) -> (Vec<u32>, Vec<Option<u32>>) {
    const UNSEEN: u32 = u32::MAX;
    // The last slot stands for null.
    let mut table = vec![UNSEEN; bound + 1];
    let mut codes = Vec::with_capacity(len);
    let mut distinct = Vec::new();
    for id in ids {
        let slot = &mut table[id.map_or(bound, |i| i as usize)];
        if *slot == UNSEEN {
            *slot = distinct.len() as u32;
            distinct.push(id);
        }
        codes.push(*slot);
    }
    (codes, distinct)
}

/// Dense codes for integer keys: a lookup table when their range is narrow (days,
/// hours, small ids), a hash otherwise.
fn assign_ints(
    keys: impl Iterator<Item = Option<i64>> + Clone,
    len: usize,
) -> (Vec<u32>, Vec<Option<i64>>) {
    let (min, max) = keys
        .clone()
        .flatten()
        .fold((i64::MAX, i64::MIN), |(lo, hi), k| (lo.min(k), hi.max(k)));
    let range = (max as i128 - min as i128 + 1).max(0) as u64;
    if range > DENSE_IDS {
        return assign(keys, len);
    }
    let (codes, distinct) = assign_dense(
        keys.map(|k| k.map(|k| (k - min) as u32)),
        range as usize,
        len,
    );
    let distinct = distinct
        .into_iter()
        .map(|id| id.map(|id| min + i64::from(id)))
        .collect();
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
            // Code the (few) dictionary values once, then map each row's key: no
            // string is hashed or copied per row.
            let dictionary = array.as_any_dictionary_opt().ok_or_else(|| {
                Error::internal(format!("partition column {name:?}: not a dictionary"))
            })?;
            let of_value = column_codes(name, dictionary.values())?;
            let value_code: Vec<Option<u32>> = of_value
                .codes
                .iter()
                .map(|&c| of_value.values[c as usize].is_some().then_some(c))
                .collect();
            let keys = dictionary.normalized_keys();
            let nulls = array.logical_nulls();
            let ids = keys.iter().enumerate().map(|(row, &key)| {
                if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                    None
                } else {
                    value_code.get(key).copied().flatten()
                }
            });
            let (codes, distinct) = assign_dense(ids, of_value.values.len(), len);
            let values = distinct
                .into_iter()
                .map(|id| id.and_then(|id| of_value.values[id as usize].clone()))
                .collect();
            Ok(KeyCodes { codes, values })
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
            let (codes, distinct) = assign_ints(
                array
                    .as_primitive::<arrow_array::types::Date32Type>()
                    .iter()
                    .map(|d| d.map(i64::from)),
                len,
            );
            let values = (distinct.into_iter())
                .map(|d| {
                    d.map(|d| Ok(calendar_day(name, d)?.format("%Y-%m-%d").to_string()))
                        .transpose()
                })
                .collect::<Result<_>>()?;
            Ok(KeyCodes { codes, values })
        }
        t if t.is_integer() => {
            let ints = arrow_cast::cast(array, &DataType::Int64).map_err(|e| {
                Error::internal(format!("partition {name:?}: reading keys as Int64: {e}"))
            })?;
            let (codes, distinct) = assign_ints(ints.as_primitive::<Int64Type>().iter(), len);
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

/// The date `days` after 1970-01-01, or an error naming partition `name` when it is
/// outside the calendar (about ±262,000 years; Date32 reaches further).
fn calendar_day(name: &str, days: i64) -> Result<NaiveDate> {
    i32::try_from(days + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| {
            Error::config(format!(
                "partition {name:?}: {days} days after 1970-01-01 is outside the calendar"
            ))
        })
}

/// Codes for a calendar unit of a timestamp or date column.
fn time_codes(name: &str, array: &ArrayRef, part: TimePart, zone: &Zone) -> Result<KeyCodes> {
    let seconds: Vec<Option<i64>> = match array.data_type() {
        DataType::Timestamp(unit, _) => {
            let per_second = 1_000_000_000 / nanos_per(*unit);
            let raw = arrow_cast::cast(array, &DataType::Int64).map_err(|e| {
                Error::internal(format!("partition {name:?}: reading keys as Int64: {e}"))
            })?;
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
    // once per UTC hour (rows mostly come in time order, so the last hour is cached).
    let mut last_hour: Option<(i64, i64)> = None;
    let mut offsets: FxHashMap<i64, i64> = FxHashMap::default();
    let offset_at = |s: i64| {
        zone.offset_at(s).ok_or_else(|| {
            Error::config(format!(
                "partition {name:?}: time zone {zone:?} has no offset at {s} seconds after \
                 1970-01-01T00:00:00Z, which is outside the calendar"
            ))
        })
    };
    let mut local_offset = |s: i64| -> Result<i64> {
        let Zone::Named(_) = zone else {
            return offset_at(s);
        };
        let hour = s.div_euclid(3600);
        if let Some((h, offset)) = last_hour
            && h == hour
        {
            return Ok(offset);
        }
        let offset = match offsets.get(&hour) {
            Some(&offset) => offset,
            None => *offsets.entry(hour).or_insert(offset_at(s)?),
        };
        last_hour = Some((hour, offset));
        Ok(offset)
    };
    let bucket_seconds = if part == TimePart::Hour {
        3_600
    } else {
        86_400
    };
    let buckets: Vec<Option<i64>> = seconds
        .into_iter()
        .map(|s| {
            s.map(|s| Ok((s + local_offset(s)?).div_euclid(bucket_seconds)))
                .transpose()
        })
        .collect::<Result<_>>()?;
    let (codes, distinct) = assign_ints(buckets.iter().copied(), array.len());
    let formatted: Vec<Option<String>> = distinct
        .into_iter()
        .map(|bucket| {
            let Some(b) = bucket else { return Ok(None) };
            let days = if part == TimePart::Hour {
                b.div_euclid(24)
            } else {
                b
            };
            let day = calendar_day(name, days)?;
            Ok(Some(match part {
                TimePart::Day => day.format("%Y-%m-%d").to_string(),
                TimePart::Hour => format!("{}T{:02}", day.format("%Y-%m-%d"), b.rem_euclid(24)),
                TimePart::Month => day.format("%Y-%m").to_string(),
                TimePart::Year => day.format("%Y").to_string(),
            }))
        })
        .collect::<Result<_>>()?;
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
        let bound = group_values.len() as u64 * width;
        let combined = groups
            .iter()
            .zip(&key.codes)
            .map(|(g, c)| u64::from(*g) * width + u64::from(*c));
        let (codes, distinct) = if bound <= DENSE_IDS {
            let (codes, distinct) =
                assign_dense(combined.map(|id| Some(id as u32)), bound as usize, rows);
            (
                codes,
                distinct.into_iter().map(|id| id.map(u64::from)).collect(),
            )
        } else {
            assign(combined.map(Some), rows)
        };
        // Every combined code is a value (`Some`): nulls of a key have a code of their own.
        group_values = distinct
            .into_iter()
            .map(|id| {
                let id = id.ok_or_else(|| Error::internal("a combined partition code was null"))?;
                let mut path = group_values[(id / width) as usize].clone();
                path.push((id % width) as u32);
                Ok(path)
            })
            .collect::<Result<_>>()?;
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

    /// The partition of every row, as a map from the values to the row numbers, computed
    /// row by row with no codes at all.
    fn expected_groups(
        keys: &[Vec<Option<String>>],
    ) -> std::collections::BTreeMap<Vec<Option<String>>, Vec<u32>> {
        let mut groups = std::collections::BTreeMap::<_, Vec<u32>>::new();
        let rows = keys.first().map_or(0, Vec::len);
        for row in 0..rows {
            let values = keys.iter().map(|k| k[row].clone()).collect();
            groups.entry(values).or_default().push(row as u32);
        }
        groups
    }

    proptest! {
        /// The table-based codes (dictionary keys, narrow integer ranges, combined
        /// keys) split exactly like a row-by-row grouping, whatever the dictionary
        /// holds (unused values, a null value, null keys) and however wide the range.
        #[test]
        fn split_groups_rows_exactly(
            rows in proptest::collection::vec(
                (proptest::option::of(0usize..6), proptest::option::of(-3i64..3), any::<bool>()),
                1..200,
            ),
            dictionary in proptest::collection::vec(proptest::option::of("[a-c/%]{0,2}"), 6),
            wide in any::<bool>(),
        ) {
            let scale = if wide { 1i64 << 40 } else { 1 };
            let keys_array = arrow_array::Int32Array::from(
                rows.iter().map(|r| r.0.map(|k| k as i32)).collect::<Vec<_>>(),
            );
            let values = Arc::new(StringArray::from(dictionary.clone())) as ArrayRef;
            let dict = arrow_array::DictionaryArray::<Int32Type>::try_new(keys_array, values).unwrap();
            let ints = arrow_array::Int64Array::from(
                rows.iter().map(|r| r.1.map(|i| i * scale)).collect::<Vec<_>>(),
            );
            let row_ids = arrow_array::UInt32Array::from_iter_values(0..rows.len() as u32);
            let batch = RecordBatch::try_from_iter([
                ("site", Arc::new(dict) as ArrayRef),
                ("n", Arc::new(ints) as ArrayRef),
                ("row", Arc::new(row_ids) as ArrayRef),
            ]).unwrap();
            let fields = [PartitionField::column("site"), PartitionField::column("n")];
            let expected = expected_groups(&[
                rows.iter().map(|r| r.0.and_then(|k| dictionary[k].clone())).collect(),
                rows.iter().map(|r| r.1.map(|i| (i * scale).to_string())).collect(),
            ]);
            let slices = split(&batch, &fields).unwrap();
            let mut actual = std::collections::BTreeMap::new();
            for slice in slices {
                let rows: Vec<u32> = slice.batch.column(0).as_primitive::<arrow_array::types::UInt32Type>().values().to_vec();
                prop_assert!(actual.insert(slice.values, rows).is_none(), "one slice per partition");
            }
            prop_assert_eq!(actual, expected);
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

    /// Instants and dates outside the calendar are errors naming the partition (and the
    /// zone), never a value made up for them.
    #[test]
    fn instants_outside_the_calendar_are_errors() {
        let seconds = RecordBatch::try_from_iter([(
            "ts",
            Arc::new(arrow_array::TimestampSecondArray::from(vec![
                0,
                i64::MAX / 2,
            ])) as ArrayRef,
        )])
        .unwrap();
        let zone = Zone::parse("Europe/London").unwrap();
        let err = split(&seconds, &[PartitionField::day("d", "ts").in_zone(zone)]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"d\"") && text.contains("London"), "{text}");
        assert!(text.contains(&(i64::MAX / 2).to_string()), "{text}");
        let err = split(&seconds, &[PartitionField::year("y", "ts")]).unwrap_err();
        assert!(err.to_string().contains("outside the calendar"), "{err}");
        let dates = RecordBatch::try_from_iter([(
            "day",
            Arc::new(arrow_array::Date32Array::from(vec![i32::MAX])) as ArrayRef,
        )])
        .unwrap();
        let err = split(&dates, &[PartitionField::column("day")]).unwrap_err();
        assert!(err.to_string().contains("outside the calendar"), "{err}");
        // Years of five digits keep all of them.
        let far = RecordBatch::try_from_iter([(
            "ts",
            Arc::new(arrow_array::TimestampSecondArray::from(vec![
                253_402_300_800,
            ])) as ArrayRef,
        )])
        .unwrap();
        let year = split(&far, &[PartitionField::year("y", "ts")]).unwrap();
        let month = split(&far, &[PartitionField::month("m", "ts")]).unwrap();
        assert_eq!(year[0].values[0].as_deref(), Some("+10000"));
        assert_eq!(month[0].values[0].as_deref(), Some("+10000-01"));
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
