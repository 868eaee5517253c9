//! Decoding JSON lines straight into Arrow columns of a given schema.
//!
//! Each value is converted from its raw JSON text into its column's buffer (a
//! [`Column`], in `column.rs`; this module is the lines, rows and rejects). A value that
//! does not fit (`"N/A"` in an integer column) becomes null in the row and a [`Reject`]
//! naming the line, column and raw text; a line that is not one JSON object (malformed,
//! truncated) is rolled back and rejected whole. A row whose `NOT NULL` column ends up
//! null is rejected whole too. A key repeated in one object is decided by
//! [`DuplicateKeys`]: every value of it is kept in the rejects either way. Nothing here
//! panics on input.

use std::sync::Arc;

use arrow_array::{Array, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::column::{Column, Kind, retype};
use super::infer::{Inferred, JsonType, unwiden, widen_logged};
use super::json::{Columns, RawValue, walk_object};
use super::number::Scalar;
use super::rejects::Reject;
use super::rules::DuplicateKeys;
use crate::error::{Error, Result};

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
    /// Rows whose object repeated the column's key, per column index.
    pub(crate) duplicate_keys: Vec<u64>,
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
    duplicates: DuplicateKeys,
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
                duplicate_keys: vec![0; columns.len()],
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
            duplicates: DuplicateKeys::default(),
        }
    }

    /// Decides keys repeated in one object by `rule`.
    pub(crate) fn with_duplicate_keys(mut self, rule: DuplicateKeys) -> Decoder {
        self.duplicates = rule;
        self
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
    pub(crate) fn line<'l>(&mut self, number: u64, line: &'l [u8]) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.counts.rows_in += 1;
        let buffered = self.lines.len();
        let inferring = self.keys.grows();
        let named = self.columns.len();
        self.widened.clear();
        let capacity = self.capacity;
        // Every column holds `buffered` rows between lines: one more once this line sets it.
        let mut set = 0;
        // Columns whose key came again on this line, and the values that did not fit
        // (column, raw text, why), made rejects once the line is done and its new
        // columns have names. Both are rare: they allocate only then.
        let mut repeated: Vec<usize> = Vec::new();
        let mut misfits: Vec<(usize, &'l str, String)> = Vec::new();
        let (columns, types, widened, values_rejected, duplicate_keys) = (
            &mut self.columns,
            &mut self.types,
            &mut self.widened,
            &mut self.counts.values_rejected,
            &mut self.counts.duplicate_keys,
        );
        let mut field = |i: usize, raw: RawValue<'l>, scalar: Scalar| {
            if inferring {
                // A key met for the first time: a raw column, null in earlier rows.
                while columns.len() <= i {
                    let mut column = Column::raw(capacity);
                    (0..buffered).for_each(|_| column.push_null());
                    columns.push(column);
                    values_rejected.push(0);
                    duplicate_keys.push(0);
                }
            }
            if columns[i].len() > buffered {
                // A repeated key: the first value stays until the line is done, this one
                // is not taken (see `Decoder::repeated_keys`). Its type counts, as it
                // does for inference over the same line.
                if inferring {
                    widen_logged(types, widened, i, scalar.json_type());
                }
                repeated.push(i);
                return;
            }
            set += 1;
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
                misfits.push((i, raw.text(), reason));
            }
        };
        let parsed = walk_object(line, &mut self.keys, &mut field);
        if inferring {
            // Columns made for new keys on this line take their names.
            let new = self.columns.iter_mut().zip(self.keys.names()).skip(named);
            new.for_each(|(column, name)| column.name.clone_from(name));
        }
        let repeats = if parsed.is_ok() && !repeated.is_empty() {
            self.repeated_keys(number, line, repeated, buffered, &mut misfits)
        } else {
            Vec::new()
        };
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
                for (i, text, reason) in misfits {
                    self.counts.values_rejected[i] += 1;
                    let name = &self.columns[i].name;
                    (self.rejects).push(Reject::value(
                        &self.source,
                        Some(number),
                        name,
                        text,
                        reason,
                    ));
                }
                for (i, rejects) in repeats {
                    self.counts.duplicate_keys[i] += 1;
                    if self.duplicates == DuplicateKeys::Reject {
                        self.counts.values_rejected[i] += 1;
                    }
                    self.rejects.extend(rejects);
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
                self.counts.rows_rejected += 1;
                self.rejects
                    .push(Reject::line(&self.source, number, line, reason));
            }
        }
    }

    /// Line `number` repeated the keys of `repeated` (column indexes, the first value of
    /// each taken): under [`DuplicateKeys::Reject`] those columns become null in the row;
    /// either way every value not kept becomes a reject. Walks the line again to find
    /// the values, which only lines with repeated keys pay for; under `Reject` the
    /// misfit of a first value that did not fit is dropped from `misfits`, since it is
    /// one of these. Gives, per column, the rejects to keep if the row is.
    #[cold]
    fn repeated_keys(
        &mut self,
        number: u64,
        line: &[u8],
        mut repeated: Vec<usize>,
        buffered: usize,
        misfits: &mut Vec<(usize, &str, String)>,
    ) -> Vec<(usize, Vec<Reject>)> {
        repeated.sort_unstable();
        repeated.dedup();
        let mut values: Vec<(usize, &str)> = Vec::new();
        // The line parsed once; the second walk sees the same keys and values.
        let _ = walk_object(line, &mut self.keys, &mut |i, raw, _| {
            if repeated.binary_search(&i).is_ok() {
                values.push((i, raw.text()));
            }
        });
        let reject_all = self.duplicates == DuplicateKeys::Reject;
        if reject_all {
            misfits.retain(|(i, _, _)| repeated.binary_search(i).is_err());
        }
        let mut found = Vec::with_capacity(repeated.len());
        for i in repeated {
            let of_key: Vec<&str> = (values.iter().filter(|(j, _)| *j == i))
                .map(|(_, v)| *v)
                .collect();
            let name = self.columns[i].name.clone();
            let reason = if reject_all {
                if self.columns[i].len() > buffered {
                    self.columns[i].pop();
                    self.columns[i].push_null();
                }
                format!(
                    "key {name:?} appears {} times in one object; the row keeps none of its values",
                    of_key.len()
                )
            } else {
                format!(
                    "key {name:?} appears {} times in one object; the row keeps the first value",
                    of_key.len()
                )
            };
            let dropped = of_key.into_iter().skip(usize::from(!reject_all));
            let rejects = dropped
                .map(|value| {
                    Reject::value(&self.source, Some(number), &name, value, reason.clone())
                })
                .collect();
            found.push((i, rejects));
        }
        found
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
                        self.rejects.push(Reject::value(
                            &self.source,
                            self.lines.get(row).copied(),
                            &self.columns[i].name,
                            &text,
                            format!("cannot be read as {}", self.columns[i].target),
                        ));
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
                Kind::Bool | Kind::Int { .. } | Kind::Float { .. } | Kind::Decimal { .. } => {}
                _ => {
                    return Err(Error::internal(format!(
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
                    self.rejects.push(Reject::value(
                        &self.source,
                        lines.get(row).copied(),
                        &column.name,
                        value,
                        reason,
                    ));
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

/// Whether a row-level reason came after the whole line was read (every column then
/// holds a value of this row), rather than from a parse error half-way.
fn parsed_ok(reason: &str) -> bool {
    reason.starts_with("column ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Int32Type, TimestampMillisecondType};
    use arrow_schema::TimeUnit;

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
        // `v` repeated: null, and both of its values rejected.
        assert_eq!(v.iter().collect::<Vec<_>>(), [Some(1.0), None]);
        let lines: Vec<_> = rejects
            .iter()
            .map(|r| (r.line, r.column.is_none(), r.value.as_deref()))
            .collect();
        assert_eq!(
            lines,
            [
                (Some(2), true, Some(r#"{"id": "b", "v": 2.5, "#)),
                (Some(4), true, Some(r#"{"v": 3}"#)),
                (Some(5), false, Some(r#""x""#)),
                (Some(5), false, Some("4"))
            ]
        );
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
}
