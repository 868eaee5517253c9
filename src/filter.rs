//! Row filters, used three ways by a scan: to skip partitions from their paths before
//! any file is opened, to skip row groups from their statistics and bloom filters, and
//! to keep exactly the matching rows.
//!
//! ```
//! use chrono::NaiveDate;
//! use parquet_storage::filter::col;
//!
//! let day = NaiveDate::from_ymd_opt(2024, 11, 3).unwrap();
//! let filter = col("date").eq(day)
//!     .and(col("location_id").eq("06ce14c8-3158-44a4-b6a0-04674d81a0d2"))
//!     .and(col("voltage").between(13.52, 13.60).or(col("battery_id").starts_with("a")));
//! assert_eq!(filter.columns(), ["date", "location_id", "voltage", "battery_id"]);
//! ```
//!
//! Semantics are SQL's: a comparison with null is unknown, and a row is kept only when
//! the filter is true.

use std::fmt;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    RecordBatch, Scalar, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::DataType;
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};

/// A literal a filter compares with.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A decimal: `value × 10^-scale`.
    Decimal {
        /// Unscaled value.
        value: i128,
        /// Digits after the point.
        scale: i8,
    },
    /// Text.
    Str(String),
    /// A date.
    Date(NaiveDate),
    /// An instant.
    Timestamp(DateTime<Utc>),
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Value::Date(v)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Timestamp(v)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Decimal { value, scale } => write!(f, "{value}e-{scale}"),
            Value::Str(v) => write!(f, "{v:?}"),
            Value::Date(v) => write!(f, "DATE '{v}'"),
            Value::Timestamp(v) => write!(f, "TIMESTAMP '{}'", v.to_rfc3339()),
        }
    }
}

impl Value {
    /// The value's natural Arrow type: the type of [`Value::to_array`].
    fn data_type(&self) -> DataType {
        match self {
            Value::Bool(_) => DataType::Boolean,
            Value::Int(_) => DataType::Int64,
            Value::Float(_) => DataType::Float64,
            Value::Decimal { scale, .. } => DataType::Decimal128(38, *scale),
            Value::Str(_) => DataType::Utf8,
            Value::Date(_) => DataType::Date32,
            Value::Timestamp(_) => {
                DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into()))
            }
        }
    }

    /// A one-element array of the value's natural Arrow type.
    fn to_array(&self) -> ArrayRef {
        match self {
            Value::Bool(v) => Arc::new(BooleanArray::from(vec![*v])),
            Value::Int(v) => Arc::new(Int64Array::from(vec![*v])),
            Value::Float(v) => Arc::new(Float64Array::from(vec![*v])),
            Value::Decimal { value, scale } => Arc::new(
                Decimal128Array::from(vec![*value])
                    .with_precision_and_scale(38, *scale)
                    .unwrap_or_else(|_| Decimal128Array::from(vec![*value])),
            ),
            Value::Str(v) => Arc::new(StringArray::from(vec![v.as_str()])),
            Value::Date(v) => {
                Arc::new(Date32Array::from(vec![crate::partition::days_since_epoch(
                    *v,
                )]))
            }
            Value::Timestamp(v) => Arc::new(
                TimestampMicrosecondArray::from(vec![v.timestamp_micros()]).with_timezone("UTC"),
            ),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::NotEq => "!=",
            Op::Lt => "<",
            Op::LtEq => "<=",
            Op::Gt => ">",
            Op::GtEq => ">=",
        })
    }
}

/// A row filter.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Filter {
    /// `column op value`
    Compare {
        /// The column.
        column: String,
        /// The operator.
        op: Op,
        /// The literal.
        value: Value,
    },
    /// `column BETWEEN low AND high` (both ends included)
    Between {
        /// The column.
        column: String,
        /// Lower end.
        low: Value,
        /// Upper end.
        high: Value,
    },
    /// `column IN (values)`
    In {
        /// The column.
        column: String,
        /// The literals.
        values: Vec<Value>,
    },
    /// Text starting with `prefix`.
    StartsWith {
        /// The column.
        column: String,
        /// The prefix.
        prefix: String,
    },
    /// `column IS NULL`
    IsNull(String),
    /// `column IS NOT NULL`
    IsNotNull(String),
    /// All of these.
    And(Vec<Filter>),
    /// Any of these.
    Or(Vec<Filter>),
    /// Not this.
    Not(Box<Filter>),
    /// Always true or always false.
    Const(bool),
    /// SQL's unknown (`NULL` as a condition): never keeps a row, and `NOT` keeps it
    /// unknown.
    Unknown,
}

