//! The `Subscription` root: `importProgress`, `syncProgress` and `listingChanges`, served
//! over WebSocket (see `crate::http::ws`), and [`Api::execute_stream`], which gives a
//! subscription the same checks and shaping as a query.
//!
//! Each subscription takes a receiver of the server's [`EventHub`] *before* it checks its
//! arguments against the database, so no event committed after the subscribe message was
//! handled is missed; then it keeps the caller's tenant's events about its source or target and
//! fetches what the event only names (the import run, the sync log, the listings): the
//! [`payloads`] it sends.

mod payloads;

use std::sync::Arc;

use async_graphql::futures_util::stream::{self, BoxStream, Stream, StreamExt};
use async_graphql::{Context, Data, ErrorExtensions, ID, Request, Response, Subscription};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::{self, error::RecvError};

use self::payloads::{
    ImportProgress, ListingChange, SyncProgress, import_progress, listing_change, listing_changes,
    sync_progress,
};
use crate::domain::changes;
use crate::domain::sources::get_source;
use crate::domain::targets::get_target;
use crate::error::{ApiResult, Error, code};
use crate::events::hub::EventHub;
use crate::events::{Event, EventBody};
use crate::graphql::types::ImportRun;
use crate::graphql::{Api, Prepared, context};
use crate::ids::{ImportRunId, SourceId, SyncLogId, TargetId};
use crate::store::scope::TenantScope;

impl Api {
    /// Runs a subscription with the connection's `session` data: the checks and input
    /// coercion of [`Api::execute`] first, then each event shaped as its query selects.
    pub fn execute_stream(
        &self,
        request: Request,
        session: Arc<Data>,
    ) -> BoxStream<'static, Response> {
        match self.prepare(request) {
            Err(refused) => stream::once(async move { *refused }).boxed(),
            Ok(Prepared::AsIs(request)) => self
                .schema
                .execute_stream_with_session_data(request, session),
            Ok(Prepared::Shaped(request, shaping)) => {
                let shape = self.shape.clone();
                self.schema
                    .execute_stream_with_session_data(request, session)
                    .map(move |mut response| {
                        shaping.apply(&mut response, &shape);
                        response
                    })
                    .boxed()
            }
        }
    }
}

/// The root of subscriptions.
#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Progress of the imports into a source, while they run: a `WRITING` event per part,
    /// then a `FINISHED` event with the committed `importRun`. The subscription stays open
    /// for the next imports until the client completes it. An import that fails sends no
    /// `FINISHED` event (nothing of it was committed).
    /// Example: `subscription { importProgress(sourceId: "U291cmNlOjE=") { phase processed importRun { created } } }`
    async fn import_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the source, e.g. `U291cmNlOjE=`.")] source_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ImportProgress>> + use<>>
    {
        let (events, db, scope) = subscribe(ctx)?;
        let source = SourceId::from_global(&source_id, "sourceId").api()?;
        get_source(&db, &scope, source).await.api()?;
        Ok(picked_events(
            events,
            db,
            scope,
            move |db, scope, event| async move {
                let EventBody::Import {
                    source: of,
                    progress,
                    run,
                } = &event.body
                else {
                    return None;
                };
                if *of != source.0 {
                    return None;
                }
                let import_run = match run {
                    Some(run) => match changes::import_run(&db, &scope, ImportRunId(*run)).await {
                        Ok(run) => Some(ImportRun::from(run)),
                        Err(err) => return Some(Err(err.extend())),
                    },
                    None => None,
                };
                Some(Ok(import_progress(source, progress, import_run)))
            },
        ))
    }

    /// Progress of the syncs of a source into a target, while they run: `STARTED` (with
    /// `total`), `WRITING`, then `FINISHED` with the committed `syncLog`. Syncs run by the API
    /// and by the CLI both send them. The subscription stays open for the next syncs until the
    /// client completes it.
    /// Example: `subscription { syncProgress(sourceId: "U291cmNlOjE=", targetId: "VGFyZ2V0OjE=") { phase total syncLog { created updated } } }`
    async fn sync_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the source.")] source_id: ID,
        #[graphql(desc = "Global id of the target.")] target_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<SyncProgress>> + use<>>
    {
        let (events, db, scope) = subscribe(ctx)?;
        let source = SourceId::from_global(&source_id, "sourceId").api()?;
        let target = TargetId::from_global(&target_id, "targetId").api()?;
        get_source(&db, &scope, source).await.api()?;
        get_target(&db, &scope, target).await.api()?;
        Ok(picked_events(
            events,
            db,
            scope,
            move |db, scope, event| async move {
                let EventBody::Sync {
                    source: from,
                    target: to,
                    progress,
                    log,
                } = &event.body
                else {
                    return None;
                };
                if (*from, *to) != (source.0, target.0) {
                    return None;
                }
                let sync_log = match log {
                    Some(log) => match changes::sync_log(&db, &scope, SyncLogId(*log)).await {
                        Ok(log) => Some(log),
                        Err(err) => return Some(Err(err.extend())),
                    },
                    None => None,
                };
                Some(Ok(sync_progress(source, target, progress, sync_log)))
            },
        ))
    }

    /// The changes of a target's listings, one event per listing created, updated, removed,
    /// put in conflict or resolved, sent after the change is committed (a rolled-back change
    /// sends nothing), with the sync log or the kind of hand change that made it.
    ///
    /// With `since`, the changes after that time are replayed first, then live events follow:
    /// one event per listing changed after `since`, oldest first, naming its latest change only
    /// (as the listing's timestamps tell it; a replayed event names no sync log). A change
    /// committed while the replay is read may be sent twice.
    /// Example: `subscription { listingChanges(targetId: "VGFyZ2V0OjE=", since: "2026-01-01T00:00:00Z") { kind externalId listing { data } } }`
    async fn listing_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the target.")] target_id: ID,
        #[graphql(
            desc = "Replay the changes after this time (RFC 3339) before the live ones, e.g. `2026-01-01T00:00:00Z`."
        )]
        since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ListingChange>> + use<>>
    {
        let (events, db, scope) = subscribe(ctx)?;
        let target = TargetId::from_global(&target_id, "targetId").api()?;
        get_target(&db, &scope, target).await.api()?;
        let replayed = match since {
            Some(since) => changes::changes_since(&db, &scope, target, since)
                .await
                .api()?
                .into_iter()
                .map(|change| {
                    Ok(listing_change(
                        change.listing,
                        change.kind,
                        change.cause,
                        None,
                    ))
                })
                .collect(),
            None => Vec::new(),
        };
        let live = picked_events(events, db, scope, move |db, scope, event| async move {
            let EventBody::Listings {
                target: of,
                cause,
                log,
                changes: changed,
                ..
            } = &event.body
            else {
                return None;
            };
            if *of != target.0 {
                return None;
            }
            Some(Ok(listing_changes(&db, &scope, *cause, *log, changed).await))
        })
        .flat_map(|picked| stream::iter(picked.unwrap_or_else(|lost| vec![Err(lost)])));
        Ok(stream::iter(replayed).chain(live))
    }
}

