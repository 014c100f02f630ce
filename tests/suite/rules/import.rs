//! Rule 2, import, on `import_listings` and `ImportSession`: one test per row, and the
//! mass-removal guard of a `FULL` import.

use serde_json::json;
use sync_manager::domain::import::{ImportMode, ImportOptions, ImportSession};
use sync_manager::entity::SnapshotReason;
use sync_manager::entity::import_run;
use sync_manager::error::Error;

use super::{Domain, import_options, invalid};

const INCREMENTAL: ImportMode = ImportMode::Incremental;
const FULL: ImportMode = ImportMode::Full;

#[tokio::test]
async fn a_new_listing_is_created() {
    let d = Domain::new().await;
    assert_eq!(
        d.import(json!({ "id": "a", "price": 1 }), INCREMENTAL)
            .await,
        [1, 0, 0, 0]
    );
    let listing = d.source_listing("a").await;
    assert_eq!(listing.data, json!({ "id": "a", "price": 1 }));
    assert_eq!(listing.removed_at, None);
    assert!(d.source_snapshots("a").await.is_empty());
}

#[tokio::test]
async fn a_listing_with_the_same_hash_is_unchanged_and_not_written() {
    let d = Domain::new().await;
    d.import(json!({ "id": "a", "b": 1, "c": 2 }), INCREMENTAL)
        .await;
    let before = d.source_listing("a").await;
    // Other key order, `1.0` for `1`: the same canonical JSON, so the same hash.
    let same: serde_json::Value = serde_json::from_str(r#"{"c": 2, "b": 1.0, "id": "a"}"#).unwrap();
    assert_eq!(d.import(same, INCREMENTAL).await, [0, 0, 1, 0]);
    let after = d.source_listing("a").await;
    assert_eq!(after, before, "an unchanged listing is not written");
    assert!(d.source_snapshots("a").await.is_empty());
}

#[tokio::test]
async fn a_listing_with_another_hash_is_snapshotted_then_updated() {
    let d = Domain::new().await;
    d.import(json!({ "id": "a", "price": 1 }), INCREMENTAL)
        .await;
    let before = d.source_listing("a").await;
    assert_eq!(
        d.import(json!({ "id": "a", "price": 2 }), INCREMENTAL)
            .await,
        [0, 1, 0, 0]
    );
    let after = d.source_listing("a").await;
    assert_eq!(after.data, json!({ "id": "a", "price": 2 }));
    assert_ne!(after.content_hash, before.content_hash);
    let snapshots = d.source_snapshots("a").await;
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].data, before.data);
    assert_eq!(snapshots[0].content_hash, before.content_hash);
    assert_eq!(snapshots[0].reason, SnapshotReason::Import);
}

/// Imports a bad batch: the error must name an item, and nothing may be written.
async fn refused_batch(items: serde_json::Value) -> (String, String) {
    let d = Domain::new().await;
    let error = d
        .import_with(items, import_options(INCREMENTAL))
        .await
        .unwrap_err();
    assert_eq!(d.rows().await, [0; 6], "nothing is written");
    invalid(error)
}

#[tokio::test]
async fn an_item_that_is_not_an_object_fails_the_whole_import_naming_its_index() {
    assert_eq!(
        refused_batch(json!([{ "id": "a" }, [1, 2], { "id": "c" }])).await,
        ("items[1]".to_owned(), "is not a JSON object".to_owned())
    );
}

#[tokio::test]
async fn an_item_without_its_id_fails_the_whole_import_naming_its_index() {
    assert_eq!(
        refused_batch(json!([{ "id": "a" }, { "ref": "b" }])).await,
        ("items[1]".to_owned(), "has no `id` field".to_owned())
    );
}

#[tokio::test]
async fn an_id_twice_in_the_batch_fails_the_whole_import_naming_both_items() {
    assert_eq!(
        refused_batch(json!([{ "id": "a" }, { "id": "b" }, { "id": "a" }])).await,
        (
            "items[2]".to_owned(),
            "repeats id `a` of items[0] in the same batch".to_owned()
        )
    );
}