/// A column to build a filter on: `col("voltage").gt(13.5)`.
#[derive(Debug, Clone)]
pub struct Column(String);

/// Starts a filter on column `name`.
pub fn col(name: impl Into<String>) -> Column {
    Column(name.into())
}

impl Column {
    fn compare(self, op: Op, value: impl Into<Value>) -> Filter {
        Filter::Compare {
            column: self.0,
            op,
            value: value.into(),
        }
    }
    /// `=`
    pub fn eq(self, value: impl Into<Value>) -> Filter {
        self.compare(Op::Eq, value)
    }
    /// `!=`
    pub fn not_eq(self, value: impl Into<Value>) -> Filter {
        self.compare(Op::NotEq, value)
    }
    /// `<`
    pub fn lt(self, value: impl Into<Value>) -> Filter {
        self.compare(Op::Lt, value)
    }
    /// `<=`
    pub fn lt_eq(self, value: impl Into<Value>) -> Filter {
        self.compare(Op::LtEq, value)
    }
    /// `>`
    pub fn gt(self, value: impl Into<Value>) -> Filter {
        self.compare(Op::Gt, value)
    }
    /// `>=`
    pub fn gt_eq(self, value: impl Into<Value>) -> Filter {
        self.compare(Op::GtEq, value)
    }
    /// `BETWEEN low AND high`, both included.
    pub fn between(self, low: impl Into<Value>, high: impl Into<Value>) -> Filter {
        Filter::Between {
            column: self.0,
            low: low.into(),
            high: high.into(),
        }
    }
    /// `IN (values)`
    pub fn in_list<I: IntoIterator<Item = V>, V: Into<Value>>(self, values: I) -> Filter {
        Filter::In {
            column: self.0,
            values: values.into_iter().map(Into::into).collect(),
        }
    }
    /// Text starting with `prefix`.
    pub fn starts_with(self, prefix: impl Into<String>) -> Filter {
        Filter::StartsWith {
            column: self.0,
            prefix: prefix.into(),
        }
    }
    /// `IS NULL`
    pub fn is_null(self) -> Filter {
        Filter::IsNull(self.0)
    }
    /// `IS NOT NULL`
    pub fn is_not_null(self) -> Filter {
        Filter::IsNotNull(self.0)
    }
}

impl std::ops::Not for Filter {
    type Output = Filter;
    fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}

impl Filter {
    /// Both this and `other`.
    pub fn and(self, other: Filter) -> Filter {
        match self {
            Filter::And(mut all) => {
                all.push(other);
                Filter::And(all)
            }
            this => Filter::And(vec![this, other]),
        }
    }

    /// This or `other`.
    pub fn or(self, other: Filter) -> Filter {
        match self {
            Filter::Or(mut any) => {
                any.push(other);
                Filter::Or(any)
            }
            this => Filter::Or(vec![this, other]),
        }
    }

