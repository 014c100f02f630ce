//! Arguments of nested connections: paging, listing filters and order, and what the query
//! selects (so a page reads the listing JSON and counts totals only when asked to).

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject};

use crate::graphql::json::Json;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::Error;
use crate::graphql::connection::page_request_for;
use crate::graphql::types::enums::WhereOp;
use crate::store::json_path::JsonPath;
use crate::store::listing_filter::{JsonCondition, ListingFilter, ListingStatus, Sort, SortBy};
use crate::store::pager::ChildArgs;

/// The state of a source listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum SourceListingStatus {
    /// Listed by the source.
    Active,
    /// Missing from the source's last full import.
    Removed,
}

/// The state of a target listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum TargetListingStatus {
    /// Written by a sync and not edited since.
    Synced,
    /// Edited by hand on the target.
    ModifiedByHand,
    /// Edited by hand and changed at the source since: see `conflicts`.
    InConflict,
    /// Removed at the source.
    Removed,
}

/// A condition on a value inside the listing JSON, e.g.
/// `{ path: "price", op: LT, value: 250000 }` or `{ path: "address.city", op: EQ, value: "Lyon" }`.
#[derive(Clone, Debug, InputObject)]
pub struct WhereCondition {
    /// Dotted path of the value (`price`, `address.city`, `images.0`).
    pub path: String,
    /// How to compare.
    pub op: WhereOp,
    /// What to compare with (an array for `IN`; `true`/`false` for `EXISTS`).
    pub value: Option<Json<Value>>,
}

/// The key a listing connection is ordered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum ListingOrderField {
    /// Insertion order (the default).
    Id,
    /// When the listing was first seen.
    CreatedAt,
    /// When the listing last changed.
    UpdatedAt,
    /// The external id, as text.
    ExternalId,
}

