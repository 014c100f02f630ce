//! How one request cuts the pages of every parent: which rows a statement reads, where a page
//! ends, and what the rows beyond it tell of `hasNextPage` and `hasPreviousPage`.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::Condition;
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::error::Error;
use crate::store::listing_filter::Sort;
use crate::store::pager::keyset::{self, Side};
use crate::store::pager::statement::{Reader, Slice};
use crate::store::pager::{Cursor, Page, PageLimits, PageRequest, PagedEntity, PagedRow, size};

/// What one request reads of each parent, and how its pages are cut.
pub(super) struct Window {
    pub slice: Slice,
    /// Rows a page keeps before `last` cuts it (`slice.limit` is one more).
    take: u64,
    /// `last` together with `first`: keep the last `last` of the first `first`.
    last_of_first: Option<u64>,
    /// Reads rows beyond a cursor: before/at `after`, at/after `before`.
    precedes_after: Option<Condition>,
    follows_before: Option<Condition>,
}

impl Window {
    pub fn new<E: EntityTrait>(
        reader: &Reader<'_, '_, E>,
        request: &PageRequest,
        limits: PageLimits,
    ) -> Result<Self, Error> {
        let sort = reader.query.sort;
        let backend = reader.backend;
        let first = size("first", request.first, limits)?;
        let last = size("last", request.last, limits)?;
        // For a cursor: the rows on the page's side of it, and the rows at it or beyond.
        let bounds = |field: &str, cursor: Option<&Cursor>, page: Side, beyond: Side| {
            let Some(cursor) = cursor else {
                return Ok((Condition::all(), None));
            };
            cursor.check(field, sort)?;
            let at = (field, cursor);
            let page = keyset::beyond(backend, sort, at, page)?;
            Ok::<_, Error>((page, Some(keyset::beyond(backend, sort, at, beyond)?)))
        };
        let (after, precedes_after) = bounds(
            "after",
            request.after.as_ref(),
            Side::After { inclusive: false },
            Side::Before { inclusive: true },
        )?;
        let (before, follows_before) = bounds(
            "before",
            request.before.as_ref(),
            Side::Before { inclusive: false },
            Side::After { inclusive: true },
        )?;
        let condition = Condition::all().add(after).add(before);
        let (take, reverse, last_of_first) = match (first, last) {
            (Some(first), last) => (first, false, last),
            (None, Some(last)) => (last, true, None),
            (None, None) => (limits.default_size, false, None),
        };
        Ok(Self {
            slice: Slice {
                condition,
                reverse,
                limit: take + 1,
            },
            take,
            last_of_first,
            precedes_after,
            follows_before,
        })
    }

    /// The page of `rows` (read in slice order, one more than a page holds when more follow
    /// in that direction), with what the rows themselves tell of the rows around them.
    pub fn cut<M: PagedRow>(&self, mut rows: Vec<M>, sort: &Sort) -> Page<M> {
        let more = rows.len() as u64 > self.take;
        rows.truncate(self.take as usize);
        let (has_next, mut has_previous) = match self.slice.reverse {
            false => (more, false),
            true => {
                rows.reverse();
                (false, more)
            }
        };
        if let Some(last) = self.last_of_first
            && rows.len() as u64 > last
        {
            rows.drain(..rows.len() - last as usize);
            has_previous = true;
        }
        let order: Arc<str> = Arc::from(sort.cursor_tag());
        let items = rows
            .into_iter()
            .map(|row| {
                let cursor = Cursor {
                    order: order.clone(),
                    id: row.id(),
                    key: row.sort_key(sort),
                };
                (cursor, row)
            })
            .collect();
        Page {
            items,
            has_next,
            has_previous,
            total: None,
        }
    }

    /// Settles the flags the pages could not tell: whether rows lie at or before `after`
    /// (rows precede the page) and at or after `before` (rows follow it), one statement each
    /// for all the pages that need it.
    pub async fn settle<E, C>(
        &self,
        db: &C,
        reader: &Reader<'_, '_, E>,
        pages: &mut HashMap<i64, Page<E::Model>>,
    ) -> Result<(), Error>
    where
        E: PagedEntity,
        C: ConnectionTrait,
    {
        if let Some(condition) = &self.precedes_after {
            settle_flag(db, reader, pages, condition, |page| &mut page.has_previous).await?;
        }
        if let Some(condition) = &self.follows_before {
            settle_flag(db, reader, pages, condition, |page| &mut page.has_next).await?;
        }
        Ok(())
    }
}

/// Sets `flag` of each page where it is false and a row of its parent meets `condition`
/// (one statement for all of them).
async fn settle_flag<E, C>(
    db: &C,
    reader: &Reader<'_, '_, E>,
    pages: &mut HashMap<i64, Page<E::Model>>,
    condition: &Condition,
    flag: fn(&mut Page<E::Model>) -> &mut bool,
) -> Result<(), Error>
where
    E: PagedEntity,
    C: ConnectionTrait,
{
    let mut open: Vec<i64> = pages
        .iter_mut()
        .filter_map(|(parent, page)| (!*flag(page)).then_some(*parent))
        .collect();
    if open.is_empty() {
        return Ok(());
    }
    open.sort_unstable();
    let slice = Slice {
        condition: condition.clone(),
        reverse: false,
        limit: 1,
    };
    for parent in reader.read(db, &open, &slice).await?.into_keys() {
        if let Some(page) = pages.get_mut(&parent) {
            *flag(page) = true;
        }
    }
    Ok(())
}
