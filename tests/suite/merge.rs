//! Field-level three-way merge: the paths a person edited, `Conflict.fields`, `resolveConflict`
//! with `MERGE` and its choices, and the `MERGE` conflict policy at sync time.

use serde_json::{Value, json};

use crate::common::assert_bad_input;
use crate::engine::Setup;

const FIELDS: &str = "{ conflicts { totalCount nodes { id baseData fields { path base basePresent source sourcePresent target targetPresent status } } } }";

const RESOLVE: &str = "mutation($id: ID!, $r: Resolution!, $choices: [MergeChoiceInput!]) { resolveConflict(input: { id: $id, resolution: $r, choices: $choices }) { targetProperty { data hasConflict manuallyModified editedPaths baseHash lastResolution { resolution } sourceProperty { contentHash } snapshots { totalCount nodes { reason data } } } } }";

const LISTING: &str = "query($t: ID!) { target(id: $t) { properties(first: 10) { nodes { externalId data hasConflict manuallyModified editedPaths baseHash sourceProperty { contentHash } snapshots { totalCount nodes { reason data } } } } } }";

const SYNC: &str = "mutation($s: ID!, $t: ID!, $dry: Boolean!) { syncSource(input: { sourceId: $s, targetId: $t, dryRun: $dry }) { syncLog { created updated skipped merged newConflicts openConflicts warnings { externalId message } } } }";

impl Setup {
    async fn listing(&self, external_id: &str) -> Value {
        let data = self
            .app
            .data(&self.key, LISTING, json!({ "t": self.target }))
            .await;
        data["target"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["externalId"] == external_id)
            .cloned()
            .unwrap_or_else(|| panic!("no target listing {external_id}"))
    }

