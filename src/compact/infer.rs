//! Schema inference: the type of every key over all lines of all files, widened.
//!
//! Each value has a [`JsonType`]; a column's type is the [`JsonType::widen`] of all of
//! its values: null is absorbed by anything; integers widen to the narrowest integer
//! type that holds them all, and with floats make float only while an `f64` holds
//! every one of them exactly; any other mix is text, which holds every value as
//! written. Objects and arrays are text holding their raw JSON. Widening is a join
//! (commutative, associative, idempotent), so neither file order nor line order
//! changes a column's type; columns come in order of first appearance.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::json::{Columns, RawValue, walk_object};
use super::number::Scalar;
use super::rules::{BigIntegers, DECIMAL_DIGITS};

/// The type of a JSON value, as inference sees it, from narrowest to widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JsonType {
    /// Only nulls (or never a value) so far.
    Null,
    /// `true` / `false`.
    Bool,
    /// A number without fraction or exponent that fits an `i64` and that an `f64`
    /// holds exactly (every one up to 2^53 in magnitude).
    Int,
    /// An integer that fits an `i64` but no `f64` holds exactly.
    WideInt,
    /// An integer beyond the `i64` range.
    BigInt,
    /// Any other number.
    Float,
    /// Strings, objects, arrays, or a mix of types.
    Text,
}

impl JsonType {
    /// The type of one raw JSON value.
    pub fn of(raw: &str) -> JsonType {
        Scalar::of(raw).json_type()
    }

    /// The narrowest type that holds values of both exactly.
    pub fn widen(self, other: JsonType) -> JsonType {
        use JsonType::*;
        match (self, other) {
            (Null, t) | (t, Null) => t,
            (a, b) if a == b => a,
            (Int, WideInt) | (WideInt, Int) => WideInt,
            (Int | WideInt, BigInt) | (BigInt, Int | WideInt) => BigInt,
            (Int, Float) | (Float, Int) => Float,
            _ => Text,
        }
    }

    /// The Arrow type of a column of this type (text for a column that only had nulls);
    /// `big_integers` says what a [`JsonType::BigInt`] column becomes.
    pub fn arrow(self, big_integers: BigIntegers) -> DataType {
        match self {
            JsonType::Bool => DataType::Boolean,
            JsonType::Int | JsonType::WideInt => DataType::Int64,
            JsonType::BigInt => match big_integers {
                BigIntegers::Decimal => DataType::Decimal128(DECIMAL_DIGITS, 0),
                BigIntegers::Text => DataType::Utf8,
            },
            JsonType::Float => DataType::Float64,
            JsonType::Null | JsonType::Text => DataType::Utf8,
        }
    }
}

/// Keys and their widened types, in order of first appearance.
#[derive(Debug, Default, Clone)]
pub(crate) struct Inferred {
    columns: Columns,
    /// Per column; `None` while the key was only seen on lines that are not objects.
    types: Vec<Option<JsonType>>,
    /// Reused per line: what the line widened, undone if the line does not parse.
    widened: Vec<(usize, Option<JsonType>)>,
}

/// Widens column `i`'s type in `types` by `ty`, growing `types` as needed and logging the
/// type it had in `widened` when it changes. Types rarely change after a column's first
/// lines, so a log of changes, undone for a line that is rejected, costs less than
/// keeping every value's type until the line is done.
#[inline(always)]
pub(crate) fn widen_logged(
    types: &mut Vec<Option<JsonType>>,
    widened: &mut Vec<(usize, Option<JsonType>)>,
    i: usize,
    ty: JsonType,
) {
    if i >= types.len() {
        types.resize(i + 1, None);
    }
    let before = types[i];
    if before != Some(ty) {
        let after = Some(before.map_or(ty, |t| t.widen(ty)));
        if after != before {
            widened.push((i, before));
            types[i] = after;
        }
    }
}

/// Undoes the widening logged in `widened`.
pub(crate) fn unwiden(types: &mut [Option<JsonType>], widened: &[(usize, Option<JsonType>)]) {
    for &(i, before) in widened.iter().rev() {
        types[i] = before;
    }
}

