//! Target listing versions: every change increments `version`; `updateTargetProperty` and
//! `resolveConflict` with a stale `expectedVersion` are refused with `STALE_VERSION` and
//! change nothing, and two edits from the same version cannot both win.

use serde_json::{Value, json};

use crate::common::error_code;
use crate::engine::Setup;

const EDIT: &str = "mutation($id: ID!, $patch: JSON!, $v: Int) { \
    updateTargetProperty(input: { id: $id, patch: $patch, expectedVersion: $v }) { \
      targetProperty { version data manuallyModified } } }";

const RESOLVE: &str = "mutation($id: ID!, $v: Int) { \
    resolveConflict(input: { id: $id, resolution: ACCEPT_SOURCE, expectedVersion: $v }) { \
      targetProperty { version data hasConflict } } }";

/// `(version, data, snapshot count)` of the target listing `external_id`.
async fn state(s: &Setup, external_id: &str) -> (i64, Value, i64) {
    let data = s
        .app
        .data(
            &s.key,
            "query($t: ID!) { target(id: $t) { properties(first: 50) { nodes { externalId version data snapshots { totalCount } } } } }",
            json!({ "t": s.target }),
        )
        .await;
    let node = data["target"]["properties"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["externalId"] == external_id)
        .unwrap()
        .clone();
    (
        node["version"].as_i64().unwrap(),
        node["data"].clone(),
        node["snapshots"]["totalCount"].as_i64().unwrap(),
    )
}

async fn edit(s: &Setup, id: &str, patch: Value, version: Option<i64>) -> Value {
    s.app
        .graphql(
            &s.key,
            EDIT,
            json!({ "id": id, "patch": patch, "v": version }),
        )
        .await
}

#[tokio::test]
async fn every_change_of_a_target_listing_increments_its_version() {
    let s = Setup::new().await;
    s.import(
        json!([{ "id": "a", "p": 1 }, { "id": "b", "p": 1 }]),
        "FULL",
    )
    .await;
    s.sync().await;
    let a = s.target_listing("a").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(state(&s, "a").await.0, 1);
    assert_eq!(state(&s, "b").await.0, 1);

    // A hand edit: 2. The same patch again changes nothing, so no new version.
    let body = edit(&s, &a, json!({ "p": 2 }), None).await;
    assert_eq!(
        body["data"]["updateTargetProperty"]["targetProperty"]["version"],
        2
    );
    let body = edit(&s, &a, json!({ "p": 2 }), Some(2)).await;
    assert_eq!(
        body["data"]["updateTargetProperty"]["targetProperty"]["version"],
        2
    );

    // A sync update (b: 2), a conflict flag (a: 3), and a sync that changes nothing.
    s.import(
        json!([{ "id": "a", "p": 5 }, { "id": "b", "p": 5 }]),
        "FULL",
    )
    .await;
    s.sync().await;
    assert_eq!(state(&s, "a").await.0, 3);
    assert_eq!(state(&s, "b").await.0, 2);
    s.sync().await;
    assert_eq!(state(&s, "a").await.0, 3);
    assert_eq!(state(&s, "b").await.0, 2);

    // A resolution (a: 4), then a removal mark (b: 3).
    let body = s
        .app
        .graphql(&s.key, RESOLVE, json!({ "id": a, "v": 3 }))
        .await;
    let resolved = &body["data"]["resolveConflict"]["targetProperty"];
    assert_eq!(
        [&resolved["version"], &resolved["hasConflict"]],
        [&json!(4), &json!(false)],
        "{body}"
    );
    s.app
        .data(
            &s.key,
            "mutation($s: ID!, $t: ID!) { \
               importProperties(input: { sourceId: $s, items: [{ id: \"a\", p: 5 }], mode: FULL, allowMassRemoval: true }) { importRun { removed } } \
               syncSource(input: { sourceId: $s, targetId: $t, allowMassRemoval: true }) { syncLog { removed } } }",
            json!({ "s": s.source, "t": s.target }),
        )
        .await;
    assert_eq!(state(&s, "b").await.0, 3);
    assert_eq!(state(&s, "a").await.0, 4);
}

#[tokio::test]
async fn a_stale_expected_version_is_refused_and_changes_nothing() {
    let s = Setup::new().await;
    s.import(json!({ "id": "a", "p": 1 }), "INCREMENTAL").await;
    s.sync().await;
    let a = s.target_listing("a").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    edit(&s, &a, json!({ "p": 2 }), Some(1)).await;
    let before = state(&s, "a").await;
    assert_eq!(before.0, 2);

    let body = edit(&s, &a, json!({ "p": 3 }), Some(1)).await;
    assert_eq!(error_code(&body), "STALE_VERSION", "{body}");
    let error = &body["errors"][0];
    assert_eq!(
        error["message"],
        "target listing `a` is at version 2, not the expected version 1: it changed since you \
         read it; reload it and apply your change again"
    );
    assert_eq!(error["extensions"]["currentVersion"], 2);
    assert_eq!(error["extensions"]["expectedVersion"], 1);
    assert!(body["data"].is_null());
    assert_eq!(state(&s, "a").await, before);

    // A conflict, resolved from a stale version: refused, still a conflict.
    s.import(json!({ "id": "a", "p": 9 }), "INCREMENTAL").await;
    s.sync().await;
    let flagged = state(&s, "a").await;
    assert_eq!(flagged.0, 3);
    let body = s
        .app
        .graphql(&s.key, RESOLVE, json!({ "id": a, "v": 2 }))
        .await;
    assert_eq!(error_code(&body), "STALE_VERSION");
    assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 3);
    assert_eq!(state(&s, "a").await, flagged);
    assert_eq!(s.target_listing("a").await["hasConflict"], true);

    // Without expectedVersion, as before: the edit applies to the current version.
    let body = edit(&s, &a, json!({ "p": 4 }), None).await;
    let edited = &body["data"]["updateTargetProperty"]["targetProperty"];
    assert_eq!(
        [&edited["version"], &edited["data"]["p"]],
        [&json!(4), &json!(4)]
    );
}

#[tokio::test]
async fn two_edits_from_the_same_version_cannot_both_win() {
    let s = Setup::new().await;
    s.import(json!({ "id": "a", "p": 0 }), "INCREMENTAL").await;
    s.sync().await;
    let a = s.target_listing("a").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for round in 1..=5_i64 {
        let (first, second) = tokio::join!(
            edit(&s, &a, json!({ "p": round * 10 + 1 }), Some(round)),
            edit(&s, &a, json!({ "p": round * 10 + 2 }), Some(round)),
        );
        let won: Vec<&Value> = [&first, &second]
            .into_iter()
            .filter(|body| body.get("errors").is_none())
            .collect();
        assert_eq!(won.len(), 1, "exactly one wins: {first} {second}");
        let lost = if first.get("errors").is_none() {
            &second
        } else {
            &first
        };
        assert_eq!(error_code(lost), "STALE_VERSION");
        assert_eq!(lost["errors"][0]["extensions"]["currentVersion"], round + 1);
        let (version, data, snapshots) = state(&s, "a").await;
        assert_eq!(version, round + 1);
        // The winner's data, and one snapshot per winning edit.
        assert_eq!(
            data,
            won[0]["data"]["updateTargetProperty"]["targetProperty"]["data"]
        );
        assert_eq!(snapshots, round);
    }
}
