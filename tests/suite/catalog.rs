//! Sources and targets through GraphQL: create, read back every way, update in part, delete,
//! and every validation error with its code and field, leaving the data untouched.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::common::{TestApp, assert_bad_input, decode_id, error_code};

const SOURCE_FIELDS: &str = "id name kind active config createdAt updatedAt";
const TARGET_FIELDS: &str = "id name kind active config conflictPolicy createdAt updatedAt";

fn create_source_mutation() -> String {
    format!(
        "mutation($input: CreateSourceInput!) {{ createSource(input: $input) {{ source {{ {SOURCE_FIELDS} }} }} }}"
    )
}

fn update_source_mutation() -> String {
    format!(
        "mutation($input: UpdateSourceInput!) {{ updateSource(input: $input) {{ source {{ {SOURCE_FIELDS} }} }} }}"
    )
}

const DELETE_SOURCE: &str =
    "mutation($id: ID!) { deleteSource(input: { id: $id }) { deletedSourceId } }";

fn create_target_mutation() -> String {
    format!(
        "mutation($input: CreateTargetInput!) {{ createTarget(input: $input) {{ target {{ {TARGET_FIELDS} }} }} }}"
    )
}

fn update_target_mutation() -> String {
    format!(
        "mutation($input: UpdateTargetInput!) {{ updateTarget(input: $input) {{ target {{ {TARGET_FIELDS} }} }} }}"
    )
}

const DELETE_TARGET: &str =
    "mutation($id: ID!) { deleteTarget(input: { id: $id }) { deletedTargetId } }";

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a DateTime string"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

async fn create_source(app: &TestApp, key: &str, input: Value) -> Value {
    app.data(key, &create_source_mutation(), json!({ "input": input }))
        .await["createSource"]["source"]
        .clone()
}

async fn create_target(app: &TestApp, key: &str, input: Value) -> Value {
    app.data(key, &create_target_mutation(), json!({ "input": input }))
        .await["createTarget"]["target"]
        .clone()
}

async fn read_source(app: &TestApp, key: &str, id: &str) -> Value {
    app.data(
        key,
        &format!("query($id: ID!) {{ source(id: $id) {{ {SOURCE_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await["source"]
        .clone()
}

async fn read_target(app: &TestApp, key: &str, id: &str) -> Value {
    app.data(
        key,
        &format!("query($id: ID!) {{ target(id: $id) {{ {TARGET_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await["target"]
        .clone()
}

async fn list_sources(app: &TestApp, key: &str) -> Value {
    app.data(
        key,
        &format!("{{ sources {{ totalCount nodes {{ {SOURCE_FIELDS} }} }} }}"),
        json!({}),
    )
    .await["sources"]
        .clone()
}

async fn list_targets(app: &TestApp, key: &str) -> Value {
    app.data(
        key,
        &format!("{{ targets {{ totalCount nodes {{ {TARGET_FIELDS} }} }} }}"),
        json!({}),
    )
    .await["targets"]
        .clone()
}

/// A short pause, so a later `updatedAt` cannot equal an earlier one.
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
}

// ---------------------------------------------------------------- sources

#[tokio::test]
async fn a_created_source_has_defaults_and_reads_back_every_way() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let created = create_source(
        &app,
        &key,
        json!({ "name": "Nightly scrape", "kind": "SCRAPED" }),
    )
    .await;

    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(decode_id(&id).0, "Source");
    assert_eq!(created["name"], "Nightly scrape");
    assert_eq!(created["kind"], "SCRAPED");
    assert_eq!(created["active"], true);
    assert_eq!(created["config"], json!({}));
    assert_eq!(created["createdAt"], created["updatedAt"]);

    // source(id), sources and node(id) all give the very same object.
    assert_eq!(read_source(&app, &key, &id).await, created);
    let list = list_sources(&app, &key).await;
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["nodes"], json!([created.clone()]));
    let node = app
        .data(
            &key,
            "query($id: ID!) { node(id: $id) { __typename id ... on Source { name kind active config } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        node["node"],
        json!({
            "__typename": "Source",
            "id": id,
            "name": "Nightly scrape",
            "kind": "SCRAPED",
            "active": true,
            "config": {},
        })
    );
}

#[tokio::test]
async fn a_source_keeps_every_field_it_was_created_with() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let config = json!({
        "id_field": "listing_id",
        "url": "https://example.com/feed",
        "nested": { "list": [1, 2.5, "x", null, true], "empty": {} },
    });
    let created = create_source(
        &app,
        &key,
        json!({ "name": "  Partner feed  ", "kind": "MANUAL", "active": false, "config": config }),
    )
    .await;
    // The name is stored trimmed.
    assert_eq!(created["name"], "Partner feed");
    assert_eq!(created["kind"], "MANUAL");
    assert_eq!(created["active"], false);
    assert_eq!(created["config"], config);
    let id = created["id"].as_str().unwrap();
    assert_eq!(read_source(&app, &key, id).await, created);
}

