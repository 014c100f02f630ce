//! Keyset paging, the engine behind every Relay connection: a top-level list (`sources`,
//! `syncLogs`…) is the one-parent case of a nested one (`Source.properties`,
//! `Target.syncLogs`, `*.snapshots`…), which reads one page under each of many parents in one
//! statement ([`statement`]).
//!
//! A [`Cursor`] is a position `(sort key, id)` that names its order: it stays valid while rows
//! are added or removed around it, and one used with another order is refused rather than
//! misread. `first`/`after` walk forwards, `last`/`before` backwards; both at once are
//! allowed as the Relay specification describes (first slice with `first`, then keep its last
//! `last`). `hasPreviousPage` is true when rows precede the page: rows cut off by `last`, or
//! rows at or before `after`; `hasNextPage` likewise, with `first` and `before`. Whether rows
//! lie beyond a cursor is asked only when the page itself cannot tell, in one more statement
//! for all the parents that need it.

mod cursor;
mod keyset;
mod pg_columns;
mod rows;
mod statement;
mod window;

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, EntityTrait, Select};

pub use cursor::Cursor;
pub use rows::{PagedEntity, PagedRow};

use crate::error::Error;
use crate::store::listing_filter::Sort;
use crate::store::scope::{TenantOwned, TenantScope};
use statement::{ONE_PARENT, Reader};
use window::Window;

/// How large pages may be.
#[derive(Clone, Copy, Debug)]
pub struct PageLimits {
    /// Page size when neither `first` nor `last` is given.
    pub default_size: u64,
    /// Largest accepted `first` or `last`.
    pub max_size: u64,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self {
            default_size: 100,
            max_size: 500,
        }
    }
}

/// The paging arguments of one connection field, cursors already decoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageRequest {
    /// Forward page size.
    pub first: Option<i64>,
    /// Rows after this position.
    pub after: Option<Cursor>,
    /// Backward page size.
    pub last: Option<i64>,
    /// Rows before this position.
    pub before: Option<Cursor>,
    /// Count all matching rows (of each parent): the caller shows the total.
    pub with_total: bool,
}

/// One page of rows, in the list's order, each with its cursor.
#[derive(Clone, Debug)]
pub struct Page<M> {
    /// The rows, each with its cursor.
    pub items: Vec<(Cursor, M)>,
    /// More rows follow the last one.
    pub has_next: bool,
    /// More rows precede the first one.
    pub has_previous: bool,
    /// All rows matching the filter, ignoring cursors and sizes (when asked for).
    pub total: Option<u64>,
}

impl<M> Default for Page<M> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            has_next: false,
            has_previous: false,
            total: None,
        }
    }
}

impl<M> Page<M> {
    /// Converts every row, keeping the cursors and paging facts.
    pub fn map<N>(self, mut f: impl FnMut(M) -> N) -> Page<N> {
        Page {
            items: self.items.into_iter().map(|(c, m)| (c, f(m))).collect(),
            has_next: self.has_next,
            has_previous: self.has_previous,
            total: self.total,
        }
    }

    /// The rows, without their cursors.
    pub fn rows(&self) -> impl Iterator<Item = &M> {
        self.items.iter().map(|(_, m)| m)
    }
}

/// Whose pages a query reads.
pub enum Parents<'a, E: EntityTrait> {
    /// A top-level list: one page of all the rows.
    One,
    /// A nested list: one page under each parent.
    Each {
        /// The column that names a row's parent.
        column: E::Column,
        /// Reads the parent of a row.
        of: fn(&E::Model) -> Option<i64>,
        /// The parents.
        ids: &'a [i64],
    },
}

/// A paged list over entity `E`.
pub struct PageQuery<'a, E: EntityTrait> {
    /// The rows, scoped to the tenant and filtered.
    pub rows: Select<E>,
    /// Whose pages.
    pub parents: Parents<'a, E>,
    /// The order.
    pub sort: &'a Sort,
    /// The caller does not read the `data` column: the page selects only what the order
    /// needs of it (see `statement::Reader::narrowed`).
    pub skip_data: bool,
    /// The caller reads no cursor: a PostgreSQL page that does not read the listing JSON
    /// selects no sort key either, and its cursors carry none.
    pub skip_sort_key: bool,
    /// Columns (by name) the caller does not read: a page of rows read by position leaves
    /// them out, but the id, the parent column and the order's, and its rows hold their
    /// type's default there (see `statement::Reader::omitted_of`).
    pub unread: &'a [&'static str],
    /// Every row has a sort key (the filter keeps only rows with one), so the order leaves
    /// the place of missing keys to the database and an index on the key serves both
    /// directions.
    pub keys_present: bool,
}

