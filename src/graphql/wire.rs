//! The JSON text of a response, with parts written ahead by the list fast path.
//!
//! A page of 1,000 listings is 1,000 objects: built as async-graphql [`Value`]s that is an
//! `IndexMap` and a reference-counted key per field, walked again by
//! [`conform`](super::conform), serialized, then freed. The fast path of
//! [`connection_lists`](super::connection_lists) writes such a list's JSON text at once
//! instead and hands it through async-graphql as one [`Value::Binary`] ([`prewritten`]);
//! [`to_vec`] copies it into the answer as it is. No field of the schema answers binary data,
//! so a `Binary` in a response is always such text. Every answer the server sends (HTTP,
//! WebSocket) is written by [`to_vec`].

use async_graphql::{Response, Value};
use bytes::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};

/// A value whose JSON text is `json`, already written.
pub fn prewritten(json: Vec<u8>) -> Value {
    Value::Binary(Bytes::from(json))
}

/// The JSON text of `response`: `data`, then `extensions` and `errors` when there are any,
/// as async-graphql's own serialization writes them.
pub fn to_vec(response: &Response) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(1024 + prewritten_len(&response.data));
    out.extend_from_slice(b"{\"data\":");
    write_value(&mut out, &response.data)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut out, &response.errors)?;
    }
    out.push(b'}');
    Ok(out)
}

/// The bytes of the text already written inside `value` ([`prewritten`] lists): most of a
/// large answer's text, so the answer's buffer is allocated once instead of being copied
/// as it doubles (some 400 KB of copying for an answer of 10 pages of 100 listings).
fn prewritten_len(value: &Value) -> usize {
    match value {
        Value::Binary(json) => json.len(),
        Value::List(items) => items.iter().map(prewritten_len).sum(),
        Value::Object(fields) => fields.values().map(prewritten_len).sum(),
        _ => 0,
    }
}

/// Appends the JSON text of `value` to `out`.
pub fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), serde_json::Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => serde_json::to_writer(&mut *out, number)?,
        Value::String(text) => write_str(out, text)?,
        Value::Enum(name) => write_str(out, name)?,
        Value::Binary(json) => out.extend_from_slice(json),
        Value::List(items) => {
            write_seq(out, b'[', b']', items, |item, out| write_value(out, item))?
        }
        Value::Object(fields) => write_seq(out, b'{', b'}', fields, |(key, field), out| {
            write_str(out, key)?;
            out.push(b':');
            write_value(out, field)
        })?,
    }
    Ok(())
}

/// Appends `open`, each of `items` written by `write` with commas between them, and
/// `close`: a list's or an object's JSON text.
pub fn write_seq<T>(
    out: &mut Vec<u8>,
    open: u8,
    close: u8,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(T, &mut Vec<u8>) -> Result<(), serde_json::Error>,
) -> Result<(), serde_json::Error> {
    out.push(open);
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write(item, out)?;
    }
    out.push(close);
    Ok(())
}

/// Appends `text` as a JSON string.
pub fn write_str(out: &mut Vec<u8>, text: &str) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, text)
}

