//! One column of a decoder: raw JSON values into an Arrow buffer of the column's type
//! (a value that does not fit becomes null and a misfit), or, decoding raw, into a
//! buffer typed by the batch's own values while they keep their exact JSON text.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    StringArray,
};
use arrow_buffer::bit_chunk_iterator::UnalignedBitChunk;
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, TimeUnit};
use chrono::{Datelike, NaiveDate};

use super::json::{RawValue, unquote};
use super::number::{
    FloatText, NON_FINITE_TOKENS, Scalar, exact_in_f64, exact_integer_f64, is_integer_text,
    number_text, parse_f64,
};
use crate::error::{Error, Result};

/// How a column turns raw JSON text into values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Bool,
    /// An integer type; the bounds are the target type's.
    Int {
        min: i64,
        max: i64,
    },
    /// A float type; `max` is the largest magnitude it holds.
    Float {
        max: f64,
    },
    /// An integer decimal, `Decimal128(digits, 0)`.
    Decimal {
        digits: u8,
    },
    /// Strings as their text, anything else as its raw JSON.
    Text,
    /// Integers in the column's unit, or timestamp strings.
    Timestamp(TimeUnit),
    /// Integers (days since 1970-01-01) or `YYYY-MM-DD` strings.
    Date,
    /// Any other type: read as text, then cast; values the cast refuses are rejected.
    Cast,
    /// Decoding raw, before the schema is known: each batch holds a column typed (bool,
    /// int, float) while its values can be written back as their exact JSON text, and
    /// as text once one cannot ([`Column::push_raw`]).
    Raw,
}

impl Kind {
    fn of(data_type: &DataType) -> Kind {
        use DataType::*;
        let int = |min: i64, max: i64| Kind::Int { min, max };
        match data_type {
            Boolean => Kind::Bool,
            Int8 => int(i8::MIN.into(), i8::MAX.into()),
            Int16 => int(i16::MIN.into(), i16::MAX.into()),
            Int32 => int(i32::MIN.into(), i32::MAX.into()),
            Int64 => int(i64::MIN, i64::MAX),
            UInt8 => int(0, u8::MAX.into()),
            UInt16 => int(0, u16::MAX.into()),
            UInt32 => int(0, u32::MAX.into()),
            Float32 => Kind::Float {
                max: f32::MAX.into(),
            },
            Float64 => Kind::Float { max: f64::MAX },
            Decimal128(digits, 0) => Kind::Decimal { digits: *digits },
            Utf8 | LargeUtf8 | Utf8View => Kind::Text,
            Timestamp(unit, _) => Kind::Timestamp(*unit),
            Date32 => Kind::Date,
            _ => Kind::Cast,
        }
    }
}

/// Values of one column.
#[derive(Debug)]
enum Data {
    /// Decoding raw: no value in this batch yet, only nulls.
    Unset,
    Bool(BooleanBufferBuilder),
    I64(Vec<i64>),
    I128(Vec<i128>),
    F64(Vec<f64>),
    Text {
        offsets: Vec<i32>,
        bytes: Vec<u8>,
    },
}

/// The fields a value touches (`data`, `valid`) come first, at the start of a cache
/// line: a line sets about 180 columns, and all their hot parts must stay in the L1
/// cache. Laid out by the compiler in an 8-byte-aligned column, they were spread over
/// up to three cache lines between cold fields, and decoding took 8% longer.
#[derive(Debug)]
#[repr(C, align(64))]
pub(super) struct Column {
    data: Data,
    /// Lazy: no bitmap is written until the first null, and most columns have none.
    valid: NullBufferBuilder,
    pub(super) kind: Kind,
    pub(super) name: String,
    pub(super) target: DataType,
    pub(super) nullable: bool,
    /// Rows a batch is expected to hold: each batch's buffers are allocated once at this
    /// size, rather than grown from empty by doubling.
    capacity: usize,
}

/// A value that does not fit.
pub(super) type Misfit = String;

