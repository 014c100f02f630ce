//! Rule 3, sync, on `sync_source_to_target`: one test per row, the three conflict policies,
//! and the mass-removal guard of a sync.

use serde_json::json;
use sync_manager::domain::catalog::CatalogFields;
use sync_manager::domain::import::ImportMode;
use sync_manager::domain::targets::{self, ConflictPolicy, TargetPatch};
use sync_manager::entity::SnapshotReason;
use sync_manager::error::Error;

use sea_orm::ConnectionTrait;
use sync_manager::domain::sync::sync_source_to_target;

use super::{Domain, sync_options, warned};

const INCREMENTAL: ImportMode = ImportMode::Incremental;
const FULL: ImportMode = ImportMode::Full;

/// The counts of a sync log: created, updated, skipped, removed.
fn counts(log: &sync_manager::entity::sync_log::Model) -> [i32; 4] {
    [log.created, log.updated, log.skipped, log.removed]
}

#[tokio::test]
async fn a_listing_missing_on_the_target_is_created_with_the_source_hash_as_base() {
    let d = Domain::new().await;
    d.import(json!({ "id": "a", "price": 1 }), INCREMENTAL)
        .await;
    assert_eq!(counts(&d.sync().await), [1, 0, 0, 0]);
    let source = d.source_listing("a").await;
    let target = d.target_listing("a").await;
    assert_eq!(target.data, source.data);
    assert_eq!(
        target.base_hash.as_deref(),
        Some(source.content_hash.as_str())
    );
    assert_eq!(target.source_property_id, Some(source.id));
    assert!(!target.manually_modified && !target.conflict);
}

#[tokio::test]
async fn a_listing_whose_source_hash_equals_its_base_hash_is_skipped() {
    let d = Domain::new().await;
    d.import(json!({ "id": "a" }), INCREMENTAL).await;
    d.sync().await;
    let before = d.target_listing("a").await;
    assert_eq!(counts(&d.sync().await), [0, 0, 1, 0]);
    assert_eq!(
        d.target_listing("a").await,
        before,
        "a skipped listing is not written"
    );
}

#[tokio::test]
async fn a_changed_listing_not_edited_by_hand_is_snapshotted_updated_and_its_base_follows() {
    let d = Domain::new().await;
    d.import(json!({ "id": "a", "price": 1 }), INCREMENTAL)
        .await;
    d.sync().await;
    let before = d.target_listing("a").await;
    d.import(json!({ "id": "a", "price": 2 }), INCREMENTAL)
        .await;
    assert_eq!(counts(&d.sync().await), [0, 1, 0, 0]);
    let after = d.target_listing("a").await;
    assert_eq!(after.data, json!({ "id": "a", "price": 2 }));
    let source_hash = d.source_listing("a").await.content_hash;
    assert_eq!(after.base_hash.as_deref(), Some(source_hash.as_str()));
    let snapshots = d.target_snapshots("a").await;
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].data, before.data);
    assert_eq!(snapshots[0].reason, SnapshotReason::Sync);
}

#[tokio::test]
async fn a_changed_listing_edited_by_hand_is_left_alone_flagged_and_named_in_a_warning() {
    let d = Domain::new().await;
    let log = d.conflicting("a").await;
    assert_eq!(counts(&log), [0, 0, 0, 0]);
    assert_eq!(
        (
            log.conflicts,
            log.new_conflicts,
            log.open_conflicts,
            log.kept_edits
        ),
        (1, Some(1), Some(1), Some(0))
    );
    assert_eq!(warned(&log), ["a"]);
    assert_eq!(
        log.warnings[0]["message"],
        "edited by hand on the target and changed at the source: kept the target version and flagged a conflict"
    );
    let target = d.target_listing("a").await;
    assert_eq!(
        target.data,
        json!({ "id": "a", "title": "Hand", "price": 1 })
    );
    assert!(target.conflict && target.manually_modified);
}

#[tokio::test]
async fn an_open_conflict_is_new_once_and_open_at_every_later_sync() {
    let d = Domain::new().await;
    d.conflicting("a").await;
    let again = d.sync().await;
    assert_eq!(
        (again.new_conflicts, again.open_conflicts),
        (Some(0), Some(1))
    );
    assert!(d.target_listing("a").await.conflict);
}

