//! One JSON line as an object: each key resolved to a column index and each value
//! handed over as its raw text, without building a value tree or allocating per field.
//! Inference and decoding both walk lines with [`walk_object`].
//!
//! The scanner is written for this one job because it is most of a compaction's CPU:
//! general parsers validate UTF-8 string by string and hash every key, where a line is
//! validated once here and keys are matched against the column that followed the
//! previous key. It accepts exactly what `serde_json` accepts (a property test holds it
//! to that), so a line is rejected or kept the same way either way.

use std::borrow::Cow;
use std::fmt;

use rustc_hash::FxHashMap;

/// Resolves key names to column indexes.
pub(crate) trait Columns {
    /// The column of `key`, or `None` to ignore the field.
    fn index(&mut self, key: &str) -> Option<usize>;
    /// The lookup to predict keys with.
    fn lookup(&mut self) -> &mut Lookup;
}

/// Where no key came before: the start of a line.
const LINE_START: usize = usize::MAX;

/// Names to indexes, predicting each key from the one before it: lines of one source
/// mostly repeat their key order, so a key is usually checked in place against the
/// name that followed the previous key last time, without scanning or hashing it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Lookup {
    names: Vec<String>,
    by_name: FxHashMap<Box<str>, usize>,
    /// Per column: the column whose key followed it last time; the last slot is for
    /// the start of a line.
    follows: Vec<usize>,
    /// Per column: whether its name appears in JSON as is (no character to escape).
    plain: Vec<bool>,
    /// The column of the previous key on this line.
    previous: usize,
}

impl Lookup {
    fn start_line(&mut self) {
        self.previous = LINE_START;
    }

    /// The column predicted next, and the name its key must have.
    fn predicted(&self) -> Option<(usize, &str)> {
        let slot = self.previous.min(self.names.len());
        let i = *self.follows.get(slot)?;
        (i < self.names.len() && self.plain[i]).then(|| (i, self.names[i].as_str()))
    }

    /// Records that column `i` came next.
    fn came(&mut self, i: usize) {
        let slot = self.previous.min(self.names.len());
        if let Some(follow) = self.follows.get_mut(slot) {
            *follow = i;
        }
        self.previous = i;
    }

    fn find(&mut self, key: &str) -> Option<usize> {
        let found = self.by_name.get(key).copied();
        if let Some(i) = found {
            self.came(i);
        }
        found
    }

    fn push(&mut self, key: &str) -> usize {
        let i = self.names.len();
        self.names.push(key.to_string());
        self.by_name.insert(key.into(), i);
        self.plain
            .push(!key.bytes().any(|b| STRING_STOP[usize::from(b)]));
        // The start-of-line slot stays last.
        let start = self.follows.pop().unwrap_or(usize::MAX);
        self.follows.push(usize::MAX);
        self.follows.push(start);
        self.came(i);
        i
    }
}

/// Column names in order of first appearance, growing as new keys come.
#[derive(Debug, Default, Clone)]
pub(crate) struct GrowingColumns {
    lookup: Lookup,
}

impl GrowingColumns {
    /// The names so far, by index.
    pub(crate) fn names(&self) -> &[String] {
        &self.lookup.names
    }
}

impl Columns for GrowingColumns {
    fn index(&mut self, key: &str) -> Option<usize> {
        Some(match self.lookup.find(key) {
            Some(i) => i,
            None => self.lookup.push(key),
        })
    }

    fn lookup(&mut self) -> &mut Lookup {
        &mut self.lookup
    }
}

/// A fixed set of columns; other keys are ignored and counted.
#[derive(Debug, Clone)]
pub(crate) struct FixedColumns {
    lookup: Lookup,
    /// Keys that are not columns, with how often they came.
    pub(crate) unknown: FxHashMap<String, u64>,
}

impl FixedColumns {
    pub(crate) fn new(names: Vec<String>) -> Self {
        // Pushed as one line, so until lines say otherwise keys are expected in the
        // columns' order.
        let mut lookup = Lookup::default();
        lookup.start_line();
        for name in &names {
            lookup.push(name);
        }
        lookup.start_line();
        FixedColumns {
            lookup,
            unknown: FxHashMap::default(),
        }
    }
}

impl Columns for FixedColumns {
    fn index(&mut self, key: &str) -> Option<usize> {
        let found = self.lookup.find(key);
        if found.is_none() {
            *self.unknown.entry(key.to_string()).or_default() += 1;
        }
        found
    }