    async fn listing_id(&self, external_id: &str) -> String {
        self.target_listing(external_id).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn merge_sync(&self, dry_run: bool) -> Value {
        let data = self
            .app
            .data(
                &self.key,
                SYNC,
                json!({ "s": self.source, "t": self.target, "dry": dry_run }),
            )
            .await;
        data["syncSource"]["syncLog"].clone()
    }

    async fn resolve_merge(&self, id: &str, choices: Value) -> Value {
        self.app
            .graphql(
                &self.key,
                RESOLVE,
                json!({ "id": id, "r": "MERGE", "choices": choices }),
            )
            .await
    }

    async fn merge_policy(&self) {
        let data = self
            .app
            .data(
                &self.key,
                "mutation($id: ID!) { updateTarget(input: { id: $id, conflictPolicy: MERGE }) { target { conflictPolicy } } }",
                json!({ "id": self.target }),
            )
            .await;
        assert_eq!(data["updateTarget"]["target"]["conflictPolicy"], "MERGE");
    }
}

fn field(path: &str, base: Value, source: Value, target: Value, status: &str) -> Value {
    json!({
        "path": path,
        "base": base, "basePresent": true,
        "source": source, "sourcePresent": true,
        "target": target, "targetPresent": true,
        "status": status,
    })
}

/// The base version, synced; then a hand edit and a source change touching every kind of
/// field. Returns the target listing's id.
async fn conflict_on_every_kind_of_field(s: &Setup) -> String {
    s.import(
        json!([{ "id": "a", "title": "Flat", "price": 100, "address": { "city": "Lyon", "zip": "69001" }, "tags": ["a"], "note": "x", "rooms": 3, "size": 50.0, "floor": 2 }]),
        "INCREMENTAL",
    )
    .await;
    s.sync().await;
    let id = s.listing_id("a").await;
    let edited = s
        .edit(
            &id,
            json!({ "title": "Nice flat", "address": { "city": "Paris", "zip": "69002" }, "tags": ["a", "c"], "rooms": 4, "note": null }),
        )
        .await;
    assert!(edited.get("errors").is_none(), "{edited}");
    assert_eq!(
        s.listing("a").await["editedPaths"],
        json!([
            "address.city",
            "address.zip",
            "note",
            "rooms",
            "tags",
            "title"
        ])
    );
    // Keys in another order, `50` for `50.0`, `floor` removed at the source.
    s.import(
        json!([{ "tags": ["a", "b"], "address": { "zip": "69002", "city": "Lyon" }, "id": "a", "title": "Flat", "price": 110, "note": "x", "rooms": 4, "size": 50 }]),
        "INCREMENTAL",
    )
    .await;
    let log = s.merge_sync(false).await;
    assert_eq!(log["newConflicts"], 1);
    assert_eq!(log["merged"], 0);
    id
}

#[tokio::test]
async fn conflict_fields_walk_every_status_by_canonical_value() {
    let s = Setup::new().await;
    conflict_on_every_kind_of_field(&s).await;
    let conflicts = s.app.data(&s.key, FIELDS, json!({})).await["conflicts"].clone();
    assert_eq!(conflicts["totalCount"], 1);
    assert_eq!(
        conflicts["nodes"][0]["fields"],
        json!([
            field("address.city", json!("Lyon"), json!("Lyon"), json!("Paris"), "TARGET_ONLY"),
            field("address.zip", json!("69001"), json!("69002"), json!("69002"), "BOTH_SAME"),
            {
                "path": "floor", "base": 2, "basePresent": true, "source": null,
                "sourcePresent": false, "target": 2, "targetPresent": true, "status": "SOURCE_ONLY",
            },
            {
                "path": "note", "base": "x", "basePresent": true, "source": "x",
                "sourcePresent": true, "target": null, "targetPresent": false, "status": "TARGET_ONLY",
            },
            field("price", json!(100), json!(110), json!(100), "SOURCE_ONLY"),
            field("rooms", json!(3), json!(4), json!(4), "BOTH_SAME"),
            field("tags", json!(["a"]), json!(["a", "b"]), json!(["a", "c"]), "BOTH_DIFFERENT"),
            field("title", json!("Flat"), json!("Flat"), json!("Nice flat"), "TARGET_ONLY"),
        ])
    );

    // Once retention deleted the base, every field where source and target differ needs a
    // choice.
    s.app
        .data(
            &s.key,
            "mutation { cleanupSnapshots(input: { olderThanDays: 0 }) { sourceSnapshotsDeleted } }",
            json!({}),
        )
        .await;
    let conflicts = s.app.data(&s.key, FIELDS, json!({})).await["conflicts"].clone();
    let node = &conflicts["nodes"][0];
    assert_eq!(node["baseData"], Value::Null);
    let statuses: Vec<(&str, &str)> = node["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("address.city", "BOTH_DIFFERENT"),
            ("floor", "BOTH_DIFFERENT"),
            ("note", "BOTH_DIFFERENT"),
            ("price", "BOTH_DIFFERENT"),
            ("tags", "BOTH_DIFFERENT"),
            ("title", "BOTH_DIFFERENT"),
        ]
    );
    assert_eq!(node["fields"][0]["basePresent"], false);
}

