//! What `Source` and `Target`, the two catalogs, share at the GraphQL door: the top-level
//! `sources`/`targets` lists, the `source`/`target` lookups, and their `properties`
//! connections. A field's description and its arguments' are string literals to
//! async-graphql, so the fields are declared once here as macros over those strings; each
//! declares a small object that `Query`, `Source` and `Target` flatten in, at the place the
//! field has in the schema.

use async_graphql::{Context, ID};

use crate::domain::catalog::{self, Catalog};
use crate::error::ApiResult;
use crate::graphql::context;
use crate::ids::TypedId;

/// The `source` and `target` fields: one of the tenant's entries of `C` by its global id.
pub(crate) async fn entry<C: Catalog, T: From<C::Model>>(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<T>> {
    let scope = context::scope(ctx)?;
    let id = C::Id::from_global(id, "id").api()?;
    let model = catalog::get::<C>(context::db(ctx), &scope, id)
        .await
        .api()?;
    Ok(Some(model.into()))
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
                use $crate::error::ApiResult;
                use $crate::graphql::context;
                let scope = context::scope(ctx)?;
                let request =
                    $crate::graphql::connection::page_request_for(ctx, first, after, last, before)
                        .api()?;
                let filter = $crate::store::list_filter::CatalogFilter {
                    kind: kind.map(Into::into),
                    active,
                    created: $crate::store::list_filter::DateRange {
                        from: created_after,
                        to: created_before,
                    },
                };
                let page = $crate::domain::catalog::list::<$crate::entity::$table::Entity>(
                    context::db(ctx),
                    &scope,
                    &filter,
                    request,
                    context::page_limits(ctx),
                )
                .await
                .api()?;
                Ok(<$connection>::from_page(page))
            }
        }
    };
}
pub(crate) use catalog_list;

/// Declares `$object`, whose one field `properties` pages through a source's or target's
/// listings (`$connection`, from the loader `$loader`), filtered by ids, state (`$status`),
/// date and values in the JSON, and ordered. It holds the source's or target's id.
macro_rules! catalog_listings {
    (
        $(#[$doc:meta])*
        $object:ident { properties: $status:ty => $connection:ty, $loader:ident }
    ) => {
        /// The `properties` field of a source or target, flattened into it.
        pub struct $object(pub(crate) i64);

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
                use $crate::error::ApiResult;
                let loaders = $crate::graphql::context::loaders(ctx)?;
                let listing = $crate::graphql::args::ListingArgs {
                    external_ids,
                    status: status.map(Into::into),
                    updated_since,
                    conditions,
                    order_by,
                };
                let args =
                    $crate::graphql::args::child_args(ctx, first, after, last, before, Some(listing))
                        .api()?;
                let page = $crate::graphql::loaders::child_page(&loaders.$loader, self.0, args)
                    .await?;
                Ok(<$connection>::from_page(page))
            }
        }
    };
}
pub(crate) use catalog_listings;
