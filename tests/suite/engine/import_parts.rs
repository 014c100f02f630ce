//! Imports in parts, at the domain level: what the import path (on SQLite and PostgreSQL
//! alike) must keep exactly: the text of every listing, each category of a mixed part,
//! and an all-or-nothing import across parts.

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use sync_manager::domain::audit::Actor;
use sync_manager::domain::import::{ImportMode, ImportOptions, ImportSession};
use sync_manager::domain::sources::{NewSource, SourceKind, create_source};
use sync_manager::domain::tenants::{NewTenant, create_tenant};
use sync_manager::entity::{import_run, source_property, source_snapshot};
use sync_manager::hashing::content_hash;
use sync_manager::ids::SourceId;
use sync_manager::store::scope::TenantScope;

use crate::common::TestApp;

struct Source {
    app: TestApp,
    scope: TenantScope,
    id: SourceId,
}

impl Source {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let created = create_tenant(
            &app.db,
            NewTenant {
                name: "Acme".into(),
                slug: None,
            },
        )
        .await
        .unwrap();
        let scope = created.scope;
        let source = create_source(
            &app.db,
            &scope,
            NewSource {
                name: "Feed".into(),
                kind: SourceKind::Json,
                active: true,
                config: json!({}),
            },
        )
        .await
        .unwrap();
        Self {
            app,
            scope,
            id: SourceId(source.id),
        }
    }

    fn db(&self) -> &DatabaseConnection {
        &self.app.db
    }

    /// Starts an import (any number of removals allowed).
    async fn begin(&self, mode: ImportMode) -> ImportSession {
        let options = ImportOptions {
            mode,
            dry_run: false,
            allow_mass_removal: true,
            actor: Actor::Cli,
        };
        ImportSession::begin(self.db(), &self.scope, self.id, options)
            .await
            .unwrap()
    }

    /// Imports `parts` as one import; returns `[created, updated, unchanged, removed]`.
    async fn import(&self, parts: Vec<Vec<Value>>, mode: ImportMode) -> [i32; 4] {
        let mut session = self.begin(mode).await;
        for part in parts {
            session.add(part, &|i| format!("items[{i}]")).await.unwrap();
        }
        let run = session.finish().await.unwrap();
        [run.created, run.updated, run.unchanged, run.removed]
    }

    /// The stored listings in id order.
    async fn stored(&self) -> Vec<source_property::Model> {
        source_property::Entity::find()
            .filter(source_property::Column::SourceId.eq(self.id.0))
            .order_by_asc(source_property::Column::Id)
            .all(self.db())
            .await
            .unwrap()
    }

    /// The stored listings in id order: `(external_id, data, content_hash, removed)`.
    async fn listings(&self) -> Vec<(String, Value, String, bool)> {
        self.stored()
            .await
            .into_iter()
            .map(|l| {
                (
                    l.external_id,
                    l.data,
                    l.content_hash,
                    l.removed_at.is_some(),
                )
            })
            .collect()
    }

    /// The snapshots: the external id of their listing and their `v`.
    async fn snapshotted(&self) -> Vec<(String, String)> {
        let stored = self.stored().await;
        source_snapshot::Entity::find()
            .order_by_asc(source_snapshot::Column::Id)
            .all(self.db())
            .await
            .unwrap()
            .into_iter()
            .map(|s| {
                let listing = stored
                    .iter()
                    .find(|l| l.id == s.source_property_id)
                    .unwrap();
                (listing.external_id.clone(), s.data["v"].to_string())
            })
            .collect()
    }
}

#[tokio::test]
async fn awkward_text_is_stored_and_hashed_exactly_as_sent() {
    let s = Source::new().await;
    let awkward = [
        json!({ "id": "tab\there", "t": "a\tb", "n": "line\nnext\r\nend" }),
        json!({ "id": "back\\slash", "t": "C:\\path\\n not a newline \\\\ two", "q": "\"quoted\"" }),
        json!({ "id": "ünï¢ødé ✓ 🏠", "t": "עברית مرحبا 漢字 e\u{301}", "ctl": "\u{1}\u{1f}\u{7f}" }),
        json!({ "id": 7, "t": "\\N", "empty": "", "nested": { "k\tey": ["\\", "\n", null] } }),
        json!({ "id": "big", "price": 12345678901234567890_u64, "f": 0.1, "neg": -2.5 }),
    ];
    assert_eq!(
        s.import(vec![awkward.to_vec()], ImportMode::Incremental)
            .await,
        [5, 0, 0, 0]
    );
    let stored = s.listings().await;
    let ids: Vec<&str> = stored.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        ids,
        ["tab\there", "back\\slash", "ünï¢ødé ✓ 🏠", "7", "big"]
    );
    for ((_, data, hash, removed), sent) in stored.iter().zip(&awkward) {
        assert_eq!(data, sent);
        assert_eq!(hash, &content_hash(sent));
        assert!(!removed);
    }
    // The same text again is unchanged: the stored hash is the one of the sent listing.
    assert_eq!(
        s.import(vec![awkward.to_vec()], ImportMode::Incremental)
            .await,
        [0, 0, 5, 0]
    );
}

