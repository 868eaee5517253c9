//! Opt-in, lossless conversion of a batch's columns to the types of a [`TableSchema`]:
//! the conversions users need daily (wider integers and floats, coarser timestamp units
//! where no digit is lost, ISO-8601 text to timestamps, naive timestamps to UTC, UUID
//! text in any common form to canonical text). A value that would change is an error
//! naming the column and the row; nothing is truncated.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, IntervalMonthDayNanoType, TimestampNanosecondType};
use arrow_array::{
    Array, ArrayRef, FixedSizeBinaryArray, Int32Array, Int64Array, PrimitiveArray, RecordBatch,
    StringArray, StructArray,
};
use arrow_schema::{DataType, Field, IntervalUnit, Schema, TimeUnit};

use super::{PgType, TableSchema};
use crate::error::{CoercionFailure, Error, Result};

/// One failed conversion: where, and how often.
struct Failure {
    first_row: usize,
    value: String,
    count: usize,
    reason: &'static str,
}

impl TableSchema {
    /// Converts the columns of `batch` whose types differ from the schema's, where that
    /// loses nothing; other columns are left as they are for
    /// [`validate`](Self::validate) to judge. Column order is kept.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Int32Array, RecordBatch, StringArray};
    /// use parquet_storage::schema::{ColumnDef, SchemaRegistry, TableDef};
    ///
    /// let mut registry = SchemaRegistry::default();
    /// let readings = registry.register(
    ///     TableDef::new("readings", 1)
    ///         .with_column(ColumnDef::new("id", "uuid")?.not_null())
    ///         .with_column(ColumnDef::new("count", "bigint")?)
    ///         .with_column(ColumnDef::new("at", "timestamptz(3)")?),
    /// )?;
    /// let batch = RecordBatch::try_from_iter([
    ///     ("id", Arc::new(StringArray::from(vec!["0190A5A0-0000-7000-8000-00000000000F"])) as _),
    ///     ("count", Arc::new(Int32Array::from(vec![7])) as _),
    ///     ("at", Arc::new(StringArray::from(vec!["2024-11-03T12:00:00.250+01:00"])) as _),
    /// ])?;
    /// let coerced = readings.coerce(&batch)?;
    /// let valid = readings.validate(&coerced)?;
    /// assert_eq!(valid.column(0).as_any().downcast_ref::<StringArray>().unwrap().value(0),
    ///            "0190a5a0-0000-7000-8000-00000000000f");
    ///
    /// // A value that would change is refused, with its row.
    /// let late = RecordBatch::try_from_iter([
    ///     ("at", Arc::new(StringArray::from(vec!["2024-11-03T12:00:00Z", "2024-11-03T12:00:00.0005Z"])) as _),
    /// ])?;
    /// let err = readings.coerce(&late).unwrap_err();
    /// assert!(err.to_string().contains("row 1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn coerce(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let input = batch.schema();
        let mut fields: Vec<Arc<Field>> = input.fields().iter().cloned().collect();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (index, target) in self.arrow.fields().iter().enumerate() {
            let Ok(position) = input.index_of(target.name()) else {
                continue;
            };
            let (column, _) = self.origin(index);
            let array = &columns[position];
            let converted = convert(array, &column.pg_type, target.data_type()).map_err(|f| {
                Error::Coercion(Box::new(CoercionFailure {
                    table: self.def.name.clone(),
                    column: target.name().clone(),
                    from: array.data_type().to_string(),
                    to: target.data_type().to_string(),
                    first_row: f.first_row as u64,
                    value: f.value,
                    bad_rows: f.count as u64,
                    reason: f.reason,
                }))
            })?;
            if let Some(converted) = converted {
                fields[position] = Arc::new(
                    Field::new(
                        target.name(),
                        converted.data_type().clone(),
                        fields[position].is_nullable(),
                    )
                    .with_metadata(target.metadata().clone()),
                );
                columns[position] = converted;
            }
        }
        let schema = Arc::new(Schema::new_with_metadata(fields, input.metadata().clone()));
        RecordBatch::try_new(schema, columns).map_err(|source| Error::Arrow {
            table: self.def.name.clone(),
            context: "assembling the coerced batch".into(),
            source,
        })
    }
}

