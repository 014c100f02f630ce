//! Reading listings: a source's and a target's, one at a time or a page at a time.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter};

use crate::domain::children::{ChildArgs, ChildPage, ChildQuery, pages_under_parents};
use crate::domain::listing_query::ListingSide;
use crate::domain::pagination::{Page, PageLimits, PageRequest, paginate};
use crate::domain::scope::TenantScope;
use crate::entity::{source_property, target_property};
use crate::error::Error;
use crate::ids::{SourcePropertyId, TargetId, TargetPropertyId};

/// One of the tenant's source listings.
pub(crate) async fn get_source_property<C: ConnectionTrait>(
    db: &C,
    scope: &TenantScope,
    id: SourcePropertyId,
) -> Result<source_property::Model, Error> {
    scope.get::<source_property::Entity, _>(db, id.0).await
}

/// One of the tenant's target listings.
pub(crate) async fn get_target_property<C: ConnectionTrait>(
    db: &C,
    scope: &TenantScope,
    id: TargetPropertyId,
) -> Result<target_property::Model, Error> {
    scope.get::<target_property::Entity, _>(db, id.0).await
}

/// A page of a target's listings, oldest first.
pub(crate) async fn list_target_properties(
    db: &DatabaseConnection,
    scope: &TenantScope,
    target_id: TargetId,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<target_property::Model>, Error> {
    let select = scope
        .select::<target_property::Entity>()
        .filter(target_property::Column::TargetId.eq(target_id.0));
    paginate(db, select, target_property::Column::Id, request, limits).await
}

/// The tenant's source listings with these ids (for batched loading); unknown ids are skipped.
pub(crate) async fn source_properties_by_ids(
    db: &DatabaseConnection,
    scope: &TenantScope,
    ids: &[i64],
) -> Result<Vec<source_property::Model>, Error> {
    scope.get_many::<source_property::Entity, _>(db, ids).await
}

/// One page of listings under each of many sources, in one statement.
pub(crate) async fn source_property_pages(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<source_property::Model>>, Error> {
    listing_pages::<source_property::Entity>(
        db,
        scope,
        source_ids,
        args,
        limits,
        (source_property::Column::SourceId, |m| Some(m.source_id)),
        ListingSide::Source,
    )
    .await
}

/// One page of listings under each of many targets, in one statement.
pub(crate) async fn target_property_pages(
    db: &DatabaseConnection,
    scope: &TenantScope,
    target_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<target_property::Model>>, Error> {
    listing_pages::<target_property::Entity>(
        db,
        scope,
        target_ids,
        args,
        limits,
        (target_property::Column::TargetId, |m| Some(m.target_id)),
        ListingSide::Target,
    )
    .await
}

/// The target listings synced from each of many source listings, in one statement.
pub(crate) async fn target_properties_of_source_properties(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_property_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<target_property::Model>>, Error> {
    listing_pages::<target_property::Entity>(
        db,
        scope,
        source_property_ids,
        args,
        limits,
        (target_property::Column::SourcePropertyId, |m| {
            m.source_property_id
        }),
        ListingSide::Target,
    )
    .await
}

/// The column naming a listing's parent, and how to read it from a row.
type Parent<E> = (
    <E as sea_orm::EntityTrait>::Column,
    fn(&<E as sea_orm::EntityTrait>::Model) -> Option<i64>,
);

/// One page of listings of entity `E` under each parent, filtered and ordered as `args` says.
async fn listing_pages<E>(
    db: &DatabaseConnection,
    scope: &TenantScope,
    parents: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
    (parent_col, parent_of): Parent<E>,
    side: ListingSide,
) -> Result<HashMap<i64, ChildPage<E::Model>>, Error>
where
    E: crate::domain::scope::TenantOwned,
    E::Model: sea_orm::FromQueryResult + crate::domain::children::ChildRow + Send + Sync,
{
    args.filter.validate()?;
    let query = ChildQuery::<E> {
        parent_col,
        parent_of,
        filter: args.filter.condition(db.get_database_backend(), side),
        sort: &args.sort,
        request: &args.request,
        with_total: args.with_total,
        skip_data: !args.with_data && !args.sort.needs_data(),
    };
    pages_under_parents(db, scope, query, parents, limits).await
}