#[tokio::test]
async fn a_merge_resolution_needs_exactly_the_choices_for_fields_changed_on_both_sides() {
    let s = Setup::new().await;
    let id = conflict_on_every_kind_of_field(&s).await;
    let before = s.listing("a").await;
    let refused = [
        (json!([]), "input.choices", "`tags`"),
        (
            json!([{ "path": "tags", "take": "SOURCE" }, { "path": "price", "take": "TARGET" }]),
            "input.choices[1].path",
            "`price` is SOURCE_ONLY",
        ),
        (
            json!([{ "path": "tags", "take": "SOURCE" }, { "path": "garden", "take": "SOURCE" }]),
            "input.choices[1].path",
            "`garden` is not a field",
        ),
        (
            json!([{ "path": "address", "take": "SOURCE" }]),
            "input.choices[0].path",
            "`address` is not a field",
        ),
        (
            json!([{ "path": "tags", "take": "VALUE" }]),
            "input.choices[0].value",
            "is required with `take: VALUE` (for `tags`)",
        ),
        (
            json!([{ "path": "tags", "take": "TARGET", "value": ["z"] }]),
            "input.choices[0].value",
            "only accepted with `take: VALUE`",
        ),
        (
            json!([{ "path": "tags", "take": "VALUE", "value": ["a\u{0}"] }]),
            // The JSON scalar refuses it first, naming the element.
            "$choices[0].value[0]",
            "NUL",
        ),
    ];
    for (choices, field, says) in refused {
        let body = s.resolve_merge(&id, choices.clone()).await;
        assert_bad_input(&body, field);
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{choices}: {message}");
    }
    // Choices go with MERGE only.
    let body = s
        .app
        .graphql(
            &s.key,
            RESOLVE,
            json!({ "id": id, "r": "KEEP_TARGET", "choices": [{ "path": "tags", "take": "SOURCE" }] }),
        )
        .await;
    assert_bad_input(&body, "input.choices");
    // Nothing was written.
    assert_eq!(s.listing("a").await, before);
    assert_eq!(before["hasConflict"], true);

    let body = s
        .resolve_merge(
            &id,
            json!([{ "path": "tags", "take": "VALUE", "value": ["a", "b", "c"] }]),
        )
        .await;
    let resolved = &body["data"]["resolveConflict"]["targetProperty"];
    assert!(resolved.is_object(), "{body}");
    // Source-only changes taken (price, floor removed), the person's kept (title, city, note
    // removed), the chosen value for tags.
    assert_eq!(
        resolved["data"],
        json!({ "id": "a", "title": "Nice flat", "price": 110, "address": { "city": "Paris", "zip": "69002" }, "tags": ["a", "b", "c"], "rooms": 4, "size": 50.0 })
    );
    assert_eq!(resolved["hasConflict"], false);
    assert_eq!(resolved["manuallyModified"], true);
    assert_eq!(
        resolved["editedPaths"],
        json!(["address.city", "note", "tags", "title"])
    );
    assert_eq!(resolved["lastResolution"]["resolution"], "MERGE");
    assert_eq!(
        resolved["baseHash"],
        resolved["sourceProperty"]["contentHash"]
    );
    let snapshots = resolved["snapshots"]["nodes"].as_array().unwrap();
    let last = snapshots.last().unwrap();
    assert_eq!(last["reason"], "RESOLVE");
    assert_eq!(last["data"], before["data"]);
    assert_eq!(
        resolved["snapshots"]["totalCount"],
        before["snapshots"]["totalCount"].as_i64().unwrap() + 1
    );
    let conflicts = s.app.data(&s.key, FIELDS, json!({})).await["conflicts"].clone();
    assert_eq!(conflicts["totalCount"], 0);
}

#[tokio::test]
async fn taking_a_side_sets_or_removes_the_field() {
    let s = Setup::new().await;
    s.import(
        json!([{ "id": "a", "price": 1, "note": "x" }, { "id": "b", "price": 1, "note": "x" }]),
        "INCREMENTAL",
    )
    .await;
    s.sync().await;
    for external_id in ["a", "b"] {
        let id = s.listing_id(external_id).await;
        s.edit(&id, json!({ "price": 3, "note": "mine" })).await;
    }
    // The source changes the price and removes the note.
    s.import(
        json!([{ "id": "a", "price": 2 }, { "id": "b", "price": 2 }]),
        "INCREMENTAL",
    )
    .await;
    s.merge_sync(false).await;

    let a = s.listing_id("a").await;
    let body = s
        .resolve_merge(
            &a,
            json!([{ "path": "price", "take": "SOURCE" }, { "path": "note", "take": "SOURCE" }]),
        )
        .await;
    let resolved = &body["data"]["resolveConflict"]["targetProperty"];
    assert_eq!(resolved["data"], json!({ "id": "a", "price": 2 }), "{body}");
    // The listing follows its source again.
    assert_eq!(resolved["manuallyModified"], false);
    assert_eq!(resolved["editedPaths"], json!([]));

    let b = s.listing_id("b").await;
    let body = s
        .resolve_merge(
            &b,
            json!([{ "path": "price", "take": "TARGET" }, { "path": "note", "take": "VALUE", "value": null }]),
        )
        .await;
    let resolved = &body["data"]["resolveConflict"]["targetProperty"];
    assert_eq!(
        resolved["data"],
        json!({ "id": "b", "price": 3, "note": null }),
        "{body}"
    );
    assert_eq!(resolved["manuallyModified"], true);
    assert_eq!(resolved["editedPaths"], json!(["note", "price"]));
}