    fn lookup(&mut self) -> &mut Lookup {
        &mut self.lookup
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
/// text, in line order. Fails on anything that is not exactly one JSON object; fields
/// before the failure may already have been handed over.
pub(crate) fn walk_object<'a, C: Columns>(
    line: &'a [u8],
    columns: &mut C,
    field: &mut impl FnMut(usize, &'a str),
) -> Result<(), LineError> {
    let text = std::str::from_utf8(line).map_err(|e| {
        LineError(format!(
            "malformed JSON: invalid UTF-8 at column {}",
            e.valid_up_to() + 1
        ))
    })?;
    let mut s = Scanner {
        text,
        bytes: line,
        at: 0,
    };
    s.whitespace();
    match s.peek() {
        Some(b'{') => s.at += 1,
        Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            return Err(LineError(format!(
                "not a JSON object: the line holds {}",
                s.describe_value()
            )));
        }
        _ => return Err(s.error("'{'")),
    }
    s.whitespace();
    if s.peek() == Some(b'}') {
        s.at += 1;
    } else {
        columns.lookup().start_line();
        loop {
            let predicted = columns.lookup().predicted().and_then(|(i, name)| {
                let end = s.at + 1 + name.len();
                (s.bytes.get(s.at) == Some(&b'"')
                    && s.bytes.get(end) == Some(&b'"')
                    && same(&s.bytes[s.at + 1..end], name.as_bytes()))
                .then_some((i, end + 1))
            });
            let column = match predicted {
                Some((i, end)) => {
                    s.at = end;
                    columns.lookup().came(i);
                    Some(i)
                }
                None => {
                    let (key, escaped) = s.key()?;
                    if escaped {
                        columns.index(&unescape_key(key, &s)?)
                    } else {
                        columns.index(key)
                    }
                }
            };
            s.whitespace();
            s.eat(b':', "':'")?;
            s.whitespace();
            let start = s.at;
            s.value(1)?;
            let raw = &text[start..s.at];
            if let Some(column) = column {
                field(column, raw);
            }
            s.whitespace();
            match s.peek() {
                Some(b',') => {
                    s.at += 1;
                    s.whitespace();
                }
                Some(b'}') => {
                    s.at += 1;
                    break;
                }
                _ => return Err(s.error("',' or '}'")),
            }
        }
    }
    s.whitespace();
    if s.at < s.bytes.len() {
        return Err(LineError(format!(
            "malformed JSON: trailing characters at column {}",
            s.at + 1
        )));
    }
    Ok(())
}

/// Whether two short byte strings of equal length are equal; compared in place, 8
/// bytes at a time, since a call to `memcmp` per key costs more than the comparison.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let words = a8.by_ref().zip(b8.by_ref()).all(|(x, y)| {
        u64::from_ne_bytes(x.try_into().unwrap_or_default())
            == u64::from_ne_bytes(y.try_into().unwrap_or_default())
    });
    words
        && a8.remainder().len() == b8.remainder().len()
        && a8
            .remainder()
            .iter()
            .zip(b8.remainder())
            .all(|(x, y)| x == y)
}

/// The text of an escaped key.
fn unescape_key(key: &str, s: &Scanner<'_>) -> Result<String, LineError> {
    serde_json::from_str::<String>(&format!("\"{key}\""))
        .map_err(|e| LineError(format!("malformed JSON: key near column {}: {e}", s.at)))
}

/// Nesting deeper than this is refused, as `serde_json` refuses it.
const MAX_DEPTH: usize = 128;

