//! What a failed validation or coercion reports: the data of [`Error::Validation`](super::Error::Validation)
//! and [`Error::Coercion`](super::Error::Coercion), kept beside the error type so that
//! the error module depends on nothing else in the crate.

use std::fmt;

/// The kind of a validation [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The schema has the column, the batch does not.
    MissingColumn,
    /// The batch has a column the schema does not (policy: reject).
    UnexpectedColumn,
    /// The column has another Arrow type.
    WrongType,
    /// Nulls in a `NOT NULL` column.
    NullInNonNullable,
    /// `uuid` text that is not canonical lower-case hyphenated.
    MalformedUuid,
    /// `json`/`jsonb` text that does not parse.
    MalformedJson,
    /// A latitude outside -90..=90.
    LatitudeOutOfRange,
    /// A longitude outside -180..=180.
    LongitudeOutOfRange,
    /// Text longer than `varchar(n)`/`char(n)` allows.
    TooLong,
    /// A decimal with more digits than the column's precision.
    NumericOverflow,
}

impl ProblemKind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            ProblemKind::MissingColumn => "missing column",
            ProblemKind::UnexpectedColumn => "unexpected column",
            ProblemKind::WrongType => "wrong type",
            ProblemKind::NullInNonNullable => "null in a NOT NULL column",
            ProblemKind::MalformedUuid => "malformed UUID",
            ProblemKind::MalformedJson => "malformed JSON",
            ProblemKind::LatitudeOutOfRange => "latitude out of range",
            ProblemKind::LongitudeOutOfRange => "longitude out of range",
            ProblemKind::TooLong => "text too long",
            ProblemKind::NumericOverflow => "number too large for its precision",
        }
    }
}

/// One thing wrong with a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The column, as named in the batch or the schema.
    pub column: String,
    /// What is wrong.
    pub kind: ProblemKind,
    /// What the schema expects.
    pub expected: String,
    /// What the batch has (for value checks: the first bad value).
    pub found: String,
    /// For value checks: the first offending row (0-based, counted over the whole write).
    pub first_row: Option<u64>,
    /// For value checks: how many rows are bad.
    pub bad_rows: u64,
}

/// Everything wrong with a batch, for one table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationReport {
    /// The table.
    pub table: String,
    /// The schema version validated against.
    pub version: u32,
    /// The problems, in column order.
    pub problems: Vec<Problem>,
}

impl ValidationReport {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "table {} (schema version {}): {} problem{}",
            self.table,
            self.version,
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(
                f,
                "\n  column {:?}: {}: expected {}, found {}",
                p.column,
                p.kind.describe(),
                p.expected,
                p.found
            )?;
            if let Some(row) = p.first_row {
                write!(f, " (first at row {row}, {} bad rows)", p.bad_rows)?;
            }
        }
        Ok(())
    }
}

/// Why a column could not be coerced: the first value that would change, and how many
/// would.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CoercionFailure {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The batch's type.
    pub from: String,
    /// The schema's type.
    pub to: String,
    /// The first row that fails (0-based).
    pub first_row: u64,
    /// That row's value.
    pub value: String,
    /// How many rows fail.
    pub bad_rows: u64,
    /// Why it fails.
    pub reason: &'static str,
}

impl fmt::Display for CoercionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "table {}: column {:?}: cannot convert {} to {}: value {:?} at row {} {} ({} bad rows)",
            self.table,
            self.column,
            self.from,
            self.to,
            self.value,
            self.first_row,
            self.reason,
            self.bad_rows
        )
    }
}
