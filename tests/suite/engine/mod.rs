//! The sync engine through GraphQL: imports, syncs, hand edits, conflicts, snapshots and
//! retention, with exact counts at every step.

mod conflicts;
mod cross_tenant_mutations;
mod day;
mod import;
mod import_parts;
mod pages_decode;
mod statistics;
mod sync;

use serde_json::{Value, json};

use crate::common::TestApp;

/// A tenant with one source and one target, ready for listings.
pub struct Setup {
    pub app: TestApp,
    pub key: String,
    pub source: String,
    pub target: String,
}

impl Setup {
    pub async fn new() -> Self {
        let app = TestApp::spawn().await;
        let (_, key) = app.create_tenant("Acme").await;
        let source = app.create_source(&key, "Feed").await;
        let target = app.create_target(&key, "Site").await;
        Self {
            app,
            key,
            source,
            target,
        }
    }

    /// Imports `items` and returns the raw response.
    pub async fn import_raw(&self, items: Value, mode: &str, dry_run: bool) -> Value {
        self.app
            .graphql(
                &self.key,
                &format!(
                    "mutation($source: ID!, $items: JSON!, $dry: Boolean!) {{ importProperties(input: {{ sourceId: $source, items: $items, mode: {mode}, dryRun: $dry }}) {{ importRun {{ created updated unchanged removed dryRun mode durationMs actor }} }} }}"
                ),
                json!({ "source": self.source, "items": items, "dry": dry_run }),
            )
            .await
    }

    /// Imports `items` and returns `[created, updated, unchanged, removed]`.
    pub async fn import(&self, items: Value, mode: &str) -> [i64; 4] {
        let body = self.import_raw(items, mode, false).await;
        let run = &body["data"]["importProperties"]["importRun"];
        assert!(run.is_object(), "import failed: {body}");
        ["created", "updated", "unchanged", "removed"].map(|k| run[k].as_i64().unwrap())
    }

    /// Syncs and returns the sync log.
    pub async fn sync_raw(&self, dry_run: bool) -> Value {
        self.app
            .graphql(
                &self.key,
                "mutation($s: ID!, $t: ID!, $dry: Boolean!) { syncSource(input: { sourceId: $s, targetId: $t, dryRun: $dry }) { syncLog { created updated skipped conflicts removed dryRun warnings { externalId targetPropertyId message } } } }",
                json!({ "s": self.source, "t": self.target, "dry": dry_run }),
            )
            .await
    }

    /// Syncs and returns `[created, updated, skipped, conflicts, removed]` and the warnings.
    pub async fn sync(&self) -> ([i64; 5], Value) {
        let body = self.sync_raw(false).await;
        let log = &body["data"]["syncSource"]["syncLog"];
        assert!(log.is_object(), "sync failed: {body}");
        (
            ["created", "updated", "skipped", "conflicts", "removed"]
                .map(|k| log[k].as_i64().unwrap()),
            log["warnings"].clone(),
        )
    }

    /// The target's listings by external id: `{ id, data, manuallyModified, hasConflict, removedAt }`.
    pub async fn target_listings(&self) -> Vec<Value> {
        let data = self
            .app
            .data(
                &self.key,
                "query($t: ID!) { target(id: $t) { properties(first: 500) { totalCount nodes { id externalId data contentHash baseHash manuallyModified hasConflict removedAt sourceProperty { externalId contentHash } } } } }",
                json!({ "t": self.target }),
            )
            .await;
        data["target"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The target listing with this external id.
    pub async fn target_listing(&self, external_id: &str) -> Value {
        self.target_listings()
            .await
            .into_iter()
            .find(|l| l["externalId"] == external_id)
            .unwrap_or_else(|| panic!("no target listing {external_id}"))
    }

    /// The source's listings.
    pub async fn source_listings(&self) -> Vec<Value> {
        let data = self
            .app
            .data(
                &self.key,
                "query($s: ID!) { source(id: $s) { properties(first: 500) { totalCount nodes { id externalId data contentHash removedAt snapshots { totalCount nodes { reason data } } } } } }",
                json!({ "s": self.source }),
            )
            .await;
        data["source"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Applies a merge patch to a target listing by hand.
    pub async fn edit(&self, target_property: &str, patch: Value) -> Value {
        self.app
            .graphql(
                &self.key,
                "mutation($id: ID!, $patch: JSON!) { updateTargetProperty(input: { id: $id, patch: $patch }) { targetProperty { data manuallyModified manualChangedAt snapshots { totalCount nodes { reason data } } } } }",
                json!({ "id": target_property, "patch": patch }),
            )
            .await
    }

    /// How many import runs and sync logs the tenant has.
    pub async fn audit_counts(&self) -> (i64, i64) {
        let data = self
            .app
            .data(
                &self.key,
                "query($s: ID!) { source(id: $s) { importRuns { totalCount } } syncLogs { totalCount } }",
                json!({ "s": self.source }),
            )
            .await;
        (
            data["source"]["importRuns"]["totalCount"].as_i64().unwrap(),
            data["syncLogs"]["totalCount"].as_i64().unwrap(),
        )
    }
}
