//! Restorable, pinnable history: `restoreSnapshot` on target and source listings,
//! `pinSnapshot`, and the record every cleanup leaves (`cleanupRuns`).

use serde_json::{Value, json};

use crate::cli::{Cli, str_of};
use crate::common::{assert_bad_input, error_code};
use crate::engine::Setup;

const RESTORE: &str = "mutation($id: ID!, $v: Int) { restoreSnapshot(input: { id: $id, expectedVersion: $v }) { \
    restored \
    sourceProperty { externalId data contentHash snapshots { nodes { reason data } } } \
    targetProperty { externalId data manuallyModified version snapshots { nodes { reason data } } } } }";

const PIN: &str = "mutation($id: ID!, $pinned: Boolean!) { pinSnapshot(input: { id: $id, pinned: $pinned }) { \
    sourceSnapshot { id pinned } targetSnapshot { id pinned } } }";

const CLEANUP: &str = "mutation($dry: Boolean!) { cleanupSnapshots(input: { olderThanDays: 0, dryRun: $dry }) { \
    sourceSnapshotsDeleted targetSnapshotsDeleted keptPinned dryRun \
    cleanupRun { id olderThanDays dryRun sourceSnapshotsDeleted targetSnapshotsDeleted keptPinned actor } } }";

async fn restore(s: &Setup, id: &Value, version: Option<i64>) -> Value {
    s.app
        .graphql(&s.key, RESTORE, json!({ "id": id, "v": version }))
        .await
}

/// The snapshots of the listing `external_id` of the target (`side` "target") or the source
/// (`side` "source"): `[{ id reason data pinned }]`.
async fn snapshots_of(s: &Setup, side: &str, external_id: &str) -> Vec<Value> {
    let id = if side == "target" {
        &s.target
    } else {
        &s.source
    };
    let data = s
        .app
        .data(
            &s.key,
            &format!(
                "query($id: ID!) {{ {side}(id: $id) {{ properties(first: 50) {{ nodes {{ externalId snapshots {{ nodes {{ id reason data pinned }} }} }} }} }} }}"
            ),
            json!({ "id": id }),
        )
        .await;
    data[side]["properties"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["externalId"] == external_id)
        .map(|n| n["snapshots"]["nodes"].as_array().unwrap().clone())
        .unwrap_or_default()
}

async fn target_snapshots(s: &Setup, external_id: &str) -> Vec<Value> {
    snapshots_of(s, "target", external_id).await
}

async fn source_snapshots(s: &Setup, external_id: &str) -> Vec<Value> {
    snapshots_of(s, "source", external_id).await
}