#[tokio::test]
async fn a_full_import_marks_removed_the_listings_it_lacks() {
    let d = Domain::new().await;
    let five: Vec<_> = (1..=5).map(|i| json!({ "id": i })).collect();
    d.import(json!(five), INCREMENTAL).await;
    assert_eq!(
        d.import(
            json!([{ "id": 1 }, { "id": 2 }, { "id": 3 }, { "id": 4 }]),
            FULL
        )
        .await,
        [0, 0, 4, 1]
    );
    assert!(d.source_listing("5").await.removed_at.is_some());
    assert!(d.source_listing("4").await.removed_at.is_none());
}

#[tokio::test]
async fn an_incremental_import_leaves_the_listings_it_lacks_alone() {
    let d = Domain::new().await;
    d.import(json!([{ "id": 1 }, { "id": 2 }]), INCREMENTAL)
        .await;
    assert_eq!(
        d.import(json!([{ "id": 1 }]), INCREMENTAL).await,
        [0, 0, 1, 0]
    );
    assert!(d.source_listing("2").await.removed_at.is_none());
}

#[tokio::test]
async fn a_removed_listing_that_returns_is_brought_back_as_an_update() {
    let d = Domain::new().await;
    let five: Vec<_> = (1..=5).map(|i| json!({ "id": i })).collect();
    d.import(json!(five), INCREMENTAL).await;
    d.import(json!(five[..4]), FULL).await;
    assert!(d.source_listing("5").await.removed_at.is_some());
    // Back with the same data: not "unchanged", since it was removed.
    assert_eq!(
        d.import(json!({ "id": 5 }), INCREMENTAL).await,
        [0, 1, 0, 0]
    );
    assert_eq!(d.source_listing("5").await.removed_at, None);
}

#[tokio::test]
async fn a_dry_run_writes_nothing_but_its_import_run() {
    let d = Domain::new().await;
    let mut options = import_options(INCREMENTAL);
    options.dry_run = true;
    let run = d
        .import_with(json!([{ "id": 1 }, { "id": 2 }]), options)
        .await
        .unwrap();
    assert_eq!((run.created, run.dry_run), (2, true));
    assert_eq!(d.rows().await, [0, 0, 1, 0, 0, 0]);
}

#[tokio::test]
async fn an_inactive_source_refuses_imports() {
    let d = Domain::new().await;
    d.deactivate_source().await;
    let error = d
        .import_with(json!({ "id": 1 }), import_options(INCREMENTAL))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Conflict(m) if m.contains("source `Feed` is inactive")),
        "{error:?}"
    );
    assert_eq!(d.rows().await, [0; 6]);
}

#[tokio::test]
async fn the_parts_of_an_import_session_are_one_transaction() {
    let d = Domain::new().await;
    let label = |index: usize| format!("file.ndjson:{}", index + 1);
    let mut session = ImportSession::begin(&d.db, &d.scope, d.source, import_options(FULL))
        .await
        .unwrap();
    session
        .add(vec![json!({ "id": 1 }), json!({ "id": 2 })], &label)
        .await
        .unwrap();
    // Item indexes go on across parts, and so does the check for an id twice.
    let error = session
        .add(vec![json!({ "id": 3 }), json!({ "id": 1 })], &label)
        .await
        .unwrap_err();
    assert_eq!(
        invalid(error),
        (
            "file.ndjson:4".to_owned(),
            "repeats id `1` of file.ndjson:1 in the same batch".to_owned()
        )
    );
    drop(session);
    assert_eq!(d.rows().await, [0; 6], "the first part is rolled back too");
}

