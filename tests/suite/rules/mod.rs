//! The rules of DESIGN.md, one test per row, checked on the domain functions themselves (no
//! HTTP, no GraphQL): `import` the import rule (rule 2) with its mass-removal guard, `sync`
//! the sync rule (rule 3) with the conflict policies, `edits` the hand edits and the conflict
//! resolutions (rules 4 and 5). Each test gets a fresh database of the run's kind (SQLite, or
//! PostgreSQL with `TEST_DATABASE_URL`), a tenant, a source and a target.

mod edits;
mod import;
mod sync;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use sync_manager::domain::audit::Actor;
use sync_manager::domain::conflicts::{self, Resolution};
use sync_manager::domain::edits::update_target_property;
use sync_manager::domain::import::batch::items_of;
use sync_manager::domain::import::{ImportMode, ImportOptions, import_listings};
use sync_manager::domain::merge::Choice;
use sync_manager::domain::sources::{self, NewSource, SourceKind};
use sync_manager::domain::sync::{SyncOptions, sync_source_to_target};
use sync_manager::domain::targets::{self, ConflictPolicy, NewTarget, TargetKind};
use sync_manager::domain::tenants::{self, NewTenant};
use sync_manager::entity::{
    import_run, source_property, source_snapshot, sync_log, target_property, target_snapshot,
};
use sync_manager::error::Error;
use sync_manager::ids::{SourceId, TargetId, TargetPropertyId};
use sync_manager::store::scope::TenantScope;

use crate::common::TestDatabase;

/// A migrated database with one tenant, one source (`Feed`) and one target (`Site`).
pub struct Domain {
    pub db: DatabaseConnection,
    pub scope: TenantScope,
    pub source: SourceId,
    pub target: TargetId,
    /// The database's URL, for more connections to it.
    pub url: String,
    // Last, so the pool closes before the database is dropped.
    _database: TestDatabase,
}

impl Domain {
    /// A target with the default policy (`FLAG`) and default configs.
    pub async fn new() -> Self {
        Self::with(ConflictPolicy::Flag, json!({}), json!({})).await
    }

    /// A target with `policy`.
    pub async fn with_policy(policy: ConflictPolicy) -> Self {
        Self::with(policy, json!({}), json!({})).await
    }

    /// A source and a target with these configs and the target's policy.
    pub async fn with(policy: ConflictPolicy, source_config: Value, target_config: Value) -> Self {
        let (database, url) = TestDatabase::create().await;
        let db = sync_manager::db::connect_and_migrate(&url)
            .await
            .expect("connect and migrate");
        let tenant = tenants::create_tenant(
            &db,
            NewTenant {
                name: "Acme".into(),
                slug: None,
            },
        )
        .await
        .unwrap();
        let scope = tenant.scope;
        let source = sources::create_source(
            &db,
            &scope,
            NewSource {
                name: "Feed".into(),
                kind: SourceKind::Json,
                active: true,
                config: source_config,
            },
        )
        .await
        .unwrap();
        let target = targets::create_target(
            &db,
            &scope,
            NewTarget {
                name: "Site".into(),
                kind: TargetKind::Website,
                active: true,
                config: target_config,
                conflict_policy: policy,
            },
        )
        .await
        .unwrap();
        Self {
            db,
            scope,
            source: SourceId(source.id),
            target: TargetId(target.id),
            url,
            _database: database,
        }
    }

    /// Makes the source inactive.
    pub async fn deactivate_source(&self) {
        let patch = sources::SourcePatch {
            active: Some(false),
            ..Default::default()
        };
        sources::update_source(&self.db, &self.scope, self.source, patch)
            .await
            .unwrap();
    }

    /// Imports `items` (an object or an array) with `options`.
    pub async fn import_with(
        &self,
        items: Value,
        options: ImportOptions,
    ) -> Result<import_run::Model, Error> {
        let label = |index: usize| format!("items[{index}]");
        import_listings(
            &self.db,
            &self.scope,
            self.source,
            items_of(items),
            &label,
            options,
        )
        .await
    }

    /// Imports `items` in `mode`; the counts created, updated, unchanged, removed.
    pub async fn import(&self, items: Value, mode: ImportMode) -> [i32; 4] {
        let run = self.import_with(items, import_options(mode)).await.unwrap();
        [run.created, run.updated, run.unchanged, run.removed]
    }

    /// Syncs the source into the target with `options`.
    pub async fn sync_with(&self, options: SyncOptions) -> Result<sync_log::Model, Error> {
        sync_source_to_target(&self.db, &self.scope, self.source, self.target, options).await
    }

    /// Syncs the source into the target and returns the log.
    pub async fn sync(&self) -> sync_log::Model {
        self.sync_with(sync_options()).await.unwrap()
    }

