//! Validation of record batches against a [`TableSchema`]: every problem at once, each
//! naming the table, the column, what was expected and what was found, and for value
//! checks the first offending row and the number of bad rows.

use std::fmt;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Decimal256Type, DecimalType, Float64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::{Coordinate, PgType, TableSchema};
use crate::error::{Error, Result};
use crate::error::{Problem, ProblemKind, ValidationReport};

/// What validation does with a column the schema does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnexpectedColumns {
    /// Report it as a problem (the default).
    #[default]
    Reject,
    /// Leave it out of the validated batch.
    Drop,
    /// Keep it, after the schema's columns.
    Keep,
}

/// Counts bad values: the first bad row, its rendering, and how many.
#[derive(Default)]
struct Tally {
    first: Option<(usize, String)>,
    count: u64,
}

impl Tally {
    fn add(&mut self, row: usize, value: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some((row, value()));
        }
        self.count += 1;
    }

    fn into_problem(
        self,
        column: &str,
        kind: ProblemKind,
        expected: String,
        row_offset: u64,
    ) -> Option<Problem> {
        let (row, found) = self.first?;
        Some(Problem {
            column: column.to_string(),
            kind,
            expected,
            found,
            first_row: Some(row_offset + row as u64),
            bad_rows: self.count,
        })
    }
}

/// Shortens a bad value for a report.
fn shown(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

/// Whether `text` is a UUID in canonical form: 36 characters, lower-case hex digits,
/// hyphens at 8, 13, 18 and 23.
pub(crate) fn is_canonical_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
        })
}

impl TableSchema {
    /// Checks `batch` against the schema and returns it conformed: the schema's columns
    /// in the schema's order (extra columns dropped or kept as the registry's policy
    /// says), with the schema's field metadata. Any problem is an
    /// [`Error::Validation`] that lists them all.
    pub fn validate(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        self.validate_at(batch, 0)
    }

    /// The schema of files written from input with schema `input`: the table's columns,
    /// then the input's unknown columns if the registry keeps them.
    pub(crate) fn file_schema(&self, input: &Schema) -> SchemaRef {
        if self.options.unexpected_columns != super::UnexpectedColumns::Keep {
            return self.arrow_schema();
        }
        let mut fields: Vec<Arc<Field>> = self.arrow.fields().iter().cloned().collect();
        fields.extend(
            input
                .fields()
                .iter()
                .filter(|f| self.arrow.field_with_name(f.name()).is_err())
                .cloned(),
        );
        Arc::new(Schema::new_with_metadata(
            fields,
            self.arrow.metadata().clone(),
        ))
    }

    /// Every problem of `batch`, without conforming it.
    pub fn report(&self, batch: &RecordBatch) -> ValidationReport {
        self.inspect(batch, 0).0
    }

    /// [`validate`](Self::validate), numbering rows from `row_offset` (the rows of the
    /// same write before this batch).
    pub(crate) fn validate_at(&self, batch: &RecordBatch, row_offset: u64) -> Result<RecordBatch> {
        match self.inspect(batch, row_offset) {
            (report, Some(batch)) if report.is_ok() => Ok(batch),
            (report, _) => Err(Error::Validation {
                report: Box::new(report),
            }),
        }
    }

