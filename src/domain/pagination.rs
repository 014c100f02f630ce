//! Keyset paging by primary key, the engine behind every Relay connection.
//!
//! A cursor is a row's id, so a cursor stays valid while rows are added or removed around it.
//! `first`/`after` walk forwards, `last`/`before` backwards; both at once are allowed as the
//! Relay specification describes (first slice with `first`, then keep its last `last`).

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::error::Error;

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

/// The paging arguments of one connection field, cursors already decoded to ids.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageRequest {
    /// Forward page size.
    pub first: Option<i64>,
    /// Rows after this id.
    pub after: Option<i64>,
    /// Backward page size.
    pub last: Option<i64>,
    /// Rows before this id.
    pub before: Option<i64>,
    /// Do not count the matching rows (`total` is then 0): the caller does not show it.
    pub skip_total: bool,
}

/// One page of rows, in ascending id order.
#[derive(Clone, Debug)]
pub struct Page<M> {
    /// The rows.
    pub items: Vec<M>,
    /// More rows follow the last one.
    pub has_next: bool,
    /// More rows precede the first one.
    pub has_previous: bool,
    /// All rows matching the filter, ignoring cursors and sizes.
    pub total: u64,
}

impl<M> Page<M> {
    /// Converts every row, keeping the paging facts.
    pub fn map<N>(self, f: impl FnMut(M) -> N) -> Page<N> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next: self.has_next,
            has_previous: self.has_previous,
            total: self.total,
        }
    }
}

/// A checked `first`/`last`: not negative, not above the limit.
pub(crate) fn size(
    field: &str,
    value: Option<i64>,
    limits: PageLimits,
) -> Result<Option<u64>, Error> {
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

/// Fetches one page of `select` (already scoped and filtered), keyed by `id_col`.
pub async fn paginate<E, C>(
    db: &C,
    select: Select<E>,
    id_col: E::Column,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<E::Model>, Error>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let first = size("first", request.first, limits)?;
    let last = size("last", request.last, limits)?;
    let total = if request.skip_total {
        0
    } else {
        select.clone().count(db).await?
    };

    let mut window = select.clone();
    if let Some(after) = request.after {
        window = window.filter(id_col.gt(after));
    }
    if let Some(before) = request.before {
        window = window.filter(id_col.lt(before));
    }

    let (items, has_next, has_previous) = match (first, last) {
        (Some(first), last) => {
            let mut rows = window.order_by_asc(id_col).limit(first + 1).all(db).await?;
            let mut has_next = rows.len() as u64 > first;
            rows.truncate(first as usize);
            let mut has_previous = false;
            if let Some(last) = last
                && rows.len() as u64 > last
            {
                rows.drain(..rows.len() - last as usize);
                has_previous = true;
            }
            if !has_previous && let Some(after) = request.after {
                has_previous = exists(db, select.clone().filter(id_col.lte(after))).await?;
            }
            if !has_next && let Some(before) = request.before {
                has_next = exists(db, select.filter(id_col.gte(before))).await?;
            }
            (rows, has_next, has_previous)
        }
        (None, Some(last)) => {
            let mut rows = window.order_by_desc(id_col).limit(last + 1).all(db).await?;
            let mut has_previous = rows.len() as u64 > last;
            rows.truncate(last as usize);
            rows.reverse();
            if !has_previous && let Some(after) = request.after {
                has_previous = exists(db, select.clone().filter(id_col.lte(after))).await?;
            }
            let has_next = match request.before {
                Some(before) => exists(db, select.filter(id_col.gte(before))).await?,
                None => false,
            };
            (rows, has_next, has_previous)
        }
        (None, None) => {
            let size = limits.default_size;
            let mut rows = window.order_by_asc(id_col).limit(size + 1).all(db).await?;
            let has_next = rows.len() as u64 > size;
            rows.truncate(size as usize);
            let mut has_next = has_next;
            if !has_next && let Some(before) = request.before {
                has_next = exists(db, select.clone().filter(id_col.gte(before))).await?;
            }
            let has_previous = match request.after {
                Some(after) => exists(db, select.filter(id_col.lte(after))).await?,
                None => false,
            };
            (rows, has_next, has_previous)
        }
    };
    Ok(Page {
        items,
        has_next,
        has_previous,
        total,
    })
}

async fn exists<E, C>(db: &C, select: Select<E>) -> Result<bool, Error>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    Ok(select.limit(1).count(db).await? > 0)
}
