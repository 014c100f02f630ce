//! Imports: hashing invariants, atomic failure, full mode, dry runs, bad input.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::Setup;
use crate::common::error_code;

#[tokio::test]
async fn key_order_whitespace_and_number_forms_do_not_change_the_hash() {
    let s = Setup::new().await;
    assert_eq!(
        s.import(json!({ "id": "x", "b": 1, "a": [1, 2] }), "INCREMENTAL")
            .await,
        [1, 0, 0, 0]
    );
    let stored = s.source_listings().await[0]["contentHash"]
        .as_str()
        .unwrap()
        .to_owned();
    // The RFC 8785 canonical form, hashed by hand: a scraper can compute the same.
    let expected = hex::encode(Sha256::digest(br#"{"a":[1,2],"b":1,"id":"x"}"#));
    assert_eq!(stored, expected);

    // Same listing: other key order, whitespace, and 1.0 for 1 → unchanged.
    let same: serde_json::Value =
        serde_json::from_str("{ \"b\" : 1.0,\n \"a\": [1, 2.0], \"id\": \"x\" }").unwrap();
    assert_eq!(s.import(same, "INCREMENTAL").await, [0, 0, 1, 0]);
    // Any change of a value changes the hash.
    assert_eq!(
        s.import(json!({ "id": "x", "b": 2, "a": [1, 2] }), "INCREMENTAL")
            .await,
        [0, 1, 0, 0]
    );
    assert_eq!(
        s.import(json!({ "id": "x", "b": 2, "a": [2, 1] }), "INCREMENTAL")
            .await,
        [0, 1, 0, 0]
    );
    assert_ne!(
        s.source_listings().await[0]["contentHash"],
        expected.as_str()
    );
}

#[tokio::test]
async fn a_bad_item_at_index_700_of_1000_leaves_no_trace() {
    let s = Setup::new().await;
    let mut items: Vec<_> = (0..1000)
        .map(|i| json!({ "id": i, "title": format!("Listing {i}") }))
        .collect();
    items[700] = json!({ "title": "no id" });
    let body = s.import_raw(json!(items), "INCREMENTAL", false).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.items[700]");
    assert_eq!(
        body["errors"][0]["message"],
        "invalid input.items[700]: has no `id` field"
    );
    assert!(s.source_listings().await.is_empty());
    assert_eq!(s.audit_counts().await, (0, 0));

    // Other bad items, each named.
    items[700] = json!("not an object");
    let body = s.import_raw(json!(items), "INCREMENTAL", false).await;
    assert_eq!(
        body["errors"][0]["message"],
        "invalid input.items[700]: is not a JSON object"
    );
    items[700] = json!({ "id": 3 });
    let body = s.import_raw(json!(items), "INCREMENTAL", false).await;
    assert_eq!(
        body["errors"][0]["message"],
        "invalid input.items[700]: repeats id `3` of input.items[3] in the same batch"
    );
    assert!(s.source_listings().await.is_empty());

    // Fixed, the batch goes in whole.
    items[700] = json!({ "id": 700, "title": "Listing 700" });
    assert_eq!(s.import(json!(items), "INCREMENTAL").await, [1000, 0, 0, 0]);
}

#[tokio::test]
async fn full_mode_removes_what_the_batch_lacks_and_brings_it_back() {
    let s = Setup::new().await;
    // Removals of 2 of 3 listings: past the mass-removal guard's default limit (its own tests
    // are in mass_removal.rs), so this source and target allow any share but all.
    s.app
        .data(
            &s.key,
            "mutation($s: ID!, $t: ID!) { \
               updateSource(input: { id: $s, config: { max_removal_percent: 100 } }) { source { id } } \
               updateTarget(input: { id: $t, config: { max_removal_percent: 100 } }) { target { id } } }",
            json!({ "s": s.source, "t": s.target }),
        )
        .await;
    let all = json!([{ "id": 1 }, { "id": 2 }, { "id": 3 }]);
    assert_eq!(s.import(all.clone(), "FULL").await, [3, 0, 0, 0]);
    // Incremental never removes.
    assert_eq!(
        s.import(json!([{ "id": 1 }]), "INCREMENTAL").await,
        [0, 0, 1, 0]
    );
    // Full without 2 and 3 removes them.
    assert_eq!(s.import(json!([{ "id": 1 }]), "FULL").await, [0, 0, 1, 2]);
    let removed: Vec<_> = s
        .source_listings()
        .await
        .into_iter()
        .filter(|l| !l["removedAt"].is_null())
        .map(|l| l["externalId"].clone())
        .collect();
    assert_eq!(removed, vec![json!("2"), json!("3")]);
    // Removing again removes nothing more.
    assert_eq!(s.import(json!([{ "id": 1 }]), "FULL").await, [0, 0, 1, 0]);

    // The sync propagates the removal.
    assert_eq!(s.sync().await.0, [1, 0, 0, 0, 0]);
    // They come back, unchanged: un-removed at the source, then on the target.
    assert_eq!(s.import(all, "FULL").await, [0, 2, 1, 0]);
    assert!(
        s.source_listings()
            .await
            .iter()
            .all(|l| l["removedAt"].is_null())
    );
    assert_eq!(s.sync().await.0, [2, 0, 1, 0, 0]);
    assert_eq!(s.import(json!([{ "id": 3 }]), "FULL").await, [0, 0, 1, 2]);
    assert_eq!(s.sync().await.0, [0, 0, 1, 0, 2]);
    let target = s.target_listings().await;
    let removed: Vec<_> = target
        .iter()
        .filter(|l| !l["removedAt"].is_null())
        .map(|l| l["externalId"].clone())
        .collect();
    assert_eq!(removed, vec![json!("1"), json!("2")]);
    // Back again: the target un-removes them.
    assert_eq!(
        s.import(json!([{ "id": 1 }, { "id": 2 }, { "id": 3 }]), "FULL")
            .await,
        [0, 2, 1, 0]
    );
    assert_eq!(s.sync().await.0, [0, 2, 1, 0, 0]);
    assert!(
        s.target_listings()
            .await
            .iter()
            .all(|l| l["removedAt"].is_null())
    );
}

#[tokio::test]
async fn a_dry_run_import_writes_nothing_but_its_run() {
    let s = Setup::new().await;
    s.import(
        json!([{ "id": 1, "v": 1 }, { "id": 2, "v": 1 }]),
        "INCREMENTAL",
    )
    .await;
    let body = s
        .import_raw(
            json!([{ "id": 1, "v": 2 }, { "id": 3, "v": 1 }]),
            "FULL",
            true,
        )
        .await;
    let run = &body["data"]["importProperties"]["importRun"];
    assert_eq!(
        [
            run["created"].clone(),
            run["updated"].clone(),
            run["unchanged"].clone(),
            run["removed"].clone(),
            run["dryRun"].clone()
        ],
        [json!(1), json!(1), json!(0), json!(1), json!(true)]
    );
    assert_eq!(run["mode"], "FULL");
    let listings = s.source_listings().await;
    assert_eq!(listings.len(), 2);
    assert!(
        listings
            .iter()
            .all(|l| l["data"]["v"] == 1 && l["removedAt"].is_null())
    );
    assert!(listings.iter().all(|l| l["snapshots"]["totalCount"] == 0));
    assert_eq!(s.audit_counts().await, (2, 0));
}

#[tokio::test]
async fn the_id_field_comes_from_the_source_config_and_ids_may_be_numbers() {
    let s = Setup::new().await;
    let created = s
        .app
        .data(
            &s.key,
            r#"mutation { createSource(input: { name: "Partner", kind: JSON, config: { id_field: "ref" } }) { source { id } } }"#,
            json!({}),
        )
        .await;
    let partner = created["createSource"]["source"]["id"].as_str().unwrap();
    let import = "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created actor } } }";
    let body = s
        .app
        .graphql(
            &s.key,
            import,
            json!({ "s": partner, "items": [{ "id": 1 }] }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        "invalid input.items[0]: has no `ref` field"
    );
    let body = s
        .app
        .data(
            &s.key,
            import,
            json!({ "s": partner, "items": [{ "ref": 10.5 }, { "ref": "A-1" }] }),
        )
        .await;
    assert_eq!(body["importProperties"]["importRun"]["created"], 2);
    assert!(
        body["importProperties"]["importRun"]["actor"]
            .as_str()
            .unwrap()
            .starts_with("api_key:")
    );
}

#[tokio::test]
async fn an_inactive_source_refuses_imports_and_syncs() {
    let s = Setup::new().await;
    s.app
        .data(&s.key, "mutation($id: ID!) { updateSource(input: { id: $id, active: false }) { source { active } } }", json!({ "id": s.source }))
        .await;
    let body = s
        .import_raw(json!([{ "id": 1 }]), "INCREMENTAL", false)
        .await;
    assert_eq!(error_code(&body), "CONFLICT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("source `Feed` is inactive")
    );
    let body = s.sync_raw(false).await;
    assert_eq!(error_code(&body), "CONFLICT");
    assert_eq!(s.audit_counts().await, (0, 0));
}