/// A checked `first`/`last`: not negative, not above the limit.
fn size(field: &str, value: Option<i64>, limits: PageLimits) -> Result<Option<u64>, Error> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(Error::invalid(field, "must not be negative")),
        Some(n) if n as u64 > limits.max_size => Err(Error::invalid(
            field,
            format!("must be at most {} (the page size limit)", limits.max_size),
        )),
        Some(n) => Ok(Some(n as u64)),
    }
}

/// A top-level list's page: the one-parent case of [`pages`].
pub async fn page<E, C>(
    db: &C,
    rows: Select<E>,
    request: &PageRequest,
    limits: PageLimits,
) -> Result<Page<E::Model>, Error>
where
    E: PagedEntity,
    C: ConnectionTrait,
{
    let query = PageQuery {
        rows,
        parents: Parents::One,
        sort: &Sort::default(),
        keys_present: false,
        skip_data: false,
        skip_sort_key: false,
        unread: &[],
    };
    let mut pages = pages(db, &query, request, limits).await?;
    Ok(pages.remove(&ONE_PARENT).unwrap_or_default())
}

/// Loads one page per parent: one statement for the pages (per 400 parents on SQLite), one
/// for totals when asked for, and one for each cursor whose side the pages cannot tell.
pub async fn pages<E, C>(
    db: &C,
    query: &PageQuery<'_, E>,
    request: &PageRequest,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<E::Model>>, Error>
where
    E: PagedEntity,
    C: ConnectionTrait,
{
    let reader = Reader::new(db.get_database_backend(), query);
    // Checked before anything else, so a wrong cursor is an error even without parents.
    let window = Window::new(&reader, request, limits)?;
    let mut parents: Vec<i64> = match &query.parents {
        Parents::One => vec![ONE_PARENT],
        Parents::Each { ids, .. } => ids.to_vec(),
    };
    parents.sort_unstable();
    parents.dedup();

    let mut rows = reader.read(db, &parents, &window.slice).await?;
    let totals = match request.with_total {
        true => Some(reader.count(db, &parents).await?),
        false => None,
    };
    let mut pages: HashMap<i64, Page<E::Model>> = parents
        .iter()
        .map(|parent| {
            let mut page = window.cut(rows.remove(parent).unwrap_or_default(), query.sort);
            page.total = totals.as_ref().map(|t| t.get(parent).copied().unwrap_or(0));
            (*parent, page)
        })
        .collect();
    window.settle(db, &reader, &mut pages).await?;
    Ok(pages)
}

/// The arguments of a nested connection, beyond its parent: paging, filters, order, and
/// which parts of the rows the query reads.
#[derive(Clone, Debug, Default)]
pub struct ChildArgs {
    /// Paging.
    pub request: PageRequest,
    /// Listing filters (ignored by connections of other rows).
    pub filter: crate::store::listing_filter::ListingFilter,
    /// Order (id order for connections of other rows).
    pub sort: Sort,
    /// Read the listing JSON (and a target listing's edited paths).
    pub with_data: bool,
    /// The query reads no cursor of the connection (neither `edges { cursor }` nor
    /// `pageInfo`'s), so its rows need not carry their sort key.
    pub without_cursors: bool,
    /// Listing columns no field of the query's selection reads ([`PageQuery::unread`]).
    pub unread: Vec<&'static str>,
}

impl ChildArgs {
    /// A stable text form, to batch equal arguments together.
    pub fn fingerprint(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{}|{}|{:?}",
            self.request, self.filter, self.sort, self.with_data, self.without_cursors, self.unread
        )
    }
}

/// The column naming a row's parent, and how to read it from a row.
pub type ParentColumn<E> = (
    <E as EntityTrait>::Column,
    fn(&<E as EntityTrait>::Model) -> Option<i64>,
);

/// One page under each of `ids` of rows that have no filters of their own (snapshots, audit
/// records), as `args` asks.
pub async fn child_pages<E, C>(
    db: &C,
    scope: &TenantScope,
    (column, of): ParentColumn<E>,
    ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, Page<E::Model>>, Error>
where
    E: TenantOwned + PagedEntity,
    C: ConnectionTrait,
{
    let query = PageQuery {
        rows: scope.select::<E>(),
        parents: Parents::Each { column, of, ids },
        sort: &args.sort,
        skip_data: false,
        skip_sort_key: false,
        unread: &[],
        keys_present: false,
    };
    pages(db, &query, &args.request, limits).await
}
