//! DataLoaders, made per request for one tenant, so a batch never crosses tenants and no cache
//! outlives the request. Nested connections load one page per parent for all parents of a
//! level in one statement ([`crate::store::pager`]); single objects load by id in one
//! statement per level.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::ErrorExtensions;
use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;

use crate::domain::{audit, catalog, listings, snapshots};
use crate::entity::{
    import_run, source, source_property, source_snapshot, sync_log, target, target_property,
    target_snapshot,
};
use crate::error::Error;
use crate::graphql::passes::Passes;
use crate::store::pager::PageLimits;
use crate::store::pager::{ChildArgs, Page};
use crate::store::read_session::ReadSession;
use crate::store::scope::TenantScope;

/// A nested connection under one parent, with its arguments.
#[derive(Clone, Debug)]
pub struct ChildKey {
    /// The parent's primary key.
    pub parent: i64,
    /// The connection's arguments, shared by the keys of one field.
    pub args: Arc<ChildArgs>,
    fingerprint: Arc<str>,
}

impl ChildKey {
    /// A key for `parent` with `args`.
    pub fn new(parent: i64, args: Arc<ChildArgs>) -> Self {
        let fingerprint = args.fingerprint().into();
        Self {
            parent,
            args,
            fingerprint,
        }
    }
}

impl PartialEq for ChildKey {
    fn eq(&self, other: &Self) -> bool {
        self.parent == other.parent && self.fingerprint == other.fingerprint
    }
}

impl Eq for ChildKey {}

impl Hash for ChildKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parent.hash(state);
        self.fingerprint.hash(state);
    }
}

/// One kind of nested connection: which rows, under which parents.
pub trait ChildKind: Send + Sync + 'static {
    /// The rows.
    type Model: Clone + Send + Sync + 'static;

    /// Loads one page per parent.
    fn load(
        db: &ReadSession,
        scope: &TenantScope,
        parents: &[i64],
        args: &ChildArgs,
        limits: PageLimits,
    ) -> impl Future<Output = Result<HashMap<i64, Page<Self::Model>>, Error>> + Send;
}

/// Declares a [`ChildKind`] backed by a domain function.
macro_rules! child_kind {
    ($(#[$doc:meta] $kind:ident => $model:ty, $load:path;)+) => {
        $(
            #[$doc]
            pub struct $kind;

            impl ChildKind for $kind {
                type Model = $model;

                async fn load(
                    db: &ReadSession,
                    scope: &TenantScope,
                    parents: &[i64],
                    args: &ChildArgs,
                    limits: PageLimits,
                ) -> Result<HashMap<i64, Page<Self::Model>>, Error> {
                    $load(db, scope, parents, args, limits).await
                }
            }
        )+
    };
}

child_kind! {
    /// `Source.properties`.
    SourceProperties => source_property::Model, listings::source_property_pages;
    /// `Target.properties`.
    TargetProperties => target_property::Model, listings::target_property_pages;
    /// `SourceProperty.targetProperties`.
    TargetPropertiesOfSourceProperty => target_property::Model, listings::target_properties_of_source_properties;
    /// `SourceProperty.snapshots`.
    SourceSnapshots => source_snapshot::Model, snapshots::source_snapshot_pages;
    /// `TargetProperty.snapshots`.
    TargetSnapshots => target_snapshot::Model, snapshots::target_snapshot_pages;
    /// `Source.importRuns`.
    ImportRuns => import_run::Model, audit::import_run_pages;
    /// `Target.syncLogs`.
    SyncLogs => sync_log::Model, audit::sync_log_pages;
}

/// Loads pages of `K` under many parents.
pub struct ChildLoader<K> {
    db: ReadSession,
    scope: TenantScope,
    limits: PageLimits,
    kind: PhantomData<K>,
}

impl<K: ChildKind> Loader<ChildKey> for ChildLoader<K> {
    /// Shared: the DataLoader hands each requester a clone of its value, and a page holds
    /// hundreds of rows ([`child_page`] unwraps it).
    type Value = Arc<Page<K::Model>>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ChildKey]) -> Result<HashMap<ChildKey, Self::Value>, Self::Error> {
        // Keys of one field share their arguments: one statement per distinct arguments.
        let mut groups: HashMap<&str, Vec<&ChildKey>> = HashMap::new();
        for key in keys {
            groups.entry(&key.fingerprint).or_default().push(key);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for group in groups.into_values() {
            let parents: Vec<i64> = group.iter().map(|k| k.parent).collect();
            let args = &group[0].args;
            let mut pages = K::load(&self.db, &self.scope, &parents, args, self.limits)
                .await
                .map_err(Arc::new)?;
            for key in group {
                let page = pages.remove(&key.parent).unwrap_or_default();
                loaded.insert(key.clone(), Arc::new(page));
            }
        }
        Ok(loaded)
    }
}

