//! Filters and orders for listing connections, turned into SQL conditions that mean the same
//! on SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, SimpleExpr};
use serde_json::Value;

use crate::error::Error;
use crate::store::json_path::{JsonPath, bind};
use crate::store::numbers;

/// How a value at a path is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WhereOp {
    /// Equal (numbers by value, strings exactly, objects structurally on PostgreSQL).
    Eq,
    /// Not equal; a listing without the path counts as not equal.
    Ne,
    /// Less than (numbers with numbers, strings with strings: see `same_kind`).
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Equal to one of `value`, which must be an array.
    In,
    /// An array that contains `value`, or a string that contains the string `value`.
    Contains,
    /// The path exists (`value: true`, the default) or not (`value: false`).
    Exists,
}

/// One condition on a value inside the listing JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonCondition {
    /// Where the value is.
    pub path: JsonPath,
    /// How it is compared.
    pub op: WhereOp,
    /// What it is compared with.
    pub value: Value,
}

impl JsonCondition {
    /// Whether only a listing with a value other than `null` at the path can meet it: an
    /// ordering comparison, or `EQ`/`IN` with values other than `null`. Such a condition may
    /// read the path as pages order by it (a JSON `null` as SQL NULL on PostgreSQL), which an
    /// indexed path's index holds.
    fn rules_out_null(&self) -> bool {
        match self.op {
            WhereOp::Lt | WhereOp::Lte | WhereOp::Gt | WhereOp::Gte => true,
            WhereOp::Eq => !Value::is_null(&self.value),
            WhereOp::In => self
                .value
                .as_array()
                .is_some_and(|items| !items.iter().any(Value::is_null)),
            WhereOp::Ne | WhereOp::Exists | WhereOp::Contains => false,
        }
    }
}

/// Which listings a state filter keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListingStatus {
    /// Listed at the source (source) / present and not removed (target).
    Active,
    /// Removed at the source.
    Removed,
    /// On a target: written by a sync and not edited since.
    Synced,
    /// On a target: edited by hand.
    ModifiedByHand,
    /// On a target: edited by hand and changed at the source since.
    InConflict,
}

/// The filters a listing connection takes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListingFilter {
    /// Only these external ids.
    pub external_ids: Option<Vec<String>>,
    /// Only listings in this state.
    pub status: Option<ListingStatus>,
    /// Only listings changed at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Conditions on the listing JSON, all of which must hold.
    pub conditions: Vec<JsonCondition>,
}

/// Which kind of listing a filter applies to (target listings have more states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListingSide {
    /// `source_properties`.
    Source,
    /// `target_properties`.
    Target,
}

/// Most values the `IN` conditions of one filter compare with, in all: each is a bound value,
/// and the databases cap those per statement (SQLite at 32,766).
pub const MAX_IN_VALUES: usize = 10_000;

/// Conditions ANDed at one level of the SQL expression. SQLite parses `a AND b AND …` into a
/// tree as deep as the chain is long and refuses one past 1,000 levels, so long filters are
/// grouped: `(a AND … ) AND (…)` nests no deeper than a few dozen levels.
const AND_GROUP: usize = 32;

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