/// A direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// How to order listings: by a field, or by a value inside the listing JSON (`path`).
/// Listings without the value come last. Ties are broken by id.
#[derive(Clone, Debug, InputObject)]
pub struct ListingOrder {
    /// Order by this field.
    pub field: Option<ListingOrderField>,
    /// Or by the value at this dotted path in the listing JSON (e.g. `price`).
    pub path: Option<String>,
    /// Direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// Filters of a listing connection.
#[derive(Default)]
pub struct ListingArgs {
    /// `externalIds`.
    pub external_ids: Option<Vec<String>>,
    /// `status`, already mapped.
    pub status: Option<ListingStatus>,
    /// `updatedSince`.
    pub updated_since: Option<DateTime<Utc>>,
    /// `where`.
    pub conditions: Option<Vec<WhereCondition>>,
    /// `orderBy`.
    pub order_by: Option<ListingOrder>,
}

impl From<SourceListingStatus> for ListingStatus {
    fn from(status: SourceListingStatus) -> Self {
        match status {
            SourceListingStatus::Active => Self::Active,
            SourceListingStatus::Removed => Self::Removed,
        }
    }
}

impl From<TargetListingStatus> for ListingStatus {
    fn from(status: TargetListingStatus) -> Self {
        match status {
            TargetListingStatus::Synced => Self::Synced,
            TargetListingStatus::ModifiedByHand => Self::ModifiedByHand,
            TargetListingStatus::InConflict => Self::InConflict,
            TargetListingStatus::Removed => Self::Removed,
        }
    }
}

fn filter_and_sort(args: ListingArgs) -> Result<(ListingFilter, Sort), Error> {
    let mut conditions = Vec::new();
    for (i, condition) in args.conditions.unwrap_or_default().into_iter().enumerate() {
        conditions.push(JsonCondition {
            path: JsonPath::parse(&format!("where[{i}].path"), &condition.path)?,
            op: condition.op.into(),
            value: condition.value.map(|v| v.0).unwrap_or(Value::Null),
        });
    }
    let sort = match args.order_by {
        None => Sort::default(),
        Some(order) => {
            let by = match (order.field, order.path) {
                (Some(_), Some(_)) => {
                    return Err(Error::invalid(
                        "orderBy",
                        "give either `field` or `path`, not both",
                    ));
                }
                (None, Some(path)) => SortBy::Path(JsonPath::parse("orderBy.path", &path)?),
                (Some(ListingOrderField::CreatedAt), None) => SortBy::CreatedAt,
                (Some(ListingOrderField::UpdatedAt), None) => SortBy::UpdatedAt,
                (Some(ListingOrderField::ExternalId), None) => SortBy::ExternalId,
                (Some(ListingOrderField::Id), None) | (None, None) => SortBy::Id,
            };
            Sort {
                by,
                descending: order.direction == OrderDirection::Desc,
            }
        }
    };
    Ok((
        ListingFilter {
            external_ids: args.external_ids,
            status: args.status,
            updated_since: args.updated_since,
            conditions,
        },
        sort,
    ))
}

/// The listing columns a page need not read unless its nodes select one of these fields. The
/// id, the parent, the order's key and the JSON (`data`, `field`, `editedPaths`) are not here:
/// the pager keeps what paging needs, and the JSON has its own stand-in. A name either listing
/// type lacks is ignored by the other's pages.
const COLUMNS_READ_BY: &[(&str, &[&str])] = &[
    ("tenant_id", &[]),
    ("source_id", &["sourceId"]),
    ("target_id", &["targetId"]),
    ("source_property_id", &["sourceProperty"]),
    ("external_id", &["externalId"]),
    ("content_hash", &["contentHash"]),
    ("base_hash", &["baseHash"]),
    ("manually_modified", &["manuallyModified"]),
    ("manual_changed_at", &["manualChangedAt"]),
    ("conflict", &["hasConflict"]),
    ("removed_at", &["removedAt"]),
    ("last_synced_at", &["lastSyncedAt"]),
    ("created_at", &["createdAt"]),
    ("updated_at", &["updatedAt"]),
    ("resolution", &["lastResolution"]),
    ("resolved_at", &["lastResolution"]),
    ("resolved_by", &["lastResolution"]),
    ("version", &["version"]),
];

/// The names of the fields the connection's selection reads of its nodes (`edges { node }`
/// and `nodes`), through fragments too. Directives are not looked at: a field under `@skip`
/// counts as read, which costs a column, never an answer.
fn node_fields<'c>(ctx: &'c Context<'_>) -> Vec<&'c str> {
    let look = ctx.look_ahead();
    let mut names = Vec::new();
    for nodes in [look.field("edges").field("node"), look.field("nodes")] {
        for node in nodes.selection_fields() {
            names.extend(node.selection_set().map(|field| field.name()));
        }
    }
    names
}

/// The columns of [`COLUMNS_READ_BY`] none of whose fields is in `selected`.
fn unread_columns(selected: &[&str]) -> Vec<&'static str> {
    COLUMNS_READ_BY
        .iter()
        .filter(|(_, fields)| !fields.iter().any(|field| selected.contains(field)))
        .map(|(column, _)| *column)
        .collect()
}

/// Whether the connection's selection reads a cursor: an edge's, or `pageInfo`'s first or
/// last.
fn selects_cursor(ctx: &Context<'_>) -> bool {
    let look = ctx.look_ahead();
    look.field("edges").field("cursor").exists()
        || ["startCursor", "endCursor"]
            .iter()
            .any(|field| look.field("pageInfo").field(field).exists())
}

/// The arguments of a nested connection field.
pub fn child_args(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    listing: Option<ListingArgs>,
) -> Result<Arc<ChildArgs>, Error> {
    let request = page_request_for(ctx, first, after, last, before)?;
    let (filter, sort) = match listing {
        Some(listing) => filter_and_sort(listing)?,
        None => (ListingFilter::default(), Sort::default()),
    };
    let selected = node_fields(ctx);
    Ok(Arc::new(ChildArgs {
        request,
        filter,
        sort,
        with_data: ["data", "field", "editedPaths"]
            .iter()
            .any(|field| selected.contains(field)),
        without_cursors: !selects_cursor(ctx),
        unread: unread_columns(&selected),
    }))
}

/// The complexity of a connection field: 1 for the field itself (it is one more resolver and
/// usually one more statement, whatever its page holds), plus the cost of what it selects
/// times its page size ([`page_cost`]). Saturates rather than overflows.
pub fn connection_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    page_cost(first, last)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// What a page multiplies the cost of its selection by: its size, or the default size.
/// Sizes past any sensible page limit are counted as that limit, so the resolver, not the
/// cost check, tells the client its `first` is too large.
pub fn page_cost(first: Option<i32>, last: Option<i32>) -> usize {
    let size = first.or(last).unwrap_or(100).clamp(1, 10_000);
    usize::try_from(size).unwrap_or(1)
}
