//! One JSON line as an object: each key resolved to a column index and each value
//! handed over as its raw text, without building a value tree or allocating per field.
//! Inference and decoding both walk lines with [`walk_object`].
//!
//! The scanner is written for this one job because it is most of a compaction's CPU:
//! general parsers validate UTF-8 string by string and hash every key, where a line is
//! validated once here and keys are matched against the column that followed the
//! previous key. Most fields take few branches: the predicted key is compared as whole
//! words, a plain number is measured and read a word at a time into the [`Scalar`] the
//! decoder stores, and strings are run through eight bytes at a time. It accepts
//! exactly what `serde_json` accepts (a property test holds it to that), so a line is
//! rejected or kept the same way either way, and one thing more: the tokens `NaN`,
//! `Infinity` and `-Infinity` that some writers emit. They are read as
//! [`Scalar::NonFinite`], a value no column takes, so that one such value is a value
//! reject rather than its whole line a line reject.

use std::borrow::Cow;
use std::fmt;

use rustc_hash::FxHashMap;

use super::number::{NON_FINITE_TOKENS, Scalar, read_plain_number, word_at};

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
    /// Per column: its key as it most often appears, `"name":`, to compare in words.
    patterns: Vec<Option<KeyPattern>>,
    /// The column of the previous key on this line.
    previous: usize,
}

impl Lookup {
    fn start_line(&mut self) {
        self.previous = LINE_START;
    }

    /// The column predicted next, the name its key must have and its pattern.
    #[inline(always)]
    fn predicted(&self) -> Option<(usize, &str, Option<&KeyPattern>)> {
        let slot = self.previous.min(self.names.len());
        let i = *self.follows.get(slot)?;
        // Not `bool::then`: its closure was left out of line.
        if i < self.names.len() && self.plain[i] {
            Some((i, self.names[i].as_str(), self.patterns[i].as_ref()))
        } else {
            None
        }
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
        let plain = !key.bytes().any(|b| STRING_STOP[usize::from(b)]);
        self.plain.push(plain);
        self.patterns
            .push(plain.then(|| KeyPattern::new(key)).flatten());
        // The start-of-line slot stays last.
        let start = self.follows.pop().unwrap_or(usize::MAX);
        self.follows.push(usize::MAX);
        self.follows.push(start);
        self.came(i);
        i
    }
}

/// A key written `"name":` with nothing between, as up to four words and the masks
/// of their bytes, to compare with the line in four loads and no branch per byte: a
/// byte loop's exit depends on the name's length, which changes from key to key, so
/// its branch was mispredicted on most fields.
#[derive(Debug, Clone)]
struct KeyPattern {
    words: [u64; 4],
    masks: [u64; 4],
}

impl KeyPattern {
    /// `None` for names longer than 29 bytes, which are compared byte by byte.
    fn new(name: &str) -> Option<KeyPattern> {
        let text = format!("\"{name}\":");
        let len = text.len();
        if len > 32 {
            return None;
        }
        let mut bytes = [0u8; 32];
        bytes[..len].copy_from_slice(text.as_bytes());
        let mut mask_bytes = [0u8; 32];
        mask_bytes[..len].fill(0xFF);
        let words = |b: &[u8; 32]| {
            let (chunks, _) = b.as_chunks::<8>();
            [0, 1, 2, 3].map(|k| u64::from_le_bytes(chunks[k]))
        };
        Some(KeyPattern {
            words: words(&bytes),
            masks: words(&mask_bytes),
        })
    }

    /// Whether `bytes[at..]` starts with the pattern; `None` when fewer than 32 bytes
    /// are left to compare in words.
    #[inline(always)]
    fn matches(&self, bytes: &[u8], at: usize) -> Option<bool> {
        let window = bytes.get(at..at.checked_add(32)?)?;
        let mut diff = 0;
        for k in 0..4 {
            diff |= (word_at(window, 8 * k)? ^ self.words[k]) & self.masks[k];
        }
        Some(diff == 0)
    }
}

/// Key names to column indexes: either every key met, a new column each, in order of
/// first appearance ([`Columns::growing`]), or a fixed set of columns with other keys
/// ignored and counted ([`Columns::fixed`]). One type for both, so that the walk
/// reaches its lookup without a dispatch per field.
#[derive(Debug, Default, Clone)]
pub(crate) struct Columns {
    lookup: Lookup,
    fixed: bool,
    /// Keys that are not columns, with how often they came (fixed columns only).
    pub(crate) unknown: FxHashMap<String, u64>,
}

impl Columns {
    /// Columns made as keys come.
    pub(crate) fn growing() -> Self {
        Columns::default()
    }