#[tokio::test]
async fn a_hand_edit_without_a_source_change_survives_the_next_sync() {
    let d = Domain::new().await;
    d.import(json!({ "id": "a", "title": "Scraped" }), INCREMENTAL)
        .await;
    d.sync().await;
    let edited = d.edit("a", json!({ "title": "Hand" })).await;
    let log = d.sync().await;
    assert_eq!(counts(&log), [0, 0, 1, 0]);
    assert_eq!(log.new_conflicts, Some(0));
    assert_eq!(d.target_listing("a").await, edited);
}

#[tokio::test]
async fn a_listing_removed_at_the_source_is_marked_removed_on_the_target() {
    let d = Domain::new().await;
    let five: Vec<_> = (1..=5).map(|i| json!({ "id": i })).collect();
    d.import(json!(five), INCREMENTAL).await;
    d.sync().await;
    d.import(json!(five[..4]), FULL).await;
    assert_eq!(counts(&d.sync().await), [0, 0, 4, 1]);
    assert!(d.target_listing("5").await.removed_at.is_some());
    assert!(d.target_listing("4").await.removed_at.is_none());
}

#[tokio::test]
async fn a_listing_back_at_the_source_comes_back_on_the_target() {
    let d = Domain::new().await;
    let five: Vec<_> = (1..=5).map(|i| json!({ "id": i })).collect();
    d.import(json!(five), INCREMENTAL).await;
    d.sync().await;
    d.import(json!(five[..4]), FULL).await;
    d.sync().await;
    d.import(json!({ "id": 5, "back": true }), INCREMENTAL)
        .await;
    assert_eq!(counts(&d.sync().await), [0, 1, 4, 0]);
    let back = d.target_listing("5").await;
    assert_eq!(back.removed_at, None);
    assert_eq!(back.data, json!({ "id": 5, "back": true }));
}

#[tokio::test]
async fn an_inactive_source_refuses_syncs() {
    let d = Domain::new().await;
    d.deactivate_source().await;
    let error = d.sync_with(sync_options()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Conflict(m) if m == "source `Feed` is inactive; activate it before syncing"),
        "{error:?}"
    );
    assert_eq!(d.rows().await[5], 0, "no sync log");
}

#[tokio::test]
async fn an_inactive_target_refuses_syncs() {
    let d = Domain::new().await;
    let patch = TargetPatch {
        fields: CatalogFields {
            active: Some(false),
            ..Default::default()
        },
        ..Default::default()
    };
    targets::update_target(&d.db, &d.scope, d.target, patch)
        .await
        .unwrap();
    let error = d.sync_with(sync_options()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Conflict(m) if m == "target `Site` is inactive; activate it before syncing"),
        "{error:?}"
    );
}

#[tokio::test]
async fn each_sync_writes_one_sync_log_and_a_dry_run_nothing_else() {
    let d = Domain::new().await;
    d.import(json!([{ "id": 1 }, { "id": 2 }]), INCREMENTAL)
        .await;
    let mut options = sync_options();
    options.dry_run = true;
    let dry = d.sync_with(options).await.unwrap();
    assert_eq!((counts(&dry), dry.dry_run), ([2, 0, 0, 0], true));
    assert_eq!(d.rows().await, [2, 0, 1, 0, 0, 1]);
    d.sync().await;
    assert_eq!(d.rows().await, [2, 0, 1, 2, 0, 2]);
}

#[tokio::test]
async fn the_keep_target_policy_keeps_the_edit_without_a_flag_and_counts_a_kept_edit() {
    let d = Domain::with_policy(ConflictPolicy::KeepTarget).await;
    let log = d.conflicting("a").await;
    assert_eq!(
        (log.new_conflicts, log.open_conflicts, log.kept_edits),
        (Some(0), Some(0), Some(1))
    );
    assert_eq!(warned(&log), ["a"]);
    let target = d.target_listing("a").await;
    assert!(!target.conflict);
    assert_eq!(target.data["title"], "Hand");
    assert_eq!(target.data["price"], 1);
}