impl Column {
    pub(super) fn new(field: &Field, capacity: usize) -> Column {
        let kind = Kind::of(field.data_type());
        let data = match kind {
            Kind::Bool => Data::Bool(BooleanBufferBuilder::new(capacity)),
            Kind::Int { .. } | Kind::Timestamp(_) | Kind::Date => {
                Data::I64(Vec::with_capacity(capacity))
            }
            Kind::Float { .. } => Data::F64(Vec::with_capacity(capacity)),
            Kind::Decimal { .. } => Data::I128(Vec::with_capacity(capacity)),
            Kind::Raw => Data::Unset,
            Kind::Text | Kind::Cast => Data::Text {
                offsets: vec![0],
                bytes: Vec::new(),
            },
        };
        Column {
            name: field.name().clone(),
            kind,
            target: field.data_type().clone(),
            // A cast can still turn a value into null after the row was taken.
            nullable: field.is_nullable() || kind == Kind::Cast,
            capacity,
            valid: NullBufferBuilder::new(capacity),
            data,
        }
    }

    /// A column of [`Kind::Raw`].
    pub(super) fn raw(capacity: usize) -> Column {
        Column {
            name: String::new(),
            kind: Kind::Raw,
            target: DataType::Utf8,
            nullable: true,
            capacity,
            valid: NullBufferBuilder::new(capacity),
            data: Data::Unset,
        }
    }

    pub(super) fn push_null(&mut self) {
        self.valid.append_null();
        match &mut self.data {
            Data::Unset => {}
            Data::Bool(b) => b.append(false),
            Data::I64(v) => v.push(0),
            Data::I128(v) => v.push(0),
            Data::F64(v) => v.push(0.0),
            Data::Text { offsets, bytes } => offsets.push(bytes.len() as i32),
        }
    }

    pub(super) fn pop(&mut self) {
        let len = self.valid.len();
        if len == 0 {
            return;
        }
        self.valid.truncate(len - 1);
        match &mut self.data {
            Data::Unset => {}
            Data::Bool(b) => b.truncate(len - 1),
            Data::I64(v) => {
                v.pop();
            }
            Data::I128(v) => {
                v.pop();
            }
            Data::F64(v) => {
                v.pop();
            }
            Data::Text { offsets, bytes } => {
                // Offsets are one more than the values (the first is 0), so the last
                // value starts at the offset before the last one.
                let start = offsets[offsets.len() - 2];
                offsets.pop();
                bytes.truncate(start as usize);
            }
        }
    }

    /// After a rejected line: a raw column that holds no value now goes back to untyped,
    /// as it was before the line typed it. The line's widening is undone, and values
    /// that fit a batch column's type are taken without widening (its type counts as
    /// inferred), so a column may stay typed only by a kept line's value. (Columns
    /// turn into text by values that do not fit, which always widen.)
    pub(super) fn untype_if_valueless(&mut self) {
        if !matches!(self.data, Data::Bool(_) | Data::I64(_) | Data::F64(_)) {
            return;
        }
        let rows = self.valid.len();
        let values = self.valid.as_slice().map_or(rows, |bits| {
            UnalignedBitChunk::new(bits, 0, rows).count_ones()
        });
        if values == 0 {
            self.data = Data::Unset;
        }
    }

    pub(super) fn last_is_valid(&self) -> bool {
        let len = self.valid.len();
        len > 0 && self.valid.is_valid(len - 1)
    }

