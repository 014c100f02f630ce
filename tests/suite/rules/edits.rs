//! Rules 4 and 5, on `update_target_property` and `resolve_conflict`: a hand edit, and each
//! way to resolve a conflict.

use serde_json::json;
use sync_manager::domain::conflicts::Resolution;
use sync_manager::domain::import::ImportMode;
use sync_manager::domain::merge::{Choice, TakeKind};
use sync_manager::entity::SnapshotReason;

use super::{Domain, invalid};

#[tokio::test]
async fn a_hand_edit_is_snapshotted_applied_and_marks_the_listing_manually_modified() {
    let d = Domain::new().await;
    d.import(
        json!({ "id": "a", "title": "Scraped", "rooms": 2 }),
        ImportMode::Incremental,
    )
    .await;
    d.sync().await;
    let before = d.target_listing("a").await;
    // A JSON Merge Patch: a key to set, a null to remove.
    let edited = d.edit("a", json!({ "title": "Hand", "rooms": null })).await;
    assert_eq!(edited.data, json!({ "id": "a", "title": "Hand" }));
    assert!(edited.manually_modified && !edited.conflict);
    assert!(edited.manual_changed_at.is_some());
    assert_eq!(edited.edited_paths, json!(["rooms", "title"]));
    assert_eq!(edited.version, before.version + 1);
    let snapshots = d.target_snapshots("a").await;
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].data, before.data);
    assert_eq!(snapshots[0].reason, SnapshotReason::ManualEdit);
}

#[tokio::test]
async fn resolving_with_keep_target_clears_the_flag_keeps_the_edit_and_leaves_no_snapshot() {
    let d = Domain::new().await;
    d.conflicting("a").await;
    let snapshots = d.target_snapshots("a").await.len();
    let kept = d
        .resolve("a", Resolution::KeepTarget, None, Vec::new())
        .await
        .unwrap();
    assert!(!kept.conflict && kept.manually_modified);
    assert_eq!(kept.data, json!({ "id": "a", "title": "Hand", "price": 1 }));
    assert_eq!(kept.resolution, Some(Resolution::KeepTarget));
    assert_eq!(d.target_snapshots("a").await.len(), snapshots);
    // The edit stays protected: the next sync skips it.
    assert_eq!(d.sync().await.skipped, 1);
}

#[tokio::test]
async fn resolving_with_accept_source_takes_the_source_version_after_a_snapshot() {
    let d = Domain::new().await;
    d.conflicting("a").await;
    let accepted = d
        .resolve("a", Resolution::AcceptSource, None, Vec::new())
        .await
        .unwrap();
    assert_eq!(
        accepted.data,
        json!({ "id": "a", "title": "Scraped", "price": 2 })
    );
    assert!(!accepted.conflict && !accepted.manually_modified);
    assert_eq!(accepted.edited_paths, json!([]));
    let last = d.target_snapshots("a").await.pop().unwrap();
    assert_eq!(last.reason, SnapshotReason::Resolve);
    assert_eq!(last.data, json!({ "id": "a", "title": "Hand", "price": 1 }));
}

#[tokio::test]
async fn resolving_with_use_data_stores_the_merged_data_protected_like_an_edit() {
    let d = Domain::new().await;
    d.conflicting("a").await;
    let merged = json!({ "id": "a", "title": "Hand", "price": 2 });
    let used = d
        .resolve("a", Resolution::UseData, Some(merged.clone()), Vec::new())
        .await
        .unwrap();
    assert_eq!(used.data, merged);
    assert!(!used.conflict && used.manually_modified);
    assert_eq!(used.edited_paths, json!(["title"]));
    assert_eq!(
        d.target_snapshots("a").await.pop().unwrap().reason,
        SnapshotReason::Resolve
    );
}

#[tokio::test]
async fn resolving_with_merge_takes_a_choice_for_each_field_changed_on_both_sides() {
    let d = Domain::new().await;
    d.import(
        json!({ "id": "a", "title": "Scraped", "price": 1 }),
        ImportMode::Incremental,
    )
    .await;
    d.sync().await;
    d.edit("a", json!({ "title": "Hand", "price": 5 })).await;
    d.import(
        json!({ "id": "a", "title": "Scraped", "price": 2 }),
        ImportMode::Incremental,
    )
    .await;
    d.sync().await;

    let missing = d
        .resolve("a", Resolution::Merge, None, Vec::new())
        .await
        .unwrap_err();
    let (field, reason) = invalid(missing);
    assert_eq!(field, "input.choices");
    assert!(reason.starts_with("no choice for `price`"), "{reason}");
    assert!(d.target_listing("a").await.conflict, "nothing is written");

    let choice = Choice::new(
        "input.choices[0]",
        "price".into(),
        TakeKind::Value,
        Some(json!(3)),
    )
    .unwrap();
    let merged = d
        .resolve("a", Resolution::Merge, None, vec![choice])
        .await
        .unwrap();
    // `title` changed on the target only: the person's value stays.
    assert_eq!(
        merged.data,
        json!({ "id": "a", "title": "Hand", "price": 3 })
    );
    assert!(!merged.conflict && merged.manually_modified);
    assert_eq!(merged.resolution, Some(Resolution::Merge));
    assert_eq!(merged.edited_paths, json!(["price", "title"]));
}