#[tokio::test]
async fn the_merge_policy_applies_source_changes_to_fields_the_person_did_not_edit() {
    let d = Domain::with_policy(ConflictPolicy::Merge).await;
    let log = d.conflicting("a").await;
    assert_eq!((log.merged, log.new_conflicts), (1, Some(0)));
    assert!(warned(&log).is_empty());
    let target = d.target_listing("a").await;
    assert_eq!(
        target.data,
        json!({ "id": "a", "title": "Hand", "price": 2 })
    );
    assert!(target.manually_modified && !target.conflict);
    assert_eq!(target.edited_paths, json!(["title"]));
    let reasons: Vec<_> = d
        .target_snapshots("a")
        .await
        .iter()
        .map(|s| s.reason)
        .collect();
    assert_eq!(reasons, [SnapshotReason::ManualEdit, SnapshotReason::Sync]);
}

#[tokio::test]
async fn the_merge_policy_flags_a_field_changed_on_both_sides_differently() {
    let d = Domain::with_policy(ConflictPolicy::Merge).await;
    d.import(json!({ "id": "a", "price": 1 }), INCREMENTAL)
        .await;
    d.sync().await;
    d.edit("a", json!({ "price": 5 })).await;
    d.import(json!({ "id": "a", "price": 2 }), INCREMENTAL)
        .await;
    let log = d.sync().await;
    assert_eq!((log.merged, log.new_conflicts), (0, Some(1)));
    assert_eq!(warned(&log), ["a"]);
    assert!(
        log.warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("differently on both sides in `price`"),
        "{}",
        log.warnings
    );
    let target = d.target_listing("a").await;
    assert!(target.conflict);
    assert_eq!(target.data["price"], 5);
}

/// Ten listings synced, then a `FULL` import of the first `keep`, then a sync.
async fn sync_after_keeping(d: &Domain, keep: usize, allow: bool) -> Result<[i32; 4], Error> {
    let ten: Vec<_> = (1..=10).map(|i| json!({ "id": i })).collect();
    d.import(json!(ten), INCREMENTAL).await;
    d.sync().await;
    let mut import = super::import_options(FULL);
    import.allow_mass_removal = true;
    d.import_with(json!(ten[..keep]), import).await.unwrap();
    let mut options = sync_options();
    options.allow_mass_removal = allow;
    Ok(counts(&d.sync_with(options).await?))
}

#[tokio::test]
async fn a_sync_removing_more_than_the_targets_limit_is_refused_and_writes_only_its_log() {
    let d = Domain::with(
        ConflictPolicy::Flag,
        json!({}),
        json!({ "max_removal_percent": 10 }),
    )
    .await;
    let error = sync_after_keeping(&d, 8, false).await.unwrap_err();
    let Error::MassRemoval(refusal) = error else {
        panic!("expected MASS_REMOVAL, got {error:?}");
    };
    assert_eq!(
        (
            refusal.would_remove,
            refusal.live,
            refusal.max_percent,
            refusal.owner
        ),
        (2, 10, 10, "target")
    );
    assert!(d.target_listing("10").await.removed_at.is_none());
    // The first sync's log and the refused one's.
    assert_eq!(d.rows().await[5], 2);
}

#[tokio::test]
async fn allow_mass_removal_lets_a_sync_past_the_guard() {
    let d = Domain::new().await;
    assert_eq!(
        sync_after_keeping(&d, 0, true).await.unwrap(),
        [0, 0, 0, 10]
    );
    assert!(
        d.find_target_listing("10")
            .await
            .unwrap()
            .removed_at
            .is_some()
    );
}