    /// Appends the value of raw JSON text `raw`: the value, or null and why it does not
    /// fit.
    pub(super) fn push(&mut self, raw: &str) -> std::result::Result<(), Misfit> {
        if raw == "null" {
            self.push_null();
            return Ok(());
        }
        if NON_FINITE_TOKENS.contains(&raw) {
            return self.misfit(NON_FINITE);
        }
        match (&mut self.data, self.kind) {
            // A raw column's first value in the batch, and text.
            (Data::Unset, _) => {
                self.become_text();
                return self.push(raw);
            }
            (Data::Bool(b), _) => {
                let value = match raw {
                    "true" => true,
                    "false" => false,
                    _ => return self.misfit("not a boolean"),
                };
                b.append(value);
            }
            (Data::I64(v), Kind::Int { min, max }) => {
                let Some(text) = number_text(raw).filter(|t| is_integer_text(t)) else {
                    return self.misfit("not an integer");
                };
                let Some(value) = text.parse::<i64>().ok().filter(|v| (min..=max).contains(v))
                else {
                    return self.misfit(&format!("out of range for {}", self.target));
                };
                v.push(value);
            }
            (Data::I128(v), kind) => {
                let digits = match kind {
                    Kind::Decimal { digits } => digits,
                    _ => 38,
                };
                let Some(text) = number_text(raw).filter(|t| is_integer_text(t)) else {
                    return self.misfit("not an integer");
                };
                let bound = 10i128.pow(u32::from(digits.min(38)));
                let Some(value) = text.parse::<i128>().ok().filter(|v| v.abs() < bound) else {
                    return self.misfit(&format!("out of range for {}", self.target));
                };
                v.push(value);
            }
            (Data::I64(v), Kind::Timestamp(unit)) => {
                let value = if raw.starts_with('"') {
                    unquote(raw)
                        .and_then(|t| arrow_cast::parse::string_to_timestamp_nanos(&t).ok())
                        .map(|nanos| nanos.div_euclid(crate::partition::nanos_per(unit)))
                } else {
                    raw.parse::<i64>().ok()
                };
                let Some(value) = value else {
                    return self.misfit("not a timestamp");
                };
                v.push(value);
            }
            (Data::I64(v), _) => {
                let days = if raw.starts_with('"') {
                    unquote(raw)
                        .and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
                        .map(|d| i64::from(d.num_days_from_ce()) - i64::from(EPOCH_DAYS_FROM_CE))
                } else {
                    raw.parse::<i64>().ok()
                };
                let Some(days) = days.filter(|d| i32::try_from(*d).is_ok()) else {
                    return self.misfit("not a date");
                };
                v.push(days);
            }
            (Data::F64(v), kind) => {
                let Some(text) = number_text(raw) else {
                    return self.misfit("not a number");
                };
                let max = match kind {
                    Kind::Float { max } => max,
                    _ => f64::MAX,
                };
                // An integer is taken only where the float holds it exactly; a decimal
                // fraction rounds to the nearest float, as every reader of it expects.
                let value = if is_integer_text(text) {
                    exact_integer_f64(text)
                } else {
                    parse_f64(text)
                };
                let Some(value) = value.filter(|v| v.abs() <= max) else {
                    return self.misfit(&format!("out of range for {}", self.target));
                };
                v.push(value);
            }
            (Data::Text { offsets, bytes }, _) => {
                let text = if raw.starts_with('"') {
                    match unquote(raw) {
                        Some(text) => text,
                        None => return self.misfit("not a valid JSON string"),
                    }
                } else {
                    Cow::Borrowed(raw)
                };
                if !append_text(offsets, bytes, &text) {
                    return self.misfit("the batch's text exceeds 2 GiB; use smaller batches");
                }
            }
        }
        self.valid.append_non_null();
        Ok(())
    }

    /// Appends a value the scanner has read as `scalar`: the usual numbers and booleans
    /// straight from the scalar, without reading their text again, and strings without
    /// escapes as they are; anything else as
    /// [`Column::push`] takes it, which gives the same for these (a property test
    /// compares the two).
    #[inline(always)]
    pub(super) fn push_scalar(
        &mut self,
        raw: RawValue<'_>,
        scalar: Scalar,
    ) -> std::result::Result<(), Misfit> {
        if scalar == Scalar::PlainString && self.push_plain_string(raw.string_content()) {
            return Ok(());
        }
        match (&mut self.data, self.kind, scalar) {
            (Data::F64(v), Kind::Float { max: f64::MAX }, Scalar::Float(value)) => v.push(value),
            // Exact, as an integer must be; others are refused by `push`.
            (Data::F64(v), Kind::Float { max: f64::MAX }, Scalar::Int(value))
                if exact_in_f64(value) =>
            {
                v.push(value as f64)
            }
            (Data::I64(v), Kind::Int { min, max }, Scalar::Int(value))
                if (min..=max).contains(&value) =>
            {
                v.push(value)
            }
            // Every `i64` has at most 19 digits.
            (Data::I128(v), Kind::Decimal { digits: 19.. }, Scalar::Int(value)) => {
                v.push(i128::from(value))
            }
            (_, _, Scalar::NonFinite) => return self.misfit(NON_FINITE),
            (Data::Bool(b), _, Scalar::Bool(value)) => b.append(value),
            (_, _, Scalar::Null) => {
                self.push_null();
                return Ok(());
            }
            _ => return self.push(raw.text()),
        }
        self.valid.append_non_null();
        Ok(())
    }

