//! What `Source` and `Target`, the two catalogs, share at the GraphQL door: the objects
//! themselves (the fields every entry has, their conversion from the row, their listings and
//! their runs), the top-level `sources`/`targets` lists and `source`/`target` lookups, and
//! the changes and deletion mutations take. A field's description and its arguments' are string literals to
//! async-graphql, so what differs only in those is declared once here as macros over the
//! strings; the lists and connections are small objects that `Query`, `Source` and `Target`
//! flatten in, at the place the field has in the schema.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputObject, InputType};
use serde_json::Value;

use crate::domain::catalog::{self, Catalog, CatalogFields};
use crate::error::ApiResult;
use crate::graphql::args::{ListingArgs, child_args};
use crate::graphql::connection::page_request_for;
use crate::graphql::context;
use crate::graphql::json::Json;
use crate::graphql::loaders::{self, ChildKind, ChildLoader};
use crate::graphql::types::enums::{SourceKind, TargetKind};
use crate::ids::TypedId;
use crate::store::list_filter::CatalogFilter;
use crate::store::pager::Page;

/// The `source` and `target` fields: one of the tenant's entries of `C` by its global id.
pub(crate) async fn entry<C: Catalog, T: From<C::Model>>(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<T>> {
    let scope = context::scope(ctx)?;
    let id = C::Id::from_global(id, "id").api()?;
    let model = catalog::get::<C>(context::reads(ctx), &scope, id)
        .await
        .api()?;
    Ok(Some(model.into()))
}

/// A page of the `sources` or `targets` list: the tenant's entries of `C` that `filter` keeps.
pub(crate) async fn list_page<C: Catalog>(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    filter: CatalogFilter<C::Kind>,
) -> async_graphql::Result<Page<C::Model>> {
    let scope = context::scope(ctx)?;
    let request = page_request_for(ctx, first, after, last, before).api()?;
    let (db, limits) = (context::reads(ctx), context::page_limits(ctx));
    catalog::list::<C>(db, &scope, &filter, request, limits)
        .await
        .api()
}

/// A page of one of a source's or target's connections (`parent` is its id).
pub(crate) async fn child_page<K: ChildKind>(
    ctx: &Context<'_>,
    loader: &DataLoader<ChildLoader<K>>,
    parent: i64,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    listing: Option<ListingArgs>,
) -> async_graphql::Result<Page<K::Model>> {
    let args = child_args(ctx, first, after, last, before, listing).api()?;
    loaders::child_page(loader, parent, args).await
}

/// `deleteSource` and `deleteTarget`: deletes the entry of `C` whose global id is `input.id`
/// and gives that id back.
pub(crate) async fn delete_entry<C: Catalog>(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<ID> {
    let scope = context::scope(ctx)?;
    let id = C::Id::from_global(id, "input.id").api()?;
    let deleted = catalog::delete::<C>(context::db(ctx), &scope, id)
        .await
        .api()?;
    Ok(ID(deleted.to_global()))
}

/// The changes every catalog entry takes (`K` is its kind), flattened into `updateSource`'s
/// and `updateTarget`'s inputs.
#[derive(InputObject)]
#[graphql(concrete(name = "SourceChanges", params(SourceKind)))]
#[graphql(concrete(name = "TargetChanges", params(TargetKind)))]
pub struct CatalogChanges<K: InputType> {
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<K>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// New settings; replaces the old object.
    pub config: Option<Json<Value>>,
}

impl<K: InputType> CatalogChanges<K> {
    /// The domain's form of the changes.
    pub(crate) fn into_fields<D: From<K>>(self) -> CatalogFields<D> {
        CatalogFields {
            name: self.name,
            kind: self.kind.map(Into::into),
            active: self.active,
            config: self.config.map(|j| j.0),
        }
    }
}

/// Declares `$object`, whose one field `$field` lists the tenant's entries of the table
/// `$table` as `$connection`, filtered by kind (`$kind`), active flag and creation time. The
/// strings describe, in order: `first`, `after`, `last`, `before`, `kind`, `active`,
/// `createdAfter`, `createdBefore`.
macro_rules! catalog_list {
    (
        $(#[$doc:meta])*
        $object:ident { $field:ident: $table:ident, $kind:ty => $connection:ty }
        [$first:tt, $after:tt, $last:tt, $before:tt, $of_kind:tt, $active:tt, $from:tt, $to:tt]
    ) => {
        #[doc = concat!("The `", stringify!($field), "` field of `Query`, flattened into it.")]
        pub struct $object;

        #[async_graphql::Object]
        impl $object {
            $(#[$doc])*
            #[graphql(
                complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)"
            )]
            async fn $field(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = $first)] first: Option<i32>,
                #[graphql(desc = $after)] after: Option<String>,
                #[graphql(desc = $last)] last: Option<i32>,
                #[graphql(desc = $before)] before: Option<String>,
                #[graphql(desc = $of_kind)] kind: Option<$kind>,
                #[graphql(desc = $active)] active: Option<bool>,
                #[graphql(desc = $from)] created_after: Option<chrono::DateTime<chrono::Utc>>,
                #[graphql(desc = $to)] created_before: Option<chrono::DateTime<chrono::Utc>>,
            ) -> async_graphql::Result<$connection> {
                let filter = $crate::store::list_filter::CatalogFilter {
                    kind: kind.map(Into::into),
                    active,
                    created: $crate::store::list_filter::DateRange {
                        from: created_after,
                        to: created_before,
                    },
                };
                let page = $crate::graphql::catalog::list_page::<$crate::entity::$table::Entity>(
                    ctx, first, after, last, before, filter,
                )
                .await?;
                Ok(<$connection>::from_page(page))
            }
        }
    };
}
pub(crate) use catalog_list;