    /// The columns the filter reads, in order of first mention.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.visit(&mut |c| {
            if !out.contains(&c) {
                out.push(c);
            }
        });
        out
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match self {
            Filter::Compare { column, .. }
            | Filter::Between { column, .. }
            | Filter::In { column, .. }
            | Filter::StartsWith { column, .. }
            | Filter::IsNull(column)
            | Filter::IsNotNull(column) => f(column),
            Filter::And(all) | Filter::Or(all) => all.iter().for_each(|c| c.visit(f)),
            Filter::Not(inner) => inner.visit(f),
            Filter::Const(_) | Filter::Unknown => {}
        }
    }

    /// Replaces the terms whose columns `known` can decide with constants, and folds
    /// constants with SQL's three-valued logic: what is left reads only other columns.
    /// `known` returns `Some(Some(truth))` for a leaf it decides, `Some(None)` for one
    /// that is unknown (a comparison with null).
    pub(crate) fn bind(&self, known: &impl Fn(&Filter) -> Option<Option<bool>>) -> Filter {
        match self {
            Filter::And(all) => {
                let mut kept = Vec::new();
                let mut unknown = false;
                for c in all {
                    match c.bind(known) {
                        Filter::Const(false) => return Filter::Const(false),
                        Filter::Const(true) => {}
                        Filter::Unknown => unknown = true,
                        other => kept.push(other),
                    }
                }
                if unknown {
                    kept.push(Filter::Unknown);
                }
                match kept.len() {
                    0 => Filter::Const(true),
                    1 => kept.remove(0),
                    _ => Filter::And(kept),
                }
            }
            Filter::Or(any) => {
                let mut kept = Vec::new();
                let mut unknown = false;
                for c in any {
                    match c.bind(known) {
                        Filter::Const(true) => return Filter::Const(true),
                        Filter::Const(false) => {}
                        Filter::Unknown => unknown = true,
                        other => kept.push(other),
                    }
                }
                if unknown {
                    kept.push(Filter::Unknown);
                }
                match kept.len() {
                    0 => Filter::Const(false),
                    1 => kept.remove(0),
                    _ => Filter::Or(kept),
                }
            }
            Filter::Not(inner) => match inner.bind(known) {
                Filter::Const(b) => Filter::Const(!b),
                Filter::Unknown => Filter::Unknown,
                other => Filter::Not(Box::new(other)),
            },
            Filter::Const(b) => Filter::Const(*b),
            Filter::Unknown => Filter::Unknown,
            leaf => match known(leaf) {
                Some(Some(b)) => Filter::Const(b),
                Some(None) => Filter::Unknown,
                None => leaf.clone(),
            },
        }
    }

    /// The truth of a leaf whose column is null in every row: `IS NULL` holds, `IS NOT
    /// NULL` does not, and anything else is unknown.
    pub(crate) fn on_null(&self) -> Option<bool> {
        match self {
            Filter::IsNull(_) => Some(true),
            Filter::IsNotNull(_) => Some(false),
            _ => None,
        }
    }

    /// Whether no row can pass: false or unknown for every row.
    pub(crate) fn keeps_nothing(&self) -> bool {
        matches!(self, Filter::Const(false) | Filter::Unknown)
    }

    /// Whether the filter rules out every row of a partition with these values (the
    /// values of the directory levels known so far; other columns are unknown).
    pub(crate) fn rules_out_partition(&self, values: &[(String, Option<String>)]) -> bool {
        self.bind(&|leaf| leaf.decide_on_partition(values))
            .keeps_nothing()
    }

    /// Decides this leaf from partition values, when its column is one of them:
    /// `Some(None)` is SQL's unknown (a comparison with null). A value the leaf's literal
    /// type cannot read leaves the leaf undecided, for the rows to decide.
    pub(crate) fn decide_on_partition(
        &self,
        values: &[(String, Option<String>)],
    ) -> Option<Option<bool>> {
        let column = self.columns().first().copied()?;
        let (_, value) = values.iter().find(|(key, _)| key == column)?;
        let Some(value) = value else {
            return Some(self.on_null());
        };
        // Read the directory text as the literal's type and evaluate the leaf on it.
        let literal_type = match self {
            Filter::Compare { value, .. } | Filter::Between { low: value, .. } => value.data_type(),
            Filter::In { values, .. } => values.first().map_or(DataType::Utf8, Value::data_type),
            _ => DataType::Utf8,
        };
        let column_array = crate::partition::constant_column(Some(value), &literal_type, 1).ok()?;
        let batch = RecordBatch::try_from_iter([(column, column_array)]).ok()?;
        let result = self.evaluate(&batch).ok()?;
        Some(result.is_valid(0).then(|| result.value(0)))
    }

    /// Evaluates the filter on every row of `batch` (SQL semantics: null where unknown).
    pub(crate) fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        let rows = batch.num_rows();
        let column = |name: &str| -> Result<ArrayRef> {
            batch.column_by_name(name).cloned().ok_or_else(|| {
                Error::internal(format!("filter column {name:?} is not in the batch"))
            })
        };
        let arrow = |source| Error::Arrow {
            table: String::new(),
            context: format!("evaluating filter {self}"),
            source,
        };
        // A test of one dictionary column runs once per distinct value, then is looked
        // up per row through the keys.
        // A null key reads the extra null value put after the dictionary's own.
        let single = match self.columns()[..] {
            [name] => Some((name, column(name)?)),
            _ => None,
        };
        if let Some((name, array)) = &single
            && let Some(dictionary) = array.as_any_dictionary_opt()
        {
            let values = dictionary.values();
            let with_null = arrow_select::concat::concat(&[
                values.as_ref(),
                arrow_array::new_null_array(values.data_type(), 1).as_ref(),
            ])
            .map_err(arrow)?;
            let on_values =
                self.evaluate(&RecordBatch::try_from_iter([(*name, with_null)]).map_err(arrow)?)?;
            let key_nulls = dictionary.keys().logical_nulls();
            let slots: arrow_array::UInt32Array = dictionary
                .normalized_keys()
                .into_iter()
                .enumerate()
                .map(|(row, key)| {
                    let null = key_nulls.as_ref().is_some_and(|n| n.is_null(row));
                    Some(if null { values.len() } else { key } as u32)
                })
                .collect();
            let per_row = arrow_select::take::take(&on_values, &slots, None).map_err(arrow)?;
            return Ok(per_row.as_boolean().clone());
        }
        Ok(match self {
            Filter::Const(b) => BooleanArray::from(vec![*b; rows]),
            Filter::Unknown => BooleanArray::new_null(rows),
            Filter::Compare {
                column: name,
                op,
                value,
            } => compare(&column(name)?, *op, value, name)?,
            Filter::Between {
                column: name,
                low,
                high,
            } => {
                let array = column(name)?;
                let ge = compare(&array, Op::GtEq, low, name)?;
                let le = compare(&array, Op::LtEq, high, name)?;
                arrow_arith::boolean::and_kleene(&ge, &le).map_err(arrow)?
            }
            Filter::In {
                column: name,
                values,
            } => {
                let array = column(name)?;
                let mut result = BooleanArray::from(vec![false; rows]);
                for value in values {
                    let eq = compare(&array, Op::Eq, value, name)?;
                    result = arrow_arith::boolean::or_kleene(&result, &eq).map_err(arrow)?;
                }
                result
            }
            Filter::StartsWith {
                column: name,
                prefix,
            } => {
                let array = arrow_cast::cast(&column(name)?, &DataType::Utf8).map_err(arrow)?;
                let prefix = Scalar::new(StringArray::from(vec![prefix.as_str()]));
                arrow_string::like::starts_with(&array, &prefix).map_err(arrow)?
            }
            Filter::IsNull(name) => arrow_arith::boolean::is_null(&column(name)?).map_err(arrow)?,
            Filter::IsNotNull(name) => {
                arrow_arith::boolean::is_not_null(&column(name)?).map_err(arrow)?
            }
            Filter::And(all) => {
                let mut result = BooleanArray::from(vec![true; rows]);
                for c in all {
                    result = arrow_arith::boolean::and_kleene(&result, &c.evaluate(batch)?)
                        .map_err(arrow)?;
                }
                result
            }
            Filter::Or(any) => {
                let mut result = BooleanArray::from(vec![false; rows]);
                for c in any {
                    result = arrow_arith::boolean::or_kleene(&result, &c.evaluate(batch)?)
                        .map_err(arrow)?;
                }
                result
            }
            Filter::Not(inner) => {
                arrow_arith::boolean::not(&inner.evaluate(batch)?).map_err(arrow)?
            }
        })
    }
}