/// The connection's receiver of events, database and tenant scope. The receiver is taken
/// first, before anything awaits.
fn subscribe(
    ctx: &Context<'_>,
) -> async_graphql::Result<(
    broadcast::Receiver<Arc<Event>>,
    DatabaseConnection,
    TenantScope,
)> {
    let scope = context::scope(ctx)?;
    let hub = ctx.data::<EventHub>().map_err(|_| {
        Error::invalid(
            "subscription",
            "subscriptions are served over WebSocket, at `/graphql/ws`",
        )
        .extend()
    })?;
    Ok((hub.subscribe(), context::db(ctx).clone(), scope))
}

/// The events of the scope's tenant; ends with an error when the subscriber fell so far behind
/// that events were lost.
fn tenant_events(
    receiver: broadcast::Receiver<Arc<Event>>,
    scope: TenantScope,
) -> impl Stream<Item = async_graphql::Result<Arc<Event>>> {
    let tenant = scope.tenant_id().0;
    stream::unfold(Some(receiver), move |receiver| async move {
        let mut receiver = receiver?;
        loop {
            match receiver.recv().await {
                Ok(event) if event.tenant == tenant => return Some((Ok(event), Some(receiver))),
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => return Some((Err(too_slow(missed)), None)),
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// What `pick` makes of each event of the scope's tenant (with its own handles on the database
/// and the scope), the events it passes over left out; the error of [`tenant_events`] that
/// ends the stream passes through.
fn picked_events<T, F, Picked>(
    receiver: broadcast::Receiver<Arc<Event>>,
    db: DatabaseConnection,
    scope: TenantScope,
    pick: F,
) -> impl Stream<Item = async_graphql::Result<T>>
where
    F: Fn(DatabaseConnection, TenantScope, Arc<Event>) -> Picked,
    Picked: Future<Output = Option<async_graphql::Result<T>>>,
{
    tenant_events(receiver, scope.clone()).filter_map(move |event| {
        let picked = event.map(|event| pick(db.clone(), scope.clone(), event));
        async move {
            match picked {
                Ok(picked) => picked.await,
                Err(lost) => Some(Err(lost)),
            }
        }
    })
}

/// The error that ends a subscription whose client read too slowly.
fn too_slow(missed: u64) -> async_graphql::Error {
    async_graphql::Error::new(format!(
        "this subscription fell {missed} events behind and was ended; subscribe again (with `since` for listing changes)"
    ))
    .extend_with(|_, ext| ext.set("code", code::SUBSCRIBER_TOO_SLOW))
}