/// Bytes that end the fast run through a string: the quote, the backslash and the
/// control characters JSON forbids in strings.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// "truncated" where the line ended, "malformed" where something else came.
    fn error(&self, expected: &str) -> LineError {
        match self.text[self.at..].chars().next() {
            None => LineError(format!(
                "truncated JSON: the line ends at column {} where {expected} should come",
                self.at + 1
            )),
            Some(c) => LineError(format!(
                "malformed JSON: expected {expected} at column {}, found {c:?}",
                self.at + 1
            )),
        }
    }

    fn describe_value(&self) -> &'static str {
        match self.peek() {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            _ => "a number",
        }
    }

    /// Consumes `byte`, or fails saying `what` should have come.
    fn eat(&mut self, byte: u8, what: &str) -> Result<(), LineError> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// A key: its raw text between the quotes, and whether it holds escapes.
    fn key(&mut self) -> Result<(&'a str, bool), LineError> {
        self.eat(b'"', "a key")?;
        let start = self.at;
        let escaped = self.string_rest()?;
        Ok((&self.text[start..self.at - 1], escaped))
    }

    /// The rest of a string after its opening quote, through the closing one; says
    /// whether it held escapes.
    fn string_rest(&mut self) -> Result<bool, LineError> {
        let mut escaped = false;
        loop {
            while self
                .bytes
                .get(self.at)
                .is_some_and(|&b| !STRING_STOP[usize::from(b)])
            {
                self.at += 1;
            }
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 1
                        }
                        Some(b'u') => {
                            self.at += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(b) if b.is_ascii_hexdigit() => self.at += 1,
                                    _ => return Err(self.error("a hex digit of a \\u escape")),
                                }
                            }
                        }
                        _ => return Err(self.error("an escape character")),
                    }
                }
                None => return Err(self.error("'\"'")),
                Some(_) => {
                    return Err(LineError(format!(
                        "malformed JSON: control character in a string at column {}",
                        self.at + 1
                    )));
                }
            }
        }
    }

    /// Any value, nested `depth` levels deep.
    fn value(&mut self, depth: usize) -> Result<(), LineError> {
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                self.string_rest().map(drop)
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(open @ (b'{' | b'[')) => {
                if depth >= MAX_DEPTH {
                    return Err(LineError(format!(
                        "malformed JSON: nested deeper than {MAX_DEPTH} levels at column {}",
                        self.at + 1
                    )));
                }
                self.at += 1;
                self.whitespace();
                let close = if open == b'{' { b'}' } else { b']' };
                if self.peek() == Some(close) {
                    self.at += 1;
                    return Ok(());
                }
                loop {
                    if open == b'{' {
                        self.key()?;
                        self.whitespace();
                        self.eat(b':', "':'")?;
                        self.whitespace();
                    }
                    self.value(depth + 1)?;
                    self.whitespace();
                    match self.peek() {
                        Some(b',') => {
                            self.at += 1;
                            self.whitespace();
                        }
                        Some(b) if b == close => {
                            self.at += 1;
                            return Ok(());
                        }
                        _ => {
                            return Err(self.error(if open == b'{' {
                                "',' or '}'"
                            } else {
                                "',' or ']'"
                            }));
                        }
                    }
                }
            }
            _ => Err(self.error("a value")),
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), LineError> {
        let rest = &self.bytes[self.at..];
        if rest.starts_with(word.as_bytes()) {
            self.at += word.len();
            return Ok(());
        }
        // How far the line matches the word: to its end is truncation.
        let same = rest
            .iter()
            .zip(word.as_bytes())
            .take_while(|(a, b)| a == b)
            .count();
        self.at += same;
        Err(self.error(&format!("{word:?}")))
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<(), LineError> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("a digit")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.error("a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("an exponent digit"));
            }
        }
        Ok(())
    }
}

