//! A position in an ordered list: the one cursor of every connection, top-level or nested.
//!
//! It is a plain serde value, `{"o": order, "i": id, "k": sort key}`; the GraphQL door turns
//! it into opaque text (JSON, then base64url), as async-graphql's `OpaqueCursor` does.

use std::sync::Arc;

use sea_orm::DbBackend;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::store::listing_filter::{Sort, SortBy};

/// A position in an ordered list. It names its order, so a cursor is never read as a
/// position in another order (where it would silently point elsewhere, or nowhere).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// The order it was made under: [`Sort::cursor_tag`].
    #[serde(rename = "o")]
    pub order: Arc<str>,
    /// The row's id (the tie-breaker of every order).
    #[serde(rename = "i")]
    pub id: i64,
    /// The row's sort key, for orders other than by id (`null` for id order, and for a
    /// listing without the value a path order sorts by).
    #[serde(rename = "k", default, skip_serializing_if = "Value::is_null")]
    pub key: Value,
}

impl Cursor {
    /// Checks that this cursor, given as `field` (`after`/`before`), is a position in
    /// `sort`: made under that order, with a sort key of the order's type.
    pub fn check(&self, field: &str, sort: &Sort) -> Result<(), Error> {
        if *self.order != sort.cursor_tag() {
            let made_under = Sort::from_cursor_tag(&self.order)
                .map_or_else(|| "another order".to_owned(), |s| s.describe());
            return Err(Error::invalid(
                field,
                format!(
                    "is a cursor of another order: it was made under {made_under}, and this \
                     page is ordered by {}. A cursor is a position in one order; pass the same \
                     `orderBy` as the page it came from, or start again without `{field}`",
                    sort.describe()
                ),
            ));
        }
        match (&self.key, &sort.by) {
            // No key: the position is the id alone; a path order sorts missing values last.
            (Value::Null, SortBy::Id | SortBy::Path(_)) => Ok(()),
            (key, _) => sort
                .key_value(DbBackend::Sqlite, key)
                .map(drop)
                .map_err(|why| {
                    Error::invalid(
                        field,
                        format!("is not a cursor of {}: {why}", sort.describe()),
                    )
                }),
        }
    }
}
