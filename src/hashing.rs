//! Content hashes: SHA-256 (hex) of a listing's canonical JSON, so key order, whitespace and
//! number spelling never change a hash and a scraper can compute it too.
//!
//! The canonical form is RFC 8785 (JCS) with one difference, for numbers RFC 8785 would
//! change. RFC 8785 writes a number as the shortest text that reads back as the same IEEE 754
//! double, so every integer beyond 2^53 that a double cannot hold collides with its
//! neighbours (`1500000000000000001` and `…002` are both `1500000000000000000`). Here a
//! number is written as RFC 8785 writes it when that text has exactly the number's value
//! (every integer up to 2^53, every decimal of up to 15 significant digits: all the numbers
//! of ordinary listings, whose hashes are unchanged); otherwise it is written exactly, as a
//! plain decimal: `-` for negatives, no exponent, no leading zeros, no trailing zeros after
//! the point (`1500000000000000001`, `18446744073709551616`, `0.10000000000000000001`).
//! Two different numbers never share a canonical text.
//!
//! This file is also compiled into the migration crate (see its `hashing` module), which
//! rehashes the stored rows the canonical form changed: it depends on nothing of this crate.

use sha2::{Digest, Sha256};

/// The content hash of `value`.
pub fn content_hash(value: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(canonical_json(value)))
}

/// The canonical JSON text of `value` (see the module documentation).
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number.as_str()),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // RFC 8785: properties sorted by the UTF-16 code units of their names.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// A string as RFC 8785 (and ECMAScript's `JSON.stringify`) writes it: `"`, `\` and control
/// characters escaped (`\n`, `\u001f`), everything else as is; serde_json escapes the same.
fn write_string(out: &mut Vec<u8>, text: &str) {
    // Writing a `&str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Writes the JSON number `text` in canonical form.
fn write_number(out: &mut Vec<u8>, text: &str) {
    let exact = Decimal::parse(text);
    if let Ok(double) = text.parse::<f64>()
        && double.is_finite()
    {
        let mut buffer = ryu_js::Buffer::new();
        let rfc8785 = buffer.format_finite(double);
        if Decimal::parse(rfc8785) == exact {
            out.extend_from_slice(rfc8785.as_bytes());
            return;
        }
    }
    out.extend_from_slice(exact.plain().as_bytes());
}

/// The exact value of a JSON number: `digits × 10^exponent`, `digits` without leading or
/// trailing zeros (empty for zero, which has no sign).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    /// Below zero.
    pub(crate) negative: bool,
    /// The significant digits (ASCII), no leading or trailing zeros; empty for zero.
    pub(crate) digits: String,
    /// The power of ten of the last digit.
    pub(crate) exponent: i64,
}