    /// The source listing with this external id.
    pub async fn source_listing(&self, external_id: &str) -> source_property::Model {
        source_property::Entity::find()
            .filter(source_property::Column::ExternalId.eq(external_id))
            .one(&self.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no source listing `{external_id}`"))
    }

    /// The target listing with this external id.
    pub async fn target_listing(&self, external_id: &str) -> target_property::Model {
        self.find_target_listing(external_id)
            .await
            .unwrap_or_else(|| panic!("no target listing `{external_id}`"))
    }

    /// The target listing with this external id, if the target has one.
    pub async fn find_target_listing(&self, external_id: &str) -> Option<target_property::Model> {
        target_property::Entity::find()
            .filter(target_property::Column::ExternalId.eq(external_id))
            .one(&self.db)
            .await
            .unwrap()
    }

    /// The snapshots of a source listing, oldest first.
    pub async fn source_snapshots(&self, external_id: &str) -> Vec<source_snapshot::Model> {
        let listing = self.source_listing(external_id).await;
        source_snapshot::Entity::find()
            .filter(source_snapshot::Column::SourcePropertyId.eq(listing.id))
            .all(&self.db)
            .await
            .unwrap()
    }

    /// The snapshots of a target listing, oldest first.
    pub async fn target_snapshots(&self, external_id: &str) -> Vec<target_snapshot::Model> {
        let listing = self.target_listing(external_id).await;
        target_snapshot::Entity::find()
            .filter(target_snapshot::Column::TargetPropertyId.eq(listing.id))
            .all(&self.db)
            .await
            .unwrap()
    }

    /// How many rows the tables of listings, snapshots and runs hold: source listings,
    /// source snapshots, import runs, target listings, target snapshots, sync logs.
    pub async fn rows(&self) -> [u64; 6] {
        let db = &self.db;
        [
            source_property::Entity::find().count(db).await.unwrap(),
            source_snapshot::Entity::find().count(db).await.unwrap(),
            import_run::Entity::find().count(db).await.unwrap(),
            target_property::Entity::find().count(db).await.unwrap(),
            target_snapshot::Entity::find().count(db).await.unwrap(),
            sync_log::Entity::find().count(db).await.unwrap(),
        ]
    }

    /// Edits a target listing by hand with a JSON Merge Patch.
    pub async fn edit(&self, external_id: &str, patch: Value) -> target_property::Model {
        let listing = self.target_listing(external_id).await;
        update_target_property(
            &self.db,
            &self.scope,
            TargetPropertyId(listing.id),
            patch,
            None,
        )
        .await
        .unwrap()
    }

    /// Resolves the conflict of a target listing.
    pub async fn resolve(
        &self,
        external_id: &str,
        resolution: Resolution,
        data: Option<Value>,
        choices: Vec<Choice>,
    ) -> Result<target_property::Model, Error> {
        let listing = self.target_listing(external_id).await;
        conflicts::resolve_conflict(
            &self.db,
            &self.scope,
            TargetPropertyId(listing.id),
            resolution,
            data,
            choices,
            Actor::Cli,
            None,
        )
        .await
    }

    /// A target listing edited by hand (`{"title": "Hand"}`) after its source changed
    /// (`price` 1 → 2): imported, synced, edited, changed at the source, synced again.
    pub async fn conflicting(&self, external_id: &str) -> sync_log::Model {
        self.import(
            json!({ "id": external_id, "title": "Scraped", "price": 1 }),
            ImportMode::Incremental,
        )
        .await;
        self.sync().await;
        self.edit(external_id, json!({ "title": "Hand" })).await;
        self.import(
            json!({ "id": external_id, "title": "Scraped", "price": 2 }),
            ImportMode::Incremental,
        )
        .await;
        self.sync().await
    }
}

/// Import options: `mode`, not a dry run, the guard on, run by the CLI.
pub fn import_options(mode: ImportMode) -> ImportOptions {
    ImportOptions {
        mode,
        dry_run: false,
        allow_mass_removal: false,
        actor: Actor::Cli,
    }
}

/// Sync options: not a dry run, the guard on, run by the CLI.
pub fn sync_options() -> SyncOptions {
    SyncOptions::new(Actor::Cli)
}

/// The field an `InvalidInput` error names, and its reason.
pub fn invalid(error: Error) -> (String, String) {
    match error {
        Error::InvalidInput { field, reason } => (field, reason),
        other => panic!("expected an invalid input, got {other:?}"),
    }
}

/// The external ids the warnings of a sync log name.
pub fn warned(log: &sync_log::Model) -> Vec<String> {
    log.warnings
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["externalId"].as_str().unwrap().to_owned())
        .collect()
}