    /// The columns `names`.
    pub(crate) fn fixed(names: Vec<String>) -> Self {
        // Pushed as one line, so until lines say otherwise keys are expected in the
        // columns' order.
        let mut lookup = Lookup::default();
        lookup.start_line();
        for name in &names {
            lookup.push(name);
        }
        lookup.start_line();
        Columns {
            lookup,
            fixed: true,
            unknown: FxHashMap::default(),
        }
    }

    /// Whether keys become columns as they come.
    pub(crate) fn grows(&self) -> bool {
        !self.fixed
    }

    /// The names so far, by index.
    pub(crate) fn names(&self) -> &[String] {
        &self.lookup.names
    }

    /// The column of `key`, added after the others if it is new: how key sets of
    /// several files are merged.
    pub(crate) fn add(&mut self, key: &str) -> usize {
        match self.lookup.find(key) {
            Some(i) => i,
            None => self.lookup.push(key),
        }
    }

    /// The column of `key`, or `None` to ignore the field.
    pub(crate) fn index(&mut self, key: &str) -> Option<usize> {
        let found = self.lookup.find(key);
        match found {
            Some(i) => Some(i),
            None if self.fixed => {
                *self.unknown.entry(key.to_string()).or_default() += 1;
                None
            }
            None => Some(self.lookup.push(key)),
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

/// Walks the JSON object on `line`: `field` gets each known key's column, raw value
/// text and [`Scalar`] (read while scanning, so a number's digits are read once), in
/// line order. Fails on anything that is not exactly one JSON object; fields before
/// the failure may already have been handed over.
pub(crate) fn walk_object<'a>(
    line: &'a [u8],
    columns: &mut Columns,
    field: &mut impl FnMut(usize, RawValue<'a>, Scalar),
) -> Result<(), LineError> {
    // The SIMD check is several times as fast on ASCII; only a failure, to be located,
    // is checked again by std.
    let text = simdutf8::basic::from_utf8(line)
        .or_else(|_| std::str::from_utf8(line))
        .map_err(|e| {
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
        columns.lookup.start_line();
        loop {
            // The predicted key, with its colon when the pattern matched.
            let predicted = columns.lookup.predicted().and_then(|(i, name, pattern)| {
                if let Some(matched) = pattern.and_then(|p| p.matches(s.bytes, s.at)) {
                    return matched.then(|| (i, s.at + name.len() + 3, true));
                }
                let end = s.at + 1 + name.len();
                (s.bytes.get(s.at) == Some(&b'"')
                    && s.bytes.get(end) == Some(&b'"')
                    && same(&s.bytes[s.at + 1..end], name.as_bytes()))
                .then_some((i, end + 1, false))
            });
            let column = match predicted {
                Some((i, end, colon)) => {
                    s.at = end;
                    columns.lookup.came(i);
                    if !colon {
                        s.whitespace();
                        s.eat(b':', "':'")?;
                    }
                    Some(i)
                }
                None => {
                    let (key, escaped) = s.key()?;
                    let column = if escaped {
                        columns.index(&unescape_key(key, &s)?)
                    } else {
                        columns.index(key)
                    };
                    s.whitespace();
                    s.eat(b':', "':'")?;
                    column
                }
            };
            s.whitespace();
            let start = s.at;
            // Scalars here, in line, where the `Scalar` stays in registers.
            let scalar = match s.peek() {
                Some(b'-' | b'0'..=b'9') => s.number()?,
                Some(b'"') => {
                    s.at += 1;
                    if s.string_rest()? {
                        Scalar::Text
                    } else {
                        Scalar::PlainString
                    }
                }
                Some(b't') => s.literal(b"true").map(|()| Scalar::Bool(true))?,
                Some(b'f') => s.literal(b"false").map(|()| Scalar::Bool(false))?,
                Some(b'n') => s.literal(b"null").map(|()| Scalar::Null)?,
                Some(b'N' | b'I') => s.non_finite()?,
                _ => {
                    s.value(1)?;
                    Scalar::of(&text[start..s.at])
                }
            };
            if let Some(column) = column {
                let raw = RawValue {
                    line: text,
                    start,
                    end: s.at,
                };
                field(column, raw, scalar);
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

/// A value's JSON text, sliced from its line only when asked for: most values are taken
/// as the [`Scalar`] the scanner read, and slicing a `str` checks both ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawValue<'a> {
    line: &'a str,
    start: usize,
    end: usize,
}

impl<'a> RawValue<'a> {
    /// The text. The scanner found the value between two ASCII bytes of the line, so
    /// the range lies on character boundaries.
    pub(crate) fn text(self) -> &'a str {
        &self.line[self.start..self.end]
    }

    /// The text between the quotes of a string value ([`Scalar::PlainString`]), which
    /// has both quotes.
    pub(crate) fn string_content(self) -> &'a str {
        &self.line[self.start + 1..self.end - 1]
    }
}

/// Whether two short byte strings of equal length are equal; compared in place, 8
/// bytes at a time, since a call to `memcmp` per key costs more than the comparison.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let ((a8, a_rest), (b8, b_rest)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    let words = (a8.iter().zip(b8)).all(|(x, y)| u64::from_ne_bytes(*x) == u64::from_ne_bytes(*y));
    words && a8.len() == b8.len() && a_rest == b_rest
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

const QUOTES: u64 = 0x2222_2222_2222_2222;
const BACKSLASHES: u64 = 0x5C5C_5C5C_5C5C_5C5C;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit set in each zero byte of `word`, exact up to the first one.
#[inline(always)]
fn has_zero_byte(word: u64) -> u64 {
    word.wrapping_sub(0x0101_0101_0101_0101) & !word & HIGH_BITS
}

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
            // Eight bytes at a time to the first byte that stops the string (exact: a
            // borrow only ever flags bytes above a flagged one), then byte by byte.
            while let Some(word) = word_at(self.bytes, self.at) {
                let stops = has_zero_byte(word ^ QUOTES)
                    | has_zero_byte(word ^ BACKSLASHES)
                    | (word.wrapping_sub(0x2020_2020_2020_2020) & !word & HIGH_BITS);
                if stops != 0 {
                    self.at += (stops.trailing_zeros() / 8) as usize;
                    break;
                }
                self.at += 8;
            }
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
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'N' | b'I') => self.non_finite().map(drop),
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

    /// `true`, `false` or `null`; compared as one fixed-size array, which compiles to a
    /// word compare where a slice compare was a `memcmp` call.
    #[inline]
    fn literal<const N: usize>(&mut self, word: &[u8; N]) -> Result<(), LineError> {
        if self.bytes[self.at..].first_chunk::<N>() == Some(word) {
            self.at += N;
            return Ok(());
        }
        Err(self.not_literal(word))
    }

    #[cold]
    fn not_literal(&mut self, word: &[u8]) -> LineError {
        // How far the line matches the word: to its end is truncation.
        let rest = &self.bytes[self.at..];
        let same = rest.iter().zip(word).take_while(|(a, b)| a == b).count();
        self.at += same;
        self.error(&format!("{:?}", String::from_utf8_lossy(word)))
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    /// A number, read as [`Scalar::of`] reads it: word by word where it is plain
    /// ([`read_plain_number`]), else byte by byte.
    #[inline(always)]
    fn number(&mut self) -> Result<Scalar, LineError> {
        if let Some((end, scalar)) = read_plain_number(self.bytes, self.at) {
            self.at = end;
            return Ok(scalar);
        }
        if self.bytes.get(self.at + 1) == Some(&b'I') {
            return self.non_finite();
        }
        let start = self.at;
        self.number_bytewise()?;
        Ok(Scalar::of(&self.text[start..self.at]))
    }

    /// `NaN`, `Infinity` or `-Infinity`.
    #[cold]
    fn non_finite(&mut self) -> Result<Scalar, LineError> {
        for token in NON_FINITE_TOKENS {
            if self.bytes[self.at..].starts_with(token.as_bytes()) {
                self.at += token.len();
                return Ok(Scalar::NonFinite);
            }
        }
        Err(self.error("a value"))
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    #[inline(never)]
    fn number_bytewise(&mut self) -> Result<(), LineError> {
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
        let mut columns = Columns::growing();
        let mut got = Vec::new();
        walk_object(line.as_bytes(), &mut columns, &mut |i, v, _| {
            got.push((i, v.text().to_string()))
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
        let bad_utf8 = |line: &[u8]| {
            walk_object(line, &mut Columns::growing(), &mut |_, _, _| {})
                .unwrap_err()
                .0
        };
        assert_eq!(
            bad_utf8(b"{\"a\": \"\xff\"}"),
            "malformed JSON: invalid UTF-8 at column 8"
        );
        // Past the first SIMD blocks, and a sequence cut short: still located.
        let mut long = format!(r#"{{"a": "{}é"#, "x".repeat(150)).into_bytes();
        long.pop();
        long.extend_from_slice(b"\"}");
        assert_eq!(
            bad_utf8(&long),
            "malformed JSON: invalid UTF-8 at column 158"
        );
        let deep = format!(r#"{{"a": {}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(error(&deep).contains("nested deeper"));
    }

    #[test]
    fn fixed_columns_ignore_and_count_unknown_keys() {
        let mut columns = Columns::fixed(vec!["a".into(), "b".into()]);
        let mut got = Vec::new();
        walk_object(br#"{"b":1,"z":2,"a":3}"#, &mut columns, &mut |i, v, _| {
            got.push((i, v.text().to_string()))
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
        // Padded lines leave room after every key and number to read whole words.
        let object = (
            prop::collection::vec((key, value), 0..5),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(fields, spaced, padded)| {
                let sep = if spaced { " " } else { "" };
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(k, v)| format!("{sep}\"{k}\"{sep}:{sep}{v}"))
                    .collect();
                let pad = if padded {
                    " ".repeat(40)
                } else {
                    String::new()
                };
                format!("{sep}{{{}}}{sep}{pad}", fields.join(","))
            });
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

    /// A scalar as comparable data: floats by their bits, so `-0.0` and `0.0` differ.
    fn bits(scalar: Scalar) -> (std::mem::Discriminant<Scalar>, u64) {
        let bits = match scalar {
            Scalar::Float(v) => v.to_bits(),
            Scalar::Int(v) => v as u64,
            Scalar::Bool(v) => u64::from(v),
            _ => 0,
        };
        (std::mem::discriminant(&scalar), bits)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Where the word-wise number reader reads a number, it ends it where the
        /// byte-wise scanner does and reads it as `Scalar::of` does.
        #[test]
        fn plain_numbers_read_as_the_bytewise_scanner_reads_them(
            number in "-?[0-9]{0,18}(\\.[0-9]{0,18})?([eE][+-]?[0-9]{1,3})?",
            after in "[,} \\]0-9.eE\"a-z]{0,20}",
        ) {
            let line = format!("{number}{after}");
            let mut s = Scanner { text: &line, bytes: line.as_bytes(), at: 0 };
            let bytewise = s.number_bytewise().ok().map(|()| s.at);
            if let Some((end, scalar)) = read_plain_number(line.as_bytes(), 0) {
                prop_assert_eq!(Some(end), bytewise, "{:?}", line);
                prop_assert_eq!(bits(scalar), bits(Scalar::of(&line[..end])), "{:?}", line);
            }
        }

        /// It reads every number it is written for: plain, at most 15 digits before
        /// and after the point, with eight bytes to read after each run of digits.
        #[test]
        fn plain_numbers_are_read_word_wise(
            number in "-?(0|[1-9][0-9]{0,14})(\\.[0-9]{1,15})?",
            after in "[,}\\] ][ ]{15}",
        ) {
            let line = format!("{number}{after}");
            let read = read_plain_number(line.as_bytes(), 0);
            prop_assert_eq!(read.map(|(end, scalar)| (end, bits(scalar))),
                Some((number.len(), bits(Scalar::of(&number)))), "{:?}", line);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Accepts exactly the lines `serde_json` accepts, with the same fields and raw
        /// values, whatever key order earlier lines taught the lookup.
        #[test]
        fn walk_agrees_with_serde_json(lines in prop::collection::vec(lines(), 1..6)) {
            let mut growing = Columns::growing();
            let mut fixed = Columns::fixed(["b", "a", "c", "aa"].map(String::from).to_vec());
            for line in &lines {
                let reference = serde_walk(line);
                let mut got = Vec::new();
                let mut scalars = Vec::new();
                let ours = walk_object(line, &mut growing, &mut |i, v, scalar| {
                    scalars.push((bits(scalar), bits(Scalar::of(v.text()))));
                    got.push((i, v.text().to_string()));
                })
                    .map(|()| {
                        got.iter()
                            .map(|(i, v)| (growing.names()[*i].clone(), v.clone()))
                            .collect::<Vec<_>>()
                    });
                prop_assert_eq!(ours.as_ref().ok(), reference.as_ref(),
                    "line {:?}: {:?}", String::from_utf8_lossy(line), ours.as_ref().err());
                for (scanned, read) in scalars {
                    prop_assert_eq!(scanned, read, "line {:?}", String::from_utf8_lossy(line));
                }
                let mut got = Vec::new();
                let names = ["b", "a", "c", "aa"];
                let ours = walk_object(line, &mut fixed, &mut |i, v, _| got.push((names[i].to_string(), v.text().to_string())))
                    .map(|()| got);
                let known = reference.map(|fields| {
                    fields.into_iter().filter(|(k, _)| names.contains(&k.as_str())).collect::<Vec<_>>()
                });
                prop_assert_eq!(ours.ok(), known);
            }
        }
    }
}
