//! Listing columns read straight from a PostgreSQL row.
//!
//! A page of 1,000 listings is 9,000 to 20,000 column values. Read through SeaORM, each is a
//! type check against the column's type (which the page statement fixes), an error mapping,
//! and for a timestamp chrono date arithmetic from PostgreSQL's epoch. Here each value is
//! decoded by sqlx's own decoder for its type, and a binary timestamp is one addition.

use chrono::{DateTime, Utc};
use sea_orm::sqlx::error::BoxDynError;
use sea_orm::sqlx::postgres::{PgRow, PgValueFormat, PgValueRef, Postgres};
use sea_orm::sqlx::types::Json;
use sea_orm::sqlx::{Decode, Row as _, ValueRef as _};
use sea_orm::{ActiveEnum as _, DbErr};

use crate::domain::conflicts::Resolution;

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A column type of a listing row.
pub trait PgColumn: Sized {
    /// Decodes a non-null value.
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError>;

    /// Decodes a value that may be null (only `Option`s accept null).
    fn decode_nullable(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Err("unexpected null".into());
        }
        Self::decode(value)
    }
}

/// Column `index` of `row`.
pub fn column<T: PgColumn>(row: &PgRow, index: usize) -> Result<T, DbErr> {
    let value = row
        .try_get_raw(index)
        .map_err(|err| DbErr::Type(err.to_string()))?;
    T::decode_nullable(value).map_err(|err| DbErr::Type(format!("column {index}: {err}")))
}

/// Types sqlx decodes without more work.
macro_rules! by_sqlx {
    ($($ty:ty),+) => {
        $(impl PgColumn for $ty {
            fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
                <$ty as Decode<Postgres>>::decode(value)
            }
        })+
    };
}

by_sqlx!(i64, bool, String);

impl<T: PgColumn> PgColumn for Option<T> {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        T::decode(value).map(Some)
    }

    fn decode_nullable(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Ok(None);
        }
        T::decode(value).map(Some)
    }
}

impl PgColumn for serde_json::Value {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        <Json<serde_json::Value> as Decode<Postgres>>::decode(value).map(|json| json.0)
    }
}

impl PgColumn for DateTime<Utc> {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        if value.format() == PgValueFormat::Binary {
            let bytes: [u8; 8] = value.as_bytes()?.try_into()?;
            let micros = i64::from_be_bytes(bytes);
            return micros
                .checked_add(PG_EPOCH_MICROS)
                .and_then(DateTime::from_timestamp_micros)
                .ok_or_else(|| format!("timestamp out of range: {micros}").into());
        }
        <DateTime<Utc> as Decode<Postgres>>::decode(value)
    }
}

impl PgColumn for Resolution {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<Postgres>>::decode(value)?;
        Ok(Resolution::try_from_value(&text)?)
    }
}
