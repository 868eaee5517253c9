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
    /// A string, array or object.
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
            _ => return Scalar::Text,
        };
        let digits = &bytes[usize::from(negative)..];
        let Some(decimal) = PlainDecimal::read(digits) else {
            return Scalar::OtherFloat;
        };
        let Some(point) = decimal.point else {
            if decimal.digits > 18 {
                // It may still fit an `i64`.
                return raw.parse::<i64>().map_or(Scalar::OtherFloat, Scalar::Int);
            }
            return match (negative, decimal.mantissa as i64) {
                (true, 0) => Scalar::NegativeZero,
                (true, v) => Scalar::Int(-v),
                (false, v) => Scalar::Int(v),
            };
        };
        let fraction = &digits[point + 1..];
        let ends_well = fraction == b"0" || fraction.last().is_some_and(|&b| b != b'0');
        if decimal.digits > 15 || !ends_well {
            return Scalar::OtherFloat;
        }
        Scalar::Float(decimal.value(fraction.len(), negative))
    }

    /// The type inference gives the value.
    pub(super) fn json_type(self) -> JsonType {
        match self {
            Scalar::Null => JsonType::Null,
            Scalar::Bool(_) => JsonType::Bool,
            Scalar::Int(_) | Scalar::NegativeZero => JsonType::Int,
            Scalar::Float(_) | Scalar::OtherFloat => JsonType::Float,
            Scalar::Text => JsonType::Text,
        }
    }
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
                Scalar::OtherFloat => proptest::prop_assert!(!integral || parsed.is_none(), "{:?}", text),
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
        assert_eq!(Scalar::of("\"12\""), Scalar::Text);
        assert_eq!(Scalar::of("[1]"), Scalar::Text);
        assert_eq!(Scalar::of("-12"), Scalar::Int(-12));
        assert_eq!(Scalar::of("-0"), Scalar::NegativeZero);
        assert_eq!(Scalar::of("-9223372036854775808"), Scalar::Int(i64::MIN));
        assert_eq!(Scalar::of("9223372036854775808"), Scalar::OtherFloat);
        assert_eq!(Scalar::of("1.5e3"), Scalar::OtherFloat);
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