impl Decimal {
    /// Reads a JSON number's text (`-12.50e+3`). Text that is not a JSON number reads as far
    /// as it is one; callers pass numbers serde_json has parsed.
    pub(crate) fn parse(text: &str) -> Self {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].trim_start_matches('+')),
            None => (rest, "0"),
        };
        // An exponent too large for an i64 saturates: such a number is refused as out of range
        // before it is stored (see `numbers`).
        let mut exponent: i64 = exponent.parse().unwrap_or_else(|_| {
            if exponent.starts_with('-') {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            }
        });
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        exponent = exponent.saturating_sub(fraction.len() as i64);
        let mut digits: String = whole.chars().chain(fraction.chars()).collect();
        let trailing = digits.len() - digits.trim_end_matches('0').len();
        digits.truncate(digits.len() - trailing);
        exponent = exponent.saturating_add(trailing as i64);
        let digits = digits.trim_start_matches('0').to_owned();
        if digits.is_empty() {
            return Self {
                negative: false,
                digits,
                exponent: 0,
            };
        }
        Self {
            negative,
            digits,
            exponent,
        }
    }

    /// The plain decimal text of the value: no exponent, no leading zeros, no trailing zeros
    /// after the point (`-12500`, `0.001`, `0`).
    pub(crate) fn plain(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_owned();
        }
        let mut text = String::with_capacity(self.digits.len() + 8);
        if self.negative {
            text.push('-');
        }
        let point = self.digits.len() as i64 + self.exponent;
        if self.exponent >= 0 {
            text.push_str(&self.digits);
            text.extend(std::iter::repeat_n('0', self.exponent as usize));
        } else if point > 0 {
            let (whole, fraction) = self.digits.split_at(point as usize);
            text.push_str(whole);
            text.push('.');
            text.push_str(fraction);
        } else {
            text.push_str("0.");
            text.extend(std::iter::repeat_n('0', (-point) as usize));
            text.push_str(&self.digits);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(text: &str) -> String {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        String::from_utf8(canonical_json(&value)).unwrap()
    }

    #[test]
    fn key_order_and_whitespace_do_not_change_the_hash() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":[1,2,{"y":true,"x":null}]}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str("{ \"a\" : [1, 2, {\"x\": null, \"y\": true}],\n \"b\": 1 }")
                .unwrap();
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(
            content_hash(&a),
            content_hash(&json!({"b": 2, "a": [1, 2, {"x": null, "y": true}]}))
        );
        // SHA-256 of the canonical `{"a":2,"b":1}`.
        assert_eq!(
            content_hash(&json!({"b": 1, "a": 2})),
            hex::encode(Sha256::digest(br#"{"a":2,"b":1}"#))
        );
    }

    #[test]
    fn numbers_are_written_as_rfc_8785_writes_them_when_that_is_exact() {
        for (sent, written) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1.0", "1"),
            ("2.50", "2.5"),
            ("1.5e3", "1500"),
            ("1E2", "100"),
            ("0.1", "0.1"),
            ("1e-7", "1e-7"),
            ("0.000001", "0.000001"),
            ("1e21", "1e+21"),
            ("1e30", "1e+30"),
            ("-1.25e-10", "-1.25e-10"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("9007199254740992", "9007199254740992"),
            ("-9007199254740992", "-9007199254740992"),
            ("100000000000000000000", "100000000000000000000"),
            ("18446744073709552000", "18446744073709552000"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
        ] {
            assert_eq!(canonical(sent), written, "{sent}");
        }
    }

    #[test]
    fn numbers_a_double_would_change_are_written_exactly() {
        for (sent, written) in [
            ("9007199254740993", "9007199254740993"),
            ("1500000000000000001", "1500000000000000001"),
            ("1500000000000000002", "1500000000000000002"),
            ("-1500000000000000001", "-1500000000000000001"),
            ("18446744073709551616", "18446744073709551616"),
            ("1152921504606846976", "1152921504606846976"),
            (
                "1000000000000000000000000000001",
                "1000000000000000000000000000001",
            ),
            (
                "1000000000000000019884624838656",
                "1000000000000000019884624838656",
            ),
            ("1.500000000000000001e18", "1500000000000000001"),
            ("0.10000000000000000001", "0.10000000000000000001"),
            ("12345678901234567.5", "12345678901234567.5"),
        ] {
            assert_eq!(canonical(sent), written, "{sent}");
        }
        assert_ne!(
            content_hash(&serde_json::from_str(r#"{"n":1500000000000000001}"#).unwrap()),
            content_hash(&serde_json::from_str(r#"{"n":1500000000000000002}"#).unwrap())
        );
    }

    #[test]
    fn decimals_read_exactly() {
        let d = Decimal::parse("-012.500e+3");
        assert_eq!(
            d,
            Decimal {
                negative: true,
                digits: "125".into(),
                exponent: 2
            }
        );
        assert_eq!(d.plain(), "-12500");
        assert_eq!(Decimal::parse("0.00123").plain(), "0.00123");
        assert_eq!(Decimal::parse("123.45").plain(), "123.45");
        assert_eq!(Decimal::parse("-0.0e5").plain(), "0");
        assert_eq!(Decimal::parse("1e400").exponent, 400);
    }
}