impl Inferred {
    /// Keys as met and their types (`None` for keys met only on lines that did not
    /// parse).
    pub(crate) fn from_parts(columns: Columns, types: Vec<Option<JsonType>>) -> Self {
        Inferred {
            columns,
            types,
            widened: Vec::new(),
        }
    }

    /// Takes in one line; a line that is not one JSON object is ignored entirely, as
    /// decoding rejects it.
    pub(crate) fn add_line(&mut self, line: &[u8]) {
        let (types, widened) = (&mut self.types, &mut self.widened);
        widened.clear();
        let mut field = |i: usize, _: RawValue<'_>, scalar: Scalar| {
            widen_logged(types, widened, i, scalar.json_type());
        };
        if walk_object(line, &mut self.columns, &mut field).is_err() {
            unwiden(&mut self.types, &self.widened);
        }
    }

    /// Merges `other` in, its new keys after ours.
    pub(crate) fn merge(&mut self, other: &Inferred) {
        for (name, ty) in other.types() {
            let i = self.columns.add(name);
            widen_logged(&mut self.types, &mut self.widened, i, ty);
        }
        self.widened.clear();
    }

    /// Each key with its type.
    pub(crate) fn types(&self) -> impl Iterator<Item = (&str, JsonType)> {
        self.columns
            .names()
            .iter()
            .zip(&self.types)
            .filter_map(|(name, ty)| Some((name.as_str(), (*ty)?)))
    }

    /// The Arrow schema: every column nullable, since any key can be missing.
    pub(crate) fn schema(&self, big_integers: BigIntegers) -> SchemaRef {
        Arc::new(Schema::new(
            self.types()
                .map(|(name, ty)| Field::new(name, ty.arrow(big_integers), true))
                .collect::<Vec<_>>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_types() {
        for (raw, ty) in [
            ("null", JsonType::Null),
            ("true", JsonType::Bool),
            ("-12", JsonType::Int),
            ("1.5", JsonType::Float),
            ("1e3", JsonType::Float),
            ("99999999999999999999", JsonType::BigInt),
            ("-9223372036854775809", JsonType::BigInt),
            ("9223372036854775807", JsonType::WideInt),
            ("9007199254740993", JsonType::WideInt),
            ("9007199254740992", JsonType::Int),
            ("NaN", JsonType::Null),
            ("\"12\"", JsonType::Text),
            ("[1]", JsonType::Text),
            ("{}", JsonType::Text),
        ] {
            assert_eq!(JsonType::of(raw), ty, "{raw}");
        }
    }

    #[test]
    fn integers_widen_only_where_every_value_is_held_exactly() {
        use JsonType::*;
        assert_eq!(Int.widen(Float), Float);
        assert_eq!(WideInt.widen(Float), Text);
        assert_eq!(BigInt.widen(Float), Text);
        assert_eq!(Int.widen(WideInt).widen(BigInt), BigInt);
        assert_eq!(
            BigInt.arrow(BigIntegers::Decimal),
            DataType::Decimal128(38, 0)
        );
        assert_eq!(BigInt.arrow(BigIntegers::Text), DataType::Utf8);
        assert_eq!(WideInt.arrow(BigIntegers::Decimal), DataType::Int64);
    }

    #[test]
    fn columns_widen_across_lines_and_merge_by_name() {
        let mut a = Inferred::default();
        a.add_line(br#"{"x": 1, "y": null, "z": true}"#);
        a.add_line(br#"{"x": 2.5, "z": 1}"#);
        a.add_line(br#"{"x": "no", "v": 1"#); // truncated: ignored
        a.add_line(b"[1, 2]");
        let mut b = Inferred::default();
        b.add_line(br#"{"w": "s", "y": 3}"#);
        a.merge(&b);
        let got: Vec<_> = a.types().map(|(n, t)| (n.to_string(), t)).collect();
        assert_eq!(
            got,
            [
                ("x".to_string(), JsonType::Float),
                ("y".to_string(), JsonType::Int),
                ("z".to_string(), JsonType::Text),
                ("w".to_string(), JsonType::Text)
            ]
        );
    }
}