    /// Decoding raw: appends a value as [`Scalar::of`] read it. The batch's column stays
    /// typed while every value in it can be written back as its exact JSON text (the
    /// numbers `Scalar` keeps a value of), so that it can later become any column
    /// type the inferred schema gives it, text included; at the first value that does
    /// not fit it turns into text, its earlier values written back.
    ///
    /// Values of the batch column's type go in by [`Column::push_fitting`] first;
    /// this takes the rest.
    #[inline(always)]
    pub(super) fn push_raw(
        &mut self,
        raw: RawValue<'_>,
        scalar: Scalar,
    ) -> std::result::Result<(), Misfit> {
        match scalar {
            Scalar::Null => {
                self.push_null();
                return Ok(());
            }
            Scalar::NonFinite => return self.misfit(NON_FINITE),
            _ => {}
        }
        if scalar == Scalar::PlainString && self.push_plain_string(raw.string_content()) {
            return Ok(());
        }
        // Sliced here, off the usual path: passing the `RawValue` itself to a call kept
        // it in memory, and copying it there for every value stalled the walk (16-byte
        // loads of what four 8-byte stores had just written: no store forwarding).
        self.push_raw_other(raw.text(), scalar)
    }

    /// In line, the usual case: a value of the batch column's type that does not widen
    /// the column's inferred type. False for any other value, null included, and for
    /// an integer no `f64` holds exactly (its type is wider than the usual integer's).
    #[inline(always)]
    pub(super) fn push_fitting(&mut self, scalar: Scalar) -> bool {
        match (&mut self.data, scalar) {
            (Data::F64(v), Scalar::Float(value)) => v.push(value),
            (Data::I64(v), Scalar::Int(value)) if exact_in_f64(value) => v.push(value),
            (Data::Bool(b), Scalar::Bool(value)) => b.append(value),
            _ => return false,
        }
        self.valid.append_non_null();
        true
    }

    /// In line, a string without escapes into a text column (text, cast or raw): its
    /// text between the quotes, copied as it is, which is what [`Column::push`] keeps of
    /// it. False for any other column, and where the batch's text would pass 2 GiB
    /// ([`Column::push`] then says so).
    #[inline(always)]
    fn push_plain_string(&mut self, content: &str) -> bool {
        let Data::Text { offsets, bytes } = &mut self.data else {
            return false;
        };
        if !append_text(offsets, bytes, content) {
            return false;
        }
        self.valid.append_non_null();
        true
    }

    /// [`Column::push_raw`] for a batch column's first value, and for a value that
    /// does not fit it (`text` is its JSON text): the column then turns into text.
    #[inline(never)]
    fn push_raw_other(&mut self, text: &str, scalar: Scalar) -> std::result::Result<(), Misfit> {
        if matches!(self.data, Data::Unset) {
            let rows = self.len();
            self.data = match scalar {
                Scalar::Bool(_) => {
                    let mut b = BooleanBufferBuilder::new(self.capacity.max(rows));
                    b.append_n(rows, false);
                    Data::Bool(b)
                }
                Scalar::Int(_) | Scalar::NegativeZero => Data::I64(zeros(self.capacity, rows)),
                Scalar::Float(_) | Scalar::OtherFloat => Data::F64(zeros(self.capacity, rows)),
                // Null (which `push_raw` takes before) as `push` takes it.
                Scalar::Null | Scalar::PlainString | Scalar::Text | Scalar::BigInt => {
                    return self.push(text);
                }
                Scalar::NonFinite => return self.misfit(NON_FINITE),
            };
            // Typed now: the value fits, unless it is one (`-0`, `1e3`) a typed column
            // cannot write back exactly, which turns the column into text below.
            if self.push_fitting(scalar) {
                return Ok(());
            }
        }
        // An integer `push_fitting` left to widen the column's type.
        if let (Data::I64(v), Scalar::Int(value)) = (&mut self.data, scalar) {
            v.push(value);
            self.valid.append_non_null();
            return Ok(());
        }
        self.become_text();
        self.push(text)
    }

    /// Turns the values so far into text, each as its JSON text.
    fn become_text(&mut self) {
        use std::io::Write;
        if matches!(self.data, Data::Text { .. }) {
            return;
        }
        let rows = self.len();
        let mut offsets = Vec::with_capacity(self.capacity.max(rows) + 1);
        offsets.push(0);
        let mut bytes = Vec::new();
        for row in 0..rows {
            if self.valid.is_valid(row) {
                // Writing to a Vec cannot fail.
                let _ = match &self.data {
                    Data::Bool(b) => write!(bytes, "{}", b.get_bit(row)),
                    Data::I64(v) => write!(bytes, "{}", v[row]),
                    Data::I128(v) => write!(bytes, "{}", v[row]),
                    Data::F64(v) => write!(bytes, "{}", FloatText(v[row])),
                    Data::Unset | Data::Text { .. } => Ok(()),
                };
            }
            offsets.push(bytes.len() as i32);
        }
        self.data = Data::Text { offsets, bytes };
    }