/// The page of nested connection `K` under `parent`, loaded in one batch with its siblings'.
/// The page is unwrapped from its `Arc` without copying when this is its last handle.
pub async fn child_page<K: ChildKind>(
    loader: &DataLoader<ChildLoader<K>>,
    parent: i64,
    args: Arc<ChildArgs>,
) -> async_graphql::Result<Page<K::Model>> {
    let page = loader
        .load_one(ChildKey::new(parent, args))
        .await
        .map_err(|e| e.extend())?;
    Ok(page.map(Arc::unwrap_or_clone).unwrap_or_default())
}

/// Loads rows by id, in one statement per batch.
pub struct ByIdLoader<M> {
    db: ReadSession,
    scope: TenantScope,
    model: PhantomData<M>,
}

/// Declares a by-id loader backed by a domain function.
macro_rules! by_id {
    ($($model:ty => $load:path;)+) => {
        $(
            impl Loader<i64> for ByIdLoader<$model> {
                type Value = $model;
                type Error = Arc<Error>;

                async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
                    let rows = $load(&self.db, &self.scope, keys).await.map_err(Arc::new)?;
                    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
                }
            }
        )+
    };
}

by_id! {
    source_property::Model => listings::source_properties_by_ids;
    source::Model => catalog::by_ids::<source::Entity>;
    target::Model => catalog::by_ids::<target::Entity>;
}

/// The row `id` through by-id loader `loader` (in one batch with its siblings'), as API type
/// `T`; `None` when it is gone.
pub async fn one_by_id<M, T>(
    loader: &DataLoader<ByIdLoader<M>>,
    id: i64,
) -> async_graphql::Result<Option<T>>
where
    ByIdLoader<M>: Loader<i64, Value = M, Error = Arc<Error>>,
    T: From<M>,
{
    let found = loader.load_one(id).await.map_err(|e| e.extend())?;
    Ok(found.map(T::from))
}

/// The version that replaced a snapshot, keyed by `(snapshot id, listing id)`.
pub struct ReplacementLoader<M> {
    db: ReadSession,
    scope: TenantScope,
    model: PhantomData<M>,
}

/// Declares a replacement loader backed by a domain function.
macro_rules! replacements {
    ($($model:ty => $load:path;)+) => {
        $(
            impl Loader<(i64, i64)> for ReplacementLoader<$model> {
                type Value = serde_json::Value;
                type Error = Arc<Error>;

                async fn load(
                    &self,
                    keys: &[(i64, i64)],
                ) -> Result<HashMap<(i64, i64), Self::Value>, Self::Error> {
                    let found = $load(&self.db, &self.scope, keys).await.map_err(Arc::new)?;
                    Ok(keys
                        .iter()
                        .filter_map(|key| found.get(&key.0).map(|v| (*key, v.clone())))
                        .collect())
                }
            }
        )+
    };
}

replacements! {
    source_snapshot::Model => snapshots::source_replacements;
    target_snapshot::Model => snapshots::target_replacements;
}

