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

/// What the name of every stored key column starts with ([`JsonPath::key_column`]).
pub(crate) const KEY_COLUMN_PREFIX: &str = "sm_key:";

/// A checked path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JsonPath {
    segments: Vec<String>,
    /// PostgreSQL: the listing table being read has the path's sort key in a stored column
    /// ([`JsonPath::key_column`]), which the SQL reads instead of the listing JSON
    /// ([`crate::store::key_columns`]).
    stored: bool,
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
            Ok(Self {
                segments,
                stored: false,
            })
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

    /// An object that holds only `value` at this path (`{}` for none), nested as in a
    /// listing, so that [`JsonPath::get`] reads `value` back from it (an index segment
    /// becomes an object key, which `get` reads too).
    pub fn holding(&self, value: Option<Value>) -> Value {
        let Some(value) = value else {
            return Value::Object(Default::default());
        };
        self.segments.iter().rev().fold(value, |inner, segment| {
            let mut object = serde_json::Map::new();
            object.insert(segment.clone(), inner);
            Value::Object(object)
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

    /// SQL text of [`JsonPath::sort_key_sql`]. On SQLite also the key of an indexed path's
    /// index ([`crate::store::path_index`]), which must be the same expression. On
    /// PostgreSQL the stored key column when the table being read has one (it holds the same
    /// value, and an indexed path's index is on it), else [`JsonPath::key_expression`].
    pub fn sort_key_text(&self, backend: DbBackend) -> String {
        match backend {
            DbBackend::Postgres if self.stored => format!("\"{}\"", self.key_column()),
            DbBackend::Postgres => self.key_expression(),
            _ => self.sql_text(backend),
        }
    }

    /// PostgreSQL: the sort key computed from the listing JSON, `NULLIF(data #> '{a,b}',
    /// 'null')`, also what a stored key column is generated as.
    pub(crate) fn key_expression(&self) -> String {
        format!(
            "NULLIF(\"data\" #> {}, 'null'::jsonb)",
            self.literal(DbBackend::Postgres)
        )
    }

    /// PostgreSQL: the name of the stored column that holds this path's sort key
    /// (`sm_key:address.city`) in a listing table where the path is indexed.
    pub(crate) fn key_column(&self) -> String {
        format!("{KEY_COLUMN_PREFIX}{}", self.as_str())
    }

    /// The path, marked as having a stored key column in the table about to be read.
    pub(crate) fn with_stored_key(mut self) -> Self {
        self.stored = true;
        self
    }

    /// The JSON type of the sort key, for conditions that also compare the key: the type
    /// of the stored key column when there is one (the same as the path's, a JSON `null`
    /// aside, which reads as SQL NULL there and matches no kind), else [`JsonPath::sql_type`].
    pub fn key_type(&self, backend: DbBackend) -> String {
        match backend {
            DbBackend::Postgres if self.stored => {
                format!("jsonb_typeof({})", self.sort_key_text(backend))
            }
            _ => self.sql_type(backend),
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

    /// SQLite: SQL for a JSON object that holds only the value at this path, nested as in
    /// the listing (`{"address": {"city": …}}`), or `{}` when the listing lacks it: what a
    /// page that sorts by this path selects instead of the whole listing when the caller does
    /// not read the listing, so [`JsonPath::get`] and [`JsonPath::sql`] read the same key
    /// from it. `None` for a path through an array index, which an object cannot stand in
    /// for. (PostgreSQL pages select the sort key itself, see
    /// [`crate::store::listing_filter::DataStandIn`].)
    pub fn sqlite_projection(&self) -> Option<String> {
        if self
            .segments
            .iter()
            .any(|s| s.chars().all(|c| c.is_ascii_digit()))
        {
            return None;
        }
        let backend = DbBackend::Sqlite;
        let object = self
            .segments
            .iter()
            .rev()
            .fold(self.sql_text(backend), |inner, segment| {
                format!("json_object('{segment}', {inner})")
            });
        Some(format!(
            "CASE WHEN {} IS NULL THEN '{{}}' ELSE {object} END",
            self.sql_type(backend)
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
            city.sqlite_projection().unwrap(),
            "CASE WHEN json_type(\"data\", '$.\"address\".\"city\"') IS NULL THEN '{}' ELSE json_object('address', json_object('city', json_extract(\"data\", '$.\"address\".\"city\"'))) END"
        );
        let image = JsonPath::parse("p", "images.0").unwrap();
        assert_eq!(image.sqlite_projection(), None);
    }

    #[test]
    fn an_object_holding_a_value_gives_it_back_at_the_path() {
        for raw in ["price", "address.city", "images.0", "a.1.b"] {
            let path = JsonPath::parse("p", raw).unwrap();
            for value in [json!(5), json!("x"), json!({"k": [1]}), Value::Null] {
                let held = path.holding(Some(value.clone()));
                assert_eq!(path.get(&held), Some(&value), "{raw}");
            }
            assert_eq!(path.holding(None), json!({}));
            assert_eq!(path.get(&path.holding(None)), None, "{raw}");
        }
        let city = JsonPath::parse("p", "address.city").unwrap();
        assert_eq!(
            city.holding(Some(json!("Lyon"))),
            json!({"address": {"city": "Lyon"}})
        );
    }

    #[test]
    fn a_path_with_a_stored_key_reads_its_column_on_postgresql_only() {
        let city = JsonPath::parse("p", "address.city").unwrap();
        let stored = city.clone().with_stored_key();
        assert_eq!(
            city.sort_key_text(DbBackend::Postgres),
            "NULLIF(\"data\" #> '{address,city}', 'null'::jsonb)"
        );
        assert_eq!(
            city.key_expression(),
            city.sort_key_text(DbBackend::Postgres)
        );
        assert_eq!(
            stored.sort_key_text(DbBackend::Postgres),
            "\"sm_key:address.city\""
        );
        assert_eq!(
            stored.key_type(DbBackend::Postgres),
            "jsonb_typeof(\"sm_key:address.city\")"
        );
        assert_eq!(
            city.key_type(DbBackend::Postgres),
            city.sql_type(DbBackend::Postgres)
        );
        // SQLite has no stored key columns: the same SQL either way.
        let sqlite = DbBackend::Sqlite;
        assert_eq!(stored.sort_key_text(sqlite), city.sort_key_text(sqlite));
        assert_eq!(stored.key_type(sqlite), city.key_type(sqlite));
        // What the path reads apart from the key is the listing JSON still.
        assert_eq!(
            stored.sql_text(DbBackend::Postgres),
            city.sql_text(DbBackend::Postgres)
        );
        assert_eq!(stored.as_str(), city.as_str());
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
