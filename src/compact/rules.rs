//! How a compaction decides input that JSON allows, or that writers emit, but that no
//! column can take as it is. Each rule keeps every value: what a row does not hold is
//! in the rejects with its raw text, and every case is counted in the summary.
//! docs/compaction.md lists the rules with examples.

/// What a key that appears more than once in one object gives
/// ([`Compaction::with_duplicate_keys`](super::Compaction::with_duplicate_keys)).
/// Either way each such row is counted in
/// [`CompactionSummary::duplicate_keys`](super::CompactionSummary::duplicate_keys) and
/// the values not kept are rejects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DuplicateKeys {
    /// The column is null in that row and every value of the key is a reject: a
    /// reader cannot tell which one the writer meant.
    #[default]
    Reject,
    /// The row keeps the first value; the later ones are rejects.
    FirstWins,
}

/// Digits of the decimal column that integers beyond the `i64` range are inferred
/// into: the most a `Decimal128` has.
pub const DECIMAL_DIGITS: u8 = 38;

/// What an inferred column of integers beyond the `i64` range becomes
/// ([`Compaction::with_big_integers`](super::Compaction::with_big_integers)). Either way
/// each value is stored exactly; in a decimal column, an integer of more than
/// [`DECIMAL_DIGITS`] digits is a value reject.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BigIntegers {
    /// `Decimal128(38, 0)`, which pyarrow, DuckDB, polars and Spark read as numbers.
    #[default]
    Decimal,
    /// Text holding each number as written.
    Text,
}

/// The rules a run decides values by, as its decoders need them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ValueRules {
    pub(crate) duplicate_keys: DuplicateKeys,
    pub(crate) big_integers: BigIntegers,
}
