//! JSON number text and exact values: reading decimals as `str::parse` does, only
//! faster for the usual ones, and telling which decimals can be written back as the
//! very text they were read from (what lets a spilled batch keep floats typed).

use super::infer::JsonType;

/// The text of a number: the raw number, or a string whose whole content is one.
pub(super) fn number_text(raw: &str) -> Option<&str> {
    let text = match raw.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => raw,
    };
    let first = text.as_bytes().first()?;
    (first.is_ascii_digit() || (*first == b'-' && text.len() > 1)).then_some(text)
}

/// A raw JSON value as a raw batch column takes it: its type as inference sees it
/// ([`JsonType::of`]) and, for a number, its value when the column can keep it typed
/// and still write back the very text it was read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Scalar {
    Null,
    Bool(bool),
    /// An integer that fits an `i64`.
    Int(i64),
    /// An integer beyond the `i64` range; its value is its text.
    BigInt,
    /// `NaN`, `Infinity` or `-Infinity`: tokens some writers emit and JSON does not
    /// have. No column holds them; each is a value reject.
    NonFinite,
    /// A decimal [`FloatText`] writes back exactly: a plain decimal (no exponent) of
    /// at most 15 digits, with a fraction that is `0` or ends in another digit
    /// (`21503.0`, `-0.25`, `0.001`; not `1.50`, `1e3`), which is how Python's `json`
    /// writes floats and how most serializers write fractional ones. At 15 digits or
    /// fewer, distinct decimals are distinct `f64`s, so the shortest text that reads
    /// back as the value is the decimal itself.
    Float(f64),
    /// `-0`: an integer, but an `i64` would write it back as `0`.
    NegativeZero,
    /// Any other number: a float whose value would not write back as its text.
    OtherFloat,
    /// A string without escapes: its value is its text between the quotes.
    PlainString,
    /// A string with escapes, an array or an object.
    Text,
}

impl Scalar {
    /// Reads raw JSON text (a value the scanner accepted) in one pass: a number is
    /// typed and its digits read together, rather than scanned once for the type and
    /// again for the value. Inlined, so that the value stays in registers: returned
    /// through memory, reading it back stalled on store forwarding (8% of a run's CPU).
    #[inline(always)]
    pub(super) fn of(raw: &str) -> Scalar {
        let bytes = raw.as_bytes();
        let negative = match bytes.first() {
            Some(b'n') => return Scalar::Null,
            Some(b't') => return Scalar::Bool(true),
            Some(b'f') => return Scalar::Bool(false),
            Some(b'-') => true,
            Some(b'0'..=b'9') => false,
            Some(b'"') if !raw.contains('\\') => return Scalar::PlainString,
            Some(b'N' | b'I') => return Scalar::NonFinite,
            _ => return Scalar::Text,
        };
        if negative && bytes.get(1) == Some(&b'I') {
            return Scalar::NonFinite;
        }
        let digits = &bytes[usize::from(negative)..];
        let Some(decimal) = PlainDecimal::read(digits) else {
            return Scalar::OtherFloat;
        };
        match decimal.point {
            // It may still fit an `i64`.
            None if decimal.digits > 18 => raw.parse::<i64>().map_or(Scalar::BigInt, Scalar::Int),
            None => decimal.scalar(negative, &[]),
            Some(point) => decimal.scalar(negative, &digits[point + 1..]),
        }
    }

    /// The type inference gives the value.
    pub(super) fn json_type(self) -> JsonType {
        match self {
            Scalar::Null => JsonType::Null,
            Scalar::Bool(_) => JsonType::Bool,
            Scalar::Int(value) if exact_in_f64(value) => JsonType::Int,
            Scalar::Int(_) => JsonType::WideInt,
            Scalar::NegativeZero => JsonType::Int,
            Scalar::BigInt => JsonType::BigInt,
            Scalar::Float(_) | Scalar::OtherFloat => JsonType::Float,
            // Rejected wherever it comes, so it says nothing of the column's type.
            Scalar::NonFinite => JsonType::Null,
            Scalar::PlainString | Scalar::Text => JsonType::Text,
        }
    }
}

