//! Pages of children under many parents in one statement: the engine behind nested
//! connections (`Source.properties`, `Target.syncLogs`, `*.snapshots`…).
//!
//! For parents p1…pn the query is a `UNION ALL` of one index-backed
//! `SELECT … WHERE parent = pi … ORDER BY … LIMIT first+1` per parent, so each parent gets its
//! own page (`first: 100` under each of 50 parents) and the statement count does not grow with
//! the number of parents. Totals, when asked for, come from one grouped `COUNT`.
//!
//! Cursors are keyset positions `(sort key, id)` that name their order: they stay valid while
//! rows are added, and one used with another order is refused rather than misread.
//! With `first`/`after`, `hasPreviousPage` is true when a cursor was given; with
//! `last`/`before`, `hasNextPage` likewise (the Relay specification allows this shortcut).

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, JoinType, NullOrdering, Order, Query,
    SelectStatement, UnionType,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryFilter, QueryResult,
    QuerySelect, QueryTrait,
};
use serde_json::Value;

use crate::domain::listing_query::Sort;
use crate::domain::pagination::{PageLimits, size};
use crate::domain::scope::{TenantOwned, TenantScope};
use crate::error::Error;

/// Parents per statement: SQLite allows 500 parts in a compound `SELECT`.
const PARENTS_PER_STATEMENT: usize = 400;

/// A position in an ordered connection. It names its order, so a cursor is never read as a
/// position in another order (where it would silently point elsewhere, or nowhere).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// The row's id (the tie-breaker of every order).
    pub id: i64,
    /// The row's sort key, for orders other than by id (JSON form).
    pub key: Option<String>,
    /// The order it was made under: [`Sort::cursor_tag`] (`cursor` for the cursors of
    /// earlier versions, which did not say).
    pub order: Arc<str>,
}

/// What the cursors of earlier versions hold where the order belongs.
pub const LEGACY_CURSOR_TAG: &str = "cursor";

impl Cursor {
    /// Checks that this cursor, given as `field` (`after`/`before`), is a position in
    /// `sort`: made under that order, with a sort key of the order's type.
    pub fn check(&self, field: &str, sort: &Sort) -> Result<(), Error> {
        if &*self.order == LEGACY_CURSOR_TAG {
            return Err(Error::invalid(
                field,
                "is a cursor from an earlier version of this API, which did not record its \
                 order; ask for the first page again (without `after`/`before`) and page on \
                 with its cursors",
            ));
        }
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
        let forged = |why: String| {
            Error::invalid(
                field,
                format!("is not a cursor of {}: {why}", sort.describe()),
            )
        };
        let keyed = !matches!(sort.by, crate::domain::listing_query::SortBy::Id);
        match (&self.key, keyed) {
            (None, false) => Ok(()),
            (None, true) => Err(forged("it has no sort key".to_owned())),
            (Some(text), _) => {
                let key: Value = serde_json::from_str(text)
                    .map_err(|_| forged("its sort key is not JSON".to_owned()))?;
                sort.key_value(DbBackend::Sqlite, &key)
                    .map(drop)
                    .map_err(forged)
            }
        }
    }
}

/// The paging arguments of a nested connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChildPageRequest {
    /// Forward page size.
    pub first: Option<i64>,
    /// Rows after this position.
    pub after: Option<Cursor>,
    /// Backward page size.
    pub last: Option<i64>,
    /// Rows before this position.
    pub before: Option<Cursor>,
}

/// What a child row can tell about itself.
pub trait ChildRow: FromQueryResult + Sized {
    /// The columns [`ChildRow::from_row`] reads by position (empty: it reads by name).
    const COLUMNS: &'static [&'static str] = &[];

    /// Its primary key.
    fn id(&self) -> i64;
    /// Its sort key under `sort`, in JSON form (`None` for id order).
    fn sort_key(&self, sort: &Sort) -> Option<Value>;

    /// Reads a row of a page statement, whose columns are the entity's in declaration order.
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        Self::from_query_result(row, "")
    }
}