#[tokio::test]
async fn updating_a_source_changes_only_the_fields_given() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let created = create_source(
        &app,
        &key,
        json!({ "name": "Feed", "kind": "JSON", "config": { "id_field": "ref", "keep": 1 } }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();

    tick().await;
    let renamed = app
        .data(
            &key,
            &update_source_mutation(),
            json!({ "input": { "id": id, "name": "Renamed feed" } }),
        )
        .await["updateSource"]["source"]
        .clone();
    assert_eq!(renamed["id"], json!(id));
    assert_eq!(renamed["name"], "Renamed feed");
    assert_eq!(renamed["kind"], "JSON");
    assert_eq!(renamed["active"], true);
    assert_eq!(renamed["config"], json!({ "id_field": "ref", "keep": 1 }));
    assert_eq!(renamed["createdAt"], created["createdAt"]);
    assert!(time(&renamed["updatedAt"]) > time(&created["updatedAt"]));
    assert_eq!(read_source(&app, &key, &id).await, renamed);

    tick().await;
    let deactivated = app
        .data(
            &key,
            &update_source_mutation(),
            json!({ "input": { "id": id, "active": false, "kind": "SCRAPED" } }),
        )
        .await["updateSource"]["source"]
        .clone();
    assert_eq!(deactivated["name"], "Renamed feed");
    assert_eq!(deactivated["kind"], "SCRAPED");
    assert_eq!(deactivated["active"], false);
    assert_eq!(
        deactivated["config"],
        json!({ "id_field": "ref", "keep": 1 })
    );
    assert!(time(&deactivated["updatedAt"]) > time(&renamed["updatedAt"]));

    // A new config replaces the old object; it is not merged into it.
    tick().await;
    let reconfigured = app
        .data(
            &key,
            &update_source_mutation(),
            json!({ "input": { "id": id, "config": { "id_field": "code" } } }),
        )
        .await["updateSource"]["source"]
        .clone();
    assert_eq!(reconfigured["config"], json!({ "id_field": "code" }));
    assert_eq!(reconfigured["name"], "Renamed feed");
    assert_eq!(reconfigured["active"], false);
    assert_eq!(reconfigured["kind"], "SCRAPED");
    assert_eq!(reconfigured["createdAt"], created["createdAt"]);
    assert_eq!(read_source(&app, &key, &id).await, reconfigured);
}

#[tokio::test]
async fn a_deleted_source_is_gone() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let keep = app.create_source(&key, "Keep").await;
    let id = app.create_source(&key, "Drop").await;

    let deleted = app.data(&key, DELETE_SOURCE, json!({ "id": id })).await;
    assert_eq!(deleted["deleteSource"]["deletedSourceId"], json!(id));

    let body = app
        .graphql(
            &key,
            "query($id: ID!) { source(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["data"], json!(null));
    let node = app
        .data(
            &key,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"], json!(null));
    let list = list_sources(&app, &key).await;
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["nodes"][0]["id"], json!(keep));

    // Deleting or updating it again: not found.
    let body = app.graphql(&key, DELETE_SOURCE, json!({ "id": id })).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = app
        .graphql(
            &key,
            &update_source_mutation(),
            json!({ "input": { "id": id, "name": "Back" } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    // The name is free again.
    let again = app.create_source(&key, "Drop").await;
    assert_ne!(again, id);
}

#[tokio::test]
async fn a_source_name_must_not_be_blank_or_too_long() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let long = "x".repeat(201);
    for name in ["", "   ", "\t\n", long.as_str()] {
        let body = app
            .graphql(
                &key,
                &create_source_mutation(),
                json!({ "input": { "name": name, "kind": "JSON" } }),
            )
            .await;
        assert_bad_input(&body, "input.name");
        assert_eq!(body["data"], json!(null));
    }
    // 200 characters are fine.
    let longest = "y".repeat(200);
    let created = create_source(&app, &key, json!({ "name": longest, "kind": "JSON" })).await;
    assert_eq!(created["name"], json!(longest));

    let id = created["id"].as_str().unwrap();
    for name in ["", "  ", long.as_str()] {
        let body = app
            .graphql(
                &key,
                &update_source_mutation(),
                json!({ "input": { "id": id, "name": name } }),
            )
            .await;
        assert_bad_input(&body, "input.name");
    }
    assert_eq!(list_sources(&app, &key).await["totalCount"], 1);
    assert_eq!(read_source(&app, &key, id).await, created);
}

#[tokio::test]
async fn a_source_config_must_be_an_object_with_a_usable_id_field() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    for config in [json!([1, 2]), json!("id"), json!(5), json!(true)] {
        let body = app
            .graphql(
                &key,
                &create_source_mutation(),
                json!({ "input": { "name": "Feed", "kind": "JSON", "config": config } }),
            )
            .await;
        assert_bad_input(&body, "input.config");
    }
    for config in [
        json!({ "id_field": "" }),
        json!({ "id_field": "   " }),
        json!({ "id_field": 5 }),
        json!({ "id_field": null }),
        json!({ "id_field": ["id"] }),
    ] {
        let body = app
            .graphql(
                &key,
                &create_source_mutation(),
                json!({ "input": { "name": "Feed", "kind": "JSON", "config": config } }),
            )
            .await;
        assert_bad_input(&body, "input.config.id_field");
    }
    assert_eq!(list_sources(&app, &key).await["totalCount"], 0);

    // The same checks on update, and a failed update writes none of its other fields.
    let created = create_source(
        &app,
        &key,
        json!({ "name": "Feed", "kind": "JSON", "config": { "id_field": "ref" } }),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let body = app
        .graphql(
            &key,
            &update_source_mutation(),
            json!({ "input": { "id": id, "name": "Other", "active": false, "config": [1] } }),
        )
        .await;
    assert_bad_input(&body, "input.config");
    assert_eq!(body["data"], json!(null));
    let body = app
        .graphql(
            &key,
            &update_source_mutation(),
            json!({ "input": { "id": id, "name": "Other", "config": { "id_field": 1 } } }),
        )
        .await;
    assert_bad_input(&body, "input.config.id_field");
    assert_eq!(read_source(&app, &key, id).await, created);
}

#[tokio::test]
async fn a_source_name_is_unique_in_its_tenant_only() {
    let app = TestApp::spawn().await;
    let (_, acme) = app.create_tenant("Acme").await;
    let (_, other) = app.create_tenant("Other").await;
    let feed = create_source(&app, &acme, json!({ "name": "Feed", "kind": "JSON" })).await;

    // The same name again, also once trimmed: a conflict.
    for name in ["Feed", "  Feed "] {
        let body = app
            .graphql(
                &acme,
                &create_source_mutation(),
                json!({ "input": { "name": name, "kind": "SCRAPED" } }),
            )
            .await;
        assert_eq!(error_code(&body), "CONFLICT", "body: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("`Feed`"),
            "body: {body}"
        );
    }
    assert_eq!(list_sources(&app, &acme).await["totalCount"], 1);

    // Renaming another source to it: a conflict, and nothing changes.
    let second = create_source(&app, &acme, json!({ "name": "Second", "kind": "JSON" })).await;
    let second_id = second["id"].as_str().unwrap();
    let body = app
        .graphql(
            &acme,
            &update_source_mutation(),
            json!({ "input": { "id": second_id, "name": "Feed", "active": false } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "body: {body}");
    assert_eq!(read_source(&app, &acme, second_id).await, second);
    assert_eq!(
        read_source(&app, &acme, feed["id"].as_str().unwrap()).await,
        feed
    );
    // Renaming a source to its own name is fine.
    let same = app
        .data(
            &acme,
            &update_source_mutation(),
            json!({ "input": { "id": second_id, "name": "Second" } }),
        )
        .await;
    assert_eq!(same["updateSource"]["source"]["name"], "Second");

    // Another tenant may use the name; a target may too.
    let theirs = create_source(&app, &other, json!({ "name": "Feed", "kind": "JSON" })).await;
    assert_eq!(theirs["name"], "Feed");
    assert_ne!(theirs["id"], feed["id"]);
    let target = create_target(&app, &acme, json!({ "name": "Feed", "kind": "API" })).await;
    assert_eq!(target["name"], "Feed");
}

#[tokio::test]
async fn a_source_mutation_needs_a_source_id() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let created = create_source(&app, &key, json!({ "name": "Feed", "kind": "JSON" })).await;
    let source_id = created["id"].as_str().unwrap();
    let target_id = app.create_target(&key, "Site").await;

    // The id of a target, of nothing, or of something else entirely.
    let tenant_id = app.data(&key, "{ viewer { id } }", json!({})).await["viewer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for bad in [
        target_id.as_str(),
        tenant_id.as_str(),
        "garbage!",
        "",
        "U291cmNlOng",
    ] {
        let body = app
            .graphql(
                &key,
                &update_source_mutation(),
                json!({ "input": { "id": bad, "name": "Changed" } }),
            )
            .await;
        assert_bad_input(&body, "input.id");
        let body = app.graphql(&key, DELETE_SOURCE, json!({ "id": bad })).await;
        assert_bad_input(&body, "input.id");
        let body = app
            .graphql(
                &key,
                "query($id: ID!) { source(id: $id) { id } }",
                json!({ "id": bad }),
            )
            .await;
        assert_bad_input(&body, "id");
    }
    let body = app
        .graphql(
            &key,
            &update_source_mutation(),
            json!({ "input": { "id": target_id, "name": "Changed" } }),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expected the id of a Source, got the id of a Target"),
        "body: {body}"
    );
    // Nothing changed.
    assert_eq!(read_source(&app, &key, source_id).await, created);
    assert_eq!(read_target(&app, &key, &target_id).await["name"], "Site");
}

// ---------------------------------------------------------------- targets

#[tokio::test]
async fn a_created_target_has_defaults_and_reads_back_every_way() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let created = create_target(&app, &key, json!({ "name": "Website", "kind": "WEBSITE" })).await;

    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(decode_id(&id).0, "Target");
    assert_eq!(created["name"], "Website");
    assert_eq!(created["kind"], "WEBSITE");
    assert_eq!(created["active"], true);
    assert_eq!(created["config"], json!({}));
    assert_eq!(created["conflictPolicy"], "FLAG");
    assert_eq!(created["createdAt"], created["updatedAt"]);

    assert_eq!(read_target(&app, &key, &id).await, created);
    let list = list_targets(&app, &key).await;
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["nodes"], json!([created.clone()]));
    let node = app
        .data(
            &key,
            "query($id: ID!) { node(id: $id) { __typename id ... on Target { name kind conflictPolicy } ... on Source { config } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        node["node"],
        json!({
            "__typename": "Target",
            "id": id,
            "name": "Website",
            "kind": "WEBSITE",
            "conflictPolicy": "FLAG",
        })
    );
    // Sources stay empty.
    assert_eq!(list_sources(&app, &key).await["totalCount"], 0);
}

#[tokio::test]
async fn a_target_keeps_every_field_it_was_created_with() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let config = json!({ "endpoint": "https://partner.example/api", "retries": 3, "id_field": 7 });
    let created = create_target(
        &app,
        &key,
        json!({
            "name": " Partner API ",
            "kind": "API",
            "active": false,
            "config": config,
            "conflictPolicy": "KEEP_TARGET",
        }),
    )
    .await;
    assert_eq!(created["name"], "Partner API");
    assert_eq!(created["kind"], "API");
    assert_eq!(created["active"], false);
    // A target's config is free-form: `id_field` means nothing there.
    assert_eq!(created["config"], config);
    assert_eq!(created["conflictPolicy"], "KEEP_TARGET");
    let id = created["id"].as_str().unwrap();
    assert_eq!(read_target(&app, &key, id).await, created);
}

#[tokio::test]
async fn updating_a_target_changes_only_the_fields_given() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let created = create_target(
        &app,
        &key,
        json!({ "name": "Site", "kind": "WEBSITE", "config": { "theme": "dark" } }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();

    tick().await;
    let changed = app
        .data(
            &key,
            &update_target_mutation(),
            json!({ "input": { "id": id, "conflictPolicy": "KEEP_TARGET" } }),
        )
        .await["updateTarget"]["target"]
        .clone();
    assert_eq!(changed["conflictPolicy"], "KEEP_TARGET");
    assert_eq!(changed["name"], "Site");
    assert_eq!(changed["kind"], "WEBSITE");
    assert_eq!(changed["active"], true);
    assert_eq!(changed["config"], json!({ "theme": "dark" }));
    assert_eq!(changed["createdAt"], created["createdAt"]);
    assert!(time(&changed["updatedAt"]) > time(&created["updatedAt"]));
    assert_eq!(read_target(&app, &key, &id).await, changed);

    tick().await;
    let renamed = app
        .data(
            &key,
            &update_target_mutation(),
            json!({ "input": { "id": id, "name": "Main site", "kind": "OTHER", "active": false } }),
        )
        .await["updateTarget"]["target"]
        .clone();
    assert_eq!(renamed["name"], "Main site");
    assert_eq!(renamed["kind"], "OTHER");
    assert_eq!(renamed["active"], false);
    assert_eq!(renamed["conflictPolicy"], "KEEP_TARGET");
    assert_eq!(renamed["config"], json!({ "theme": "dark" }));
    assert!(time(&renamed["updatedAt"]) > time(&changed["updatedAt"]));

    tick().await;
    let reconfigured = app
        .data(
            &key,
            &update_target_mutation(),
            json!({ "input": { "id": id, "config": { "lang": "en" }, "conflictPolicy": "FLAG" } }),
        )
        .await["updateTarget"]["target"]
        .clone();
    assert_eq!(reconfigured["config"], json!({ "lang": "en" }));
    assert_eq!(reconfigured["conflictPolicy"], "FLAG");
    assert_eq!(reconfigured["name"], "Main site");
    assert_eq!(reconfigured["active"], false);
    assert_eq!(read_target(&app, &key, &id).await, reconfigured);
}

#[tokio::test]
async fn a_deleted_target_is_gone() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let keep = app.create_target(&key, "Keep").await;
    let id = app.create_target(&key, "Drop").await;

    let deleted = app.data(&key, DELETE_TARGET, json!({ "id": id })).await;
    assert_eq!(deleted["deleteTarget"]["deletedTargetId"], json!(id));

    let body = app
        .graphql(
            &key,
            "query($id: ID!) { target(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["data"], json!(null));
    let node = app
        .data(
            &key,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"], json!(null));
    let list = list_targets(&app, &key).await;
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["nodes"][0]["id"], json!(keep));

    let body = app.graphql(&key, DELETE_TARGET, json!({ "id": id })).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = app
        .graphql(
            &key,
            &update_target_mutation(),
            json!({ "input": { "id": id, "active": false } }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn target_input_is_validated_and_a_failure_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    for name in ["", "  "] {
        let body = app
            .graphql(
                &key,
                &create_target_mutation(),
                json!({ "input": { "name": name, "kind": "WEBSITE" } }),
            )
            .await;
        assert_bad_input(&body, "input.name");
    }
    for config in [json!([]), json!("x"), json!(1.5)] {
        let body = app
            .graphql(
                &key,
                &create_target_mutation(),
                json!({ "input": { "name": "Site", "kind": "WEBSITE", "config": config } }),
            )
            .await;
        assert_bad_input(&body, "input.config");
    }
    assert_eq!(list_targets(&app, &key).await["totalCount"], 0);

    let created = create_target(
        &app,
        &key,
        json!({ "name": "Site", "kind": "WEBSITE", "config": { "a": 1 } }),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let body = app
        .graphql(
            &key,
            &update_target_mutation(),
            json!({ "input": { "id": id, "name": "Renamed", "conflictPolicy": "KEEP_TARGET", "config": "x" } }),
        )
        .await;
    assert_bad_input(&body, "input.config");
    let body = app
        .graphql(
            &key,
            &update_target_mutation(),
            json!({ "input": { "id": id, "name": " ", "active": false } }),
        )
        .await;
    assert_bad_input(&body, "input.name");

    // Duplicate names conflict, in create and in rename.
    let body = app
        .graphql(
            &key,
            &create_target_mutation(),
            json!({ "input": { "name": "Site", "kind": "API" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "body: {body}");
    let other = app.create_target(&key, "Other").await;
    let body = app
        .graphql(
            &key,
            &update_target_mutation(),
            json!({ "input": { "id": other, "name": "Site" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "body: {body}");
    assert_eq!(read_target(&app, &key, &other).await["name"], "Other");

    // A source's id is not a target's.
    let source_id = app.create_source(&key, "Feed").await;
    let body = app
        .graphql(
            &key,
            &update_target_mutation(),
            json!({ "input": { "id": source_id, "name": "Changed" } }),
        )
        .await;
    assert_bad_input(&body, "input.id");
    let body = app
        .graphql(&key, DELETE_TARGET, json!({ "id": source_id }))
        .await;
    assert_bad_input(&body, "input.id");
    let body = app
        .graphql(
            &key,
            "query($id: ID!) { target(id: $id) { id } }",
            json!({ "id": source_id }),
        )
        .await;
    assert_bad_input(&body, "id");
    let body = app
        .graphql(&key, DELETE_TARGET, json!({ "id": "%%%" }))
        .await;
    assert_bad_input(&body, "input.id");

    // After all that, the target is as it was created, and there are two targets.
    assert_eq!(read_target(&app, &key, id).await, created);
    assert_eq!(list_targets(&app, &key).await["totalCount"], 2);
    assert_eq!(read_source(&app, &key, &source_id).await["name"], "Feed");
}

#[tokio::test]
async fn another_tenant_may_reuse_a_target_name() {
    let app = TestApp::spawn().await;
    let (_, acme) = app.create_tenant("Acme").await;
    let (_, other) = app.create_tenant("Other").await;
    let mine = app.create_target(&acme, "Website").await;
    let theirs = app.create_target(&other, "Website").await;
    assert_ne!(mine, theirs);
    assert_eq!(list_targets(&app, &acme).await["totalCount"], 1);
    assert_eq!(list_targets(&app, &other).await["totalCount"], 1);
}

#[tokio::test]
async fn node_resolves_the_viewer_and_returns_null_for_unknown_types() {
    let app = TestApp::spawn().await;
    let (tenant_id, key) = app.create_tenant("Acme Homes").await;
    let data = app
        .data(
            &key,
            "query($id: ID!) { node(id: $id) { __typename id ... on Tenant { name slug } } }",
            json!({ "id": tenant_id }),
        )
        .await;
    assert_eq!(
        data["node"],
        json!({ "__typename": "Tenant", "id": tenant_id, "name": "Acme Homes", "slug": "acme-homes" })
    );
    // A well-formed id of a type `node` does not know, or of a row that does not exist.
    for id in [
        sync_manager::ids::encode_global("Nothing", 1),
        sync_manager::ids::encode_global("Source", 999_999),
        sync_manager::ids::encode_global("Target", 999_999),
    ] {
        let data = app
            .data(
                &key,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["node"], json!(null), "id {id}");
    }
    // A malformed one is bad input.
    let body = app
        .graphql(
            &key,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": "!!" }),
        )
        .await;
    assert_bad_input(&body, "id");
}
