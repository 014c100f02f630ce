//! The query root.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::store::list_filter::{DateRange, SyncLogFilter};

use crate::domain::{audit, conflicts, snapshots, tenants};
use crate::entity::{source, target};
use crate::error::ApiResult;
use crate::graphql::catalog::{self, catalog_list};
use crate::graphql::connection::page_request_for;
use crate::graphql::context;
use crate::graphql::node::{Node, resolve_node, resolve_nodes};
use crate::graphql::types::enums::{SourceKind, TargetKind};
use crate::graphql::types::{
    CleanupRunConnection, ConflictConnection, Source, SourceConnection, SyncLogConnection, Target,
    TargetConnection, Tenant,
};
use crate::ids::{SourceId, TargetId};

/// The query root.
#[derive(Default)]
pub struct QueryRoot;

/// Everything you can read. All of it is scoped to the tenant of your API key.
#[Object(name = "Query")]
impl QueryRoot {
    /// The tenant of the API key that sent the request.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        let scope = context::scope(ctx)?;
        let tenant = tenants::viewer(context::reads(ctx), &scope).await.api()?;
        Ok(Tenant::new(tenant, scope))
    }

    /// Fetches any object by its global id; null when it does not exist in your tenant.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id, as any object's `id` field gives it.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        resolve_node(ctx, &id).await
    }

    /// Fetches several objects by their global ids, in order; null for each that does not
    /// exist in your tenant.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, as objects' `id` fields give them.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        let limit = context::page_limits(ctx).max_size as usize;
        if ids.len() > limit {
            return Err(crate::error::Error::invalid(
                "ids",
                format!("at most {limit} ids at a time (the page size limit)"),
            ))
            .api();
        }
        resolve_nodes(ctx, &ids, "ids").await
    }

    #[graphql(flatten)]
    async fn sources(&self) -> SourceList {
        SourceList
    }

    /// One of your sources; null, with a `NOT_FOUND` error, when there is no such source in your
    /// tenant (the rest of the response is kept).
    async fn source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The source's global id.")] id: ID,
    ) -> async_graphql::Result<Option<Source>> {
        catalog::entry::<source::Entity, _>(ctx, &id).await
    }

    #[graphql(flatten)]
    async fn targets(&self) -> TargetList {
        TargetList
    }

    /// Your syncs, oldest first, filtered by source, target, warnings, dry runs and dates.
    #[graphql(complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)")]
    async fn sync_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only syncs from this source.")] source_id: Option<ID>,
        #[graphql(desc = "Only syncs into this target.")] target_id: Option<ID>,
        #[graphql(desc = "Return the first N sync logs.")] first: Option<i32>,
        #[graphql(desc = "Return sync logs after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N sync logs.")] last: Option<i32>,
        #[graphql(desc = "Return sync logs before this cursor.")] before: Option<String>,
        #[graphql(desc = "Only syncs with warnings (true) or without (false).")]
        has_warnings: Option<bool>,
        #[graphql(desc = "Only dry runs (true) or only real syncs (false).")] dry_run: Option<bool>,
        #[graphql(desc = "Only syncs started at or after this instant.")] started_after: Option<
            DateTime<Utc>,
        >,
        #[graphql(desc = "Only syncs started at or before this instant.")] started_before: Option<
            DateTime<Utc>,
        >,
    ) -> async_graphql::Result<SyncLogConnection> {
        let scope = context::scope(ctx)?;
        let source_id = source_id
            .map(|id| SourceId::from_global(&id, "sourceId"))
            .transpose()
            .api()?;
        let target_id = target_id
            .map(|id| TargetId::from_global(&id, "targetId"))
            .transpose()
            .api()?;
        let request = page_request_for(ctx, first, after, last, before).api()?;
        let filter = SyncLogFilter {
            source_id,
            target_id,
            has_warnings,
            dry_run,
            started: DateRange {
                from: started_after,
                to: started_before,
            },
        };
        let page = audit::list_sync_logs(
            context::reads(ctx),
            &scope,
            &filter,
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(SyncLogConnection::from_page(page))
    }

    /// Your snapshot cleanups (`cleanupSnapshots` and the CLI's `cleanup`, dry runs included),
    /// oldest first: each with what it deleted, what it kept because it is pinned, and who ran
    /// it. E.g. `cleanupRuns(last: 1) { nodes { dryRun keptPinned actor } }`.
    #[graphql(complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)")]
    async fn cleanup_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N cleanup runs.")] first: Option<i32>,
        #[graphql(desc = "Return cleanup runs after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N cleanup runs.")] last: Option<i32>,
        #[graphql(desc = "Return cleanup runs before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<CleanupRunConnection> {
        let scope = context::scope(ctx)?;
        let request = page_request_for(ctx, first, after, last, before).api()?;
        let page = snapshots::list_cleanup_runs(
            context::reads(ctx),
            &scope,
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(CleanupRunConnection::from_page(page))
    }

    /// Listings edited by hand on a target whose source changed since: each with the target
    /// version, the new source version and the version at the last sync. Oldest first.
    #[graphql(complexity = "crate::graphql::args::connection_cost(first, last, child_complexity)")]
    async fn conflicts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first N conflicts.")] first: Option<i32>,
        #[graphql(desc = "Return conflicts after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last N conflicts.")] last: Option<i32>,
        #[graphql(desc = "Return conflicts before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<ConflictConnection> {
        let scope = context::scope(ctx)?;
        let request = page_request_for(ctx, first, after, last, before).api()?;
        let page = conflicts::list_conflicts(
            context::reads(ctx),
            &scope,
            request,
            context::page_limits(ctx),
        )
        .await
        .api()?;
        Ok(ConflictConnection::from_page(page))
    }

    /// One of your targets; null, with a `NOT_FOUND` error, when there is no such target in your
    /// tenant (the rest of the response is kept).
    async fn target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target's global id.")] id: ID,
    ) -> async_graphql::Result<Option<Target>> {
        catalog::entry::<target::Entity, _>(ctx, &id).await
    }
}

catalog_list! {
    /// Your sources, oldest first.
    SourceList { sources: source, SourceKind => SourceConnection }
    ["Return the first N sources.", "Return sources after this cursor.",
     "Return the last N sources.", "Return sources before this cursor.",
     "Only sources of this kind.", "Only active (true) or inactive (false) sources.",
     "Only sources created at or after this instant.", "Only sources created at or before this instant."]
}

catalog_list! {
    /// Your targets, oldest first.
    TargetList { targets: target, TargetKind => TargetConnection }
    ["Return the first N targets.", "Return targets after this cursor.",
     "Return the last N targets.", "Return targets before this cursor.",
     "Only targets of this kind.", "Only active (true) or inactive (false) targets.",
     "Only targets created at or after this instant.", "Only targets created at or before this instant."]
}