/// [`ChildRow::from_row`] by position, for the listing rows a page holds hundreds of: reading
/// by column name costs a hash lookup per column and row.
macro_rules! read_by_position {
    ($($field:ident),+ $(,)?) => {
        const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

        fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
            let mut position = 0..;
            Ok(Self {
                $($field: row.try_get_by_index(position.next().unwrap_or_default())?,)+
            })
        }
    };
}

/// One page of children, with the cursor of each row.
#[derive(Clone, Debug)]
pub struct ChildPage<M> {
    /// The rows, in order, each with its cursor.
    pub items: Vec<(Cursor, M)>,
    /// More rows follow.
    pub has_next: bool,
    /// Rows precede.
    pub has_previous: bool,
    /// All matching rows of the parent (when asked for).
    pub total: Option<u64>,
}

impl<M> Default for ChildPage<M> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            has_next: false,
            has_previous: false,
            total: None,
        }
    }
}

/// A nested connection query over entity `E`.
pub struct ChildQuery<'a, E: TenantOwned> {
    /// The column that names the parent.
    pub parent_col: E::Column,
    /// Reads the parent of a row.
    pub parent_of: fn(&E::Model) -> Option<i64>,
    /// Extra conditions (filters).
    pub filter: Condition,
    /// The order.
    pub sort: &'a Sort,
    /// The paging arguments.
    pub request: &'a ChildPageRequest,
    /// Count all matching rows per parent.
    pub with_total: bool,
    /// Replace the `data` column by JSON `null` (the query does not read it).
    pub skip_data: bool,
}

/// Keyset condition: rows strictly after (`forward`) or before `cursor` in `sort`'s order.
fn keyset(
    backend: DbBackend,
    sort: &Sort,
    cursor: &Cursor,
    forward: bool,
) -> Result<Condition, Error> {
    let id = Expr::col(Alias::new("id"));
    // Moving in the order's direction means larger ids when ascending.
    let later = forward != sort.descending;
    let id_after = if later {
        id.clone().gt(cursor.id)
    } else {
        id.clone().lt(cursor.id)
    };
    let Some(key_sql) = sort.key_sql(backend) else {
        return Ok(Condition::all().add(id_after));
    };
    let field = if forward { "after" } else { "before" };
    cursor.check(field, sort)?;
    let key: Value = match &cursor.key {
        Some(text) => serde_json::from_str(text)
            .map_err(|_| Error::invalid(field, "is not a cursor of this order"))?,
        None => Value::Null,
    };
    // Missing keys sort last in both directions (NULLS LAST).
    Ok(if Value::is_null(&key) {
        if forward {
            Condition::all().add(key_sql.is_null()).add(id_after)
        } else {
            Condition::any()
                .add(key_sql.clone().is_not_null())
                .add(Condition::all().add(key_sql.is_null()).add(id_after))
        }
    } else {
        let bound = sort.key_value(backend, &key).map_err(|why| {
            Error::invalid(field, format!("is not a cursor of this order: {why}"))
        })?;
        let beyond = if later {
            key_sql.clone().gt(bound.clone())
        } else {
            key_sql.clone().lt(bound.clone())
        };
        let mut any = Condition::any().add(beyond).add(
            Condition::all()
                .add(key_sql.clone().eq(bound))
                .add(id_after),
        );
        if forward {
            any = any.add(key_sql.is_null());
        }
        any
    })
}

/// Orders a statement by `sort` (reversed when `reverse`), nulls last in the forward order.
fn order(stmt: &mut SelectStatement, backend: DbBackend, sort: &Sort, reverse: bool) {
    let descending = sort.descending != reverse;
    let direction = if descending { Order::Desc } else { Order::Asc };
    if let Some(key_sql) = sort.key_sql(backend) {
        let nulls = if reverse {
            NullOrdering::First
        } else {
            NullOrdering::Last
        };
        stmt.order_by_expr_with_nulls(key_sql, direction.clone(), nulls);
    }
    stmt.order_by(Alias::new("id"), direction);
}