#[tokio::test]
async fn restoring_a_target_snapshot_is_a_hand_edit_that_keeps_the_replaced_version() {
    let s = Setup::new().await;
    s.import(json!({ "id": "a", "price": 100 }), "INCREMENTAL")
        .await;
    s.sync().await;
    let a = s.target_listing("a").await["id"].clone();
    s.edit(a.as_str().unwrap(), json!({ "price": 90 })).await;
    let snapshot = target_snapshots(&s, "a").await[0].clone();
    assert_eq!(snapshot["reason"], "MANUAL_EDIT");

    // A stale version first: refused, nothing changes.
    let before = target_snapshots(&s, "a").await;
    let body = restore(&s, &snapshot["id"], Some(1)).await;
    assert_eq!(error_code(&body), "STALE_VERSION", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 2);
    assert_eq!(s.target_listing("a").await["data"]["price"], 90);
    assert_eq!(target_snapshots(&s, "a").await, before);

    let body = restore(&s, &snapshot["id"], Some(2)).await;
    let payload = &body["data"]["restoreSnapshot"];
    assert_eq!(payload["restored"], true, "{body}");
    assert!(payload["sourceProperty"].is_null());
    let listing = &payload["targetProperty"];
    assert_eq!(
        [
            &listing["data"],
            &listing["manuallyModified"],
            &listing["version"]
        ],
        [&json!({ "id": "a", "price": 100 }), &json!(true), &json!(3)]
    );
    assert_eq!(
        listing["snapshots"]["nodes"],
        json!([
            { "reason": "MANUAL_EDIT", "data": { "id": "a", "price": 100 } },
            { "reason": "RESTORE", "data": { "id": "a", "price": 90 } },
        ])
    );

    // The same data again: nothing changes, no snapshot.
    let body = restore(&s, &snapshot["id"], None).await;
    let payload = &body["data"]["restoreSnapshot"];
    assert_eq!(payload["restored"], false);
    assert_eq!(payload["targetProperty"]["version"], 3);
    assert_eq!(
        payload["targetProperty"]["snapshots"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A hand edit: the next sync of a changed source flags it instead of overwriting it.
    s.import(json!({ "id": "a", "price": 120 }), "INCREMENTAL")
        .await;
    let (counts, _) = s.sync().await;
    assert_eq!(counts, [0, 0, 0, 1, 0]);
    assert_eq!(s.target_listing("a").await["data"]["price"], 100);
}

#[tokio::test]
async fn restoring_a_source_snapshot_rehashes_it_and_the_next_sync_carries_it() {
    let s = Setup::new().await;
    s.import(json!({ "id": "a", "price": 100 }), "INCREMENTAL")
        .await;
    let first_hash = s.source_listings().await[0]["contentHash"].clone();
    s.import(json!({ "id": "a", "price": 200 }), "INCREMENTAL")
        .await;
    s.sync().await;
    let snapshot = source_snapshots(&s, "a").await[0].clone();
    assert_eq!(snapshot["reason"], "IMPORT");

    // Source listings have no version.
    let body = restore(&s, &snapshot["id"], Some(1)).await;
    assert_bad_input(&body, "input.expectedVersion");
    assert_eq!(s.source_listings().await[0]["data"]["price"], 200);

    let body = restore(&s, &snapshot["id"], None).await;
    let payload = &body["data"]["restoreSnapshot"];
    assert_eq!(payload["restored"], true, "{body}");
    assert!(payload["targetProperty"].is_null());
    let listing = &payload["sourceProperty"];
    assert_eq!(listing["data"], json!({ "id": "a", "price": 100 }));
    assert_eq!(listing["contentHash"], first_hash);
    assert_eq!(
        listing["snapshots"]["nodes"],
        json!([
            { "reason": "IMPORT", "data": { "id": "a", "price": 100 } },
            { "reason": "RESTORE", "data": { "id": "a", "price": 200 } },
        ])
    );
    let (counts, _) = s.sync().await;
    assert_eq!(counts, [0, 1, 0, 0, 0]);
    assert_eq!(s.target_listing("a").await["data"]["price"], 100);

    let body = restore(&s, &snapshot["id"], None).await;
    assert_eq!(body["data"]["restoreSnapshot"]["restored"], false);
    assert_eq!(source_snapshots(&s, "a").await.len(), 2);
}

#[tokio::test]
async fn unknown_or_other_tenants_snapshots_are_not_found_and_nothing_changes() {
    let s = Setup::new().await;
    s.import(json!({ "id": "a", "price": 1 }), "INCREMENTAL")
        .await;
    s.import(json!({ "id": "a", "price": 2 }), "INCREMENTAL")
        .await;
    let snapshot = source_snapshots(&s, "a").await[0]["id"].clone();
    let (_, other_key) = s.app.create_tenant("Other").await;

    for mutation in [
        "mutation($id: ID!) { restoreSnapshot(input: { id: $id }) { restored } }",
        "mutation($id: ID!) { pinSnapshot(input: { id: $id, pinned: true }) { sourceSnapshot { id } } }",
    ] {
        let body = s
            .app
            .graphql(&other_key, mutation, json!({ "id": snapshot }))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        let unknown = sync_manager::ids::SourceSnapshotId(999_999).to_global();
        let body = s
            .app
            .graphql(&s.key, mutation, json!({ "id": unknown }))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        let body = s
            .app
            .graphql(&s.key, mutation, json!({ "id": s.source }))
            .await;
        assert_bad_input(&body, "input.id");
        assert_eq!(
            body["errors"][0]["message"],
            "invalid input.id: expected the id of a SourceSnapshot or a TargetSnapshot, got the id of a Source"
        );
    }
    assert_eq!(s.source_listings().await[0]["data"]["price"], 2);
    assert_eq!(
        source_snapshots(&s, "a").await,
        vec![
            json!({ "id": snapshot, "reason": "IMPORT", "data": { "id": "a", "price": 1 }, "pinned": false })
        ]
    );
}

#[tokio::test]
async fn pinned_snapshots_survive_cleanup_and_every_cleanup_is_recorded() {
    let s = Setup::new().await;
    for price in [1, 2, 3] {
        s.import(json!({ "id": "a", "price": price }), "INCREMENTAL")
            .await;
        s.sync().await;
    }
    // Two source snapshots, two target snapshots; pin one of each.
    let sources = source_snapshots(&s, "a").await;
    let targets = target_snapshots(&s, "a").await;
    assert_eq!((sources.len(), targets.len()), (2, 2));
    let body = s
        .app
        .data(
            &s.key,
            PIN,
            json!({ "id": sources[0]["id"], "pinned": true }),
        )
        .await;
    assert_eq!(
        body["pinSnapshot"],
        json!({ "sourceSnapshot": { "id": sources[0]["id"], "pinned": true }, "targetSnapshot": null })
    );
    let body = s
        .app
        .data(
            &s.key,
            PIN,
            json!({ "id": targets[1]["id"], "pinned": true }),
        )
        .await;
    assert_eq!(body["pinSnapshot"]["targetSnapshot"]["pinned"], true);

    let dry = s.app.data(&s.key, CLEANUP, json!({ "dry": true })).await;
    let dry = &dry["cleanupSnapshots"];
    assert_eq!(
        [
            &dry["sourceSnapshotsDeleted"],
            &dry["targetSnapshotsDeleted"],
            &dry["keptPinned"],
            &dry["dryRun"]
        ],
        [&json!(1), &json!(1), &json!(2), &json!(true)]
    );
    assert_eq!(source_snapshots(&s, "a").await.len(), 2);

    let done = s.app.data(&s.key, CLEANUP, json!({ "dry": false })).await;
    let done = &done["cleanupSnapshots"];
    assert_eq!(
        [
            &done["sourceSnapshotsDeleted"],
            &done["targetSnapshotsDeleted"],
            &done["keptPinned"],
            &done["dryRun"]
        ],
        [&json!(1), &json!(1), &json!(2), &json!(false)]
    );
    let kept: Vec<Value> = source_snapshots(&s, "a")
        .await
        .into_iter()
        .chain(target_snapshots(&s, "a").await)
        .map(|n| json!([n["id"], n["pinned"]]))
        .collect();
    assert_eq!(
        kept,
        vec![
            json!([sources[0]["id"], true]),
            json!([targets[1]["id"], true])
        ]
    );

    // Unpinned, they go at the next cleanup.
    s.app
        .data(
            &s.key,
            PIN,
            json!({ "id": sources[0]["id"], "pinned": false }),
        )
        .await;
    let last = s.app.data(&s.key, CLEANUP, json!({ "dry": false })).await;
    assert_eq!(
        [
            &last["cleanupSnapshots"]["sourceSnapshotsDeleted"],
            &last["cleanupSnapshots"]["keptPinned"]
        ],
        [&json!(1), &json!(1)]
    );

    // Three records, dry run included, with who ran them; each is a node.
    let runs = s
        .app
        .data(
            &s.key,
            "{ cleanupRuns(first: 10) { totalCount nodes { id olderThanDays dryRun sourceSnapshotsDeleted targetSnapshotsDeleted keptPinned actor } } }",
            json!({}),
        )
        .await;
    let nodes = runs["cleanupRuns"]["nodes"].as_array().unwrap();
    assert_eq!(runs["cleanupRuns"]["totalCount"], 3);
    assert_eq!(nodes[0], dry["cleanupRun"]);
    assert_eq!(nodes[1], done["cleanupRun"]);
    let counts: Vec<Value> = nodes
        .iter()
        .map(|n| {
            json!([
                n["dryRun"],
                n["sourceSnapshotsDeleted"],
                n["targetSnapshotsDeleted"],
                n["keptPinned"],
                n["olderThanDays"]
            ])
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            json!([true, 1, 1, 2, 0]),
            json!([false, 1, 1, 2, 0]),
            json!([false, 1, 0, 1, 0])
        ]
    );
    assert!(
        nodes
            .iter()
            .all(|n| n["actor"].as_str().unwrap().starts_with("api_key:"))
    );
    let node = s
        .app
        .data(
            &s.key,
            "query($id: ID!) { node(id: $id) { ... on CleanupRun { keptPinned } } }",
            json!({ "id": nodes[2]["id"] }),
        )
        .await;
    assert_eq!(node["node"]["keptPinned"], 1);
    // Another tenant sees none of them.
    let (_, other_key) = s.app.create_tenant("Other").await;
    let other = s
        .app
        .data(&other_key, "{ cleanupRuns { totalCount } }", json!({}))
        .await;
    assert_eq!(other["cleanupRuns"]["totalCount"], 0);
}

#[tokio::test]
async fn the_cli_restores_pins_and_records_its_cleanups() {
    let cli = Cli::new().await;
    let created = cli.json(&["create-tenant", "Acme", "--json"]);
    let key = str_of(&created, "key").to_owned();
    cli.json(&["create-source", "acme", "Feed", "--json"]);
    for (name, price) in [("one.json", 1), ("two.json", 2)] {
        std::fs::write(
            cli.dir.join(name),
            json!([{ "id": "a", "price": price }]).to_string(),
        )
        .unwrap();
        cli.json(&["import", "acme", "Feed", name, "--json"]);
    }
    let body = cli
        .graphql(
            &key,
            "{ sources(first: 1) { nodes { properties(first: 1) { nodes { snapshots(first: 1) { nodes { id } } } } } } }",
        )
        .await;
    let snapshot = body["data"]["sources"]["nodes"][0]["properties"]["nodes"][0]["snapshots"]
        ["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let restored = cli.json(&["restore-snapshot", "acme", &snapshot, "--json"]);
    assert_eq!(restored["restored"], true);
    assert_eq!(restored["sourceProperty"]["externalId"], "a");
    let again = cli.json(&["restore-snapshot", "acme", &snapshot, "--json"]);
    assert_eq!(again["restored"], false);
    let stderr = cli.fails(
        &[
            "restore-snapshot",
            "acme",
            &snapshot,
            "--expected-version",
            "1",
        ],
        3,
    );
    assert!(
        stderr.contains("source listings have no version"),
        "{stderr}"
    );

    // A target snapshot: a hand edit, guarded by --expected-version (exit code 5 when stale).
    cli.json(&["create-target", "acme", "Site", "--json"]);
    cli.json(&["sync", "acme", "Feed", "Site", "--json"]);
    let body = cli
        .graphql(
            &key,
            "{ targets(first: 1) { nodes { properties(first: 1) { nodes { id } } } } }",
        )
        .await;
    let listing = body["data"]["targets"]["nodes"][0]["properties"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = cli
        .graphql(
            &key,
            &format!(
                "mutation {{ updateTargetProperty(input: {{ id: \"{listing}\", patch: {{ price: 5 }} }}) {{ targetProperty {{ version snapshots(first: 1) {{ nodes {{ id }} }} }} }} }}"
            ),
        )
        .await;
    let edited = &body["data"]["updateTargetProperty"]["targetProperty"];
    assert_eq!(edited["version"], 2, "{body}");
    let target_snapshot = edited["snapshots"]["nodes"][0]["id"].as_str().unwrap();
    let stderr = cli.fails(
        &[
            "restore-snapshot",
            "acme",
            target_snapshot,
            "--expected-version",
            "1",
        ],
        5,
    );
    assert!(
        stderr.contains("target listing `a` is at version 2, not the expected version 1"),
        "{stderr}"
    );
    let restored = cli.json(&[
        "restore-snapshot",
        "acme",
        target_snapshot,
        "--expected-version",
        "2",
        "--json",
    ]);
    assert_eq!(
        restored,
        json!({ "restored": true, "targetProperty": { "id": listing, "externalId": "a", "version": 3 } })
    );

    let pinned = cli.json(&["pin-snapshot", "acme", &snapshot, "--json"]);
    assert_eq!(
        pinned,
        json!({ "sourceSnapshot": { "id": snapshot, "pinned": true } })
    );
    let cleaned = cli.json(&["cleanup", "acme", "--days", "0", "--json"]);
    assert_eq!(
        [
            &cleaned["sourceSnapshotsDeleted"],
            &cleaned["keptPinned"],
            &cleaned["cleanupRun"]["keptPinned"],
            &cleaned["cleanupRun"]["actor"]
        ],
        [&json!(1), &json!(1), &json!(1), &json!("cli")]
    );
    let out = cli.run(&["cleanup", "acme", "--days", "0", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("kept 1 pinned"), "{text}");
    assert_eq!(cli.count("cleanup_runs").await, 2);
    let body = cli
        .graphql(&key, "{ cleanupRuns { nodes { id dryRun actor } } }")
        .await;
    assert_eq!(
        body["data"]["cleanupRuns"]["nodes"][0]["id"],
        cleaned["cleanupRun"]["id"]
    );
    assert_eq!(body["data"]["cleanupRuns"]["nodes"][1]["dryRun"], true);
}