/// Twenty listings synced, three of them edited by hand; then a `FULL` import that changes
/// twelve (three of them the edited ones), drops five and adds seven; then the sync, written
/// in batches of `batch_rows` listings. Its counts, and every target listing as the sync left
/// it (external id, data, hashes, flags, removed or not, version), by external id.
async fn next_day_in_batches(d: &Domain, batch_rows: u32) -> ([i32; 4], Option<i32>, Vec<String>) {
    let listing = |i: usize, price: usize| json!({ "id": format!("l{i:02}"), "price": price });
    let first: Vec<_> = (0..20).map(|i| listing(i, 1)).collect();
    d.import(json!(first), INCREMENTAL).await;
    let mut options = sync_options();
    options.batch_rows = batch_rows;
    assert_eq!(
        counts(&d.sync_with(options.clone()).await.unwrap()),
        [20, 0, 0, 0]
    );
    for edited in ["l01", "l05", "l09"] {
        d.edit(edited, json!({ "title": "Hand" })).await;
    }
    let next: Vec<_> = (0..27)
        .filter(|i| !(15..20).contains(i))
        .map(|i| listing(i, if i < 12 { 2 } else { 1 }))
        .collect();
    let mut import = super::import_options(FULL);
    import.allow_mass_removal = true;
    d.import_with(json!(next), import).await.unwrap();
    options.allow_mass_removal = true;
    let log = d.sync_with(options).await.unwrap();
    let mut listings = Vec::new();
    for i in 0..27 {
        let t = d.target_listing(&format!("l{i:02}")).await;
        listings.push(format!(
            "{} {} {} {:?} conflict={} edited={} removed={} v{}",
            t.external_id,
            t.data,
            t.content_hash,
            t.base_hash,
            t.conflict,
            t.manually_modified,
            t.removed_at.is_some(),
            t.version
        ));
    }
    (counts(&log), log.new_conflicts, listings)
}

#[tokio::test]
async fn a_sync_written_in_batches_leaves_what_one_statement_per_write_leaves() {
    let (whole, batched) = (Domain::new().await, Domain::new().await);
    let expected = next_day_in_batches(&whole, 10_000).await;
    // Twenty created in batches of three, nine updated, three flagged, five removed.
    assert_eq!((expected.0, expected.1), ([7, 9, 3, 5], Some(3)));
    assert_eq!(next_day_in_batches(&batched, 3).await, expected);
    assert_eq!(batched.rows().await, whole.rows().await);
    // A batch of one listing is the smallest.
    let single = Domain::new().await;
    assert_eq!(next_day_in_batches(&single, 1).await, expected);
}

#[tokio::test]
async fn a_sync_on_postgresql_gives_its_joins_more_memory_never_less() {
    let d = Domain::new().await;
    if d.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        // SQLite has no `work_mem`: nothing to see.
        return;
    }
    // A trigger on the sync log, written in the sync's own transaction, notes the setting
    // the sync's statements ran with.
    for statement in [
        "CREATE TABLE seen_work_mem (work_mem text NOT NULL)",
        "CREATE FUNCTION note_work_mem() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         INSERT INTO seen_work_mem VALUES (current_setting('work_mem')); RETURN NEW; END $$",
        "CREATE TRIGGER note_work_mem BEFORE INSERT ON sync_logs \
         FOR EACH ROW EXECUTE FUNCTION note_work_mem()",
    ] {
        d.db.execute_unprepared(statement).await.unwrap();
    }
    let seen = || async {
        let rows =
            d.db.query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT work_mem FROM seen_work_mem",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|row| row.try_get::<String>("", "work_mem").unwrap())
            .collect::<Vec<_>>()
    };
    d.import(json!({ "id": "a", "price": 1 }), INCREMENTAL)
        .await;
    d.sync().await;
    let kb = sync_manager::db::SYNC_WORK_MEM_KB;
    assert_eq!(seen().await, vec![format!("{}MB", kb / 1024)]);
    // Only for the sync's transaction.
    let row =
        d.db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SHOW work_mem",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        row.try_get_by_index::<String>(0).unwrap(),
        format!("{}MB", kb / 1024)
    );
    // A server that allows more keeps its own value.
    d.db.execute_unprepared("DELETE FROM seen_work_mem")
        .await
        .unwrap();
    // `ALTER DATABASE`: this test's database only, for the sessions opened after it.
    d.db.execute_unprepared(&format!(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', \
         current_database(), '{}MB'); END $$",
        2 * kb / 1024
    ))
    .await
    .unwrap();
    let more = sync_manager::db::connect_and_migrate(&d.url).await.unwrap();
    sync_source_to_target(&more, &d.scope, d.source, d.target, sync_options())
        .await
        .unwrap();
    assert_eq!(seen().await, vec![format!("{}MB", 2 * kb / 1024)]);
    more.close().await.unwrap();
}