/// How the pages of one request are built: the query, the page size and the direction.
struct PagePlan<'p, 'a, E: TenantOwned> {
    backend: DbBackend,
    scope: &'p TenantScope,
    query: &'p ChildQuery<'a, E>,
    /// Rows per page.
    take: u64,
    /// `first`/`after` (else `last`/`before`, read backwards).
    forward: bool,
}

impl<E: TenantOwned> PagePlan<'_, '_, E> {
    /// The page of one parent: the rows whose parent column equals `parent`, in order,
    /// `take + 1` of them (one more tells whether more follow).
    fn page_of_parent(&self, parent: Expr) -> Result<SelectStatement, Error> {
        let (backend, query) = (self.backend, self.query);
        let request = query.request;
        let mut select = self
            .scope
            .select::<E>()
            .filter(Expr::col((E::default(), query.parent_col)).eq(parent))
            .filter(query.filter.clone());
        if let Some(after) = &request.after {
            select = select.filter(keyset(backend, query.sort, after, true)?);
        }
        if let Some(before) = &request.before {
            select = select.filter(keyset(backend, query.sort, before, false)?);
        }
        let mut part = select.into_query();
        if query.skip_data {
            let json = |literal: &str| match backend {
                DbBackend::Postgres => format!("'{literal}'::jsonb"),
                _ => format!("'{literal}'"),
            };
            part.clear_selects();
            for column in <E::Column as sea_orm::Iterable>::iter() {
                let name = sea_orm::IdenStatic::as_str(&column).to_owned();
                // A target listing's `edited_paths` is read with its data (see `ChildArgs`):
                // it is not in the covering page index either.
                if name == "data" {
                    part.expr_as(Expr::cust(json("null")), Alias::new("data"));
                } else if name == "edited_paths" {
                    part.expr_as(Expr::cust(json("[]")), Alias::new("edited_paths"));
                } else {
                    part.column((E::default(), column));
                }
            }
        }
        order(&mut part, backend, query.sort, !self.forward);
        part.limit(self.take + 1);
        Ok(part)
    }

    /// Orders the pages of all parents: by parent, then in each page's order.
    fn order_pages(&self, stmt: &mut SelectStatement) {
        stmt.order_by(self.query.parent_col, Order::Asc);
        order(stmt, self.backend, self.query.sort, !self.forward);
    }

    /// PostgreSQL: `unnest` of the parents as an array, each joined `LATERAL` to its page.
    fn lateral(&self, parents: &[i64]) -> Result<SelectStatement, Error> {
        let parent = Alias::new("parent");
        let page = self.page_of_parent(Expr::col((parent.clone(), parent.clone())))?;
        // The ids travel as one text parameter (`{1,2,3}`) cast to an array.
        let ids = parents
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut stmt = Query::select()
            .column((Alias::new("p"), Asterisk))
            .from_function(
                Func::cust(Alias::new("unnest"))
                    .arg(Expr::val(format!("{{{ids}}}")).cast_as(Alias::new("bigint[]"))),
                parent,
            )
            .join_lateral(
                JoinType::InnerJoin,
                page,
                Alias::new("p"),
                Expr::cust("TRUE"),
            )
            .to_owned();
        self.order_pages(&mut stmt);
        Ok(stmt)
    }

    /// SQLite: a `UNION ALL` of one page per parent.
    fn union(&self, parents: &[i64]) -> Result<SelectStatement, Error> {
        let mut union: Option<SelectStatement> = None;
        for (i, parent) in parents.iter().enumerate() {
            let part = self.page_of_parent(Expr::val(*parent))?;
            let wrapped = Query::select()
                .column(Asterisk)
                .from_subquery(part, Alias::new(format!("p{i}")))
                .to_owned();
            match &mut union {
                None => union = Some(wrapped),
                Some(all) => {
                    all.union(UnionType::All, wrapped);
                }
            }
        }
        let union = union
            .ok_or_else(|| Error::Internal(sea_orm::DbErr::Custom("no parents to page".into())))?;
        // Only an outer ORDER BY promises the order of a UNION's rows.
        let mut stmt = Query::select()
            .column(Asterisk)
            .from_subquery(union, Alias::new("u"))
            .to_owned();
        self.order_pages(&mut stmt);
        Ok(stmt)
    }
}