impl ListingFilter {
    /// Checks the conditions' values against their operators.
    pub fn validate(&self) -> Result<(), Error> {
        let mut in_values = 0;
        for (i, condition) in self.conditions.iter().enumerate() {
            let field = format!("where[{i}].value");
            // No stored listing holds a number beyond a double (and SQLite could not bind it).
            numbers::store_exactly(&mut condition.value.clone())
                .map_err(|reason| Error::invalid(field.clone(), reason))?;
            if condition.op == WhereOp::In {
                in_values += condition.value.as_array().map_or(0, Vec::len);
            }
            if in_values > MAX_IN_VALUES {
                return Err(Error::invalid(
                    field,
                    format!("IN compares at most {MAX_IN_VALUES} values in all conditions"),
                ));
            }
            match condition.op {
                WhereOp::In if !condition.value.is_array() => {
                    return Err(Error::invalid(field, "IN needs an array of values"));
                }
                WhereOp::Exists
                    if !(Value::is_boolean(&condition.value)
                        || Value::is_null(&condition.value)) =>
                {
                    return Err(Error::invalid(field, "EXISTS takes true, false or nothing"));
                }
                WhereOp::Lt | WhereOp::Lte | WhereOp::Gt | WhereOp::Gte
                    if !(condition.value.is_number() || condition.value.is_string()) =>
                {
                    return Err(Error::invalid(
                        field,
                        "ordering compares numbers or strings",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether every listing this filter keeps has a value other than `null` at `path`: a
    /// condition on it compares with `LT`, `LTE`, `GT`, `GTE`, or with `EQ`/`IN` and values
    /// other than `null` (the conditions all hold together). An order by `path` then needs
    /// no rule for missing values, and either direction can follow an index on it.
    pub fn keeps_only_values_at(&self, path: &JsonPath) -> bool {
        self.conditions
            .iter()
            .any(|condition| condition.path == *path && condition.rules_out_null())
    }

    /// This filter, its paths marked where `stored` says the table to be read has their key
    /// in a column ([`JsonPath::with_stored_key`]).
    pub(crate) fn reading_key_columns(&self, stored: impl Fn(&JsonPath) -> bool) -> Self {
        let mut filter = self.clone();
        for condition in &mut filter.conditions {
            if stored(&condition.path) {
                condition.path = condition.path.clone().with_stored_key();
            }
        }
        filter
    }

    /// The SQL condition of this filter for listings of `side`.
    pub fn condition(&self, backend: DbBackend, side: ListingSide) -> Condition {
        let mut all = Condition::all();
        if let Some(ids) = &self.external_ids {
            all = all.add(col("external_id").is_in(ids.iter().cloned()));
        }
        if let Some(since) = self.updated_since {
            all = all.add(col("updated_at").gte(since));
        }
        if let Some(status) = self.status {
            all = all.add(status_condition(status, side));
        }
        for group in self.conditions.chunks(AND_GROUP) {
            let group = group.iter().fold(Condition::all(), |group, condition| {
                group.add(json_condition(backend, condition))
            });
            all = all.add(group);
        }
        all
    }
}

fn status_condition(status: ListingStatus, side: ListingSide) -> SimpleExpr {
    let not_removed = col("removed_at").is_null();
    match (status, side) {
        (ListingStatus::Active, _) => not_removed,
        (ListingStatus::Removed, _) => col("removed_at").is_not_null(),
        (ListingStatus::Synced, ListingSide::Target) => not_removed
            .and(col("manually_modified").eq(false))
            .and(col("conflict").eq(false)),
        (ListingStatus::ModifiedByHand, ListingSide::Target) => col("manually_modified").eq(true),
        (ListingStatus::InConflict, ListingSide::Target) => col("conflict").eq(true),
        // Source listings are never synced, edited by hand or in conflict.
        (_, ListingSide::Source) => Expr::cust("1 = 0"),
    }
}

/// The `n`th placeholder of a custom expression: sea-query numbers them on PostgreSQL.
fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

fn json_condition(backend: DbBackend, condition: &JsonCondition) -> SimpleExpr {
    let path = &condition.path;
    // See `rules_out_null`: such a condition compares the sort key, so an index finds it.
    let at = if condition.rules_out_null() {
        path.sort_key_sql(backend)
    } else {
        path.sql(backend)
    };
    let value = |v: &Value| bind(backend, v);
    match condition.op {
        WhereOp::Eq => at.eq(value(&condition.value)),
        WhereOp::Ne => {
            let text = path.sql_text(backend);
            let op = if backend == DbBackend::Postgres {
                "IS DISTINCT FROM"
            } else {
                "IS NOT"
            };
            Expr::cust_with_values(
                format!("{text} {op} {}", placeholder(backend, 1)),
                [value(&condition.value)],
            )
        }
        WhereOp::Lt => {
            same_kind(backend, path, &condition.value).and(at.lt(value(&condition.value)))
        }
        WhereOp::Lte => {
            same_kind(backend, path, &condition.value).and(at.lte(value(&condition.value)))
        }
        WhereOp::Gt => {
            same_kind(backend, path, &condition.value).and(at.gt(value(&condition.value)))
        }
        WhereOp::Gte => {
            same_kind(backend, path, &condition.value).and(at.gte(value(&condition.value)))
        }
        WhereOp::In => {
            let values: Vec<sea_orm::Value> = condition
                .value
                .as_array()
                .map(|items| items.iter().map(value).collect())
                .unwrap_or_default();
            at.is_in(values)
        }
        WhereOp::Exists => {
            let wanted = condition.value.as_bool().unwrap_or(true);
            let exists = Expr::cust(format!("{} IS NOT NULL", path.sql_type(backend)));
            if wanted { exists } else { exists.not() }
        }
        WhereOp::Contains => contains(backend, path, &condition.value),
    }
}

/// The value at the path is of the ordering comparison's kind: a number for a number, a string
/// for a string. Without it each database orders mixed kinds its own way (PostgreSQL's jsonb
/// puts `null` and strings below every number, SQLite puts text above), so `price < 500000`
/// would find the listings priced `"on request"` on one and `price > 500000` on the other.
fn same_kind(backend: DbBackend, path: &JsonPath, value: &Value) -> SimpleExpr {
    let kinds = match (backend, value.is_number()) {
        (DbBackend::Postgres, true) => "= 'number'",
        (DbBackend::Postgres, false) => "= 'string'",
        (_, true) => "IN ('integer', 'real')",
        (_, false) => "= 'text'",
    };
    Expr::cust(format!("{} {kinds}", path.key_type(backend)))
}

/// An array at the path that contains the value, or a string that contains the string value.
fn contains(backend: DbBackend, path: &JsonPath, needle: &Value) -> SimpleExpr {
    let kind = path.sql_type(backend);
    let text = path.sql_text(backend);
    match backend {
        DbBackend::Postgres => {
            let element: sea_orm::Value = Value::Array(vec![needle.clone()]).into();
            match needle.as_str() {
                Some(s) => Expr::cust_with_values(
                    format!(
                        "(CASE {kind} WHEN 'array' THEN {text} @> $1 \
                         WHEN 'string' THEN strpos({text} #>> '{{}}', $2) > 0 ELSE false END)"
                    ),
                    [element, s.to_owned().into()],
                ),
                None => Expr::cust_with_values(
                    format!("(CASE {kind} WHEN 'array' THEN {text} @> $1 ELSE false END)"),
                    [element],
                ),
            }
        }
        _ => {
            let each = format!(
                "EXISTS (SELECT 1 FROM json_each(\"data\", {}) WHERE json_each.value = ?)",
                path.sqlite_literal()
            );
            let element = bind(backend, needle);
            match needle.as_str() {
                Some(s) => Expr::cust_with_values(
                    format!(
                        "(CASE {kind} WHEN 'array' THEN {each} WHEN 'text' THEN instr({text}, ?) > 0 ELSE 0 END)"
                    ),
                    [element, s.to_owned().into()],
                ),
                None => Expr::cust_with_values(
                    format!("(CASE {kind} WHEN 'array' THEN {each} ELSE 0 END)"),
                    [element],
                ),
            }
        }
    }
}

/// What a listing connection is ordered by.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortBy {
    /// Insertion order (the default).
    #[default]
    Id,
    /// First seen.
    CreatedAt,
    /// Last changed.
    UpdatedAt,
    /// External id, as text.
    ExternalId,
    /// A value inside the listing JSON; listings without it come last.
    Path(JsonPath),
}

impl SortBy {
    /// The orders by a listing column, in the order [`SortBy::column`] names them.
    const BY_COLUMN: [SortBy; 4] = [
        SortBy::Id,
        SortBy::CreatedAt,
        SortBy::UpdatedAt,
        SortBy::ExternalId,
    ];

    /// The listing column the order is by (`None` for a path of the JSON).
    pub fn column(&self) -> Option<&'static str> {
        match self {
            SortBy::Id => Some("id"),
            SortBy::CreatedAt => Some("created_at"),
            SortBy::UpdatedAt => Some("updated_at"),
            SortBy::ExternalId => Some("external_id"),
            SortBy::Path(_) => None,
        }
    }
}

/// An order: a key and a direction; ties are broken by id in the same direction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sort {
    /// The key.
    pub by: SortBy,
    /// Largest first.
    pub descending: bool,
}

impl Sort {
    /// This order, its path marked when `stored` says the table to be read has its key in a
    /// column ([`JsonPath::with_stored_key`]).
    pub(crate) fn reading_key_columns(&self, stored: impl Fn(&JsonPath) -> bool) -> Self {
        match &self.by {
            SortBy::Path(path) if stored(path) => Self {
                by: SortBy::Path(path.clone().with_stored_key()),
                descending: self.descending,
            },
            _ => self.clone(),
        }
    }

    /// The SQL of the sort key (`None` for id order).
    pub fn key_sql(&self, backend: DbBackend) -> Option<SimpleExpr> {
        match &self.by {
            SortBy::Id => None,
            SortBy::Path(path) => Some(path.sort_key_sql(backend)),
            by => by.column().map(col),
        }
    }

    /// The sort key as a bound value, from a cursor's JSON form; an error says why a key
    /// cannot be a key of this order (a forged or damaged cursor).
    pub fn key_value(&self, backend: DbBackend, key: &Value) -> Result<sea_orm::Value, String> {
        match &self.by {
            SortBy::CreatedAt | SortBy::UpdatedAt => key
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| Some(t.with_timezone(&Utc)).into())
                .ok_or_else(|| format!("its sort key `{key}` is not a timestamp")),
            SortBy::ExternalId => key
                .as_str()
                .map(|s| s.to_owned().into())
                .ok_or_else(|| format!("its sort key `{key}` is not an external id (a string)")),
            SortBy::Path(_) => Ok(bind(backend, key)),
            SortBy::Id => Err("it carries a sort key, and this order is by id alone".to_owned()),
        }
    }

    /// The order's name inside a cursor: `id`, `created_at`, `updated_at`, `external_id` or
    /// `path=a.b`, with `-` in front when descending. It holds no `:` (paths cannot).
    pub fn cursor_tag(&self) -> String {
        let key = match &self.by {
            SortBy::Path(path) => format!("path={}", path.as_str()),
            by => by.column().unwrap_or("id").to_owned(),
        };
        if self.descending {
            format!("-{key}")
        } else {
            key
        }
    }

    /// The order a [`Sort::cursor_tag`] names, or `None` if the text names none.
    pub fn from_cursor_tag(tag: &str) -> Option<Self> {
        let (descending, key) = match tag.strip_prefix('-') {
            Some(key) => (true, key),
            None => (false, tag),
        };
        let by = match SortBy::BY_COLUMN
            .into_iter()
            .find(|by| by.column() == Some(key))
        {
            Some(by) => by,
            None => SortBy::Path(JsonPath::parse("cursor", key.strip_prefix("path=")?).ok()?),
        };
        Some(Self { by, descending })
    }

    /// The order as a client writes it, for messages.
    pub fn describe(&self) -> String {
        let direction = if self.descending { "DESC" } else { "ASC" };
        match &self.by {
            SortBy::Id if !self.descending => "the default order (by id)".to_owned(),
            SortBy::Path(path) => {
                format!(
                    "`orderBy: {{ path: \"{}\", direction: {direction} }}`",
                    path.as_str()
                )
            }
            by => {
                let field = match by {
                    SortBy::CreatedAt => "CREATED_AT",
                    SortBy::UpdatedAt => "UPDATED_AT",
                    SortBy::ExternalId => "EXTERNAL_ID",
                    _ => "ID",
                };
                format!("`orderBy: {{ field: {field}, direction: {direction} }}`")
            }
        }
    }

    /// What a page that does not read the listing JSON selects in its place; `None` when
    /// only the whole listing will do.
    pub fn data_stand_in(&self, backend: DbBackend) -> Option<DataStandIn> {
        let SortBy::Path(path) = &self.by else {
            return Some(DataStandIn::Nothing);
        };
        match backend {
            DbBackend::Postgres => Some(DataStandIn::KeyColumn),
            _ => path.sqlite_projection().map(DataStandIn::Object),
        }
    }
}

/// What a page that does not read the listing JSON selects in place of it: enough for
/// cursors and for putting pages together in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataStandIn {
    /// Nothing: the order does not read the listing.
    Nothing,
    /// PostgreSQL: the sort key ([`Sort::key_sql`]), in a column of its own after the
    /// entity's, from which the row's `data` becomes an object holding just the key
    /// ([`JsonPath::holding`]). It is the very expression the page orders (and numbers) its
    /// rows by, so the database reads the path once a row; building the object in SQL read it
    /// three more times.
    KeyColumn,
    /// SQLite: an object holding just the path's value, built in SQL (SQLite reads a key
    /// back as an SQL scalar, which no longer tells a JSON string from an object).
    Object(String),
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(conditions: &[(&str, WhereOp, Value)]) -> ListingFilter {
        ListingFilter {
            conditions: conditions
                .iter()
                .map(|(path, op, value)| JsonCondition {
                    path: JsonPath::parse("p", path).unwrap(),
                    op: *op,
                    value: value.clone(),
                })
                .collect(),
            ..ListingFilter::default()
        }
    }

    #[test]
    fn a_filter_keeps_only_values_at_a_path_when_a_condition_on_it_rules_out_null() {
        let price = JsonPath::parse("p", "price").unwrap();
        let keeps =
            |conditions: &[(&str, WhereOp, Value)]| filter(conditions).keeps_only_values_at(&price);
        for op in [WhereOp::Lt, WhereOp::Lte, WhereOp::Gt, WhereOp::Gte] {
            assert!(keeps(&[("price", op, json!(5))]), "{op:?}");
        }
        assert!(keeps(&[("price", WhereOp::Eq, json!("x"))]));
        assert!(keeps(&[("price", WhereOp::In, json!([1, 2]))]));
        assert!(keeps(&[
            ("city", WhereOp::Eq, json!("Lyon")),
            ("price", WhereOp::Gt, json!(1))
        ]));
        assert!(!keeps(&[("price", WhereOp::Eq, Value::Null)]));
        assert!(!keeps(&[("price", WhereOp::In, json!([1, null]))]));
        assert!(!keeps(&[("price", WhereOp::Exists, json!(true))]));
        assert!(!keeps(&[("price", WhereOp::Ne, json!(1))]));
        assert!(!keeps(&[("price", WhereOp::Contains, json!(1))]));
        assert!(!keeps(&[("price.amount", WhereOp::Gt, json!(1))]));
        assert!(!keeps(&[]));
    }
}
