//! Numbers in listing JSON, kept exactly as sent.
//!
//! serde_json keeps every number's text (its `arbitrary_precision` feature), so an integer such
//! as `1500000000000000001` or a decimal such as `0.10` is stored and served as it came.
//! Before a listing is stored its numbers are checked and brought to the form both databases
//! keep:
//! - PostgreSQL's `jsonb` keeps a number's value exactly but writes it without an exponent
//!   (`1.5e3` comes back as `1500`, `-0` as `0`); serde_json itself keeps an exponent's text
//!   only up to its spelling (`1E3` reads as `1e+3`). The same spelling is stored on SQLite, so a
//!   listing reads back the same on both databases: such numbers are rewritten that way before
//!   they are stored (their value, and the content hash, are unchanged).
//! - A number must lie within the range of a double (magnitude at most about 1.8e308, and not
//!   so close to zero that a double reads it as 0: `1e400` and `1e-400` are refused), and
//!   written out without an exponent it may have at most [`MAX_DIGITS`] characters. Every
//!   JSON reader can then read what the API serves, and PostgreSQL can store it.

use serde_json::{Number, Value};

use crate::hashing::Decimal;

/// The longest a number may be, written out without an exponent (a double's range needs at
/// most 343 characters).
pub const MAX_DIGITS: usize = 500;

/// Checks the numbers of `value` and rewrites those with an exponent (or a negative zero) in
/// the plain form PostgreSQL's `jsonb` writes. On a number it refuses, returns the reason,
/// naming the number's path inside `value`.
pub fn store_exactly(value: &mut Value) -> Result<(), String> {
    walk(value, &mut String::new())
}

fn walk(value: &mut Value, path: &mut String) -> Result<(), String> {
    match value {
        Value::Number(number) => {
            if let Some(stored) = stored_form(number.as_str()).map_err(|reason| {
                let at = if path.is_empty() { "." } else { path.as_str() };
                format!("holds a number {reason} at `{at}`")
            })? && let Ok(rewritten) = stored.parse::<Number>()
            {
                *number = rewritten;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The form a number's `text` is stored in: `None` when it is stored as sent, or the plain
/// text PostgreSQL's `jsonb` would write. `Err` says why the number is refused.
pub fn stored_form(text: &str) -> Result<Option<String>, String> {
    let exponent_at = text.find(['e', 'E']);
    let negative_zero = text.starts_with('-') && text[1..].bytes().all(|b| b == b'0' || b == b'.');
    // Short numbers without an exponent are always in range: the common case stays cheap.
    if text.len() <= 15 && exponent_at.is_none() && !negative_zero {
        return Ok(None);
    }
    let shown: String = text.chars().take(40).collect();
    let shown = if shown.len() < text.len() {
        format!("{shown}…")
    } else {
        shown
    };
    let value = Decimal::parse(text);
    if !value.digits.is_empty() {
        match text.parse::<f64>() {
            Ok(double) if double.is_infinite() => {
                return Err(format!(
                    "beyond the range of a double ({shown}; the largest is about 1.8e308)"
                ));
            }
            Ok(0.0) => {
                return Err(format!(
                    "too close to zero for a double ({shown}; the smallest is about 5e-324)"
                ));
            }
            _ => {}
        }
    }
    // PostgreSQL's numeric: the digits after the point are those written, less the exponent.
    let mantissa = &text[..exponent_at.unwrap_or(text.len())];
    let fraction = mantissa
        .split_once('.')
        .map_or("", |(_, fraction)| fraction);
    let exponent: i64 = match exponent_at {
        Some(at) => text[at + 1..]
            .trim_start_matches('+')
            .parse()
            .unwrap_or(i64::MAX / 2),
        None => 0,
    };
    let scale = (fraction.len() as i64).saturating_sub(exponent).max(0);
    let whole_len = (value.digits.len() as i64 + value.exponent).max(1);
    if whole_len.saturating_add(scale) > MAX_DIGITS as i64 {
        return Err(format!(
            "with more than {MAX_DIGITS} digits written out ({shown})"
        ));
    }
    if exponent_at.is_none() && !negative_zero {
        return Ok(None);
    }
    // The exact value, padded with zeros to `scale` digits after the point.
    let plain = value.plain();
    let (int_part, frac_part) = plain.split_once('.').unwrap_or((plain.as_str(), ""));
    let mut stored = String::from(int_part);
    if scale > 0 {
        stored.push('.');
        stored.push_str(frac_part);
        let padding = (scale as usize).saturating_sub(frac_part.len());
        stored.extend(std::iter::repeat_n('0', padding));
    }
    Ok(Some(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(text: &str) -> String {
        stored_form(text)
            .unwrap()
            .unwrap_or_else(|| text.to_owned())
    }

    #[test]
    fn numbers_are_stored_as_postgresql_writes_them() {
        // The outputs of PostgreSQL 16 for `'[…]'::jsonb::text`.
        for (sent, kept) in [
            ("1.5e3", "1500"),
            ("1.50e3", "1500"),
            ("1E2", "100"),
            ("1e-7", "0.0000001"),
            ("1.2e-3", "0.0012"),
            ("100e-2", "1.00"),
            ("0.0e5", "0"),
            ("-0", "0"),
            ("-0.0", "0.0"),
            ("-0.00e1", "0.0"),
            ("2.50", "2.50"),
            ("1e21", "1000000000000000000000"),
            ("1.25e+1", "12.5"),
            ("0.1", "0.1"),
            ("1500000000000000001", "1500000000000000001"),
            (
                "1000000000000000000000000000000",
                "1000000000000000000000000000000",
            ),
            ("12e-1", "1.2"),
            ("-1.5e3", "-1500"),
            ("-0.5", "-0.5"),
        ] {
            assert_eq!(stored(sent), kept, "{sent}");
        }
    }

    #[test]
    fn numbers_beyond_a_double_are_refused() {
        assert!(
            stored_form("1e400")
                .unwrap_err()
                .contains("beyond the range")
        );
        assert!(
            stored_form("-1e309")
                .unwrap_err()
                .contains("beyond the range")
        );
        assert!(
            stored_form("1e-400")
                .unwrap_err()
                .contains("too close to zero")
        );
        assert!(
            stored_form("0e-99999")
                .unwrap_err()
                .contains("more than 500")
        );
        assert!(stored_form(&format!("0.{}", "1".repeat(600))).is_err());
        assert_eq!(stored_form("1e308").unwrap().unwrap().len(), 309);
        assert!(stored_form("0e5").unwrap().is_some());
        let mut value: Value = serde_json::from_str(r#"{"a":[1,{"b":1e400}]}"#).unwrap();
        assert_eq!(
            store_exactly(&mut value).unwrap_err(),
            "holds a number beyond the range of a double (1e+400; the largest is about 1.8e308) at `a[1].b`"
        );
    }
}
