//! JSON number text and exact values: reading decimals as `str::parse` does, only
//! faster for the usual ones, and telling which decimals can be written back as the
//! very text they were read from (what lets a spilled batch keep floats typed).

/// The text of a number: the raw number, or a string whose whole content is one.
pub(super) fn number_text(raw: &str) -> Option<&str> {
    let text = match raw.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => raw,
    };
    let first = text.as_bytes().first()?;
    (first.is_ascii_digit() || (*first == b'-' && text.len() > 1)).then_some(text)
}

/// A decimal whose JSON text [`FloatText`] writes back exactly: a plain decimal (no
/// exponent) of at most 15 digits, with a fraction that is `0` or ends in another
/// digit (`21503.0`, `-0.25`, `0.001`; not `1.50`, `1e3`): how Python's `json` writes
/// floats, and how most serializers write fractional ones. At 15 digits or fewer, distinct
/// decimals are distinct `f64`s, so the shortest text that reads back as the value is
/// the decimal itself.
pub(super) fn canonical_float(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    // 15 digits and the point.
    if digits.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut point = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(b - b'0'),
            b'.' if point.is_none() && i > 0 => point = Some(i),
            _ => return None,
        }
    }
    let fraction = &digits[point? + 1..];
    let ends_well = fraction == b"0" || fraction.last().is_some_and(|&b| b != b'0');
    if !ends_well {
        return None;
    }
    // Clinger's fast path, as in `parse_f64`: both exact, one correctly rounded division.
    let value = mantissa as f64 / EXACT_POWERS_OF_TEN[fraction.len()];
    Some(if negative { -value } else { value })
}

/// Writes a value [`canonical_float`] read as the text it was read from: the shortest
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
/// digits (most sensor values) take Clinger's fast path: the digits and the power of
/// ten are both exact in an `f64`, so one correctly rounded division gives the
/// correctly rounded result. Everything else goes to `str::parse`.
pub(super) fn parse_f64(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    let mut mantissa: u64 = 0;
    let mut count = 0usize;
    let mut fraction: Option<usize> = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
            }
            // A point between digits: not first, not last, only one.
            b'.' if fraction.is_none() && i > 0 && i + 1 < digits.len() => {
                fraction = Some(digits.len() - i - 1);
            }
            _ => return text.parse().ok(),
        }
        if count > 15 {
            return text.parse().ok();
        }
    }
    if count == 0 {
        return text.parse().ok();
    }
    let value = mantissa as f64 / EXACT_POWERS_OF_TEN[fraction.unwrap_or(0)];
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            if let Some(value) = canonical_float(&text) {
                proptest::prop_assert_eq!(FloatText(value).to_string(), text.clone());
                proptest::prop_assert_eq!(Some(value.to_bits()), text.parse::<f64>().ok().map(f64::to_bits));
            }
            let short = text.len() <= 16 && !text.ends_with('0');
            proptest::prop_assert!(canonical_float(&text).is_some() || !short, "{:?}", text);
        }
    }

    #[test]
    fn kept_floats_and_the_spellings_that_become_text() {
        for kept in ["21503.0", "-0.25", "0.001", "-0.0", "330.0", "117.765772"] {
            assert_eq!(
                canonical_float(kept).map(|v| FloatText(v).to_string()),
                Some(kept.to_string())
            );
        }
        for text in ["1.50", "1e3", "1.5E2", "12", "1234567890123456.5", "0.10"] {
            assert_eq!(canonical_float(text), None, "{text}");
        }
    }
}