/// Reads the plain number at `bytes[at..]` (a sign, at most 15 integer digits, maybe a
/// point and at most 15 fraction digits, no exponent) eight bytes at a time: where it
/// ends and its [`Scalar`], as [`Scalar::of`] reads the same text. `None` for
/// anything else, malformed numbers included, and where the line ends within eight
/// bytes of a run of digits;
/// the byte-wise scanner then reads it (or refuses it with its exact error). Runs of
/// digits are measured and read without a branch per digit: a loop's exit per number
/// part was a mispredicted branch in most fields of a typical line.
#[inline(always)]
pub(super) fn read_plain_number(bytes: &[u8], at: usize) -> Option<(usize, Scalar)> {
    let negative = *bytes.get(at)? == b'-';
    let start = at + usize::from(negative);
    let first = word_at(bytes, start)?;
    let int_len = leading_digits(first);
    // Without short circuits: these depend on the value, a branch each would be
    // mispredicted often.
    if (int_len == 0) | ((int_len > 1) & (first as u8 == b'0')) {
        return None;
    }
    if int_len < 7
        && (first >> (8 * int_len)) as u8 == b'.'
        && let Some(read) = short_decimal(first, int_len, negative)
    {
        return read.scalar.map(|scalar| (start + read.len, scalar));
    }
    let (int_len, int_value) = digit_run_from(first, bytes, start)?;
    let int_end = start + int_len;
    match bytes.get(int_end) {
        Some(b'.') => {
            let (places, fraction) = digit_run(bytes, int_end + 1)?;
            let end = int_end + 1 + places;
            if places == 0 || matches!(bytes.get(end), Some(b'e' | b'E')) {
                return None;
            }
            let decimal = PlainDecimal {
                // Exact up to 15 digits, the most `scalar` keeps a value of.
                mantissa: int_value
                    .wrapping_mul(POWERS_OF_TEN[places])
                    .wrapping_add(fraction),
                digits: int_len + places,
                point: Some(int_len),
            };
            Some((end, decimal.scalar(negative, &bytes[int_end + 1..end])))
        }
        Some(b'e' | b'E') => None,
        // At most 15 digits: always an `i64`.
        _ => {
            let decimal = PlainDecimal {
                mantissa: int_value,
                digits: int_len,
                point: None,
            };
            Some((int_end, decimal.scalar(negative, &[])))
        }
    }
}

/// The tokens for non-finite numbers that some writers emit and JSON does not have
/// ([`Scalar::NonFinite`]).
pub(super) const NON_FINITE_TOKENS: [&str; 3] = ["NaN", "Infinity", "-Infinity"];

/// Whether an `f64` holds `value` exactly: every integer up to 2^53 in magnitude, and
/// beyond it those with enough trailing zero bits.
#[inline(always)]
pub(super) fn exact_in_f64(value: i64) -> bool {
    // `as i128`, not `as i64`: `i64::MAX as f64` is 2^63, which `as i64` saturates back
    // to `i64::MAX`.
    value.unsigned_abs() <= 1 << 53 || value as f64 as i128 == i128::from(value)
}

/// Whether `text` (a JSON number) is an integer: no fraction and no exponent.
pub(super) fn is_integer_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The `f64` of integer text `text` when one holds it exactly (`-0` included); `None`
/// for an integer no `f64` holds, and for any beyond the `i128` range (±1.7e38), which
/// are not checked.
pub(super) fn exact_integer_f64(text: &str) -> Option<f64> {
    let integer = text.parse::<i128>().ok()?;
    let value = text.parse::<f64>().ok()?;
    // Exact: every `i128` is within the `f64` range, and `as` converts an integral
    // `f64` to the integer it is.
    (value as i128 == integer).then_some(value)
}

/// Powers of ten up to 10^16, as integers.
const POWERS_OF_TEN: [u64; 17] = {
    let mut table = [1u64; 17];
    let mut i = 1;
    while i < 17 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// The eight bytes at `bytes[at..]`, the first one lowest.
#[inline(always)]
pub(super) fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let word = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(word.try_into().ok()?))
}

/// A decimal read from one word, [`short_decimal`]'s answer.
struct ShortDecimal {
    /// Its length in bytes, the sign not counted.
    len: usize,
    /// `None` for a decimal `read_plain_number` does not read (`1.`, `1.5e3`).
    scalar: Option<Scalar>,
}

