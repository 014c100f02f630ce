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
        match backend {
            DbBackend::Postgres => Expr::cust(format!("(\"data\" #> {})", self.literal(backend))),
            _ => Expr::cust(format!("json_extract(\"data\", {})", self.literal(backend))),
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
