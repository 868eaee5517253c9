//! Decoding JSON lines straight into Arrow columns of a given schema.
//!
//! Each value is converted from its raw JSON text into its column's buffer. A value that
//! does not fit (`"N/A"` in an integer column) becomes null in the row and a [`Reject`]
//! naming the line, column and raw text; a line that is not one JSON object (malformed,
//! truncated) is rolled back and rejected whole. A row whose `NOT NULL` column ends up
//! null is rejected whole too. Nothing here panics on input.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch,
    RecordBatchOptions, StringArray,
};
use arrow_buffer::bit_chunk_iterator::UnalignedBitChunk;
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{Datelike, NaiveDate};

use super::infer::{Inferred, JsonType, unwiden, widen_logged};
use super::json::{Columns, RawValue, unquote, walk_object};
use super::number::{FloatText, Scalar, number_text, parse_f64};
use super::rejects::Reject;
use crate::error::{Error, Result};

/// How a column turns raw JSON text into values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    /// An integer type; the bounds are the target type's.
    Int {
        min: i64,
        max: i64,
    },
    Float,
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
            Float32 | Float64 => Kind::Float,
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
    F64(Vec<f64>),
    Text {
        offsets: Vec<i32>,
        bytes: Vec<u8>,
    },
}

#[derive(Debug)]
struct Column {
    name: String,
    kind: Kind,
    target: DataType,
    nullable: bool,
    /// Rows a batch is expected to hold: each batch's buffers are allocated once at this
    /// size, rather than grown from empty by doubling.
    capacity: usize,
    /// Lazy: no bitmap is written until the first null, and most columns have none.
    valid: NullBufferBuilder,
    data: Data,
}

/// A value that does not fit.
type Misfit = String;