/// The content of a JSON string literal `raw` (quotes included), unescaped.
pub(crate) fn unquote(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw).ok().map(Into::into)
    } else {
        Some(inner.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
    use serde_json::value::RawValue;

    fn walk(line: &str) -> Result<Vec<(String, String)>, LineError> {
        let mut columns = GrowingColumns::default();
        let mut got = Vec::new();
        walk_object(line.as_bytes(), &mut columns, &mut |i, v| {
            got.push((i, v.to_string()))
        })?;
        Ok(got
            .into_iter()
            .map(|(i, v)| (columns.names()[i].clone(), v))
            .collect())
    }

    #[test]
    fn values_come_as_raw_text() {
        let got = walk(r#" {"a": 1.50, "b\u0041": "x\"y", "c": {"d": [1]}, "e": null} "#).unwrap();
        assert_eq!(
            got,
            [
                ("a".into(), "1.50".into()),
                ("bA".into(), r#""x\"y""#.into()),
                ("c".into(), r#"{"d": [1]}"#.into()),
                ("e".into(), "null".into())
            ]
        );
        assert_eq!(walk("{}").unwrap(), []);
    }

    #[test]
    fn non_objects_and_truncation_are_errors() {
        let error = |line: &str| walk(line).unwrap_err().0;
        assert!(
            error("[1]").starts_with("not a JSON object"),
            "{}",
            error("[1]")
        );
        assert!(error(r#"{"a": 1"#).starts_with("truncated"));
        assert!(error(r#"{"a": tr"#).starts_with("truncated"));
        assert!(error(r#"{"a": 1} x"#).starts_with("malformed"));
        assert!(error(r#"{"a": 01}"#).starts_with("malformed"));
        assert!(error(r#"{"a": "x	y"}"#).contains("control character"));
        assert!(error("").starts_with("truncated"));
        assert!(
            walk_object(
                b"{\"a\": \"\xff\"}",
                &mut GrowingColumns::default(),
                &mut |_, _| {}
            )
            .unwrap_err()
            .0
            .contains("UTF-8")
        );
        let deep = format!(r#"{{"a": {}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(error(&deep).contains("nested deeper"));
    }

    #[test]
    fn fixed_columns_ignore_and_count_unknown_keys() {
        let mut columns = FixedColumns::new(vec!["a".into(), "b".into()]);
        let mut got = Vec::new();
        walk_object(br#"{"b":1,"z":2,"a":3}"#, &mut columns, &mut |i, v| {
            got.push((i, v.to_string()))
        })
        .unwrap();
        assert_eq!(got, [(1, "1".to_string()), (0, "3".to_string())]);
        assert_eq!(columns.unknown.get("z"), Some(&1));
    }

    /// The reference: the same walk through `serde_json`, one `RawValue` per field.
    fn serde_walk(line: &[u8]) -> Option<Vec<(String, String)>> {
        struct Fields(Vec<(String, String)>);
        impl<'de> Visitor<'de> for &mut Fields {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while let Some(key) = map.next_key::<String>()? {
                    let value: &RawValue = map.next_value()?;
                    self.0.push((key, value.get().to_string()));
                }
                Ok(())
            }
        }
        impl<'de> DeserializeSeed<'de> for &mut Fields {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_map(self)
            }
        }
        let mut fields = Fields(Vec::new());
        let mut de = serde_json::Deserializer::from_slice(line);
        (&mut fields).deserialize(&mut de).ok()?;
        de.end().ok()?;
        // `serde_json` reads outside strings byte by byte; ours validates the line first.
        std::str::from_utf8(line).ok()?;
        Some(fields.0)
    }

    /// Object lines, pretty or compact, then maybe cut, or with a byte changed.
    fn lines() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            any::<i64>().prop_map(|v| v.to_string()),
            any::<f64>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(|v| format!("{v:e}")),
            "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?",
            "\"([a-z \u{e9}\u{1F600}]|\\\\[\"\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4}){0,6}\"",
        ];
        let value = leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("[a-c]", inner), 0..3).prop_map(|v| {
                    let fields: Vec<String> = v
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\": {v}"))
                        .collect();
                    format!("{{ {} }}", fields.join(" ,"))
                }),
            ]
        });
        let key = "([a-d]|\\\\u00[46][1-4]|\\\\n){1,2}";
        let object = (prop::collection::vec((key, value), 0..5), any::<bool>()).prop_map(
            |(fields, spaced)| {
                let sep = if spaced { " " } else { "" };
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(k, v)| format!("{sep}\"{k}\"{sep}:{sep}{v}"))
                    .collect();
                format!("{sep}{{{}}}{sep}", fields.join(","))
            },
        );
        let damage = prop_oneof![
            3 => Just(None),
            1 => (any::<prop::sample::Index>(), Just(None)).prop_map(Some),
            1 => (any::<prop::sample::Index>(), prop::sample::select(
                b"{}[]\",:\\ 0-.eEtfnu\x01\xc3\xff".to_vec()).prop_map(Some)).prop_map(Some),
        ];
        (object, damage).prop_map(|(line, damage)| {
            let mut line = line.into_bytes();
            match damage {
                None => {}
                Some((at, None)) => line.truncate(at.index(line.len() + 1)),
                Some((at, Some(byte))) if !line.is_empty() => {
                    let at = at.index(line.len());
                    line[at] = byte;
                }
                Some(_) => {}
            }
            line
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Accepts exactly the lines `serde_json` accepts, with the same fields and raw
        /// values, whatever key order earlier lines taught the lookup.
        #[test]
        fn walk_agrees_with_serde_json(lines in prop::collection::vec(lines(), 1..6)) {
            let mut growing = GrowingColumns::default();
            let mut fixed = FixedColumns::new(["b", "a", "c", "aa"].map(String::from).to_vec());
            for line in &lines {
                let reference = serde_walk(line);
                let mut got = Vec::new();
                let ours = walk_object(line, &mut growing, &mut |i, v| got.push((i, v.to_string())))
                    .map(|()| {
                        got.iter()
                            .map(|(i, v)| (growing.names()[*i].clone(), v.clone()))
                            .collect::<Vec<_>>()
                    });
                prop_assert_eq!(ours.as_ref().ok(), reference.as_ref(),
                    "line {:?}: {:?}", String::from_utf8_lossy(line), ours.as_ref().err());
                let mut got = Vec::new();
                let names = ["b", "a", "c", "aa"];
                let ours = walk_object(line, &mut fixed, &mut |i, v| got.push((names[i].to_string(), v.to_string())))
                    .map(|()| got);
                let known = reference.map(|fields| {
                    fields.into_iter().filter(|(k, _)| names.contains(&k.as_str())).collect::<Vec<_>>()
                });
                prop_assert_eq!(ours.ok(), known);
            }
        }
    }
}
