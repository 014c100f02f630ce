//! Syncs: dry runs, inactive targets, hand edits, concurrency.

use serde_json::json;

use super::Setup;
use crate::common::error_code;

#[tokio::test]
async fn a_dry_run_sync_writes_nothing_but_its_log() {
    let s = Setup::new().await;
    s.import(json!([{ "id": 1 }, { "id": 2 }]), "INCREMENTAL")
        .await;
    let body = s.sync_raw(true).await;
    let log = &body["data"]["syncSource"]["syncLog"];
    assert_eq!(log["created"], 2);
    assert_eq!(log["dryRun"], true);
    assert!(s.target_listings().await.is_empty());
    assert_eq!(s.audit_counts().await, (1, 1));
    assert_eq!(s.sync().await.0, [2, 0, 0, 0, 0]);
}

#[tokio::test]
async fn an_inactive_target_refuses_syncs() {
    let s = Setup::new().await;
    s.import(json!([{ "id": 1 }]), "INCREMENTAL").await;
    s.app
        .data(&s.key, "mutation($id: ID!) { updateTarget(input: { id: $id, active: false }) { target { active } } }", json!({ "id": s.target }))
        .await;
    let body = s.sync_raw(false).await;
    assert_eq!(error_code(&body), "CONFLICT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("target `Site` is inactive")
    );
    assert!(s.target_listings().await.is_empty());
}

#[tokio::test]
async fn a_keep_target_policy_warns_without_flagging() {
    let s = Setup::new().await;
    s.app
        .data(&s.key, "mutation($id: ID!) { updateTarget(input: { id: $id, conflictPolicy: KEEP_TARGET }) { target { conflictPolicy } } }", json!({ "id": s.target }))
        .await;
    s.import(json!([{ "id": 1, "v": 1 }]), "INCREMENTAL").await;
    s.sync().await;
    let id = s.target_listing("1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.edit(&id, json!({ "v": 5 })).await;
    s.import(json!([{ "id": 1, "v": 2 }]), "INCREMENTAL").await;
    let (counts, warnings) = s.sync().await;
    assert_eq!(counts, [0, 0, 0, 1, 0]);
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("KEEP_TARGET")
    );
    let listing = s.target_listing("1").await;
    assert_eq!(listing["hasConflict"], false);
    assert_eq!(listing["data"]["v"], 5);
}

#[tokio::test]
async fn a_merge_patch_that_changes_nothing_writes_nothing_and_bad_patches_are_refused() {
    let s = Setup::new().await;
    s.import(json!([{ "id": 1, "v": 1, "tags": ["a"] }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let id = s.target_listing("1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = s.edit(&id, json!({ "v": 1 })).await;
    let listing = &body["data"]["updateTargetProperty"]["targetProperty"];
    assert_eq!(listing["manuallyModified"], false);
    assert_eq!(listing["snapshots"]["totalCount"], 0);
    let body = s
        .edit(&id, json!({ "tags": null, "address": { "city": "Lyon" } }))
        .await;
    assert_eq!(
        body["data"]["updateTargetProperty"]["targetProperty"]["data"],
        json!({ "id": 1, "v": 1, "address": { "city": "Lyon" } })
    );
    let body = s.edit(&id, json!([1])).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.patch");
}

#[tokio::test]
async fn two_syncs_of_one_pair_at_once_do_not_interleave() {
    let s = Setup::new().await;
    let items: Vec<_> = (0..300)
        .map(|i| json!({ "id": i, "title": format!("L{i}") }))
        .collect();
    s.import(json!(items), "INCREMENTAL").await;
    let (a, b) = tokio::join!(s.sync_raw(false), s.sync_raw(false));
    let created = |body: &serde_json::Value| {
        body["data"]["syncSource"]["syncLog"]["created"]
            .as_i64()
            .unwrap()
    };
    let skipped = |body: &serde_json::Value| {
        body["data"]["syncSource"]["syncLog"]["skipped"]
            .as_i64()
            .unwrap()
    };
    // One sync did the work, the other found it done: counts add up, nothing twice.
    assert_eq!(created(&a) + created(&b), 300);
    assert_eq!(skipped(&a) + skipped(&b), 300);
    assert_eq!(s.target_listings().await.len(), 300);
    assert_eq!(s.audit_counts().await, (1, 2));
}