/// The converted column, `None` when nothing needs doing or nothing safe can be done.
fn convert(
    array: &ArrayRef,
    pg_type: &PgType,
    target: &DataType,
) -> Result<Option<ArrayRef>, Failure> {
    let source = array.data_type();
    if source == target && !matches!(pg_type, PgType::Uuid) {
        return Ok(None);
    }
    // Dictionary-encoded and large or view strings: decode first, then convert.
    if let DataType::Dictionary(_, value) = source {
        let decoded = cast_checked(array, value, "cannot decode the dictionary")?;
        return Ok(Some(convert(&decoded, pg_type, target)?.unwrap_or(decoded)));
    }
    if matches!(source, DataType::LargeUtf8 | DataType::Utf8View) {
        let plain = cast_checked(array, &DataType::Utf8, "text too large for utf8")?;
        return Ok(Some(convert(&plain, pg_type, target)?.unwrap_or(plain)));
    }
    match (source, target) {
        // UUIDs: any form the uuid crate reads, to canonical text or to 16 bytes.
        (DataType::Utf8, DataType::Utf8) if matches!(pg_type, PgType::Uuid) => {
            let strings = array.as_string::<i32>();
            let mut out = Vec::with_capacity(strings.len());
            for (row, v) in strings.iter().enumerate() {
                out.push(match v {
                    None => None,
                    Some(v) => Some(parse_uuid(v, row, strings)?.hyphenated().to_string()),
                });
            }
            Ok(Some(Arc::new(StringArray::from(out))))
        }
        (DataType::Utf8, DataType::FixedSizeBinary(16)) if matches!(pg_type, PgType::Uuid) => {
            let strings = array.as_string::<i32>();
            let mut out = Vec::with_capacity(strings.len());
            for (row, v) in strings.iter().enumerate() {
                out.push(match v {
                    None => None,
                    Some(v) => Some(*parse_uuid(v, row, strings)?.as_bytes()),
                });
            }
            let array = FixedSizeBinaryArray::try_from_sparse_iter_with_size(out.into_iter(), 16)
                .map_err(|_| failure(0, "", 1, "cannot build 16-byte UUIDs"))?;
            Ok(Some(Arc::new(array)))
        }
        (DataType::FixedSizeBinary(16), DataType::Utf8) if matches!(pg_type, PgType::Uuid) => {
            let bytes = array.as_fixed_size_binary();
            let out: StringArray = bytes
                .iter()
                .map(|v| {
                    v.and_then(|b| uuid::Uuid::from_slice(b).ok())
                        .map(|u| u.hyphenated().to_string())
                })
                .collect();
            Ok(Some(Arc::new(out)))
        }
        (a, b) if a == b => Ok(None),
        // Integers to integers, decimals or floats: checked casts (an overflow is an
        // error, not a null); int64 to float64 only where the value is exact.
        (a, b)
            if a.is_integer()
                && (b.is_integer()
                    || matches!(b, DataType::Decimal128(..) | DataType::Decimal256(..))) =>
        {
            cast_checked(array, target, "does not fit").map(Some)
        }
        (
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32,
            DataType::Float64,
        )
        | (DataType::Float16 | DataType::Float32, DataType::Float64) => {
            cast_checked(array, target, "does not fit").map(Some)
        }
        (DataType::Int64 | DataType::UInt64, DataType::Float64) => {
            let floats = cast_checked(array, target, "does not fit")?;
            let back = cast_checked(&floats, source, "is not exact as a float")?;
            first_difference(array, &back, "is not exact as a float")?;
            Ok(Some(floats))
        }
        (
            DataType::Decimal128(_, s1),
            DataType::Decimal128(_, s2) | DataType::Decimal256(_, s2),
        )
        | (DataType::Decimal256(_, s1), DataType::Decimal256(_, s2))
            if s2 >= s1 =>
        {
            cast_checked(array, target, "does not fit").map(Some)
        }
        // Timestamps: to the target zone (values are UTC instants either way) and unit.
        (DataType::Timestamp(unit, _), DataType::Timestamp(to_unit, to_zone)) => {
            let nanos = to_nanos(array, *unit)?;
            from_nanos(&nanos, *to_unit, to_zone.clone()).map(Some)
        }
        (DataType::Date32 | DataType::Date64, DataType::Timestamp(to_unit, to_zone)) => {
            let nanos = cast_checked(
                array,
                &DataType::Timestamp(TimeUnit::Nanosecond, None),
                "out of range",
            )?;
            from_nanos(&nanos, *to_unit, to_zone.clone()).map(Some)
        }
        // ISO-8601 text: with an offset it is converted to UTC, without one it is UTC.
        (DataType::Utf8, DataType::Timestamp(to_unit, to_zone)) => {
            // Parsed as naive: an offset is applied (giving UTC), no offset means UTC.
            let nanos_type = DataType::Timestamp(TimeUnit::Nanosecond, None);
            let nanos = cast_checked(
                array,
                &nanos_type,
                "is not an ISO-8601 timestamp (1677–2262)",
            )?;
            from_nanos(&nanos, *to_unit, to_zone.clone()).map(Some)
        }
        (DataType::Utf8, DataType::Date32) => {
            cast_checked(array, target, "is not an ISO-8601 date").map(Some)
        }
        // Arrow intervals to PostgreSQL's (months, days, microseconds).
        (DataType::Interval(IntervalUnit::MonthDayNano), DataType::Struct(_))
            if matches!(pg_type, PgType::Interval) =>
        {
            interval_to_struct(array.as_primitive::<IntervalMonthDayNanoType>()).map(Some)
        }
        _ => Ok(None),
    }
}