#[tokio::test]
async fn an_import_session_counts_its_parts_and_commits_on_finish() {
    let d = Domain::new().await;
    d.import(json!([{ "id": 1 }, { "id": 9 }]), INCREMENTAL)
        .await;
    let label = |index: usize| format!("items[{index}]");
    // One of two removed is past the guard's 20%.
    let mut options = import_options(FULL);
    options.allow_mass_removal = true;
    let mut session = ImportSession::begin(&d.db, &d.scope, d.source, options)
        .await
        .unwrap();
    session
        .add(vec![json!({ "id": 1 }), json!({ "id": 2 })], &label)
        .await
        .unwrap();
    session.add(vec![json!({ "id": 3 })], &label).await.unwrap();
    // The counts follow the parts written: a part is written while the next one is hashed,
    // so after two parts only the first is counted (id 3, new, is in the second).
    let counts = session.counts();
    assert_eq!(
        (counts.created, counts.unchanged, counts.removed),
        (1, 1, 0)
    );
    let run = session.finish().await.unwrap();
    assert_eq!(
        [run.created, run.updated, run.unchanged, run.removed],
        [2, 0, 1, 1]
    );
    assert!(d.source_listing("9").await.removed_at.is_some());
}

/// Ten live listings, then a `FULL` import of the first `keep`, the guard on or off.
async fn full_import_keeping(
    d: &Domain,
    keep: usize,
    options: ImportOptions,
) -> Result<import_run::Model, Error> {
    let ten: Vec<_> = (1..=10).map(|i| json!({ "id": i })).collect();
    d.import(json!(ten), INCREMENTAL).await;
    d.import_with(json!(ten[..keep]), options).await
}

/// `FULL` import options with the guard on (`allow: false`) or off.
fn full(allow: bool) -> ImportOptions {
    let mut options = import_options(FULL);
    options.allow_mass_removal = allow;
    options
}

#[tokio::test]
async fn a_full_import_removing_more_than_the_limit_is_refused_and_leaves_only_its_run() {
    let d = Domain::new().await;
    let error = full_import_keeping(&d, 7, full(false)).await.unwrap_err();
    let Error::MassRemoval(refusal) = error else {
        panic!("expected MASS_REMOVAL, got {error:?}");
    };
    assert_eq!(
        (refusal.would_remove, refusal.live, refusal.max_percent),
        (3, 10, 20)
    );
    // The first import's run and the refused one; no listing was removed.
    assert_eq!(d.rows().await, [10, 0, 2, 0, 0, 0]);
    assert!(d.source_listing("10").await.removed_at.is_none());
}

#[tokio::test]
async fn a_full_import_removing_exactly_the_limit_passes() {
    let d = Domain::new().await;
    let run = full_import_keeping(&d, 8, full(false)).await.unwrap();
    assert_eq!((run.unchanged, run.removed), (8, 2));
}

#[tokio::test]
async fn a_full_import_removing_every_listing_is_refused_even_at_a_limit_of_100() {
    let d = Domain::with(
        sync_manager::domain::targets::ConflictPolicy::Flag,
        json!({ "max_removal_percent": 100 }),
        json!({}),
    )
    .await;
    let error = full_import_keeping(&d, 0, full(false)).await.unwrap_err();
    assert!(matches!(error, Error::MassRemoval(_)), "{error:?}");
}

#[tokio::test]
async fn allow_mass_removal_lets_a_full_import_past_the_guard() {
    let d = Domain::new().await;
    let run = full_import_keeping(&d, 0, full(true)).await.unwrap();
    assert_eq!((run.removed, run.mass_removal_refused), (10, false));
}

#[tokio::test]
async fn a_dry_run_is_never_refused_but_says_the_guard_would_refuse() {
    let d = Domain::new().await;
    let mut options = full(false);
    options.dry_run = true;
    let run = full_import_keeping(&d, 0, options).await.unwrap();
    assert_eq!(
        (run.removed, run.would_remove, run.mass_removal_refused),
        (10, Some(10), true)
    );
    assert!(d.source_listing("1").await.removed_at.is_none());
}
