//! Dotted paths into a listing's JSON (`price`, `address.city`, `images.0`) and the SQL that
//! reads them on each database: `data #> '{a,b}'` (jsonb) on PostgreSQL,
//! `json_extract(data, '$.a.b')` on SQLite.
//!
//! Segments are restricted to letters, digits, `_` and `-`, so a checked path can be written
//! into SQL text as a literal; values always travel as bound parameters.

use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, SimpleExpr};
use serde_json::Value;

use crate::error::Error;

/// A checked path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JsonPath {
    segments: Vec<String>,
}

impl JsonPath {
    /// Parses `a.b.c`; `field` names the input in errors.
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let segments: Vec<String> = raw.split('.').map(str::to_owned).collect();
        let ok = !raw.is_empty()
            && segments.iter().all(|s| {
                !s.is_empty()
                    && s.len() <= 64
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
            && segments.len() <= 16;
        if ok {
            Ok(Self { segments })
        } else {
            Err(Error::invalid(
                field,
                format!(
                    "`{raw}` is not a path: use keys of letters, digits, `_` or `-`, separated by dots (e.g. `address.city`)"
                ),
            ))
        }
    }

    /// The path as written.
    pub fn as_str(&self) -> String {
        self.segments.join(".")
    }

    /// The value at this path in `value`, if any (array elements by index).
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.segments
            .iter()
            .try_fold(value, |current, segment| match current {
                Value::Object(map) => map.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            })
    }

    /// The SQL literal of the path for `backend`.
    fn literal(&self, backend: DbBackend) -> String {
        match backend {
            DbBackend::Postgres => format!("'{{{}}}'", self.segments.join(",")),
            _ => {
                let mut path = String::from("'$");
                for segment in &self.segments {
                    if segment.chars().all(|c| c.is_ascii_digit()) {
                        path.push_str(&format!("[{segment}]"));
                    } else {
                        path.push_str(&format!(".\"{segment}\""));
                    }
                }
                path.push('\'');
                path
            }
        }
    }

    /// The value at this path in column `data`: jsonb on PostgreSQL, an SQL scalar on SQLite
    /// (objects and arrays as JSON text). NULL when the path is missing.
    pub fn sql(&self, backend: DbBackend) -> SimpleExpr {
        Expr::cust(self.sql_text(backend))
    }

    /// The value at this path as a sort key: as [`JsonPath::sql`], but a JSON `null` is SQL
    /// NULL on PostgreSQL too (SQLite's `json_extract` already reads it so), so a listing
    /// with `null` there sorts with the listings that lack the key, last, on both databases,
    /// and a cursor's `null` key means one thing.
    pub fn sort_key_sql(&self, backend: DbBackend) -> SimpleExpr {
        Expr::cust(self.sort_key_text(backend))
    }

    /// SQL text of [`JsonPath::sort_key_sql`]: also the key of an indexed path's index
    /// ([`crate::store::path_index`]), which must be the same expression.
    pub fn sort_key_text(&self, backend: DbBackend) -> String {
        match backend {
            DbBackend::Postgres => {
                format!(
                    "NULLIF(\"data\" #> {}, 'null'::jsonb)",
                    self.literal(backend)
                )
            }
            _ => self.sql_text(backend),
        }
    }

    /// The JSON type at this path (`json_type` on SQLite, `jsonb_typeof` on PostgreSQL).
    pub fn sql_type(&self, backend: DbBackend) -> String {
        match backend {
            DbBackend::Postgres => format!("jsonb_typeof(\"data\" #> {})", self.literal(backend)),
            _ => format!("json_type(\"data\", {})", self.literal(backend)),
        }
    }

    /// SQL text that reads the path, for custom expressions.
    pub fn sql_text(&self, backend: DbBackend) -> String {
        match backend {
            DbBackend::Postgres => format!("(\"data\" #> {})", self.literal(backend)),
            _ => format!("json_extract(\"data\", {})", self.literal(backend)),
        }
    }