fn interval_to_struct(
    intervals: &PrimitiveArray<IntervalMonthDayNanoType>,
) -> Result<ArrayRef, Failure> {
    let mut bad = (0..intervals.len())
        .filter(|&r| intervals.is_valid(r) && intervals.value(r).nanoseconds % 1000 != 0);
    if let Some(first) = bad.next() {
        let shown = format!("{:?}", intervals.value(first));
        return Err(failure(
            first,
            &shown,
            1 + bad.count(),
            "has digits below a microsecond",
        ));
    }
    let values = intervals.values();
    let months: Int32Array = values.iter().map(|v| v.months).collect();
    let days: Int32Array = values.iter().map(|v| v.days).collect();
    let micros: Int64Array = values.iter().map(|v| v.nanoseconds / 1000).collect();
    let DataType::Struct(fields) = super::interval_type() else {
        return Err(failure(0, "", 1, "interval type"));
    };
    let columns: Vec<ArrayRef> = vec![Arc::new(months), Arc::new(days), Arc::new(micros)];
    StructArray::try_new(fields, columns, intervals.nulls().cloned())
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(|_| failure(0, "", 1, "cannot build intervals"))
}

fn failure(row: usize, value: &str, count: usize, reason: &'static str) -> Failure {
    Failure {
        first_row: row,
        value: value.to_string(),
        count,
        reason,
    }
}

fn parse_uuid(value: &str, row: usize, all: &StringArray) -> Result<uuid::Uuid, Failure> {
    uuid::Uuid::try_parse(value.trim()).map_err(|_| {
        let count = all
            .iter()
            .flatten()
            .filter(|v| uuid::Uuid::try_parse(v.trim()).is_err())
            .count();
        failure(row, value, count, "is not a UUID")
    })
}

