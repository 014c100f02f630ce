//! Conflicts over time: the base of a second conflict, the counts a sync reports, what a
//! resolution leaves behind, and the id field a hand edit may not touch.

use serde_json::{Value, json};

use super::Setup;
use crate::common::assert_bad_input;

const CONFLICTS: &str = "{ conflicts { totalCount nodes { id targetData sourceData baseData targetProperty { baseHash } sourceProperty { snapshots { nodes { contentHash data } } } } } }";

const RESOLVE: &str = "mutation($id: ID!, $r: Resolution!, $data: JSON) { resolveConflict(input: { id: $id, resolution: $r, data: $data }) { targetProperty { data hasConflict snapshots { totalCount nodes { reason data } } lastResolution { resolution resolvedAt resolvedBy } } } }";

const SYNC: &str = "mutation($s: ID!, $t: ID!, $dry: Boolean!) { syncSource(input: { sourceId: $s, targetId: $t, dryRun: $dry }) { syncLog { newConflicts openConflicts keptEdits conflicts warnings { externalId } } } }";

impl Setup {
    /// The tenant's conflicts.
    async fn conflicts(&self) -> Value {
        self.app.data(&self.key, CONFLICTS, json!({})).await["conflicts"].clone()
    }

    /// Resolves the conflict of `id`; returns the resolved listing.
    async fn resolve(&self, id: &str, resolution: &str, data: Option<Value>) -> Value {
        let data = self
            .app
            .data(
                &self.key,
                RESOLVE,
                json!({ "id": id, "r": resolution, "data": data }),
            )
            .await;
        data["resolveConflict"]["targetProperty"].clone()
    }