/// The decimal at the start of `word` whose `int_len` integer digits are followed by a
/// point, when its fraction ends within the word too (`85.1`, `-22.7154` after the
/// sign; most sensor values): read in one pass, the point taken out of the word, instead
/// of its two digit runs one after another, and typed from the word as
/// [`PlainDecimal::scalar`] types it (at most six digits here). `None` where the
/// fraction may go on past the word.
#[inline(always)]
fn short_decimal(word: u64, int_len: usize, negative: bool) -> Option<ShortDecimal> {
    let rest = word >> (8 * (int_len + 1));
    let places = leading_digits(rest);
    let len = int_len + 1 + places;
    if len >= 8 {
        return None;
    }
    if (places == 0) | matches!((word >> (8 * len)) as u8, b'e' | b'E') {
        return Some(ShortDecimal { len, scalar: None });
    }
    let low = word & ((1u64 << (8 * int_len)) - 1);
    let high = rest & ((1u64 << (8 * places)) - 1);
    let digits = int_len + places;
    let decimal = PlainDecimal {
        mantissa: digits_value(low | (high << (8 * int_len)), digits),
        digits,
        point: Some(int_len),
    };
    // As `PlainDecimal::scalar`: a fraction of `0` or ending in another digit.
    let last = (word >> (8 * (len - 1))) as u8;
    let scalar = if (places == 1) | (last != b'0') {
        Scalar::Float(decimal.value(places, negative))
    } else {
        Scalar::OtherFloat
    };
    Some(ShortDecimal {
        len,
        scalar: Some(scalar),
    })
}

/// The run of up to 15 digits at `bytes[at..]`: its length and value. `None` when the
/// eight bytes after its start (sixteen, past eight digits) are not there to read, or
/// the run is longer.
#[inline(always)]
fn digit_run(bytes: &[u8], at: usize) -> Option<(usize, u64)> {
    digit_run_from(word_at(bytes, at)?, bytes, at)
}

/// [`digit_run`] with the eight bytes at `at` already read as `first`.
#[inline(always)]
fn digit_run_from(first: u64, bytes: &[u8], at: usize) -> Option<(usize, u64)> {
    let len = leading_digits(first);
    if len < 8 {
        return Some((len, digits_value(first, len)));
    }
    let second = word_at(bytes, at + 8)?;
    let more = leading_digits(second);
    if more == 8 {
        return None;
    }
    let value = digits_value(first, 8) * POWERS_OF_TEN[more] + digits_value(second, more);
    Some((8 + more, value))
}

/// How many of `word`'s bytes, from the first, are ASCII digits.
#[inline(always)]
fn leading_digits(word: u64) -> usize {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // A digit's high nibble is 3, and adding 6 to it leaves it 3 (its low nibble is at
    // most 9). Carries only run upwards from a byte that is no digit, so every byte
    // below the first non-digit is judged exactly.
    let high = word & HIGH_NIBBLES;
    let low_over_nine = (word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) >> 4;
    let non_digits = (high | low_over_nine) ^ 0x3333_3333_3333_3333;
    (non_digits.trailing_zeros() / 8) as usize
}

/// The value of the first `len` bytes of `word`, all ASCII digits; three multiplications
/// instead of one per digit.
#[inline(always)]
fn digits_value(word: u64, len: usize) -> u64 {
    if len == 0 {
        return 0;
    }
    // The digits as 0..=9, moved to the top bytes: the bytes below read as leading
    // zeros of an eight-digit number.
    let v = word.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - len));
    let v = ((v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561)) >> 8;
    let v = ((v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601)) >> 16;
    ((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001)) >> 32
}

/// Writes a value [`Scalar::of`] kept as a float as the text it was read from: the shortest
/// decimal that reads back as the value, without exponent, and `.0` after a whole
/// number.
pub(super) struct FloatText(pub(super) f64);