/// Casts with nulls for failures, then reports the rows that were valid and became null.
fn cast_checked(
    array: &ArrayRef,
    to: &DataType,
    reason: &'static str,
) -> Result<ArrayRef, Failure> {
    let cast = arrow_cast::cast(array, to).map_err(|_| failure(0, "", array.len(), reason))?;
    let mut bad = (0..array.len()).filter(|&r| array.is_valid(r) && cast.is_null(r));
    if let Some(first) = bad.next() {
        return Err(failure(
            first,
            &render(array, first),
            1 + bad.count(),
            reason,
        ));
    }
    Ok(cast)
}

/// Fails at the first row where two arrays of the same type differ.
fn first_difference(a: &ArrayRef, b: &ArrayRef, reason: &'static str) -> Result<(), Failure> {
    let a64 = arrow_cast::cast(a, &DataType::Int64).map_err(|_| failure(0, "", 1, reason))?;
    let b64 = arrow_cast::cast(b, &DataType::Int64).map_err(|_| failure(0, "", 1, reason))?;
    let (a64, b64) = (
        a64.as_primitive::<Int64Type>(),
        b64.as_primitive::<Int64Type>(),
    );
    let mut bad = (0..a.len()).filter(|&r| a64.is_valid(r) && a64.value(r) != b64.value(r));
    match bad.next() {
        Some(first) => Err(failure(first, &render(a, first), 1 + bad.count(), reason)),
        None => Ok(()),
    }
}

fn render(array: &ArrayRef, row: usize) -> String {
    arrow_cast::display::ArrayFormatter::try_new(array.as_ref(), &Default::default())
        .map(|f| f.value(row).to_string())
        .unwrap_or_else(|e| format!("(unprintable: {e})"))
}

/// A timestamp array in nanoseconds since the epoch (UTC), with overflow checked.
fn to_nanos(
    array: &ArrayRef,
    unit: TimeUnit,
) -> Result<PrimitiveArray<TimestampNanosecondType>, Failure> {
    let factor = crate::partition::nanos_per(unit);
    let values = arrow_cast::cast(array, &DataType::Int64)
        .map_err(|_| failure(0, "", 1, "not a timestamp"))?;
    let values = values.as_primitive::<Int64Type>();
    let mut overflow: Option<usize> = None;
    let nanos: PrimitiveArray<TimestampNanosecondType> = values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            v.map(|v| {
                v.checked_mul(factor).unwrap_or_else(|| {
                    overflow.get_or_insert(row);
                    0
                })
            })
        })
        .collect();
    if let Some(row) = overflow {
        return Err(failure(
            row,
            &render(array, row),
            1,
            "is outside the nanosecond range (1677–2262)",
        ));
    }
    Ok(nanos)
}

/// Converts nanoseconds to `unit`, refusing any value with digits below the unit.
fn from_nanos(
    nanos: &dyn Array,
    unit: TimeUnit,
    zone: Option<Arc<str>>,
) -> Result<ArrayRef, Failure> {
    let nanos = arrow_cast::cast(nanos, &DataType::Int64)
        .map_err(|_| failure(0, "", 1, "not a timestamp"))?;
    let nanos = nanos.as_primitive::<Int64Type>();
    let divisor = crate::partition::nanos_per(unit);
    let mut bad = (0..nanos.len()).filter(|&r| nanos.is_valid(r) && nanos.value(r) % divisor != 0);
    if let Some(first) = bad.next() {
        let shown = chrono::DateTime::from_timestamp_nanos(nanos.value(first)).to_rfc3339();
        return Err(failure(
            first,
            &shown,
            1 + bad.count(),
            "has digits below the target unit",
        ));
    }
    let scaled: PrimitiveArray<Int64Type> = nanos.unary(|v| v / divisor);
    let target = DataType::Timestamp(unit, zone);
    arrow_cast::cast(&scaled, &target).map_err(|_| failure(0, "", 1, "not a timestamp"))
}