/// Loads one page per parent, in one statement per 400 parents (plus one for totals).
pub async fn pages_under_parents<E, C>(
    db: &C,
    scope: &TenantScope,
    query: ChildQuery<'_, E>,
    parents: &[i64],
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<E::Model>>, Error>
where
    E: TenantOwned,
    E::Model: FromQueryResult + ChildRow + Send + Sync,
    C: ConnectionTrait,
{
    let backend = db.get_database_backend();
    let request = query.request;
    // Checked before anything else, so a wrong cursor is an error even without parents.
    if let Some(after) = &request.after {
        after.check("after", query.sort)?;
    }
    if let Some(before) = &request.before {
        before.check("before", query.sort)?;
    }
    let first = size("first", request.first, limits)?;
    let last = size("last", request.last, limits)?;
    let forward = first.is_some() || last.is_none();
    let take = match (first, last) {
        (Some(n), _) => n,
        (None, Some(n)) => n,
        (None, None) => limits.default_size,
    };

    let mut parents: Vec<i64> = parents.to_vec();
    parents.sort_unstable();
    parents.dedup();
    let mut grouped: HashMap<i64, Vec<E::Model>> = HashMap::new();

    let plan = PagePlan {
        backend,
        scope,
        query: &query,
        take,
        forward,
    };
    let statements = match backend {
        // One statement for any number of parents, with the same text each time, so the
        // server keeps one prepared statement and plan for it.
        DbBackend::Postgres => vec![plan.lateral(&parents)?],
        _ => parents
            .chunks(PARENTS_PER_STATEMENT)
            .map(|chunk| plan.union(chunk))
            .collect::<Result<_, _>>()?,
    };
    for statement in statements {
        let rows = db.query_all(&statement).await?;
        for row in rows {
            let model = E::Model::from_row(&row)?;
            if let Some(parent) = (query.parent_of)(&model) {
                grouped.entry(parent).or_default().push(model);
            }
        }
    }

    let totals = if query.with_total {
        Some(count_by_parent::<E, C>(db, scope, &query, &parents).await?)
    } else {
        None
    };

    let order: Arc<str> = Arc::from(query.sort.cursor_tag());
    let mut pages = HashMap::with_capacity(parents.len());
    for parent in parents {
        let mut rows = grouped.remove(&parent).unwrap_or_default();
        let more = rows.len() as u64 > take;
        rows.truncate(take as usize);
        let mut has_previous;
        let mut has_next;
        if forward {
            has_next = more;
            has_previous = request.after.is_some();
            if let Some(last) = last
                && rows.len() as u64 > last
            {
                rows.drain(..rows.len() - last as usize);
                has_previous = true;
            }
        } else {
            rows.reverse();
            has_previous = more;
            has_next = request.before.is_some();
        }
        if forward && request.before.is_some() {
            has_next = true;
        }
        let items = rows
            .into_iter()
            .map(|row| {
                let cursor = Cursor {
                    id: row.id(),
                    key: row.sort_key(query.sort).map(|k| k.to_string()),
                    order: order.clone(),
                };
                (cursor, row)
            })
            .collect();
        pages.insert(
            parent,
            ChildPage {
                items,
                has_next,
                has_previous,
                total: totals
                    .as_ref()
                    .map(|t| t.get(&parent).copied().unwrap_or(0)),
            },
        );
    }
    Ok(pages)
}

async fn count_by_parent<E, C>(
    db: &C,
    scope: &TenantScope,
    query: &ChildQuery<'_, E>,
    parents: &[i64],
) -> Result<HashMap<i64, u64>, Error>
where
    E: TenantOwned,
    C: ConnectionTrait,
{
    let mut totals = HashMap::new();
    for chunk in parents.chunks(5_000) {
        let rows: Vec<(i64, i64)> = scope
            .select::<E>()
            .filter(query.parent_col.is_in(chunk.iter().copied()))
            .filter(query.filter.clone())
            .select_only()
            .column(query.parent_col)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(query.parent_col)
            .into_tuple()
            .all(db)
            .await?;
        for (parent, n) in rows {
            totals.insert(parent, n as u64);
        }
    }
    Ok(totals)
}

fn timestamp(at: &chrono::DateTime<chrono::Utc>) -> Value {
    Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

impl ChildRow for crate::entity::source_property::Model {
    read_by_position!(
        id,
        tenant_id,
        source_id,
        external_id,
        data,
        content_hash,
        removed_at,
        created_at,
        updated_at,
    );

    fn id(&self) -> i64 {
        self.id
    }

    fn sort_key(&self, sort: &Sort) -> Option<Value> {
        use crate::domain::listing_query::SortBy;
        match &sort.by {
            SortBy::Id => None,
            SortBy::CreatedAt => Some(timestamp(&self.created_at)),
            SortBy::UpdatedAt => Some(timestamp(&self.updated_at)),
            SortBy::ExternalId => Some(Value::String(self.external_id.clone())),
            SortBy::Path(path) => Some(path.get(&self.data).cloned().unwrap_or(Value::Null)),
        }
    }
}

impl ChildRow for crate::entity::target_property::Model {
    read_by_position!(
        id,
        tenant_id,
        target_id,
        source_property_id,
        external_id,
        data,
        content_hash,
        base_hash,
        manually_modified,
        manual_changed_at,
        conflict,
        removed_at,
        last_synced_at,
        created_at,
        updated_at,
        resolution,
        resolved_at,
        resolved_by,
        version,
        edited_paths,
    );

    fn id(&self) -> i64 {
        self.id
    }

    fn sort_key(&self, sort: &Sort) -> Option<Value> {
        use crate::domain::listing_query::SortBy;
        match &sort.by {
            SortBy::Id => None,
            SortBy::CreatedAt => Some(timestamp(&self.created_at)),
            SortBy::UpdatedAt => Some(timestamp(&self.updated_at)),
            SortBy::ExternalId => Some(Value::String(self.external_id.clone())),
            SortBy::Path(path) => Some(path.get(&self.data).cloned().unwrap_or(Value::Null)),
        }
    }
}

/// Rows only ever listed in id order.
macro_rules! id_ordered {
    ($($model:path),+ $(,)?) => {
        $(
            impl ChildRow for $model {
                fn id(&self) -> i64 {
                    self.id
                }

                fn sort_key(&self, _sort: &Sort) -> Option<Value> {
                    None
                }
            }
        )+
    };
}

id_ordered!(
    crate::entity::source_snapshot::Model,
    crate::entity::target_snapshot::Model,
    crate::entity::import_run::Model,
    crate::entity::sync_log::Model,
    crate::entity::cleanup_run::Model,
);

/// What a nested connection asks for, beyond its parent: filters, order, paging, and which
/// parts of the rows the query reads.
#[derive(Clone, Debug, Default)]
pub struct ChildArgs {
    /// Paging.
    pub request: ChildPageRequest,
    /// Listing filters (ignored by connections of other rows).
    pub filter: crate::domain::listing_query::ListingFilter,
    /// Order (id order for connections of other rows).
    pub sort: Sort,
    /// Count all matching rows per parent.
    pub with_total: bool,
    /// Read the listing JSON (and a target listing's edited paths).
    pub with_data: bool,
}

impl ChildArgs {
    /// A stable text form, to batch equal arguments together.
    pub fn fingerprint(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{}|{}",
            self.request, self.filter, self.sort, self.with_total, self.with_data
        )
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{IdenStatic, Iterable};

    use super::ChildRow;
    use crate::entity::{source_property, target_property};

    fn names<C: Iterable + IdenStatic>() -> Vec<&'static str> {
        C::iter().map(|c| c.as_str()).collect()
    }

    #[test]
    fn rows_read_by_position_list_every_column_in_order() {
        assert_eq!(
            source_property::Model::COLUMNS,
            names::<source_property::Column>()
        );
        assert_eq!(
            target_property::Model::COLUMNS,
            names::<target_property::Column>()
        );
    }
}