impl std::fmt::Display for FloatText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.fract() == 0.0 {
            write!(f, "{}.0", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Powers of ten that are exact in an `f64`.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `text` as an `f64`, exactly as `str::parse` reads it. Plain decimals of at most 15
/// digits (most sensor values) take Clinger's fast path ([`PlainDecimal::value`]);
/// everything else goes to `str::parse`.
pub(super) fn parse_f64(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let negative = bytes.first() == Some(&b'-');
    let digits = &bytes[usize::from(negative)..];
    match PlainDecimal::read(digits) {
        // `.5` and `5.` included: `str::parse` reads them as these digits too.
        Some(d) if (1..=15).contains(&d.digits) => {
            let places = d.point.map_or(0, |p| digits.len() - p - 1);
            Some(d.value(places, negative))
        }
        _ => text.parse().ok(),
    }
}

/// Digits with at most one point and nothing else (no sign, no exponent): what both
/// readers above take their fast paths on.
struct PlainDecimal {
    /// The digits as one integer, the point skipped; exact while `digits <= 18`.
    mantissa: u64,
    digits: usize,
    /// Where the point is, if there is one.
    point: Option<usize>,
}

impl PlainDecimal {
    #[inline(always)]
    fn read(bytes: &[u8]) -> Option<PlainDecimal> {
        let mut d = PlainDecimal {
            mantissa: 0,
            digits: 0,
            point: None,
        };
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'0'..=b'9' => {
                    if d.digits < 18 {
                        d.mantissa = d.mantissa * 10 + u64::from(b - b'0');
                    }
                    d.digits += 1;
                }
                b'.' if d.point.is_none() => d.point = Some(i),
                _ => return None,
            }
        }
        Some(d)
    }

    /// The [`Scalar`] of the decimal, `fraction` being its digits after the point: the
    /// rules both readers ([`Scalar::of`], [`read_plain_number`]) type numbers by. An
    /// integer (of at most 18 digits) is an `Int`, or `NegativeZero` for `-0`; a
    /// decimal is a `Float` if it has at most 15 digits and a fraction of `0` or ending
    /// in another digit, else an `OtherFloat`.
    #[inline(always)]
    fn scalar(&self, negative: bool, fraction: &[u8]) -> Scalar {
        if self.point.is_none() {
            return match (negative, self.mantissa as i64) {
                (true, 0) => Scalar::NegativeZero,
                (true, v) => Scalar::Int(-v),
                (false, v) => Scalar::Int(v),
            };
        }
        // Without short circuits: these depend on the value, a branch each would be
        // mispredicted often.
        let ends_well = (fraction.len() == 1) | fraction.last().is_some_and(|&b| b != b'0');
        if (self.digits > 15) | !ends_well {
            return Scalar::OtherFloat;
        }
        Scalar::Float(self.value(fraction.len(), negative))
    }

