//! Another tenant's source, target or listing is `NOT_FOUND` for every engine mutation.

use serde_json::json;

use super::Setup;
use crate::common::error_code;

#[tokio::test]
async fn another_tenants_objects_are_not_found_for_every_engine_mutation() {
    let s = Setup::new().await;
    s.import(json!([{ "id": 1, "v": 1 }]), "INCREMENTAL").await;
    s.sync().await;
    let listing = s.target_listing("1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.edit(&listing, json!({ "v": 9 })).await;
    s.import(json!([{ "id": 1, "v": 2 }]), "INCREMENTAL").await;
    s.sync().await;

    let (_, other) = s.app.create_tenant("Other").await;
    let own_source = s.app.create_source(&other, "Own").await;
    let own_target = s.app.create_target(&other, "Own").await;
    let attempts = [
        (
            "mutation($a: ID!) { importProperties(input: { sourceId: $a, items: [{ id: 1 }] }) { importRun { created } } }",
            json!({ "a": s.source }),
        ),
        (
            "mutation($a: ID!, $b: ID!) { syncSource(input: { sourceId: $a, targetId: $b }) { syncLog { created } } }",
            json!({ "a": s.source, "b": own_target }),
        ),
        (
            "mutation($a: ID!, $b: ID!) { syncSource(input: { sourceId: $a, targetId: $b }) { syncLog { created } } }",
            json!({ "a": own_source, "b": s.target }),
        ),
        (
            "mutation($a: ID!) { updateTargetProperty(input: { id: $a, patch: { v: 0 } }) { targetProperty { id } } }",
            json!({ "a": listing }),
        ),
        (
            "mutation($a: ID!) { resolveConflict(input: { id: $a, resolution: ACCEPT_SOURCE }) { targetProperty { id } } }",
            json!({ "a": listing }),
        ),
    ];
    for (mutation, variables) in attempts {
        let body = s.app.graphql(&other, mutation, variables).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{mutation}: {body}");
    }
    let seen = s
        .app
        .data(&other, "query($a: ID!) { node(id: $a) { id } conflicts { totalCount } syncLogs { totalCount } }", json!({ "a": listing }))
        .await;
    assert_eq!(
        seen,
        json!({ "node": null, "conflicts": { "totalCount": 0 }, "syncLogs": { "totalCount": 0 } })
    );
    // The other tenant's cleanup leaves the first tenant's snapshots alone.
    let cleanup = s
        .app
        .data(&other, "mutation { cleanupSnapshots(input: { olderThanDays: 0 }) { sourceSnapshotsDeleted targetSnapshotsDeleted } }", json!({}))
        .await;
    assert_eq!(
        cleanup["cleanupSnapshots"],
        json!({ "sourceSnapshotsDeleted": 0, "targetSnapshotsDeleted": 0 })
    );

    // Nothing changed for the first tenant.
    let mine = s.target_listing("1").await;
    assert_eq!(mine["data"]["v"], 9);
    assert_eq!(mine["hasConflict"], true);
    assert_eq!(s.audit_counts().await, (2, 2));
}