/// `array op value`, with the literal cast to the column's type (or both to float when
/// a fractional literal meets an integer column).
fn compare(array: &ArrayRef, op: Op, value: &Value, name: &str) -> Result<BooleanArray> {
    let mismatch = || {
        Error::config(format!(
            "filter on column {name:?}: {value} cannot be compared with {}",
            array.data_type()
        ))
    };
    let (array, target) = match (value, array.data_type()) {
        (Value::Float(_), t) if t.is_integer() => (
            arrow_cast::cast(array, &DataType::Float64).map_err(|_| mismatch())?,
            DataType::Float64,
        ),
        (_, DataType::Dictionary(_, v)) => (
            arrow_cast::cast(array, v).map_err(|_| mismatch())?,
            (**v).clone(),
        ),
        (_, t) => (Arc::clone(array), t.clone()),
    };
    let literal = arrow_cast::cast(&value.to_array(), &target).map_err(|_| mismatch())?;
    if literal.is_null(0) {
        return Err(mismatch());
    }
    let literal = Scalar::new(literal);
    use arrow_ord::cmp;
    let result = match op {
        Op::Eq => cmp::eq(&array, &literal),
        Op::NotEq => cmp::neq(&array, &literal),
        Op::Lt => cmp::lt(&array, &literal),
        Op::LtEq => cmp::lt_eq(&array, &literal),
        Op::Gt => cmp::gt(&array, &literal),
        Op::GtEq => cmp::gt_eq(&array, &literal),
    };
    result.map_err(|source| Error::Arrow {
        table: String::new(),
        context: format!("filter on column {name:?}"),
        source,
    })
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, parts: &[Filter], sep: &str| {
            f.write_str("(")?;
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{p}")?;
            }
            f.write_str(")")
        };
        match self {
            Filter::Compare { column, op, value } => write!(f, "{column} {op} {value}"),
            Filter::Between { column, low, high } => write!(f, "{column} BETWEEN {low} AND {high}"),
            Filter::In { column, values } => {
                write!(f, "{column} IN ")?;
                f.write_str("(")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
            Filter::StartsWith { column, prefix } => write!(f, "{column} STARTS WITH {prefix:?}"),
            Filter::IsNull(column) => write!(f, "{column} IS NULL"),
            Filter::IsNotNull(column) => write!(f, "{column} IS NOT NULL"),
            Filter::And(all) => join(f, all, " AND "),
            Filter::Or(any) => join(f, any, " OR "),
            Filter::Not(inner) => write!(f, "NOT {inner}"),
            Filter::Const(b) => write!(f, "{}", if *b { "TRUE" } else { "FALSE" }),
            Filter::Unknown => f.write_str("NULL"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{DictionaryArray, Int32Array, types::Int32Type};
    use proptest::prelude::*;

    fn one_column_filters() -> impl Strategy<Value = Filter> {
        let word = "[ab]{0,2}";
        let leaf = prop_oneof![
            word.prop_map(|w| col("s").eq(w)),
            word.prop_map(|w| col("s").not_eq(w)),
            word.prop_map(|w| col("s").lt(w)),
            (word, word).prop_map(|(a, b)| col("s").between(a, b)),
            proptest::collection::vec(word, 1..3).prop_map(|ws| col("s").in_list(ws)),
            word.prop_map(|w| col("s").starts_with(w)),
            Just(col("s").is_null()),
            Just(col("s").is_not_null()),
        ];
        leaf.prop_recursive(2, 6, 2, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..3).prop_map(Filter::And),
                proptest::collection::vec(inner.clone(), 2..3).prop_map(Filter::Or),
                inner.prop_map(|f| !f),
            ]
        })
    }

    proptest! {
        /// On a dictionary column a filter runs once per distinct value; the result is
        /// the same as on the plain column, null keys and null values included.
        #[test]
        fn dictionary_columns_filter_like_plain_ones(
            keys in proptest::collection::vec(proptest::option::of(0i32..4), 0..60),
            values in proptest::collection::vec(proptest::option::of("[ab]{0,2}"), 4),
            filter in one_column_filters(),
        ) {
            let dictionary = DictionaryArray::<Int32Type>::try_new(
                Int32Array::from(keys.clone()),
                Arc::new(StringArray::from(values.clone())),
            ).unwrap();
            let plain: StringArray = keys
                .iter()
                .map(|k| k.and_then(|k| values[k as usize].clone()))
                .collect();
            let batch = |a: ArrayRef| RecordBatch::try_from_iter([("s", a)]).unwrap();
            let expected = filter.evaluate(&batch(Arc::new(plain))).unwrap();
            let found = filter.evaluate(&batch(Arc::new(dictionary))).unwrap();
            prop_assert_eq!(found, expected, "{}", filter);
        }
    }
}