    fn inspect(
        &self,
        batch: &RecordBatch,
        row_offset: u64,
    ) -> (ValidationReport, Option<RecordBatch>) {
        let mut problems = Vec::new();
        let mut fields: Vec<Arc<Field>> = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        let input = batch.schema();
        for (index, expected) in self.arrow.fields().iter().enumerate() {
            let Ok(position) = input.index_of(expected.name()) else {
                if self.options.fill_missing_nullable && expected.is_nullable() {
                    fields.push(Arc::clone(expected));
                    columns.push(arrow_array::new_null_array(
                        expected.data_type(),
                        batch.num_rows(),
                    ));
                    continue;
                }
                problems.push(Problem {
                    column: expected.name().clone(),
                    kind: ProblemKind::MissingColumn,
                    expected: describe_field(expected),
                    found: "no such column".into(),
                    first_row: None,
                    bad_rows: 0,
                });
                continue;
            };
            let mut array = Arc::clone(batch.column(position));
            if array.data_type() != expected.data_type() {
                // Lists whose item is named differently ("element" vs "item") are the
                // same type; give them the schema's names.
                let same = array.data_type().equals_datatype(expected.data_type());
                match same.then(|| arrow_cast::cast(&array, expected.data_type())) {
                    Some(Ok(cast)) => array = cast,
                    _ => {
                        problems.push(Problem {
                            column: expected.name().clone(),
                            kind: ProblemKind::WrongType,
                            expected: expected.data_type().to_string(),
                            found: array.data_type().to_string(),
                            first_row: None,
                            bad_rows: 0,
                        });
                        continue;
                    }
                }
            }
            let (column, coordinate) = self.origin(index);
            if !expected.is_nullable() && array.null_count() > 0 {
                let mut tally = Tally::default();
                for row in (0..array.len()).filter(|&r| array.is_null(r)) {
                    tally.add(row, || "null".into());
                }
                problems.extend(tally.into_problem(
                    expected.name(),
                    ProblemKind::NullInNonNullable,
                    format!("{} NOT NULL", column.pg_type),
                    row_offset,
                ));
            }
            problems.extend(self.check_values(
                expected.name(),
                &column.pg_type,
                coordinate,
                &array,
                row_offset,
            ));
            fields.push(Arc::clone(expected));
            columns.push(array);
        }
        for (position, field) in input.fields().iter().enumerate() {
            if self.arrow.field_with_name(field.name()).is_ok() {
                continue;
            }
            match self.options.unexpected_columns {
                super::UnexpectedColumns::Reject => problems.push(Problem {
                    column: field.name().clone(),
                    kind: ProblemKind::UnexpectedColumn,
                    expected: "no such column".into(),
                    found: field.data_type().to_string(),
                    first_row: None,
                    bad_rows: 0,
                }),
                super::UnexpectedColumns::Drop => {}
                super::UnexpectedColumns::Keep => {
                    fields.push(Arc::clone(field));
                    columns.push(Arc::clone(batch.column(position)));
                }
            }
        }
        let report = ValidationReport {
            table: self.def.name.clone(),
            version: self.def.version,
            problems,
        };
        if !report.is_ok() {
            return (report, None);
        }
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            self.arrow.metadata().clone(),
        ));
        let rows = arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        let conformed = RecordBatch::try_new_with_options(schema, columns, &rows).ok();
        (report, conformed)
    }

    /// Checks the values of one column of the right Arrow type.
    fn check_values(
        &self,
        name: &str,
        pg_type: &PgType,
        coordinate: Option<Coordinate>,
        array: &ArrayRef,
        row_offset: u64,
    ) -> Option<Problem> {
        let mut tally = Tally::default();
        let (kind, expected) = match (pg_type, coordinate, array.data_type()) {
            (PgType::Uuid, _, DataType::Utf8) => {
                for (row, v) in array.as_string::<i32>().iter().enumerate() {
                    if let Some(v) = v.filter(|v| !is_canonical_uuid(v)) {
                        tally.add(row, || shown(v));
                    }
                }
                (
                    ProblemKind::MalformedUuid,
                    "a lower-case hyphenated UUID".to_string(),
                )
            }
            (PgType::Json | PgType::Jsonb, _, DataType::Utf8) if self.options.check_json => {
                for (row, v) in array.as_string::<i32>().iter().enumerate() {
                    let Some(v) = v else { continue };
                    if serde_json::from_str::<serde::de::IgnoredAny>(v).is_err() {
                        tally.add(row, || shown(v));
                    }
                }
                (ProblemKind::MalformedJson, "JSON text".to_string())
            }
            (PgType::Varchar(Some(n)) | PgType::Char(n), _, DataType::Utf8) => {
                let n = *n as usize;
                for (row, v) in array.as_string::<i32>().iter().enumerate() {
                    // Byte length bounds character count: count only when it could be long.
                    if let Some(v) = v.filter(|v| v.len() > n && v.chars().count() > n) {
                        tally.add(row, || {
                            format!("{} characters: {}", v.chars().count(), shown(v))
                        });
                    }
                }
                (
                    ProblemKind::TooLong,
                    format!("at most {n} characters ({pg_type})"),
                )
            }
            (
                PgType::GeographyPoint(_) | PgType::GeometryPoint(Some(4326)),
                Some(c),
                DataType::Float64,
            ) => {
                let (limit, kind) = match c {
                    Coordinate::Lat => (90.0, ProblemKind::LatitudeOutOfRange),
                    Coordinate::Lon => (180.0, ProblemKind::LongitudeOutOfRange),
                };
                for (row, v) in array.as_primitive::<Float64Type>().iter().enumerate() {
                    if let Some(v) = v.filter(|v| !(-limit..=limit).contains(v)) {
                        tally.add(row, || v.to_string());
                    }
                }
                (kind, format!("degrees within ±{limit}"))
            }
            (_, _, DataType::Decimal128(p, _)) => {
                count_overflows::<Decimal128Type>(array, *p, &mut tally);
                (
                    ProblemKind::NumericOverflow,
                    format!("at most {p} digits ({pg_type})"),
                )
            }
            (_, _, DataType::Decimal256(p, _)) => {
                count_overflows::<Decimal256Type>(array, *p, &mut tally);
                (
                    ProblemKind::NumericOverflow,
                    format!("at most {p} digits ({pg_type})"),
                )
            }
            _ => return None,
        };
        tally.into_problem(name, kind, expected, row_offset)
    }
}

/// Tallies decimals with more digits than `precision` (Arrow does not enforce it).
fn count_overflows<T>(array: &ArrayRef, precision: u8, tally: &mut Tally)
where
    T: DecimalType,
    T::Native: fmt::Display,
{
    for (row, v) in array.as_primitive::<T>().iter().enumerate() {
        if let Some(v) = v.filter(|v| !T::is_valid_decimal_precision(*v, precision)) {
            tally.add(row, || v.to_string());
        }
    }
}

fn describe_field(field: &Field) -> String {
    format!(
        "{}{}",
        field.data_type(),
        if field.is_nullable() { "" } else { " NOT NULL" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uuids() {
        assert!(is_canonical_uuid("0190a5a0-0000-7000-8000-00000000000f"));
        for bad in [
            "0190A5A0-0000-7000-8000-00000000000F",
            "{0190a5a0-0000-7000-8000-00000000000f}",
            "0190a5a000007000800000000000000f",
            "0190a5a0-0000-7000-8000-00000000000g",
            "0190a5a0-0000-7000-8000-00000000000",
            "",
        ] {
            assert!(!is_canonical_uuid(bad), "{bad}");
        }
    }
}