impl Column {
    fn new(field: &Field, capacity: usize) -> Column {
        let kind = Kind::of(field.data_type());
        let data = match kind {
            Kind::Bool => Data::Bool(BooleanBufferBuilder::new(capacity)),
            Kind::Int { .. } | Kind::Timestamp(_) | Kind::Date => {
                Data::I64(Vec::with_capacity(capacity))
            }
            Kind::Float => Data::F64(Vec::with_capacity(capacity)),
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
    fn raw(capacity: usize) -> Column {
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

    fn push_null(&mut self) {
        self.valid.append_null();
        match &mut self.data {
            Data::Unset => {}
            Data::Bool(b) => b.append(false),
            Data::I64(v) => v.push(0),
            Data::F64(v) => v.push(0.0),
            Data::Text { offsets, bytes } => offsets.push(bytes.len() as i32),
        }
    }

    fn pop(&mut self) {
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
            Data::F64(v) => {
                v.pop();
            }
            Data::Text { offsets, bytes } => {
                offsets.pop();
                bytes.truncate(offsets.last().copied().unwrap_or_default() as usize);
            }
        }
    }

    /// After a rejected line: a raw column that holds no value now goes back to untyped,
    /// as it was before the line typed it. The line's widening is undone, and values
    /// that fit a batch column's type are taken without widening (its type counts as
    /// inferred), so a column may stay typed only by a kept line's value. (Columns
    /// turn into text by values that do not fit, which always widen.)
    fn untype_if_valueless(&mut self) {
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

    fn last_is_valid(&self) -> bool {
        let len = self.valid.len();
        len > 0 && self.valid.is_valid(len - 1)
    }

    /// Appends the value of raw JSON text `raw`: the value, or null and why it does not
    /// fit.
    fn push(&mut self, raw: &str) -> std::result::Result<(), Misfit> {
        if raw == "null" {
            self.push_null();
            return Ok(());
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
                let Some(value) = number_text(raw).and_then(|t| t.parse::<i64>().ok()) else {
                    return self.misfit("not an integer");
                };
                if value < min || value > max {
                    return self.misfit(&format!("out of range for {}", self.target));
                }
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
            (Data::F64(v), _) => {
                let Some(value) = number_text(raw).and_then(parse_f64) else {
                    return self.misfit("not a number");
                };
                v.push(value);
            }
            (Data::Text { offsets, bytes }, _) => {
                if raw.starts_with('"') {
                    match unquote(raw) {
                        Some(text) => bytes.extend_from_slice(text.as_bytes()),
                        None => return self.misfit("not a valid JSON string"),
                    }
                } else {
                    bytes.extend_from_slice(raw.as_bytes());
                }
                let end = i32::try_from(bytes.len()).map_err(|_| {
                    "the batch's text exceeds 2 GiB; use smaller batches".to_string()
                })?;
                offsets.push(end);
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
    fn push_scalar(
        &mut self,
        raw: RawValue<'_>,
        scalar: Scalar,
    ) -> std::result::Result<(), Misfit> {
        if scalar == Scalar::PlainString && self.push_plain_string(raw.string_content()) {
            return Ok(());
        }
        match (&mut self.data, self.kind, scalar) {
            (Data::F64(v), _, Scalar::Float(value)) => v.push(value),
            // Correctly rounded, as reading the integer's text as a float is.
            (Data::F64(v), _, Scalar::Int(value)) => v.push(value as f64),
            (Data::I64(v), Kind::Int { min, max }, Scalar::Int(value))
                if (min..=max).contains(&value) =>
            {
                v.push(value)
            }
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
    fn push_raw(&mut self, raw: RawValue<'_>, scalar: Scalar) -> std::result::Result<(), Misfit> {
        if matches!(scalar, Scalar::Null) {
            self.push_null();
            return Ok(());
        }
        if scalar == Scalar::PlainString && self.push_plain_string(raw.string_content()) {
            return Ok(());
        }
        // Sliced here, off the usual path: passing the `RawValue` itself to a call kept
        // it in memory, and copying it there for every value stalled the walk (16-byte
        // loads of what four 8-byte stores had just written: no store forwarding).
        self.push_raw_other(raw.text(), scalar)
    }

    /// In line, the usual case: a value of the batch column's type. False for any
    /// other value, null included.
    #[inline(always)]
    fn push_fitting(&mut self, scalar: Scalar) -> bool {
        match (&mut self.data, scalar) {
            (Data::F64(v), Scalar::Float(value)) => v.push(value),
            (Data::I64(v), Scalar::Int(value)) => v.push(value),
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
        let Ok(end) = i32::try_from(bytes.len() + content.len()) else {
            return false;
        };
        bytes.extend_from_slice(content.as_bytes());
        offsets.push(end);
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
                Scalar::Null => {
                    self.push_null();
                    return Ok(());
                }
                Scalar::Bool(_) => {
                    let mut b = BooleanBufferBuilder::new(self.capacity.max(rows));
                    b.append_n(rows, false);
                    Data::Bool(b)
                }
                Scalar::Int(_) | Scalar::NegativeZero => Data::I64(zeros(self.capacity, rows)),
                Scalar::Float(_) | Scalar::OtherFloat => Data::F64(zeros(self.capacity, rows)),
                Scalar::PlainString | Scalar::Text => return self.push(text),
            };
            // Typed now: the value fits, unless it is one (`-0`, `1e3`) a typed column
            // cannot write back exactly, which turns the column into text below.
            if self.push_fitting(scalar) {
                return Ok(());
            }
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
    fn len(&self) -> usize {
        // From the data, not `self.valid.len()`: `NullBufferBuilder::len` is not inlined
        // across crates (without LTO), and this runs for every value. Tried again in the
        // twelfth session: fewer instructions, but a call per value (1.7% of samples).
        let len = match &self.data {
            Data::F64(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::Bool(b) => b.len(),
            Data::Text { offsets, .. } => offsets.len() - 1,
            Data::Unset => self.valid.len(),
        };
        debug_assert_eq!(len, self.valid.len());
        len
    }

    /// The column as an array of its target type, emptied.
    fn finish(&mut self) -> Result<ArrayRef> {
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

    fn arrow_error(&self, source: arrow_schema::ArrowError) -> Error {
        Error::Arrow {
            table: String::new(),
            context: format!("decoding column {:?}", self.name),
            source,
        }
    }
}

/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// `rows` zeros (placeholders under nulls), with room for `capacity`.
fn zeros<T: Default + Clone>(capacity: usize, rows: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(capacity.max(rows));
    v.resize(rows, T::default());
    v
}

/// What a decoder has counted since it was made.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Lines that were not blank.
    pub(crate) rows_in: u64,
    /// Rows put into batches.
    pub(crate) rows_out: u64,
    /// Lines rejected whole.
    pub(crate) rows_rejected: u64,
    /// Values rejected, per column index.
    pub(crate) values_rejected: Vec<u64>,
}

/// Decodes lines of one schema into record batches.
#[derive(Debug)]
pub(crate) struct Decoder {
    schema: SchemaRef,
    columns: Vec<Column>,
    /// The keys it knows: a schema's columns, or, decoding raw, every key it meets.
    keys: Columns,
    /// Decoding raw: each column's type over the lines so far, widened as values come.
    types: Vec<Option<JsonType>>,
    /// Reused per line while decoding raw: the types the line widened, as they were
    /// before it, to put back if the line is rejected.
    widened: Vec<(usize, Option<JsonType>)>,
    /// The columns that are NOT NULL.
    not_null: Vec<usize>,
    /// Rows per batch expected, for each column's buffers.
    capacity: usize,
    /// Source line of each buffered row.
    lines: Vec<u64>,
    source: String,
    rejects: Vec<Reject>,
    counts: Counts,
}

impl Decoder {
    /// A decoder for `schema`; `capacity` is the expected rows per batch.
    pub(crate) fn new(schema: &Schema, capacity: usize) -> Decoder {
        let columns: Vec<Column> = schema
            .fields()
            .iter()
            .map(|f| Column::new(f, capacity))
            .collect();
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .zip(&columns)
            .map(|(f, c)| f.as_ref().clone().with_nullable(c.nullable))
            .collect();
        let names = columns.iter().map(|c| c.name.clone()).collect();
        let columns_not_null = (columns.iter().enumerate())
            .filter(|(_, c)| !c.nullable)
            .map(|(i, _)| i)
            .collect();
        Decoder {
            schema: Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
            counts: Counts {
                values_rejected: vec![0; columns.len()],
                ..Counts::default()
            },
            columns,
            keys: Columns::fixed(names),
            types: Vec::new(),
            widened: Vec::new(),
            not_null: columns_not_null,
            capacity,
            lines: Vec::new(),
            source: String::new(),
            rejects: Vec::new(),
        }
    }

    /// A decoder for lines whose schema is not known yet: every key becomes a text
    /// column holding what a text column of the inferred schema would hold (strings
    /// unquoted, anything else as raw JSON), and each column's [`JsonType`] is inferred
    /// on the way, as [`Inferred`] does. [`Decoder::convert`] later types the batches.
    /// `capacity` is the expected rows per batch.
    pub(crate) fn raw(capacity: usize) -> Decoder {
        let mut decoder = Decoder::new(&Schema::empty(), capacity);
        decoder.keys = Columns::growing();
        decoder
    }

    /// The schema of the batches.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Names the file the next lines come from, for rejects.
    pub(crate) fn start_file(&mut self, source: &str) {
        self.source = source.to_string();
    }

    /// Decodes line `number`. Blank lines are skipped and not counted.
    pub(crate) fn line(&mut self, number: u64, line: &[u8]) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.counts.rows_in += 1;
        let rejects_before = self.rejects.len();
        let buffered = self.lines.len();
        let inferring = self.keys.grows();
        let named = self.columns.len();
        self.widened.clear();
        let capacity = self.capacity;
        // Every column holds `buffered` rows between lines: one more once this line sets it.
        let mut set = 0;
        let (columns, rejects, source, types, widened, values_rejected) = (
            &mut self.columns,
            &mut self.rejects,
            &self.source,
            &mut self.types,
            &mut self.widened,
            &mut self.counts.values_rejected,
        );
        let mut field = |i: usize, raw: RawValue<'_>, scalar: Scalar| {
            if inferring {
                // A key met for the first time: a raw column, null in earlier rows.
                while columns.len() <= i {
                    let mut column = Column::raw(capacity);
                    (0..buffered).for_each(|_| column.push_null());
                    columns.push(column);
                    values_rejected.push(0);
                }
            }
            if columns[i].len() > buffered {
                // A repeated key: the last one wins, as in serde_json and most readers.
                columns[i].pop();
            } else {
                set += 1;
            }
            let pushed = if inferring {
                // A value of the batch column's type: inference has that type already
                // (see `Column::untype_if_valueless`), so only the rest widen it.
                if columns[i].push_fitting(scalar) {
                    Ok(())
                } else {
                    widen_logged(types, widened, i, scalar.json_type());
                    columns[i].push_raw(raw, scalar)
                }
            } else {
                columns[i].push_scalar(raw, scalar)
            };
            if let Err(reason) = pushed {
                rejects.push(Reject {
                    source_file: source.clone(),
                    line: Some(number),
                    column: Some(columns[i].name.clone()),
                    value: Some(raw.text().to_string()),
                    reason,
                });
            }
        };
        let parsed = walk_object(line, &mut self.keys, &mut field);
        if inferring {
            // Columns made for new keys on this line take their names.
            let new = self.columns.iter_mut().zip(self.keys.names()).skip(named);
            new.for_each(|(column, name)| column.name.clone_from(name));
        }
        let reason = match parsed {
            Err(e) => Some(e.to_string()),
            Ok(()) => {
                // Most lines set every column.
                if set < self.columns.len() {
                    for column in &mut self.columns {
                        if column.len() == buffered {
                            column.push_null();
                        }
                    }
                }
                (self.not_null.iter().map(|&i| &self.columns[i]))
                    .find(|c| !c.last_is_valid())
                    .map(|c| format!("column {:?} is NOT NULL and has no valid value", c.name))
            }
        };
        match reason {
            None => {
                for reject in &self.rejects[rejects_before..] {
                    if let Some(i) = reject.column.as_ref().and_then(|c| self.index_of(c)) {
                        self.counts.values_rejected[i] += 1;
                    }
                }
                self.lines.push(number);
                self.counts.rows_out += 1;
            }
            Some(reason) => {
                unwiden(&mut self.types, &self.widened);
                let complete = parsed_ok(&reason);
                for column in &mut self.columns {
                    if complete || column.len() > buffered {
                        column.pop();
                    }
                }
                for &(i, _) in &self.widened {
                    if let Some(column) = self.columns.get_mut(i) {
                        column.untype_if_valueless();
                    }
                }
                self.rejects.truncate(rejects_before);
                self.counts.rows_rejected += 1;
                self.rejects.push(Reject {
                    source_file: self.source.clone(),
                    line: Some(number),
                    column: None,
                    value: Some(String::from_utf8_lossy(line).into_owned()),
                    reason,
                });
            }
        }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Rows buffered for the next batch.
    pub(crate) fn buffered_rows(&self) -> usize {
        self.lines.len()
    }

    /// The buffered rows as a batch (`None` when there are none); values a cast refuses
    /// become rejects here.
    pub(crate) fn flush(&mut self) -> Result<Option<RecordBatch>> {
        if self.lines.is_empty() {
            return Ok(None);
        }
        let mut arrays = Vec::with_capacity(self.columns.len());
        for i in 0..self.columns.len() {
            let casting = self.columns[i].kind == Kind::Cast;
            let before = casting.then(|| self.columns[i].text_values());
            let array = self.columns[i].finish()?;
            if let Some(before) = before {
                for (row, text) in before.into_iter().enumerate() {
                    if let Some(text) = text.filter(|_| array.is_null(row)) {
                        self.counts.values_rejected[i] += 1;
                        self.rejects.push(Reject {
                            source_file: self.source.clone(),
                            line: self.lines.get(row).copied(),
                            column: Some(self.columns[i].name.clone()),
                            value: Some(text),
                            reason: format!("cannot be read as {}", self.columns[i].target),
                        });
                    }
                }
            }
            arrays.push(array);
        }
        if self.keys.grows() {
            // Decoding raw, each batch is typed by its own values.
            let fields: Vec<Field> = (self.columns.iter().zip(&arrays))
                .map(|(c, a)| Field::new(c.name.as_str(), a.data_type().clone(), true))
                .collect();
            self.schema = Arc::new(Schema::new(fields));
        }
        let options = RecordBatchOptions::new().with_row_count(Some(self.lines.len()));
        self.lines.clear();
        let batch = RecordBatch::try_new_with_options(Arc::clone(&self.schema), arrays, &options)
            .map_err(|source| Error::Arrow {
            table: String::new(),
            context: format!("assembling rows of {}", self.source),
            source,
        })?;
        Ok(Some(batch))
    }

    /// Source lines of the rows buffered for the next batch.
    pub(crate) fn buffered_lines(&self) -> &[u64] {
        &self.lines
    }

    /// Decoding raw: the keys met on lines that parsed, with their types, as
    /// [`Inferred`] would have them for the same lines.
    pub(crate) fn inferred(&self) -> Option<Inferred> {
        self.keys
            .grows()
            .then(|| Inferred::from_parts(self.keys.clone(), self.types.clone()))
    }

    /// Types a batch that [`Decoder::raw`] decoded into this decoder's schema, which must
    /// be inferred ([`Inferred::schema`]) from lines that include the batch's: each
    /// column comes from the raw column of its name, or is null where there is none.
    /// Text columns are taken as they are, since raw decoding already made them what a
    /// text column holds; the others parse their text, as decoding the lines would
    /// have. `lines` are the rows' source lines, for rejects.
    pub(crate) fn convert(&mut self, raw: &RecordBatch, lines: &[u64]) -> Result<RecordBatch> {
        use arrow_array::cast::AsArray;
        let rows = raw.num_rows();
        let mut arrays = Vec::with_capacity(self.columns.len());
        for (i, column) in self.columns.iter_mut().enumerate() {
            let Some(found) = raw
                .schema()
                .index_of(&column.name)
                .ok()
                .map(|j| raw.column(j))
            else {
                arrays.push(arrow_array::new_null_array(&column.target, rows));
                continue;
            };
            let Some(text) = found.as_string_opt::<i32>() else {
                arrays.push(retype(found, column)?);
                continue;
            };
            match column.kind {
                Kind::Text if column.target == DataType::Utf8 => {
                    arrays.push(Arc::clone(found));
                    continue;
                }
                Kind::Bool | Kind::Int { .. } | Kind::Float => {}
                _ => {
                    return Err(Error::config(format!(
                        "column {:?}: raw decoding covers inferred types only, not {}",
                        column.name, column.target
                    )));
                }
            }
            for (row, value) in text.iter().enumerate() {
                let Some(value) = value else {
                    column.push_null();
                    continue;
                };
                if let Err(reason) = column.push(value) {
                    self.counts.values_rejected[i] += 1;
                    self.rejects.push(Reject {
                        source_file: self.source.clone(),
                        line: lines.get(row).copied(),
                        column: Some(column.name.clone()),
                        value: Some(value.to_string()),
                        reason,
                    });
                }
            }
            arrays.push(column.finish()?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(Arc::clone(&self.schema), arrays, &options).map_err(
            |source| Error::Arrow {
                table: String::new(),
                context: format!("typing rows of {}", self.source),
                source,
            },
        )
    }

    /// Takes the rejects collected so far.
    pub(crate) fn take_rejects(&mut self) -> Vec<Reject> {
        std::mem::take(&mut self.rejects)
    }

    /// Counts so far.
    pub(crate) fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Keys met that are not columns, with how often.
    pub(crate) fn unknown_keys(&self) -> impl Iterator<Item = (&str, u64)> {
        self.keys.unknown.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Column names in order.
    pub(crate) fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }
}

/// A typed raw column ([`Column::push_raw`]) as `column`'s type, which inference made
/// at least as wide: the same values, or integers as floats, or each value's JSON text.
fn retype(array: &ArrayRef, column: &Column) -> Result<ArrayRef> {
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
        (DataType::Int64, DataType::Float64 | DataType::Utf8)
        | (DataType::Boolean, DataType::Utf8) => {
            arrow_cast::cast(array, target).map_err(|e| column.arrow_error(e))
        }
        (from, to) => Err(Error::config(format!(
            "column {:?}: a raw batch typed {from} cannot become {to}",
            column.name
        ))),
    }
}

/// Whether a row-level reason came after the whole line was read (every column then
/// holds a value of this row), rather than from a parse error half-way.
fn parsed_ok(reason: &str) -> bool {
    reason.starts_with("column ")
}

impl Column {
    /// The buffered text values (for a cast column, before the cast).
    fn text_values(&self) -> Vec<Option<String>> {
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
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Int32Type, TimestampMillisecondType};

    fn decode(schema: Schema, lines: &[&str]) -> (RecordBatch, Vec<Reject>, Counts) {
        let mut d = Decoder::new(&schema, 8);
        d.start_file("f");
        for (i, line) in lines.iter().enumerate() {
            d.line(i as u64 + 1, line.as_bytes());
        }
        let batch = d.flush().unwrap().unwrap();
        (batch, d.take_rejects(), d.counts().clone())
    }

    #[test]
    fn registry_types_and_misfits() {
        let schema = Schema::new(vec![
            Field::new("n", DataType::Int32, true),
            Field::new("t", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new("d", DataType::Date32, true),
            Field::new("x", DataType::Decimal128(10, 2), true),
        ]);
        let (batch, rejects, counts) = decode(
            schema,
            &[
                r#"{"n": 5, "t": 1000, "d": "2024-11-05", "x": "1.25"}"#,
                r#"{"n": "N/A", "t": "2024-11-04T16:00:00Z", "d": 2, "x": "abc"}"#,
                r#"{"n": 99999999999, "t": true}"#,
                r#"{"n": "7"}"#,
            ],
        );
        assert_eq!(counts.rows_out, 4);
        let n = batch.column(0).as_primitive::<Int32Type>();
        assert_eq!(n.iter().collect::<Vec<_>>(), [Some(5), None, None, Some(7)]);
        let t = batch.column(1).as_primitive::<TimestampMillisecondType>();
        assert_eq!(t.value(1), 1_730_736_000_000);
        let d = batch.column(2).as_primitive::<Date32Type>();
        assert_eq!((d.value(0), d.value(1)), (20032, 2));
        let got: Vec<_> = rejects
            .iter()
            .map(|r| (r.line, r.column.clone().unwrap(), r.value.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(2), "n".into(), "\"N/A\"".into()),
                (Some(3), "n".into(), "99999999999".into()),
                (Some(3), "t".into(), "true".into()),
                (Some(2), "x".into(), "abc".into()),
            ]
        );
        assert_eq!(counts.values_rejected, [2, 1, 0, 1]);
    }

    #[test]
    fn bad_lines_roll_back_and_not_null_rows_are_rejected() {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("v", DataType::Float64, true),
        ]);
        let (batch, rejects, counts) = decode(
            schema,
            &[
                r#"{"id": "a", "v": 1}"#,
                r#"{"id": "b", "v": 2.5, "#,
                "   ",
                r#"{"v": 3}"#,
                r#"{"id": {"k": [1]}, "v": "x", "v": 4}"#,
            ],
        );
        assert_eq!(
            (counts.rows_in, counts.rows_out, counts.rows_rejected),
            (4, 2, 2)
        );
        assert_eq!(batch.num_rows(), 2);
        let ids = batch.column(0).as_string::<i32>();
        assert_eq!(ids.value(1), r#"{"k": [1]}"#);
        let v = batch
            .column(1)
            .as_primitive::<arrow_array::types::Float64Type>();
        assert_eq!(v.iter().collect::<Vec<_>>(), [Some(1.0), Some(4.0)]);
        let lines: Vec<_> = rejects
            .iter()
            .map(|r| (r.line, r.column.is_none()))
            .collect();
        assert_eq!(lines, [(Some(2), true), (Some(4), true), (Some(5), false)]);
    }

    /// Decoding raw infers what [`Inferred`] infers from the same lines, also where a
    /// batch column was typed by a value on a line that is then rejected: its later
    /// values of that type are taken in line, without widening, and must still count.
    #[test]
    fn raw_inference_counts_only_kept_lines() {
        let lines = [
            r#"{"a": 1.5, "b": }"#,
            r#"{"a": 2.5, "c": true}"#,
            r#"{"c": false, "d": 7, "e": "x", "d": }"#,
            r#"{"d": 8, "e": "y"}"#,
            r#"{"f": 1, "f": null, "g": [}"#,
            r#"{"f": 2}"#,
        ];
        let mut raw = Decoder::raw(16);
        let mut reference = Inferred::from_parts(Columns::growing(), Vec::new());
        for (number, line) in (1..).zip(lines) {
            raw.line(number, line.as_bytes());
            reference.add_line(line.as_bytes());
        }
        let types = |inferred: &Inferred| {
            let mut types: Vec<_> = inferred.types().map(|(k, t)| (k.to_string(), t)).collect();
            types.sort_by(|x, y| x.0.cmp(&y.0));
            types
        };
        let inferred = raw.inferred().expect("a raw decoder infers");
        assert_eq!(types(&inferred), types(&reference));
        assert_eq!(
            types(&inferred),
            [
                ("a".to_string(), JsonType::Float),
                ("c".to_string(), JsonType::Bool),
                ("d".to_string(), JsonType::Int),
                ("e".to_string(), JsonType::Text),
                ("f".to_string(), JsonType::Int),
            ]
        );
    }

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