/// Declares `$object`, the connections of a source or target (it holds its id): `properties`
/// pages through its listings (`$connection`, from the loader `$loader`), filtered by ids,
/// state (`$status`), date and values in the JSON, and ordered; `$history` through its runs
/// (`$runs`, from `$runs_loader`), oldest first, the strings describing `first`, `after`,
/// `last` and `before`.
macro_rules! catalog_connections {
    (
        $object:ident;
        $(#[$doc:meta])*
        properties: $status:ty => $connection:ty, $loader:ident;
        $(#[$history_doc:meta])*
        $history:ident: $runs:ty, $runs_loader:ident [$first:tt, $after:tt, $last:tt, $before:tt]
    ) => {
        /// The connections of a source or target, flattened into it.
        #[derive(Clone, Debug)]
        pub struct $object(pub i64);

        #[async_graphql::Object]
        impl $object {
            $(#[$doc])*
            #[graphql(
                complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)"
            )]
            async fn properties(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Return the first N listings.")] first: Option<i32>,
                #[graphql(desc = "Return listings after this cursor.")] after: Option<String>,
                #[graphql(desc = "Return the last N listings.")] last: Option<i32>,
                #[graphql(desc = "Return listings before this cursor.")] before: Option<String>,
                #[graphql(desc = "Only listings with these external ids.")]
                external_ids: Option<Vec<String>>,
                #[graphql(desc = "Only listings in this state.")] status: Option<$status>,
                #[graphql(desc = "Only listings changed at or after this instant.")]
                updated_since: Option<chrono::DateTime<chrono::Utc>>,
                #[graphql(
                    name = "where",
                    desc = "Conditions on values inside the listing JSON; all must hold."
                )]
                conditions: Option<Vec<$crate::graphql::args::WhereCondition>>,
                #[graphql(desc = "Order (default: oldest first).")] order_by: Option<
                    $crate::graphql::args::ListingOrder,
                >,
            ) -> async_graphql::Result<$connection> {
                let listing = $crate::graphql::args::ListingArgs {
                    external_ids,
                    status: status.map(Into::into),
                    updated_since,
                    conditions,
                    order_by,
                };
                let loaders = $crate::graphql::context::loaders(ctx)?;
                let page = $crate::graphql::catalog::child_page(
                    ctx, &loaders.$loader, self.0, first, after, last, before, Some(listing),
                )
                .await?;
                Ok(<$connection>::from_page(page))
            }

            $(#[$history_doc])*
            #[graphql(
                complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)"
            )]
            async fn $history(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = $first)] first: Option<i32>,
                #[graphql(desc = $after)] after: Option<String>,
                #[graphql(desc = $last)] last: Option<i32>,
                #[graphql(desc = $before)] before: Option<String>,
            ) -> async_graphql::Result<$runs> {
                let loaders = $crate::graphql::context::loaders(ctx)?;
                let page = $crate::graphql::catalog::child_page(
                    ctx, &loaders.$runs_loader, self.0, first, after, last, before, None,
                )
                .await?;
                Ok(<$runs>::from_page(page))
            }
        }
    };
}
pub(crate) use catalog_connections;

/// Declares the GraphQL object `$type` of the catalog table `$table` (typed id `$id`): the
/// fields every entry has, with the caller's descriptions where they differ (`kind`,
/// `active`, `config`) and its own fields after `config` (converted from the row's, named
/// `$extra_name` in GraphQL), then its connections (`$listings`, from
/// [`catalog_connections!`]); with its conversion from the row, its connection types (`$what`
/// in their descriptions) and its scalar fields.
macro_rules! catalog_object {
    (
        $(#[$doc:meta])*
        $type:ident($table:ident, $id:ident, $listings:ident) {
            $(#[$kind_doc:meta])* kind: $kind:ty,
            $(#[$active_doc:meta])* active,
            $(#[$config_doc:meta])* config,
            $($(#[$extra_doc:meta])* $extra:ident: $extra_ty:ty => $extra_name:literal,)*
        }
        $conn:ident, $edge:ident, $what:literal
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, async_graphql::SimpleObject)]
        pub struct $type {
            /// Opaque global id.
            #[graphql(owned)]
            pub id: async_graphql::ID,
            /// Name, unique in your tenant.
            pub name: String,
            $(#[$kind_doc])*
            pub kind: $kind,
            $(#[$active_doc])*
            pub active: bool,
            $(#[$config_doc])*
            pub config: $crate::graphql::json::Json<serde_json::Value>,
            $($(#[$extra_doc])* pub $extra: $extra_ty,)*
            /// When it was created.
            pub created_at: chrono::DateTime<chrono::Utc>,
            /// When it was last changed.
            pub updated_at: chrono::DateTime<chrono::Utc>,
            #[graphql(flatten)]
            pub(crate) connections: $listings,
        }

        impl From<$crate::entity::$table::Model> for $type {
            fn from(model: $crate::entity::$table::Model) -> Self {
                Self {
                    id: async_graphql::ID($crate::ids::$id(model.id).to_global()),
                    connections: $listings(model.id),
                    name: model.name,
                    kind: model.kind.into(),
                    active: model.active,
                    config: $crate::graphql::json::Json(model.config),
                    $($extra: model.$extra.into(),)*
                    created_at: model.created_at,
                    updated_at: model.updated_at,
                }
            }
        }

        $crate::graphql::connection::connection_types!($conn, $edge, $type, $what);

        $crate::graphql::connection_lists::scalar_fields!($type {
            "id" => id,
            "name" => name,
            "kind" => kind,
            "active" => active,
            $($extra_name => $extra,)*
            "createdAt" => created_at,
            "updatedAt" => updated_at,
        });
    };
}
pub(crate) use catalog_object;
