//! Reading listings: a source's and a target's, one at a time or a page at a time.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter};

use crate::domain::children::{ChildArgs, ChildPage, ChildQuery, pages_under_parents};
use crate::domain::listing_query::ListingSide;
use crate::domain::pagination::{Page, PageLimits, PageRequest, paginate};
use crate::domain::scope::TenantScope;
use crate::entity::{source_property, target_property};
use crate::error::Error;
use crate::ids::{SourceId, SourcePropertyId, TargetId, TargetPropertyId};

/// One of the tenant's source listings.
pub async fn get_source_property<C: ConnectionTrait>(
    db: &C,
    scope: &TenantScope,
    id: SourcePropertyId,
) -> Result<source_property::Model, Error> {
    scope.get::<source_property::Entity, _>(db, id.0).await
}

/// One of the tenant's target listings.
pub async fn get_target_property<C: ConnectionTrait>(
    db: &C,
    scope: &TenantScope,
    id: TargetPropertyId,
) -> Result<target_property::Model, Error> {
    scope.get::<target_property::Entity, _>(db, id.0).await
}

/// A page of a source's listings, oldest first.
pub async fn list_source_properties(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_id: SourceId,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<source_property::Model>, Error> {
    let select = scope
        .select::<source_property::Entity>()
        .filter(source_property::Column::SourceId.eq(source_id.0));
    paginate(db, select, source_property::Column::Id, request, limits).await
}

/// A page of a target's listings, oldest first.
pub async fn list_target_properties(
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
pub async fn source_properties_by_ids(
    db: &DatabaseConnection,
    scope: &TenantScope,
    ids: &[i64],
) -> Result<Vec<source_property::Model>, Error> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(crate::domain::sql::CHUNK_IDS) {
        found.extend(
            scope
                .select::<source_property::Entity>()
                .filter(source_property::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// One page of listings under each of many sources, in one statement.
pub async fn source_property_pages(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<source_property::Model>>, Error> {
    args.filter.validate()?;
    let backend = db.get_database_backend();
    let query = ChildQuery::<source_property::Entity> {
        parent_col: source_property::Column::SourceId,
        parent_of: |m| Some(m.source_id),
        filter: args.filter.condition(backend, ListingSide::Source),
        sort: &args.sort,
        request: &args.request,
        with_total: args.with_total,
        skip_data: !args.with_data && !args.sort.needs_data(),
    };
    pages_under_parents(db, scope, query, source_ids, limits).await
}

/// One page of listings under each of many targets, in one statement.
pub async fn target_property_pages(
    db: &DatabaseConnection,
    scope: &TenantScope,
    target_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<target_property::Model>>, Error> {
    args.filter.validate()?;
    let backend = db.get_database_backend();
    let query = ChildQuery::<target_property::Entity> {
        parent_col: target_property::Column::TargetId,
        parent_of: |m| Some(m.target_id),
        filter: args.filter.condition(backend, ListingSide::Target),
        sort: &args.sort,
        request: &args.request,
        with_total: args.with_total,
        skip_data: !args.with_data && !args.sort.needs_data(),
    };
    pages_under_parents(db, scope, query, target_ids, limits).await
}

/// The target listings synced from each of many source listings, in one statement.
pub async fn target_properties_of_source_properties(
    db: &DatabaseConnection,
    scope: &TenantScope,
    source_property_ids: &[i64],
    args: &ChildArgs,
    limits: PageLimits,
) -> Result<HashMap<i64, ChildPage<target_property::Model>>, Error> {
    args.filter.validate()?;
    let backend = db.get_database_backend();
    let query = ChildQuery::<target_property::Entity> {
        parent_col: target_property::Column::SourcePropertyId,
        parent_of: |m| m.source_property_id,
        filter: args.filter.condition(backend, ListingSide::Target),
        sort: &args.sort,
        request: &args.request,
        with_total: args.with_total,
        skip_data: !args.with_data && !args.sort.needs_data(),
    };
    pages_under_parents(db, scope, query, source_property_ids, limits).await
}
