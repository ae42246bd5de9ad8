//! JavaScript's `Number(string)` and `String(number)`, for path ids.
//!
//! The NestJS original turns the `:id` path parameter into a number with `Number(value)`, then
//! rejects `NaN` and `±Infinity`, and names the number in its 404 message with JavaScript's
//! number-to-string conversion. Matching both keeps every URL meaning what it meant:
//! `/posts/01`, `/posts/+1`, `/posts/1e0` and `/posts/0x1` are post 1; `/posts/1e21` is
//! "Post with id 1e+21 not found".

/// `Number(s)` for a string: `None` where JavaScript gives `NaN`.
///
/// Follows ECMAScript's StringToNumber: surrounding white space and line terminators are
/// trimmed; an empty string is 0; `0x`, `0o` and `0b` prefixes (unsigned) select base 16, 8
/// and 2; otherwise an optionally signed decimal literal (`1`, `1.`, `.5`, `1e-7`) or
/// `Infinity`. Numeric separators (`1_000`) and anything else are `NaN`.
pub fn js_number(s: &str) -> Option<f64> {
    let s = s.trim_matches(is_js_whitespace);
    if s.is_empty() {
        return Some(0.0);
    }
    let bytes = s.as_bytes();
    if bytes.len() > 2 && bytes[0] == b'0' {
        let radix = match bytes[1] {
            b'x' | b'X' => Some(16),
            b'o' | b'O' => Some(8),
            b'b' | b'B' => Some(2),
            _ => None,
        };
        if let Some(radix) = radix {
            return parse_radix(&s[2..], radix);
        }
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned == "Infinity" {
        return Some(if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if !is_decimal_literal(unsigned) {
        return None;
    }
    // The grammar is checked above, so Rust's parser (correctly rounded, like JavaScript's)
    // sees only what JavaScript accepts.
    s.parse::<f64>().ok()
}

/// `String(n)` for a number: the shortest digits that round-trip, in JavaScript's layout
/// (`1e+21`, `1e-7`, `0.000001`, `-1.5`; `-0` prints as `0`).
pub fn js_to_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n == 0.0 {
        return "0".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if n < 0.0 {
        return format!("-{}", js_to_string(-n));
    }
    // `{:e}` gives the shortest round-trip digits: "1.5e0", "1e21", "1.2345e-7".
    let sci = format!("{n:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    // n = 0.digits × 10^point
    let point = exponent.parse::<i64>().unwrap_or(0) + 1;
    let zeros = |count: i64| "0".repeat(usize::try_from(count).unwrap_or(0));
    if k <= point && point <= 21 {
        format!("{digits}{}", zeros(point - k))
    } else if 0 < point && point <= 21 {
        let (int, frac) = digits.split_at(usize::try_from(point).unwrap_or(0));
        format!("{int}.{frac}")
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", zeros(-point))
    } else {
        let e = point - 1;
        let sign = if e >= 0 { '+' } else { '-' };
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        format!("{first}{dot}{rest}e{sign}{}", e.abs())
    }
}

/// ECMAScript's WhiteSpace and LineTerminator code points.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{D}'
            | ' '
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
            | '\u{FEFF}'
    )
}

/// `digits [. digits] [e [+-] digits]` with at least one digit before the exponent.
fn is_decimal_literal(s: &str) -> bool {
    let (significand, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = significand.split_once('.').unwrap_or((significand, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let significand_ok =
        all_digits(int) && all_digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && all_digits(e)
        }
    };
    significand_ok && exponent_ok
}

/// The exact value of unsigned `digits` in `radix`, rounded once to the nearest `f64`.
fn parse_radix(digits: &str, radix: u32) -> Option<f64> {
    let bits_per_digit = radix.trailing_zeros();
    let mut top: u64 = 0; // the first 64 significant bits
    let mut top_bits = 0u32;
    let mut dropped_bits: i32 = 0; // bits below `top`
    let mut sticky = false; // any dropped bit set
    for c in digits.chars() {
        let d = u64::from(c.to_digit(radix)?);
        for shift in (0..bits_per_digit).rev() {
            let bit = (d >> shift) & 1;
            if top_bits == 0 && bit == 0 {
                continue; // leading zero
            }
            if top_bits < 64 {
                top = (top << 1) | bit;
                top_bits += 1;
            } else {
                sticky |= bit == 1;
                dropped_bits = dropped_bits.saturating_add(1);
            }
        }
    }
    // Folding the dropped bits into the lowest bit keeps round-to-nearest-even exact: the
    // rounding position of an f64 (53 bits) lies far above bit 0 of a 64-bit value.
    let value = (top | u64::from(sticky)) as f64;
    Some(value * 2f64.powi(dropped_bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_convert_like_javascript_number() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1", Some(1.0)),
            ("01", Some(1.0)),
            ("+1", Some(1.0)),
            ("-1", Some(-1.0)),
            ("1e0", Some(1.0)),
            ("1E0", Some(1.0)),
            ("1.", Some(1.0)),
            (".5", Some(0.5)),
            ("+.5", Some(0.5)),
            ("1.5", Some(1.5)),
            ("1e-7", Some(1e-7)),
            ("1e+2", Some(100.0)),
            ("0x1", Some(1.0)),
            ("0X1f", Some(31.0)),
            ("0b101", Some(5.0)),
            ("0o17", Some(15.0)),
            (" 1 ", Some(1.0)),
            ("\t\n1\u{A0}\u{FEFF}", Some(1.0)),
            ("", Some(0.0)),
            ("   ", Some(0.0)),
            ("-0", Some(-0.0)),
            ("Infinity", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("+Infinity", Some(f64::INFINITY)),
            ("1e400", Some(f64::INFINITY)),
            ("99999999999", Some(99_999_999_999.0)),
            ("0x10000000000000001", Some(18_446_744_073_709_551_616.0)),
            ("abc", None),
            ("NaN", None),
            ("infinity", None),
            ("inf", None),
            ("1_000", None),
            ("1e", None),
            ("e5", None),
            (".", None),
            ("+", None),
            ("0x", None),
            ("-0x1", None),
            ("+0x1", None),
            ("0b2", None),
            ("0o8", None),
            ("0xg", None),
            ("1 2", None),
            ("1,5", None),
            ("１", None), // a full-width digit
            ("1.5.1", None),
            ("--1", None),
        ];
        for (input, expected) in cases {
            let got = js_number(input);
            match (got, expected) {
                (Some(g), Some(e)) => assert!(
                    g == *e && g.is_sign_negative() == e.is_sign_negative(),
                    "Number({input:?}): got {g}, JavaScript gives {e}"
                ),
                (None, None) => {}
                _ => panic!("Number({input:?}): got {got:?}, JavaScript gives {expected:?}"),
            }
        }
    }

    #[test]
    fn long_hex_literals_round_once_to_nearest_even() {
        // 2^53 + 1 is halfway between two doubles and rounds to even (2^53) ...
        assert_eq!(js_number("0x20000000000001"), Some(9_007_199_254_740_992.0));
        // ... but any set bit below the halfway point rounds up.
        assert_eq!(
            js_number("0x200000000000010000000000000001"),
            Some((9_007_199_254_740_994.0_f64) * 2f64.powi(64))
        );
        let huge = format!("0x{}", "f".repeat(300));
        assert_eq!(js_number(&huge), Some(f64::INFINITY));
    }

    #[test]
    fn numbers_print_like_javascript_string() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (-1.0, "-1"),
            (0.0, "0"),
            (-0.0, "0"),
            (1.5, "1.5"),
            (0.5, "0.5"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (123_456.789, "123456.789"),
            (99_999_999_999.0, "99999999999"),
            (2_147_483_648.0, "2147483648"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.25e21, "1.25e+21"),
            (12_345_678_901_234_567_890.0, "12345678901234567000"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
        ];
        for (n, expected) in cases {
            assert_eq!(js_to_string(*n), *expected, "String({n:?})");
        }
    }
}
