//! The SQL of a position in an order: which rows lie beyond a cursor, and how rows are
//! ordered. Missing sort keys (a path a listing lacks) sort last in both directions.

use sea_orm::DbBackend;
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, NullOrdering, Order, OrderedStatement,
};

use serde_json::Value;

use crate::error::Error;
use crate::store::listing_filter::Sort;
use crate::store::pager::Cursor;

/// Which side of a cursor a condition keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    /// Rows after it in the order (`after`), or at it too when `inclusive`.
    After { inclusive: bool },
    /// Rows before it in the order (`before`), or at it too when `inclusive`.
    Before { inclusive: bool },
}

/// The rows on `side` of `cursor` (given as argument `field`) in `sort`'s order; the cursor
/// is already checked against the order.
pub(super) fn beyond(
    backend: DbBackend,
    sort: &Sort,
    (field, cursor): (&str, &Cursor),
    side: Side,
) -> Result<Condition, Error> {
    let (forward, inclusive) = match side {
        Side::After { inclusive } => (true, inclusive),
        Side::Before { inclusive } => (false, inclusive),
    };
    let id = Expr::col(Alias::new("id"));
    // Moving in the order's direction means larger ids when ascending.
    let later = forward != sort.descending;
    let id_beyond = match (later, inclusive) {
        (true, false) => id.gt(cursor.id),
        (true, true) => id.gte(cursor.id),
        (false, false) => id.lt(cursor.id),
        (false, true) => id.lte(cursor.id),
    };
    let Some(key_sql) = sort.key_sql(backend) else {
        return Ok(Condition::all().add(id_beyond));
    };
    if Value::is_null(&cursor.key) {
        return Ok(if forward {
            Condition::all().add(key_sql.is_null()).add(id_beyond)
        } else {
            Condition::any()
                .add(key_sql.clone().is_not_null())
                .add(Condition::all().add(key_sql.is_null()).add(id_beyond))
        });
    }
    let bound = sort
        .key_value(backend, &cursor.key)
        .map_err(|why| Error::invalid(field, format!("is not a cursor of this order: {why}")))?;
    let key_beyond = if later {
        key_sql.clone().gt(bound.clone())
    } else {
        key_sql.clone().lt(bound.clone())
    };
    let mut any = Condition::any().add(key_beyond).add(
        Condition::all()
            .add(key_sql.clone().eq(bound))
            .add(id_beyond),
    );
    if forward {
        any = any.add(key_sql.is_null());
    }
    Ok(any)
}

/// Orders a statement (or a window) by `sort` (reversed when `reverse`), nulls last in the
/// forward order; when `keys_present` (no row lacks a key) in the database's own place for
/// them, which an index on the key follows in either direction.
pub(super) fn order_by<S: OrderedStatement>(
    stmt: &mut S,
    backend: DbBackend,
    sort: &Sort,
    reverse: bool,
    keys_present: bool,
) {
    let descending = sort.descending != reverse;
    let direction = if descending { Order::Desc } else { Order::Asc };
    if let Some(key_sql) = sort.key_sql(backend) {
        if keys_present {
            stmt.order_by_expr(key_sql, direction.clone());
        } else {
            let nulls = if reverse {
                NullOrdering::First
            } else {
                NullOrdering::Last
            };
            stmt.order_by_expr_with_nulls(key_sql, direction.clone(), nulls);
        }
    }
    stmt.order_by(Alias::new("id"), direction);
}