    fn misfit(&mut self, reason: &str) -> std::result::Result<(), Misfit> {
        self.push_null();
        Err(reason.to_string())
    }

    /// Rows held. Read from the values where it can be: `NullBufferBuilder::len` is not
    /// inlined, and this is asked once per field.
    #[inline]
    pub(super) fn len(&self) -> usize {
        // From the data, not `self.valid.len()`: `NullBufferBuilder::len` is not inlined
        // across crates (without LTO), and this runs for every value; measured, it cost a
        // call per value (1.7% of samples) for fewer instructions.
        let len = match &self.data {
            Data::F64(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::I128(v) => v.len(),
            Data::Bool(b) => b.len(),
            Data::Text { offsets, .. } => offsets.len() - 1,
            Data::Unset => self.valid.len(),
        };
        debug_assert_eq!(len, self.valid.len());
        len
    }

    /// The column as an array of its target type, emptied.
    pub(super) fn finish(&mut self) -> Result<ArrayRef> {
        let capacity = self.capacity;
        let rows = self.valid.len();
        let nulls = std::mem::replace(&mut self.valid, NullBufferBuilder::new(capacity))
            .build()
            // A null taken back by `pop` leaves a bitmap without nulls.
            .filter(|valid| valid.null_count() > 0);
        // The next batch's buffers, allocated once at their expected size. A raw column
        // starts each batch unset, to be typed by that batch's own values.
        let next = match &self.data {
            _ if self.kind == Kind::Raw => Data::Unset,
            Data::Unset => Data::Unset,
            Data::Bool(_) => Data::Bool(BooleanBufferBuilder::new(capacity)),
            Data::I64(_) => Data::I64(Vec::with_capacity(capacity)),
            Data::I128(_) => Data::I128(Vec::with_capacity(capacity)),
            Data::F64(_) => Data::F64(Vec::with_capacity(capacity)),
            Data::Text { bytes, .. } => {
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                // The next batch's text is likely about as long as this one's.
                let bytes = Vec::with_capacity(bytes.len());
                Data::Text { offsets, bytes }
            }
        };
        let array: ArrayRef = match std::mem::replace(&mut self.data, next) {
            Data::Unset => arrow_array::new_null_array(&DataType::Utf8, rows),
            Data::Bool(mut b) => Arc::new(BooleanArray::new(b.finish(), nulls)),
            Data::I64(v) if self.kind == Kind::Date => {
                let days: Vec<i32> = v.into_iter().map(|d| d as i32).collect();
                Arc::new(Date32Array::new(ScalarBuffer::from(days), nulls))
            }
            Data::I64(v) => Arc::new(Int64Array::new(ScalarBuffer::from(v), nulls)),
            Data::I128(v) => Arc::new(
                Decimal128Array::new(ScalarBuffer::from(v), nulls)
                    .with_data_type(self.target.clone()),
            ),
            Data::F64(v) => Arc::new(Float64Array::new(ScalarBuffer::from(v), nulls)),
            Data::Text { offsets, bytes } => Arc::new(
                StringArray::try_new(
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    Buffer::from_vec(bytes),
                    nulls,
                )
                .map_err(|e| self.arrow_error(e))?,
            ),
        };
        if self.kind == Kind::Raw {
            return Ok(array);
        }
        if array.data_type() == &self.target {
            return Ok(array);
        }
        let options = arrow_cast::CastOptions {
            safe: true,
            ..Default::default()
        };
        arrow_cast::cast_with_options(&array, &self.target, &options)
            .map_err(|e| self.arrow_error(e))
    }

    pub(super) fn arrow_error(&self, source: arrow_schema::ArrowError) -> Error {
        Error::Arrow {
            table: String::new(),
            context: format!("decoding column {:?}", self.name),
            source,
        }
    }
}

/// Why a `NaN`, `Infinity` or `-Infinity` token is rejected.
const NON_FINITE: &str = "not a JSON number (NaN and Infinity have no JSON value)";

/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Appends `text` as the next value of a text buffer. False, with nothing appended,
/// where the batch's text would pass 2 GiB (`i32` offsets).
#[inline(always)]
fn append_text(offsets: &mut Vec<i32>, bytes: &mut Vec<u8>, text: &str) -> bool {
    let Ok(end) = i32::try_from(bytes.len() + text.len()) else {
        return false;
    };
    bytes.extend_from_slice(text.as_bytes());
    offsets.push(end);
    true
}

/// `rows` zeros (placeholders under nulls), with room for `capacity`.
fn zeros<T: Default + Clone>(capacity: usize, rows: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(capacity.max(rows));
    v.resize(rows, T::default());
    v
}

/// A typed raw column ([`Column::push_raw`]) as `column`'s type, which inference made
/// at least as wide: the same values, or integers as floats, or each value's JSON text.
pub(super) fn retype(array: &ArrayRef, column: &Column) -> Result<ArrayRef> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    let target = &column.target;
    match (array.data_type(), target) {
        (from, to) if from == to => Ok(Arc::clone(array)),
        // Typed by a value on a line later rejected whole, which took the value back.
        _ if array.null_count() == array.len() => {
            Ok(arrow_array::new_null_array(target, array.len()))
        }
        (DataType::Float64, DataType::Utf8) => {
            let floats = array.as_primitive::<Float64Type>();
            let text: StringArray = (floats.iter())
                .map(|v| v.map(|v| FloatText(v).to_string()))
                .collect();
            Ok(Arc::new(text))
        }
        // Exact: inference makes integers float only where every one is an exact
        // `f64`, and a decimal of 38 digits holds every `i64`.
        (DataType::Int64, DataType::Float64 | DataType::Utf8 | DataType::Decimal128(_, 0))
        | (DataType::Boolean, DataType::Utf8) => {
            arrow_cast::cast(array, target).map_err(|e| column.arrow_error(e))
        }
        (from, to) => Err(Error::internal(format!(
            "column {:?}: a raw batch typed {from} cannot become {to}",
            column.name
        ))),
    }
}

