//! The whole day of an operator, with exact counts at each step.

use serde_json::json;

use super::Setup;

#[tokio::test]
async fn an_operators_day() {
    let s = Setup::new().await;
    let morning = json!([
        { "id": 1, "title": "Flat", "price": 250000 },
        { "id": "2", "title": "House", "price": 500000 },
        { "id": 3, "title": "Loft", "price": 320000 },
    ]);
    // Import: all new.
    assert_eq!(s.import(morning.clone(), "INCREMENTAL").await, [3, 0, 0, 0]);
    // The same again: nothing written.
    assert_eq!(s.import(morning, "INCREMENTAL").await, [0, 0, 3, 0]);

    // First sync creates everything.
    let (counts, warnings) = s.sync().await;
    assert_eq!(counts, [3, 0, 0, 0, 0]);
    assert_eq!(warnings, json!([]));
    let house = s.target_listing("2").await;
    assert_eq!(house["baseHash"], house["contentHash"]);
    assert_eq!(house["sourceProperty"]["contentHash"], house["contentHash"]);

    // A hand edit of the house on the target.
    let house_id = house["id"].as_str().unwrap().to_owned();
    let edited = s
        .edit(&house_id, json!({ "price": 489000, "badge": "reduced" }))
        .await;
    let edited = &edited["data"]["updateTargetProperty"]["targetProperty"];
    assert_eq!(edited["manuallyModified"], true);
    assert_eq!(
        edited["data"],
        json!({ "id": "2", "title": "House", "price": 489000, "badge": "reduced" })
    );
    assert_eq!(edited["snapshots"]["totalCount"], 1);
    assert_eq!(edited["snapshots"]["nodes"][0]["reason"], "MANUAL_EDIT");
    assert_eq!(edited["snapshots"]["nodes"][0]["data"]["price"], 500000);

    // A changed re-import: the flat and the house change at the source.
    let afternoon = json!([
        { "id": 1, "title": "Flat", "price": 245000 },
        { "id": "2", "title": "House", "price": 495000 },
        { "id": 3, "title": "Loft", "price": 320000 },
    ]);
    assert_eq!(s.import(afternoon, "INCREMENTAL").await, [0, 2, 1, 0]);
    let flat = s
        .source_listings()
        .await
        .into_iter()
        .find(|l| l["externalId"] == "1")
        .unwrap();
    assert_eq!(flat["snapshots"]["totalCount"], 1);
    assert_eq!(flat["snapshots"]["nodes"][0]["reason"], "IMPORT");
    assert_eq!(flat["snapshots"]["nodes"][0]["data"]["price"], 250000);

    // The sync updates the flat, skips the loft, and protects the hand-edited house.
    let (counts, warnings) = s.sync().await;
    assert_eq!(counts, [0, 1, 1, 1, 0]);
    assert_eq!(warnings.as_array().unwrap().len(), 1);
    assert_eq!(warnings[0]["externalId"], "2");
    assert_eq!(warnings[0]["targetPropertyId"], house_id.as_str());
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("flagged a conflict")
    );
    let house = s.target_listing("2").await;
    assert_eq!(house["data"]["price"], 489000);
    assert_eq!(house["hasConflict"], true);
    assert_eq!(s.target_listing("1").await["data"]["price"], 245000);

    // The conflict shows the three versions.
    let conflicts = s
        .app
        .data(
            &s.key,
            "{ conflicts { totalCount nodes { id externalId targetData sourceData baseData } } }",
            json!({}),
        )
        .await;
    let conflict = &conflicts["conflicts"]["nodes"][0];
    assert_eq!(conflicts["conflicts"]["totalCount"], 1);
    assert_eq!(conflict["id"], house_id.as_str());
    assert_eq!(conflict["targetData"]["price"], 489000);
    assert_eq!(conflict["sourceData"]["price"], 495000);
    assert_eq!(conflict["baseData"]["price"], 500000);

    // Keep the hand edit: the flag clears and the listing stays protected.
    let resolved = s
        .app
        .data(
            &s.key,
            "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: KEEP_TARGET }) { targetProperty { hasConflict manuallyModified data snapshots { totalCount } lastResolution { resolution resolvedBy } } } }",
            json!({ "id": house_id }),
        )
        .await;
    let resolved = &resolved["resolveConflict"]["targetProperty"];
    assert_eq!(resolved["hasConflict"], false);
    assert_eq!(resolved["manuallyModified"], true);
    assert_eq!(resolved["data"]["price"], 489000);
    // Keeping the data replaces no version: no snapshot, the listing records the resolution.
    assert_eq!(resolved["snapshots"]["totalCount"], 1);
    assert_eq!(resolved["lastResolution"]["resolution"], "KEEP_TARGET");
    assert!(
        resolved["lastResolution"]["resolvedBy"]
            .as_str()
            .unwrap()
            .starts_with("api_key:")
    );
    let (counts, warnings) = s.sync().await;
    assert_eq!(counts, [0, 0, 3, 0, 0]);
    assert_eq!(warnings, json!([]));

    // The source changes the house again: a new conflict; this time accept the source.
    let evening = json!([
        { "id": 1, "title": "Flat", "price": 245000 },
        { "id": "2", "title": "House", "price": 479000 },
        { "id": 3, "title": "Loft", "price": 320000 },
    ]);
    assert_eq!(s.import(evening, "FULL").await, [0, 1, 2, 0]);
    let (counts, _) = s.sync().await;
    assert_eq!(counts, [0, 0, 2, 1, 0]);
    let accepted = s
        .app
        .data(
            &s.key,
            "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: ACCEPT_SOURCE }) { targetProperty { hasConflict manuallyModified data } } }",
            json!({ "id": house_id }),
        )
        .await;
    let accepted = &accepted["resolveConflict"]["targetProperty"];
    assert_eq!(accepted["hasConflict"], false);
    assert_eq!(accepted["manuallyModified"], false);
    assert_eq!(
        accepted["data"],
        json!({ "id": "2", "title": "House", "price": 479000 })
    );
    assert_eq!(s.sync().await.0, [0, 0, 3, 0, 0]);

    // Cleanup: a dry run counts, the real run deletes, for this tenant only.
    // Snapshots: source 1 (flat) + 2 (house, twice); target: 1 (flat, sync) + 1 edit +
    // 1 resolution (ACCEPT_SOURCE; KEEP_TARGET replaced nothing).
    let cleanup = "mutation($dry: Boolean!) { cleanupSnapshots(input: { olderThanDays: 0, dryRun: $dry }) { sourceSnapshotsDeleted targetSnapshotsDeleted dryRun } }";
    let dry = s.app.data(&s.key, cleanup, json!({ "dry": true })).await;
    assert_eq!(
        dry["cleanupSnapshots"],
        json!({ "sourceSnapshotsDeleted": 3, "targetSnapshotsDeleted": 3, "dryRun": true })
    );
    let done = s.app.data(&s.key, cleanup, json!({ "dry": false })).await;
    assert_eq!(
        done["cleanupSnapshots"],
        json!({ "sourceSnapshotsDeleted": 3, "targetSnapshotsDeleted": 3, "dryRun": false })
    );
    let again = s.app.data(&s.key, cleanup, json!({ "dry": false })).await;
    assert_eq!(again["cleanupSnapshots"]["sourceSnapshotsDeleted"], 0);
    // The default retention (30 days) keeps recent snapshots.
    let kept = s
        .app
        .data(&s.key, "mutation { cleanupSnapshots(input: {}) { sourceSnapshotsDeleted targetSnapshotsDeleted } }", json!({}))
        .await;
    assert_eq!(
        kept["cleanupSnapshots"],
        json!({ "sourceSnapshotsDeleted": 0, "targetSnapshotsDeleted": 0 })
    );
    assert_eq!(s.audit_counts().await, (4, 5));
}