/// Appends `at` as a JSON string: the text of async-graphql's `DateTime<Utc>` scalar
/// (chrono's `to_rfc3339`: as many fractional digits as the time needs, 0, 3, 6 or 9, and
/// `+00:00`), written without the formatting machinery: a page writes one or more per row.
pub fn write_rfc3339(out: &mut Vec<u8>, at: &DateTime<Utc>) {
    // The date and time once: `DateTime`'s own accessors add the offset again for each field.
    let naive = at.naive_utc();
    let (date, time) = (naive.date(), naive.time());
    let (year, nanos) = (date.year(), time.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // Signed years and leap seconds, as chrono writes them.
        out.push(b'"');
        out.extend_from_slice(at.to_rfc3339().as_bytes());
        out.push(b'"');
        return;
    }
    let two = |out: &mut Vec<u8>, n: u32| {
        out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8])
    };
    out.push(b'"');
    two(out, year as u32 / 100);
    two(out, year as u32 % 100);
    out.push(b'-');
    two(out, date.month());
    out.push(b'-');
    two(out, date.day());
    out.push(b'T');
    two(out, time.hour());
    out.push(b':');
    two(out, time.minute());
    out.push(b':');
    two(out, time.second());
    let (fraction, digits) = if nanos == 0 {
        (0, 0)
    } else if nanos % 1_000_000 == 0 {
        (nanos / 1_000_000, 3)
    } else if nanos % 1_000 == 0 {
        (nanos / 1_000, 6)
    } else {
        (nanos, 9)
    };
    if digits > 0 {
        out.push(b'.');
        let mut text = [b'0'; 9];
        let mut rest = fraction;
        for digit in text[..digits].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend_from_slice(&text[..digits]);
    }
    out.extend_from_slice(b"+00:00\"");
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, ServerError, Value};
    use serde_json::json;

    use super::{prewritten, to_vec};

    /// Without prewritten parts, the text is async-graphql's own, byte for byte.
    #[test]
    fn writes_what_async_graphql_writes() {
        let data = json!({
            "b": [1, 2.5, "x\"y\n", null, true, false, {"z": []}],
            "a": {"nested": {"é": "ünï"}},
            "n": 12345678901234567890u64,
        });
        let mut response = async_graphql::Response::new(Value::from_json(data).unwrap());
        assert_eq!(
            to_vec(&response).unwrap(),
            serde_json::to_vec(&response).unwrap()
        );
        response.errors.push(ServerError::new("boom", None));
        response.extensions.insert("cost".into(), Value::from(3));
        assert_eq!(
            to_vec(&response).unwrap(),
            serde_json::to_vec(&response).unwrap()
        );
        let enumerated = async_graphql::Response::new(Value::Enum(Name::new("FULL")));
        assert_eq!(to_vec(&enumerated).unwrap(), br#"{"data":"FULL"}"#);
    }

    /// Timestamps are written as async-graphql's `DateTime<Utc>` scalar answers them, at
    /// every precision, for years with and without a sign, and for a leap second.
    #[test]
    fn timestamps_are_written_as_the_date_time_scalar_answers_them() {
        use async_graphql::ScalarType;
        use chrono::{DateTime, NaiveDate, TimeZone, Utc};

        let mut times: Vec<DateTime<Utc>> = Vec::new();
        for (year, month, day) in [(2026, 12, 4), (1, 1, 1), (0, 2, 29), (9999, 12, 31)] {
            for (h, m, sec) in [(0, 0, 0), (9, 5, 7), (23, 59, 59)] {
                for nanos in [
                    0,
                    5_000_000,
                    120_000_000,
                    878_012_000,
                    1_000,
                    7,
                    999_999_999,
                ] {
                    times.push(
                        Utc.from_utc_datetime(
                            &NaiveDate::from_ymd_opt(year, month, day)
                                .unwrap()
                                .and_hms_nano_opt(h, m, sec, nanos)
                                .unwrap(),
                        ),
                    );
                }
            }
        }
        times.push(Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap());
        times.push(Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap());
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        times.push(Utc.from_utc_datetime(&leap));
        times.push(Utc::now());
        for at in times {
            let mut written = Vec::new();
            super::write_rfc3339(&mut written, &at);
            let mut expected = Vec::new();
            super::write_value(&mut expected, &at.to_value()).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }

    #[test]
    fn prewritten_text_is_copied_as_it_is() {
        let mut fields = async_graphql::indexmap::IndexMap::new();
        fields.insert(Name::new("edges"), prewritten(br#"[{"id":"a"}]"#.to_vec()));
        let response = async_graphql::Response::new(Value::Object(fields));
        assert_eq!(
            to_vec(&response).unwrap(),
            br#"{"data":{"edges":[{"id":"a"}]}}"#
        );
    }
}