#[tokio::test]
async fn the_merge_policy_merges_at_sync_and_flags_only_overlapping_changes() {
    let s = Setup::new().await;
    s.merge_policy().await;
    s.import(
        json!([
            { "id": "a", "title": "Flat", "price": 100, "address": { "city": "Lyon" } },
            { "id": "b", "title": "House", "price": 200 },
            { "id": "c", "title": "Loft", "price": 300 },
        ]),
        "INCREMENTAL",
    )
    .await;
    s.sync().await;
    let a = s.listing_id("a").await;
    let b = s.listing_id("b").await;
    let c = s.listing_id("c").await;
    s.edit(&a, json!({ "title": "Nice flat" })).await;
    s.edit(&b, json!({ "price": 190 })).await;
    s.edit(&c, json!({ "price": 290 })).await;
    // a: price and city change at the source (no overlap); b: the price changes on both sides
    // differently; c: the source brings the person's price.
    s.import(
        json!([
            { "id": "a", "title": "Flat", "price": 110, "address": { "city": "Lyon 2e" } },
            { "id": "b", "title": "House", "price": 210 },
            { "id": "c", "title": "Loft", "price": 290.0 },
        ]),
        "INCREMENTAL",
    )
    .await;
    let before = s.listing("a").await;

    // A dry run counts the same and writes nothing but its log.
    let dry = s.merge_sync(true).await;
    assert_eq!(
        (&dry["merged"], &dry["newConflicts"], &dry["updated"]),
        (&json!(2), &json!(1), &json!(0))
    );
    assert_eq!(s.listing("a").await, before);

    let log = s.merge_sync(false).await;
    assert_eq!(
        (
            &log["merged"],
            &log["newConflicts"],
            &log["openConflicts"],
            &log["updated"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(0))
    );
    assert_eq!(log["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(log["warnings"][0]["externalId"], "b");
    let message = log["warnings"][0]["message"].as_str().unwrap();
    assert!(message.contains("price"), "{message}");

    let merged = s.listing("a").await;
    assert_eq!(
        merged["data"],
        json!({ "id": "a", "title": "Nice flat", "price": 110, "address": { "city": "Lyon 2e" } })
    );
    assert_eq!(merged["hasConflict"], false);
    assert_eq!(merged["manuallyModified"], true);
    assert_eq!(merged["editedPaths"], json!(["title"]));
    assert_eq!(merged["baseHash"], merged["sourceProperty"]["contentHash"]);
    let snapshots = merged["snapshots"]["nodes"].as_array().unwrap();
    assert_eq!(snapshots.last().unwrap()["reason"], "SYNC");
    assert_eq!(snapshots.last().unwrap()["data"], before["data"]);

    let flagged = s.listing("b").await;
    assert_eq!(flagged["hasConflict"], true);
    assert_eq!(
        flagged["data"],
        json!({ "id": "b", "title": "House", "price": 190 })
    );

    // The source reached the person's value: the listing follows its source again.
    let caught_up = s.listing("c").await;
    assert_eq!(caught_up["manuallyModified"], false);
    assert_eq!(caught_up["editedPaths"], json!([]));
    assert_eq!(caught_up["hasConflict"], false);

    // Edited paths are listed in a page that does not read the data, too.
    let page = s
        .app
        .data(
            &s.key,
            "query($t: ID!) { target(id: $t) { properties(first: 10) { nodes { externalId editedPaths } } } }",
            json!({ "t": s.target }),
        )
        .await;
    assert_eq!(
        page["target"]["properties"]["nodes"],
        json!([
            { "externalId": "a", "editedPaths": ["title"] },
            { "externalId": "b", "editedPaths": ["price"] },
            { "externalId": "c", "editedPaths": [] },
        ])
    );

    // An unchanged source merges nothing; a source change to the edited title is a conflict.
    let log = s.merge_sync(false).await;
    assert_eq!(
        (&log["merged"], &log["newConflicts"]),
        (&json!(0), &json!(0))
    );
    s.import(
        json!([
            { "id": "a", "title": "Flat with view", "price": 110, "address": { "city": "Lyon 2e" } },
            { "id": "b", "title": "House", "price": 210 },
            { "id": "c", "title": "Loft", "price": 290.0 },
        ]),
        "INCREMENTAL",
    )
    .await;
    let log = s.merge_sync(false).await;
    assert_eq!(
        (&log["merged"], &log["newConflicts"], &log["openConflicts"]),
        (&json!(0), &json!(1), &json!(2))
    );
    let conflicts = s.app.data(&s.key, FIELDS, json!({})).await["conflicts"].clone();
    let a_conflict = conflicts["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == a)
        .unwrap()
        .clone();
    assert_eq!(
        a_conflict["fields"],
        json!([field(
            "title",
            json!("Flat"),
            json!("Flat with view"),
            json!("Nice flat"),
            "BOTH_DIFFERENT"
        )])
    );
    assert_eq!(s.listing("a").await["data"]["title"], json!("Nice flat"));
}

#[tokio::test]
async fn edits_add_up_their_paths_and_each_resolution_sets_them() {
    let s = Setup::new().await;
    s.import(
        json!([{ "id": "a", "price": 1, "title": "t" }]),
        "INCREMENTAL",
    )
    .await;
    s.sync().await;
    let id = s.listing_id("a").await;
    s.edit(&id, json!({ "title": "mine" })).await;
    s.edit(&id, json!({ "price": 5 })).await;
    assert_eq!(
        s.listing("a").await["editedPaths"],
        json!(["price", "title"])
    );

    let resolve = |resolution: &'static str, data: Option<Value>| {
        let s = &s;
        let id = id.clone();
        async move {
            let body = s
                .app
                .graphql(
                    &s.key,
                    "mutation($id: ID!, $r: Resolution!, $data: JSON) { resolveConflict(input: { id: $id, resolution: $r, data: $data }) { targetProperty { editedPaths manuallyModified } } }",
                    json!({ "id": id, "r": resolution, "data": data }),
                )
                .await;
            body["data"]["resolveConflict"]["targetProperty"].clone()
        }
    };
    // KEEP_TARGET: the person's whole difference from the source.
    s.import(
        json!([{ "id": "a", "price": 2, "title": "t" }]),
        "INCREMENTAL",
    )
    .await;
    s.merge_sync(false).await;
    assert_eq!(
        resolve("KEEP_TARGET", None).await,
        json!({ "editedPaths": ["price", "title"], "manuallyModified": true })
    );
    // USE_DATA: where the data differs from the source.
    s.import(
        json!([{ "id": "a", "price": 3, "title": "t" }]),
        "INCREMENTAL",
    )
    .await;
    s.merge_sync(false).await;
    assert_eq!(
        resolve(
            "USE_DATA",
            Some(json!({ "id": "a", "price": 3, "title": "ours" }))
        )
        .await,
        json!({ "editedPaths": ["title"], "manuallyModified": true })
    );
    // ACCEPT_SOURCE: none; the listing follows its source again.
    s.import(
        json!([{ "id": "a", "price": 4, "title": "t" }]),
        "INCREMENTAL",
    )
    .await;
    s.merge_sync(false).await;
    assert_eq!(
        resolve("ACCEPT_SOURCE", None).await,
        json!({ "editedPaths": [], "manuallyModified": false })
    );
}

#[tokio::test]
async fn without_a_base_the_merge_policy_flags_every_difference() {
    let s = Setup::new().await;
    s.merge_policy().await;
    s.import(
        json!([{ "id": "a", "price": 1, "title": "t" }]),
        "INCREMENTAL",
    )
    .await;
    s.sync().await;
    let id = s.listing_id("a").await;
    s.edit(&id, json!({ "title": "mine" })).await;
    s.import(
        json!([{ "id": "a", "price": 2, "title": "t" }]),
        "INCREMENTAL",
    )
    .await;
    // Retention deletes the base: the source's old version and the edit's snapshot.
    s.app
        .data(
            &s.key,
            "mutation { cleanupSnapshots(input: { olderThanDays: 0 }) { sourceSnapshotsDeleted } }",
            json!({}),
        )
        .await;
    let log = s.merge_sync(false).await;
    assert_eq!(
        (&log["merged"], &log["newConflicts"]),
        (&json!(0), &json!(1))
    );
    let conflicts = s.app.data(&s.key, FIELDS, json!({})).await["conflicts"].clone();
    let fields = &conflicts["nodes"][0]["fields"];
    assert_eq!(fields[0]["path"], "price");
    assert_eq!(fields[1]["path"], "title");
    assert_eq!(fields[0]["status"], "BOTH_DIFFERENT");
    assert_eq!(fields[1]["status"], "BOTH_DIFFERENT");
    assert_eq!(fields.as_array().unwrap().len(), 2);
    assert_eq!(
        s.listing("a").await["data"],
        json!({ "id": "a", "price": 1, "title": "mine" })
    );
}