#[tokio::test]
async fn use_data_resolves_with_merged_data_that_stays_protected() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a", "price": 1 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let id = s.target_listing("a").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.edit(&id, json!({ "note": "call first" })).await;
    s.import(json!([{ "id": "a", "price": 2 }]), "INCREMENTAL")
        .await;
    assert_eq!(s.sync().await.0, [0, 0, 0, 1, 0]);

    let missing = s
        .app
        .graphql(&s.key, "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: USE_DATA }) { targetProperty { id } } }", json!({ "id": id }))
        .await;
    assert_eq!(crate::common::error_code(&missing), "BAD_USER_INPUT");
    assert_eq!(missing["errors"][0]["extensions"]["field"], "input.data");

    let merged = json!({ "id": "a", "price": 2, "note": "call first" });
    let body = s
        .app
        .data(&s.key, "mutation($id: ID!, $data: JSON!) { resolveConflict(input: { id: $id, resolution: USE_DATA, data: $data }) { targetProperty { data hasConflict manuallyModified } } }", json!({ "id": id, "data": merged }))
        .await;
    assert_eq!(
        body["resolveConflict"]["targetProperty"],
        json!({ "data": merged, "hasConflict": false, "manuallyModified": true })
    );
    // Resolving again: there is nothing to resolve.
    let again = s
        .app
        .graphql(&s.key, "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: KEEP_TARGET }) { targetProperty { id } } }", json!({ "id": id }))
        .await;
    assert_eq!(crate::common::error_code(&again), "CONFLICT");
    assert_eq!(s.sync().await.0, [0, 0, 1, 0, 0]);
}