#[tokio::test]
async fn one_part_mixes_new_changed_unchanged_and_returning_listings() {
    let s = Source::new().await;
    let v = |id: &str, v: i64| json!({ "id": id, "v": v });
    let first = vec![
        v("same", 1),
        v("changed", 1),
        v("back", 1),
        v("back-changed", 1),
    ];
    assert_eq!(
        s.import(vec![first], ImportMode::Incremental).await,
        [4, 0, 0, 0]
    );
    // A full scrape without the last two marks them removed.
    let full = vec![v("same", 1), v("changed", 1)];
    assert_eq!(s.import(vec![full], ImportMode::Full).await, [0, 0, 2, 2]);

    let mixed = vec![
        v("new", 1),
        v("back-changed", 2),
        v("same", 1),
        v("changed", 2),
        v("back", 1),
    ];
    assert_eq!(
        s.import(vec![mixed], ImportMode::Incremental).await,
        [1, 3, 1, 0]
    );
    let stored: Vec<(String, i64, bool)> = s
        .listings()
        .await
        .into_iter()
        .map(|(id, data, _, removed)| (id, data["v"].as_i64().unwrap(), removed))
        .collect();
    let expected = [
        ("same", 1, false),
        ("changed", 2, false),
        ("back", 1, false),
        ("back-changed", 2, false),
        ("new", 1, false),
    ];
    assert_eq!(
        stored,
        expected.map(|(id, v, r)| (id.to_owned(), v, r)).to_vec()
    );
    // Only the changed ones left a snapshot of their old version.
    let mut snapshotted = s.snapshotted().await;
    snapshotted.sort();
    assert_eq!(
        snapshotted,
        [
            ("back-changed".to_owned(), "1".to_owned()),
            ("changed".to_owned(), "1".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_failure_in_a_later_part_rolls_back_every_part() {
    let s = Source::new().await;
    let options = ImportOptions {
        mode: ImportMode::Full,
        dry_run: false,
        allow_mass_removal: false,
        actor: Actor::Cli,
    };
    let label = |i: usize| format!("items[{i}]");
    let mut session = ImportSession::begin(s.db(), &s.scope, s.id, options)
        .await
        .unwrap();
    let part: Vec<Value> = (0..3).map(|i| json!({ "id": i })).collect();
    session.add(part, &label).await.unwrap();
    let part = vec![json!({ "id": 3 }), json!({ "id": 4, "t": "a\u{0}b" })];
    let err = session.add(part, &label).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid items[4]: contains a NUL character (\\u0000), which cannot be stored"
    );
    drop(session);
    assert!(s.listings().await.is_empty());
    assert_eq!(import_run::Entity::find().count(s.db()).await.unwrap(), 0);
    // The pool's connection is clean again: the next import writes as usual.
    let part: Vec<Value> = (0..2).map(|i| json!({ "id": i })).collect();
    assert_eq!(
        s.import(vec![part], ImportMode::Incremental).await,
        [2, 0, 0, 0]
    );
}

/// A part larger than the import's stages (2,000 items) is checked, hashed and written stage
/// by stage, as one: the counts cover every stage, a repeat across stages is refused with
/// both items named, and the refused import leaves what was there.
#[tokio::test]
async fn a_part_larger_than_a_stage_is_written_in_stages_as_one() {
    let s = Source::new().await;
    let listing = |i: usize, v: u32| json!({ "id": format!("L{i}"), "v": v, "n": i });
    let first: Vec<Value> = (0..4_500).map(|i| listing(i, 1)).collect();
    assert_eq!(
        s.import(vec![first.clone()], ImportMode::Incremental).await,
        [4_500, 0, 0, 0]
    );
    let stored = s.listings().await;
    assert_eq!(stored.len(), 4_500);
    for ((external_id, data, hash, removed), sent) in stored.iter().zip(&first) {
        assert_eq!(external_id, sent["id"].as_str().unwrap());
        assert_eq!(
            (data, hash.as_str(), *removed),
            (sent, content_hash(sent).as_str(), false)
        );
    }

    // One listing changed in each stage and the last one gone, in a FULL import.
    let changed = [5, 2_100, 4_498];
    let next: Vec<Value> = (0..4_499)
        .map(|i| listing(i, if changed.contains(&i) { 2 } else { 1 }))
        .collect();
    assert_eq!(
        s.import(vec![next], ImportMode::Full).await,
        [0, 3, 4_496, 1]
    );
    let snapshotted: Vec<String> = s
        .snapshotted()
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(snapshotted, ["L5", "L2100", "L4498"]);

    // A repeat in the third stage of the id of an item of the first.
    let before = s.listings().await;
    let mut repeated: Vec<Value> = (0..4_500).map(|i| listing(i, 3)).collect();
    repeated[4_200] = listing(10, 3);
    let mut session = s.begin(ImportMode::Full).await;
    let err = session
        .add(repeated, &|i| format!("items[{i}]"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid items[4200]: repeats id `L10` of items[10] in the same batch"
    );
    drop(session);
    assert_eq!(s.listings().await, before);
    assert_eq!(import_run::Entity::find().count(s.db()).await.unwrap(), 2);
}