impl Column {
    /// The buffered text values (for a cast column, before the cast).
    pub(super) fn text_values(&self) -> Vec<Option<String>> {
        let Data::Text { offsets, bytes } = &self.data else {
            return Vec::new();
        };
        (0..self.len())
            .map(|row| {
                self.valid.is_valid(row).then(|| {
                    let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                    String::from_utf8_lossy(&bytes[start..end]).into_owned()
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compact::json::{Columns, walk_object};

    /// A raw JSON value in one of many spellings: numbers of any size and form (as the
    /// compaction property tests spell them), quoted numbers, booleans, null, strings,
    /// arrays.
    fn raw_value() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            6 => super::super::properties::number_text(),
            1 => "\"-?[0-9]{1,4}(\\.[0-9]{1,2})?\"",
            1 => prop::sample::select(vec![
                "true", "false", "null", "\"x\"", "\"2024-11-05\"", "[1.5]", "\"N/A\"",
            ])
            .prop_map(String::from),
        ]
    }

    proptest::proptest! {
        /// A value taken from the scanner's scalar is what reading its text gives, for
        /// every kind of column: the same value, or the same misfit.
        #[test]
        fn push_scalar_is_push_of_the_text(
            values in proptest::collection::vec(raw_value(), 1..24),
            target in proptest::sample::select(vec![
                DataType::Boolean,
                DataType::Int8,
                DataType::Int32,
                DataType::Int64,
                DataType::UInt8,
                DataType::UInt32,
                DataType::Float32,
                DataType::Float64,
                DataType::Utf8,
                DataType::Timestamp(TimeUnit::Second, None),
                DataType::Date32,
                DataType::Decimal128(10, 2),
            ]),
        ) {
            let field = Field::new("v", target, true);
            let (mut by_scalar, mut by_text) = (Column::new(&field, 4), Column::new(&field, 4));
            let mut keys = Columns::fixed(vec!["v".to_string()]);
            for value in &values {
                let line = format!("{{\"v\":{value}}}");
                let mut pushed = Vec::new();
                walk_object(line.as_bytes(), &mut keys, &mut |_, raw: RawValue<'_>, scalar| {
                    pushed.push((by_scalar.push_scalar(raw, scalar), by_text.push(raw.text())));
                })
                .unwrap();
                proptest::prop_assert_eq!(pushed.len(), 1);
                let (a, b) = pushed.pop().unwrap();
                proptest::prop_assert_eq!(a, b, "{}", value);
            }
            let (a, b) = (by_scalar.finish().unwrap(), by_text.finish().unwrap());
            proptest::prop_assert_eq!(a.as_ref(), b.as_ref());
        }
    }
}
