//! One JSON line as an object: each key resolved to a column index and each value
//! handed over as its raw text, without building a `serde_json::Value` or allocating per
//! field. Inference and decoding both walk lines with [`walk_object`].

use std::fmt;

use rustc_hash::FxHashMap;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Resolves key names to column indexes.
pub(crate) trait Columns {
    /// The column of `key`, or `None` to ignore the field.
    fn index(&mut self, key: &str) -> Option<usize>;
}

/// Column names in order of first appearance, growing as new keys come.
#[derive(Debug, Default, Clone)]
pub(crate) struct GrowingColumns {
    pub(crate) names: Vec<String>,
    by_name: FxHashMap<Box<str>, usize>,
}

impl Columns for GrowingColumns {
    fn index(&mut self, key: &str) -> Option<usize> {
        if let Some(&i) = self.by_name.get(key) {
            return Some(i);
        }
        let i = self.names.len();
        self.names.push(key.to_string());
        self.by_name.insert(key.into(), i);
        Some(i)
    }
}

/// A fixed set of columns; other keys are ignored and counted. Lines of one file mostly
/// repeat their key order, so the column after the previous key is tried before the hash.
#[derive(Debug, Clone)]
pub(crate) struct FixedColumns {
    names: Vec<String>,
    by_name: FxHashMap<Box<str>, usize>,
    /// The column after the last key seen (`names.len()` for none).
    next: usize,
    /// Keys that are not columns, with how often they came.
    pub(crate) unknown: FxHashMap<String, u64>,
}

impl FixedColumns {
    pub(crate) fn new(names: Vec<String>) -> Self {
        let by_name = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str().into(), i))
            .collect();
        FixedColumns {
            next: names.len(),
            names,
            by_name,
            unknown: FxHashMap::default(),
        }
    }
}

impl Columns for FixedColumns {
    fn index(&mut self, key: &str) -> Option<usize> {
        let guess = self.next;
        let found = if self.names.get(guess).is_some_and(|n| n == key) {
            Some(guess)
        } else {
            self.by_name.get(key).copied()
        };
        match found {
            Some(i) => {
                self.next = i + 1;
                Some(i)
            }
            None => {
                *self.unknown.entry(key.to_string()).or_default() += 1;
                None
            }
        }
    }
}

/// Why a line is not a JSON object.
#[derive(Debug)]
pub(crate) struct LineError(pub(crate) String);

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Walks the JSON object on `line`: `field` gets each known key's column and raw value
/// text, in line order. Fails on anything that is not exactly one JSON object.
pub(crate) fn walk_object<'de, C: Columns>(
    line: &'de [u8],
    columns: &mut C,
    field: &mut impl FnMut(usize, &'de RawValue),
) -> Result<(), LineError> {
    let mut de = serde_json::Deserializer::from_slice(line);
    de.deserialize_map(ObjectVisitor { columns, field })
        .and_then(|()| de.end())
        .map_err(|e| LineError(describe(&e)))
}

fn describe(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Eof => "truncated JSON",
        Category::Syntax => "malformed JSON",
        Category::Data => "not a JSON object",
        Category::Io => "unreadable",
    };
    format!("{what}: {error}")
}

struct ObjectVisitor<'c, C, F> {
    columns: &'c mut C,
    field: &'c mut F,
}

impl<'de, C: Columns, F: FnMut(usize, &'de RawValue)> Visitor<'de> for ObjectVisitor<'_, C, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(column) = map.next_key_seed(Key(&mut *self.columns))? {
            let value: &'de RawValue = map.next_value()?;
            if let Some(column) = column {
                (self.field)(column, value);
            }
        }
        Ok(())
    }
}

/// A key, resolved to its column as it is read (escaped keys too) without allocating.
struct Key<'c, C>(&'c mut C);

impl<'de, C: Columns> DeserializeSeed<'de> for Key<'_, C> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, C: Columns> Visitor<'de> for Key<'_, C> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.index(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(line: &str) -> Result<Vec<(String, String)>, LineError> {
        let mut columns = GrowingColumns::default();
        let mut got = Vec::new();
        walk_object(line.as_bytes(), &mut columns, &mut |i, v| {
            got.push((i, v.get().to_string()))
        })?;
        Ok(got
            .into_iter()
            .map(|(i, v)| (columns.names[i].clone(), v))
            .collect())
    }

    #[test]
    fn values_come_as_raw_text() {
        let got = walk(r#"{"a": 1.50, "b\u0041": "x\"y", "c": {"d": [1]}, "e": null}"#).unwrap();
        assert_eq!(
            got,
            [
                ("a".into(), "1.50".into()),
                ("bA".into(), r#""x\"y""#.into()),
                ("c".into(), r#"{"d": [1]}"#.into()),
                ("e".into(), "null".into())
            ]
        );
    }

    #[test]
    fn non_objects_and_truncation_are_errors() {
        assert!(walk("[1]").unwrap_err().0.starts_with("not a JSON object"));
        assert!(walk(r#"{"a": 1"#).unwrap_err().0.starts_with("truncated"));
        assert!(
            walk(r#"{"a": 1} x"#)
                .unwrap_err()
                .0
                .starts_with("malformed")
        );
        assert!(walk("").unwrap_err().0.starts_with("truncated"));
    }

    #[test]
    fn fixed_columns_ignore_and_count_unknown_keys() {
        let mut columns = FixedColumns::new(vec!["a".into(), "b".into()]);
        let mut got = Vec::new();
        walk_object(br#"{"b":1,"z":2,"a":3}"#, &mut columns, &mut |i, v| {
            got.push((i, v.get().to_string()))
        })
        .unwrap();
        assert_eq!(got, [(1, "1".to_string()), (0, "3".to_string())]);
        assert_eq!(columns.unknown.get("z"), Some(&1));
    }
}