    /// The value with `places` digits after the point, on Clinger's fast path: for at
    /// most 15 digits the mantissa and the power of ten are both exact in an `f64`, so
    /// one correctly rounded division gives the correctly rounded result.
    #[inline(always)]
    fn value(&self, places: usize, negative: bool) -> f64 {
        let value = self.mantissa as f64 / EXACT_POWERS_OF_TEN[places];
        if negative { -value } else { value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of a decimal a raw batch keeps as a float.
    fn kept_float(text: &str) -> Option<f64> {
        match Scalar::of(text) {
            Scalar::Float(value) => Some(value),
            _ => None,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// Every JSON number is typed as inference types it (an integer that fits an
        /// `i64`, else a float), and every value kept reads as `str::parse` reads the
        /// text and writes back as the text itself.
        #[test]
        fn numbers_read_in_one_pass_as_parsing_reads_them(
            text in "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,17})?([eE][+-]?[0-9]{1,3})?",
        ) {
            let integral = !text.contains(['.', 'e', 'E']);
            let parsed = text.parse::<i64>().ok();
            match Scalar::of(&text) {
                Scalar::Int(value) => {
                    proptest::prop_assert!(integral && text != "-0", "{:?}", text);
                    proptest::prop_assert_eq!(Some(value), parsed);
                }
                Scalar::NegativeZero => proptest::prop_assert_eq!(text.as_str(), "-0"),
                Scalar::Float(value) => {
                    proptest::prop_assert!(!integral);
                    proptest::prop_assert_eq!(Some(value.to_bits()), text.parse::<f64>().ok().map(f64::to_bits));
                    proptest::prop_assert_eq!(FloatText(value).to_string(), text.clone());
                }
                Scalar::OtherFloat => proptest::prop_assert!(!integral, "{:?}", text),
                Scalar::BigInt => proptest::prop_assert!(integral && parsed.is_none(), "{:?}", text),
                other => proptest::prop_assert!(false, "{:?} read as {:?}", text, other),
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]
        /// The fast path reads every number exactly as `str::parse` does.
        #[test]
        fn floats_parse_as_std_does(
            text in "-?[0-9]{0,18}(\\.[0-9]{0,18})?([eE][+-]?[0-9]{1,3})?|-?[0-9.]{0,6}|[0-9]{1,3}[a-z ][0-9]|[1-9][0-9]{13,17}\\.[0-9]{1,4}",
            value in proptest::num::f64::ANY,
        ) {
            proptest::prop_assert_eq!(
                parse_f64(&text).map(f64::to_bits),
                text.parse::<f64>().ok().map(f64::to_bits),
                "{:?}", text
            );
            let shown = value.to_string();
            proptest::prop_assert_eq!(
                parse_f64(&shown).map(f64::to_bits),
                shown.parse::<f64>().ok().map(f64::to_bits)
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]
        /// A decimal a raw batch keeps as a float is written back as its exact text, and
        /// read as `str::parse` reads it; the usual spellings of sensor values are kept.
        #[test]
        fn kept_floats_write_back_as_their_text(
            text in "-?(0|[1-9][0-9]{0,16})\\.[0-9]{1,16}|-?[1-9][0-9]{0,5}\\.[0-9]{1,3}",
        ) {
            if let Some(value) = kept_float(&text) {
                proptest::prop_assert_eq!(FloatText(value).to_string(), text.clone());
                proptest::prop_assert_eq!(Some(value.to_bits()), text.parse::<f64>().ok().map(f64::to_bits));
            }
            let short = text.len() <= 16 && !text.ends_with('0');
            proptest::prop_assert!(kept_float(&text).is_some() || !short, "{:?}", text);
        }
    }

    #[test]
    fn scalars_and_the_numbers_kept_as_values() {
        assert_eq!(Scalar::of("null"), Scalar::Null);
        assert_eq!(Scalar::of("false"), Scalar::Bool(false));
        assert_eq!(Scalar::of("\"12\""), Scalar::PlainString);
        assert_eq!(Scalar::of("\"1\\u0032\""), Scalar::Text);
        assert_eq!(Scalar::of("[1]"), Scalar::Text);
        assert_eq!(Scalar::of("-12"), Scalar::Int(-12));
        assert_eq!(Scalar::of("-0"), Scalar::NegativeZero);
        assert_eq!(Scalar::of("-9223372036854775808"), Scalar::Int(i64::MIN));
        assert_eq!(Scalar::of("9223372036854775808"), Scalar::BigInt);
        assert_eq!(Scalar::of("-9223372036854775809"), Scalar::BigInt);
        assert_eq!(Scalar::of("NaN"), Scalar::NonFinite);
        assert_eq!(Scalar::of("-Infinity"), Scalar::NonFinite);
        assert_eq!(Scalar::of("1.5e3"), Scalar::OtherFloat);
    }

    #[test]
    fn integers_an_f64_holds_exactly() {
        for (value, exact) in [
            (0, true),
            (1 << 53, true),
            ((1 << 53) + 1, false),
            (-(1 << 53) - 1, false),
            (1 << 60, true),
            (i64::MIN, true),
            (i64::MAX, false),
        ] {
            assert_eq!(exact_in_f64(value), exact, "{value}");
            let text = value.to_string();
            assert_eq!(exact_integer_f64(&text).is_some(), exact, "{text}");
        }
        assert_eq!(
            exact_integer_f64("-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(
            exact_integer_f64("9223372036854775808"),
            Some(9_223_372_036_854_775_808_f64)
        );
        assert_eq!(exact_integer_f64("9223372036854775809"), None);
        assert!(is_integer_text("-12") && !is_integer_text("1.0") && !is_integer_text("1e3"));
    }

    proptest::proptest! {
        /// Both exactness tests agree with a round trip through `i128`.
        #[test]
        fn exactness_is_a_round_trip(value in proptest::num::i64::ANY) {
            let round_trip = value as f64 as i128 == i128::from(value);
            proptest::prop_assert_eq!(exact_in_f64(value), round_trip);
            proptest::prop_assert_eq!(exact_integer_f64(&value.to_string()).is_some(), round_trip);
        }
    }

    #[test]
    fn kept_floats_and_the_spellings_that_become_text() {
        for kept in ["21503.0", "-0.25", "0.001", "-0.0", "330.0", "117.765772"] {
            assert_eq!(
                kept_float(kept).map(|v| FloatText(v).to_string()),
                Some(kept.to_string())
            );
        }
        for text in ["1.50", "1e3", "1.5E2", "12", "1234567890123456.5", "0.10"] {
            assert_eq!(kept_float(text), None, "{text}");
        }
    }
}