    /// SQL for a JSON object that holds only the value at this path, nested as in the
    /// listing (`{"address": {"city": …}}`), or `{}` when the listing lacks it: what a page
    /// that sorts by this path selects instead of the whole listing when the caller does not
    /// read the listing, so [`JsonPath::get`] and [`JsonPath::sql`] read the same key from it.
    /// `None` for a path through an array index, which an object cannot stand in for.
    pub fn projection_sql(&self, backend: DbBackend) -> Option<String> {
        if self
            .segments
            .iter()
            .any(|s| s.chars().all(|c| c.is_ascii_digit()))
        {
            return None;
        }
        let (build, empty, missing) = match backend {
            DbBackend::Postgres => (
                "jsonb_build_object",
                "'{}'::jsonb",
                format!("{} IS NULL", self.sql_text(backend)),
            ),
            _ => (
                "json_object",
                "'{}'",
                format!("{} IS NULL", self.sql_type(backend)),
            ),
        };
        let object = self
            .segments
            .iter()
            .rev()
            .fold(self.sql_text(backend), |inner, segment| {
                format!("{build}('{segment}', {inner})")
            });
        Some(format!(
            "CASE WHEN {missing} THEN {empty} ELSE {object} END"
        ))
    }

    /// SQLite's path literal (for `json_each`).
    pub fn sqlite_literal(&self) -> String {
        self.literal(DbBackend::Sqlite)
    }
}

/// A JSON value as a bound parameter comparable with [`JsonPath::sql`]: jsonb on PostgreSQL,
/// the matching SQL scalar on SQLite (`true` as 1).
pub fn bind(backend: DbBackend, value: &Value) -> sea_orm::Value {
    match backend {
        DbBackend::Postgres => value.clone().into(),
        _ => match value {
            Value::Null => sea_orm::Value::String(None),
            Value::Bool(b) => i64::from(*b).into(),
            Value::Number(n) => match n.as_i64() {
                Some(i) => i.into(),
                None => n.as_f64().unwrap_or_default().into(),
            },
            Value::String(s) => s.clone().into(),
            other => other.to_string().into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_projection_holds_only_the_path_and_none_through_an_array() {
        let city = JsonPath::parse("p", "address.city").unwrap();
        assert_eq!(
            city.projection_sql(DbBackend::Postgres).unwrap(),
            "CASE WHEN (\"data\" #> '{address,city}') IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('address', jsonb_build_object('city', (\"data\" #> '{address,city}'))) END"
        );
        assert_eq!(
            city.projection_sql(DbBackend::Sqlite).unwrap(),
            "CASE WHEN json_type(\"data\", '$.\"address\".\"city\"') IS NULL THEN '{}' ELSE json_object('address', json_object('city', json_extract(\"data\", '$.\"address\".\"city\"'))) END"
        );
        let image = JsonPath::parse("p", "images.0").unwrap();
        assert_eq!(image.projection_sql(DbBackend::Postgres), None);
    }

    #[test]
    fn paths_are_checked_and_read() {
        let path = JsonPath::parse("where.path", "address.city").unwrap();
        assert_eq!(
            path.get(&json!({"address": {"city": "Lyon"}})),
            Some(&json!("Lyon"))
        );
        assert_eq!(path.literal(DbBackend::Postgres), "'{address,city}'");
        assert_eq!(path.literal(DbBackend::Sqlite), "'$.\"address\".\"city\"'");
        let index = JsonPath::parse("p", "images.0").unwrap();
        assert_eq!(index.get(&json!({"images": ["a", "b"]})), Some(&json!("a")));
        assert_eq!(index.literal(DbBackend::Sqlite), "'$.\"images\"[0]'");
        assert!(JsonPath::parse("p", "a'; drop table x").is_err());
        assert!(JsonPath::parse("p", "a..b").is_err());
        assert!(JsonPath::parse("p", "").is_err());
    }
}