/// The loaders of one request.
pub struct Loaders {
    /// Source listings by id.
    pub source_properties: DataLoader<ByIdLoader<source_property::Model>>,
    /// Sources by id.
    pub sources: DataLoader<ByIdLoader<source::Model>>,
    /// Targets by id.
    pub targets: DataLoader<ByIdLoader<target::Model>>,
    /// `Source.properties` pages.
    pub source_property_pages: DataLoader<ChildLoader<SourceProperties>>,
    /// `Target.properties` pages.
    pub target_property_pages: DataLoader<ChildLoader<TargetProperties>>,
    /// `SourceProperty.targetProperties` pages.
    pub target_properties_of_source: DataLoader<ChildLoader<TargetPropertiesOfSourceProperty>>,
    /// `SourceProperty.snapshots` pages.
    pub source_snapshot_pages: DataLoader<ChildLoader<SourceSnapshots>>,
    /// `TargetProperty.snapshots` pages.
    pub target_snapshot_pages: DataLoader<ChildLoader<TargetSnapshots>>,
    /// `Source.importRuns` pages.
    pub import_run_pages: DataLoader<ChildLoader<ImportRuns>>,
    /// `Target.syncLogs` pages.
    pub sync_log_pages: DataLoader<ChildLoader<SyncLogs>>,
    /// What replaced each source snapshot (`SourceSnapshot.changes`).
    pub source_replacements: DataLoader<ReplacementLoader<source_snapshot::Model>>,
    /// What replaced each target snapshot (`TargetSnapshot.changes`).
    pub target_replacements: DataLoader<ReplacementLoader<target_snapshot::Model>>,
}

impl Loaders {
    /// Fresh loaders for one request of `scope`'s tenant, each batching the keys that arrive
    /// within 1 ms (for executions not run by [`Passes::drive`]: subscriptions).
    pub fn new(db: &DatabaseConnection, scope: TenantScope, limits: PageLimits) -> Self {
        Self::build(&ReadSession::pooled(db.clone()), scope, limits, None)
    }

    /// Fresh loaders for one request of `scope`'s tenant, each batching the keys one
    /// execution pass asks for: the request must run through `passes`' [`Passes::drive`].
    pub fn per_pass(
        db: &ReadSession,
        scope: TenantScope,
        limits: PageLimits,
        passes: &Passes,
    ) -> Self {
        Self::build(db, scope, limits, Some(passes))
    }

    fn build(
        db: &ReadSession,
        scope: TenantScope,
        limits: PageLimits,
        passes: Option<&Passes>,
    ) -> Self {
        fn by_id<M>(
            db: &ReadSession,
            scope: TenantScope,
            passes: Option<&Passes>,
        ) -> DataLoader<ByIdLoader<M>>
        where
            ByIdLoader<M>: Loader<i64>,
            M: Send + Sync + 'static,
        {
            let loader = ByIdLoader {
                db: db.clone(),
                scope,
                model: PhantomData,
            };
            batched(loader, passes)
        }
        fn pages<K: ChildKind>(
            db: &ReadSession,
            scope: TenantScope,
            limits: PageLimits,
            passes: Option<&Passes>,
        ) -> DataLoader<ChildLoader<K>> {
            let loader = ChildLoader {
                db: db.clone(),
                scope,
                limits,
                kind: PhantomData,
            };
            batched(loader, passes)
        }
        fn replacements<M>(
            db: &ReadSession,
            scope: TenantScope,
            passes: Option<&Passes>,
        ) -> DataLoader<ReplacementLoader<M>>
        where
            ReplacementLoader<M>: Loader<(i64, i64)>,
            M: Send + Sync + 'static,
        {
            let loader = ReplacementLoader {
                db: db.clone(),
                scope,
                model: PhantomData,
            };
            batched(loader, passes)
        }
        Self {
            source_replacements: replacements(db, scope.clone(), passes),
            target_replacements: replacements(db, scope.clone(), passes),
            source_properties: by_id(db, scope.clone(), passes),
            sources: by_id(db, scope.clone(), passes),
            targets: by_id(db, scope.clone(), passes),
            source_property_pages: pages(db, scope.clone(), limits, passes),
            target_property_pages: pages(db, scope.clone(), limits, passes),
            target_properties_of_source: pages(db, scope.clone(), limits, passes),
            source_snapshot_pages: pages(db, scope.clone(), limits, passes),
            target_snapshot_pages: pages(db, scope.clone(), limits, passes),
            import_run_pages: pages(db, scope.clone(), limits, passes),
            sync_log_pages: pages(db, scope.clone(), limits, passes),
        }
    }
}

/// A DataLoader of `loader` that batches per pass of `passes`, or else within 1 ms.
fn batched<T: Send + Sync + 'static>(loader: T, passes: Option<&Passes>) -> DataLoader<T> {
    match passes {
        None => DataLoader::new(loader, crate::telemetry::spawn),
        Some(passes) => DataLoader::new(loader, passes.spawner()).delay(Duration::ZERO),
    }
}