    /// Syncs; returns `[newConflicts, openConflicts, keptEdits, conflicts]` and the warned ids.
    async fn sync_conflicts(&self, dry_run: bool) -> ([i64; 4], Vec<String>) {
        let data = self
            .app
            .data(
                &self.key,
                SYNC,
                json!({ "s": self.source, "t": self.target, "dry": dry_run }),
            )
            .await;
        let log = &data["syncSource"]["syncLog"];
        let warned = log["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["externalId"].as_str().unwrap().to_owned())
            .collect();
        (
            ["newConflicts", "openConflicts", "keptEdits", "conflicts"]
                .map(|k| log[k].as_i64().unwrap()),
            warned,
        )
    }

    async fn id_of(&self, external_id: &str) -> String {
        self.target_listing(external_id).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn keep_target_policy(&self) {
        self.app
            .data(&self.key, "mutation($id: ID!) { updateTarget(input: { id: $id, conflictPolicy: KEEP_TARGET }) { target { conflictPolicy } } }", json!({ "id": self.target }))
            .await;
    }
}

/// A listing synced at price 1, edited by hand, then changed at the source to price 2 and
/// synced: one conflict. Returns the target listing's id.
async fn first_conflict(s: &Setup) -> String {
    s.import(json!([{ "id": "a", "price": 1 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let id = s.id_of("a").await;
    s.edit(&id, json!({ "note": "call first" })).await;
    s.import(json!([{ "id": "a", "price": 2 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let conflicts = s.conflicts().await;
    assert_eq!(conflicts["totalCount"], 1);
    assert_eq!(
        conflicts["nodes"][0]["baseData"],
        json!({ "id": "a", "price": 1 })
    );
    id
}

#[tokio::test]
async fn a_second_conflict_after_a_resolution_has_its_base() {
    for (resolution, data) in [
        ("KEEP_TARGET", None),
        (
            "USE_DATA",
            Some(json!({ "id": "a", "price": 2, "note": "merged" })),
        ),
    ] {
        let s = Setup::new().await;
        let id = first_conflict(&s).await;
        s.resolve(&id, resolution, data.clone()).await;
        // The source changes again: a second conflict, whose base is the source version the
        // resolution was made against (price 2), now a source snapshot.
        s.import(json!([{ "id": "a", "price": 3 }]), "INCREMENTAL")
            .await;
        assert_eq!(
            s.sync_conflicts(false).await.0,
            [1, 1, 0, 1],
            "{resolution}"
        );
        let conflicts = s.conflicts().await;
        let conflict = &conflicts["nodes"][0];
        assert_eq!(conflicts["totalCount"], 1, "{resolution}");
        assert_eq!(
            conflict["baseData"],
            json!({ "id": "a", "price": 2 }),
            "{resolution}"
        );
        assert_eq!(
            conflict["sourceData"],
            json!({ "id": "a", "price": 3 }),
            "{resolution}"
        );
        let expected_target =
            data.unwrap_or(json!({ "id": "a", "price": 1, "note": "call first" }));
        assert_eq!(conflict["targetData"], expected_target, "{resolution}");
        // The base is the source snapshot whose content hash is the listing's baseHash.
        let base_hash = &conflict["targetProperty"]["baseHash"];
        let snapshots = conflict["sourceProperty"]["snapshots"]["nodes"]
            .as_array()
            .unwrap();
        let base = snapshots
            .iter()
            .find(|snapshot| &snapshot["contentHash"] == base_hash)
            .unwrap();
        assert_eq!(base["data"], conflict["baseData"], "{resolution}");

        // Only retention makes it null: once the snapshots are gone, so is the base.
        s.app
            .data(&s.key, "mutation { cleanupSnapshots(input: { olderThanDays: 0 }) { sourceSnapshotsDeleted } }", json!({}))
            .await;
        assert_eq!(s.conflicts().await["nodes"][0]["baseData"], Value::Null);
    }
}

#[tokio::test]
async fn a_sync_counts_new_and_open_conflicts_and_kept_edits_apart() {
    let s = Setup::new().await;
    s.import(
        json!([{ "id": "a", "v": 1 }, { "id": "b", "v": 1 }, { "id": "c", "v": 1 }]),
        "INCREMENTAL",
    )
    .await;
    s.sync().await;
    let a = s.id_of("a").await;
    let b = s.id_of("b").await;
    s.edit(&a, json!({ "mine": true })).await;
    s.edit(&b, json!({ "mine": true })).await;
    s.import(json!([{ "id": "a", "v": 2 }]), "INCREMENTAL")
        .await;

    // A dry run tells what the sync would report, and changes nothing.
    assert_eq!(
        s.sync_conflicts(true).await,
        ([1, 1, 0, 1], vec!["a".to_owned()])
    );
    assert_eq!(s.conflicts().await["totalCount"], 0);
    assert_eq!(
        s.sync_conflicts(false).await,
        ([1, 1, 0, 1], vec!["a".to_owned()])
    );
    // Synced again, the open conflict is not new.
    assert_eq!(s.sync_conflicts(false).await.0, [0, 1, 0, 1]);
    // Another listing changes at the source: one new, two open.
    s.import(json!([{ "id": "b", "v": 2 }]), "INCREMENTAL")
        .await;
    assert_eq!(s.sync_conflicts(false).await.0, [1, 2, 0, 2]);
    assert_eq!(s.conflicts().await["totalCount"], 2);
    // One resolved: one open.
    s.resolve(&a, "ACCEPT_SOURCE", None).await;
    assert_eq!(s.sync_conflicts(false).await.0, [0, 1, 0, 1]);

    // With KEEP_TARGET, a hand edit over a changed source is kept, not a conflict.
    s.keep_target_policy().await;
    let c = s.id_of("c").await;
    s.edit(&c, json!({ "mine": true })).await;
    s.import(json!([{ "id": "c", "v": 2 }]), "INCREMENTAL")
        .await;
    let (counts, warned) = s.sync_conflicts(false).await;
    assert_eq!(counts, [0, 1, 1, 2]);
    assert_eq!(warned, vec!["b".to_owned(), "c".to_owned()]);
    assert_eq!(s.conflicts().await["totalCount"], 1);

    // The log keeps the counts.
    let logs = s
        .app
        .data(
            &s.key,
            "query($t: ID!) { target(id: $t) { syncLogs(last: 1) { nodes { newConflicts openConflicts keptEdits } } } }",
            json!({ "t": s.target }),
        )
        .await;
    assert_eq!(
        logs["target"]["syncLogs"]["nodes"][0],
        json!({ "newConflicts": 0, "openConflicts": 1, "keptEdits": 1 })
    );

    // And the CLI reports them, in text and in JSON.
    let run = |args: &[&str]| {
        let out = crate::common::sync_manager(&s.app.database_url)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(&["sync", "acme", "Feed", "Site"]);
    assert_eq!(
        text.split(" (").next().unwrap(),
        "synced `Feed` → `Site`: 0 created, 0 updated, 1 skipped, 0 removed; conflicts: 0 new, 1 open; 1 hand edits kept, 0 merged"
    );
    let json: Value =
        serde_json::from_str(&run(&["sync", "acme", "Feed", "Site", "--json"])).unwrap();
    let json = &json["syncLog"];
    assert_eq!(
        [
            &json["newConflicts"],
            &json["openConflicts"],
            &json["keptEdits"],
            &json["conflicts"]
        ],
        [&json!(0), &json!(1), &json!(1), &json!(2)]
    );
}

#[tokio::test]
async fn a_resolution_that_changes_nothing_leaves_no_snapshot() {
    // KEEP_TARGET keeps the data: no snapshot, the listing records the resolution.
    let s = Setup::new().await;
    let id = first_conflict(&s).await;
    let kept = s.resolve(&id, "KEEP_TARGET", None).await;
    assert_eq!(kept["hasConflict"], false);
    assert_eq!(kept["snapshots"]["totalCount"], 1);
    assert_eq!(kept["snapshots"]["nodes"][0]["reason"], "MANUAL_EDIT");
    assert_eq!(kept["lastResolution"]["resolution"], "KEEP_TARGET");
    assert!(kept["lastResolution"]["resolvedAt"].is_string());
    assert!(
        kept["lastResolution"]["resolvedBy"]
            .as_str()
            .unwrap()
            .starts_with("api_key:")
    );

    // USE_DATA with the data the listing already has: no snapshot either.
    let s = Setup::new().await;
    let id = first_conflict(&s).await;
    let same = json!({ "note": "call first", "price": 1.0, "id": "a" });
    let used = s.resolve(&id, "USE_DATA", Some(same)).await;
    assert_eq!(used["snapshots"]["totalCount"], 1);
    assert_eq!(used["lastResolution"]["resolution"], "USE_DATA");

    // ACCEPT_SOURCE replaces the data: the replaced version is a snapshot.
    let s = Setup::new().await;
    let id = first_conflict(&s).await;
    let accepted = s.resolve(&id, "ACCEPT_SOURCE", None).await;
    assert_eq!(accepted["data"], json!({ "id": "a", "price": 2 }));
    assert_eq!(accepted["snapshots"]["totalCount"], 2);
    assert_eq!(accepted["snapshots"]["nodes"][1]["reason"], "RESOLVE");
    assert_eq!(
        accepted["snapshots"]["nodes"][1]["data"],
        json!({ "id": "a", "price": 1, "note": "call first" })
    );
    assert_eq!(accepted["lastResolution"]["resolution"], "ACCEPT_SOURCE");
}

#[tokio::test]
async fn a_hand_edit_may_not_change_or_remove_the_id_field() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "L-5", "price": 1 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let id = s.id_of("L-5").await;
    for patch in [
        json!({ "id": "HIJACK" }),
        json!({ "id": null }),
        json!({ "price": 2, "id": 5 }),
    ] {
        let body = s.edit(&id, patch.clone()).await;
        assert_bad_input(&body, "input.patch.id");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("cannot be changed or removed"),
            "{body}"
        );
    }
    let listing = s.target_listing("L-5").await;
    assert_eq!(listing["data"], json!({ "id": "L-5", "price": 1 }));
    assert_eq!(listing["manuallyModified"], false);
    // Setting it to the value it has is no change to it.
    let body = s.edit(&id, json!({ "id": "L-5", "price": 2 })).await;
    assert_eq!(
        body["data"]["updateTargetProperty"]["targetProperty"]["data"],
        json!({ "id": "L-5", "price": 2 })
    );

    // The id field is the source's `config.id_field`.
    let source = s
        .app
        .data(&s.key, "mutation { createSource(input: { name: \"Refs\", kind: JSON, config: { id_field: \"ref\" } }) { source { id } } }", json!({}))
        .await["createSource"]["source"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.app
        .data(&s.key, "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }", json!({ "s": source, "items": [{ "ref": 7, "id": "free" }] }))
        .await;
    s.app
        .data(&s.key, "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { created } } }", json!({ "s": source, "t": s.target }))
        .await;
    let id = s.id_of("7").await;
    assert_bad_input(&s.edit(&id, json!({ "ref": 8 })).await, "input.patch.ref");
    // Merged data of a conflict resolution keeps the id field too.
    s.import(json!([{ "id": "L-5", "price": 3 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let l5 = s.id_of("L-5").await;
    for data in [json!({ "price": 3 }), json!({ "id": "L-6", "price": 3 })] {
        let body = s
            .app
            .graphql(
                &s.key,
                RESOLVE,
                json!({ "id": l5, "r": "USE_DATA", "data": data }),
            )
            .await;
        assert_bad_input(&body, "input.data.id");
    }
    assert_eq!(s.conflicts().await["totalCount"], 1);
    // 7.0 is the same number as 7; `id` is an ordinary field here.
    let body = s.edit(&id, json!({ "ref": 7.0, "id": "mine" })).await;
    assert_eq!(
        body["data"]["updateTargetProperty"]["targetProperty"]["data"]["id"],
        "mine"
    );
}
