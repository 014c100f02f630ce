//! Tenant isolation: another tenant's objects do not exist for you, whatever you try, and
//! trying changes nothing for their owner.

use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

const SOURCE_FIELDS: &str = "id name kind active config createdAt updatedAt";
const TARGET_FIELDS: &str = "id name kind active config conflictPolicy createdAt updatedAt";

/// Tenant A with a source, a target and a second API key; tenant B with a source and target
/// of its own.
struct World {
    app: TestApp,
    a_key: String,
    a_tenant: String,
    a_source: Value,
    a_target: Value,
    a_second_key: String,
    a_second_key_id: String,
    b_key: String,
    b_tenant: String,
    b_source: String,
    b_target: String,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let (a_tenant, a_key) = app.create_tenant("Agency A").await;
        let (b_tenant, b_key) = app.create_tenant("Agency B").await;
        let a_source = app
            .data(
                &a_key,
                &format!(
                    r#"mutation {{ createSource(input: {{ name: "Feed A", kind: SCRAPED, config: {{ id_field: "ref" }} }}) {{ source {{ {SOURCE_FIELDS} }} }} }}"#
                ),
                json!({}),
            )
            .await["createSource"]["source"]
            .clone();
        let a_target = app
            .data(
                &a_key,
                &format!(
                    r#"mutation {{ createTarget(input: {{ name: "Site A", kind: API, config: {{ url: "https://a.example" }}, conflictPolicy: KEEP_TARGET }}) {{ target {{ {TARGET_FIELDS} }} }} }}"#
                ),
                json!({}),
            )
            .await["createTarget"]["target"]
            .clone();
        let created = app
            .data(
                &a_key,
                r#"mutation { createApiKey(input: { name: "scraper" }) { key apiKey { id } } }"#,
                json!({}),
            )
            .await;
        let b_source = app.create_source(&b_key, "Feed B").await;
        let b_target = app.create_target(&b_key, "Site B").await;
        Self {
            a_key,
            a_tenant,
            a_second_key: created["createApiKey"]["key"]
                .as_str()
                .expect("key")
                .to_owned(),
            a_second_key_id: created["createApiKey"]["apiKey"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
            a_source,
            a_target,
            b_key,
            b_tenant,
            b_source,
            b_target,
            app,
        }
    }

    fn a_source_id(&self) -> &str {
        self.a_source["id"].as_str().expect("id")
    }

    fn a_target_id(&self) -> &str {
        self.a_target["id"].as_str().expect("id")
    }

    /// A's objects exactly as they were created, and A's keys still work.
    async fn assert_a_untouched(&self) {
        let data = self
            .app
            .data(
                &self.a_key,
                &format!(
                    "query($s: ID!, $t: ID!) {{ source(id: $s) {{ {SOURCE_FIELDS} }} target(id: $t) {{ {TARGET_FIELDS} }}
                       sources {{ totalCount }} targets {{ totalCount }}
                       viewer {{ name apiKeys {{ totalCount nodes {{ name revokedAt }} }} }} }}"
                ),
                json!({ "s": self.a_source_id(), "t": self.a_target_id() }),
            )
            .await;
        assert_eq!(data["source"], self.a_source);
        assert_eq!(data["source"]["name"], "Feed A");
        assert_eq!(data["source"]["active"], true);
        assert_eq!(data["source"]["config"], json!({ "id_field": "ref" }));
        assert_eq!(data["target"], self.a_target);
        assert_eq!(data["target"]["name"], "Site A");
        assert_eq!(data["target"]["active"], true);
        assert_eq!(
            data["target"]["config"],
            json!({ "url": "https://a.example" })
        );
        assert_eq!(data["target"]["conflictPolicy"], "KEEP_TARGET");
        assert_eq!(data["sources"]["totalCount"], 1);
        assert_eq!(data["targets"]["totalCount"], 1);
        assert_eq!(data["viewer"]["name"], "Agency A");
        assert_eq!(
            data["viewer"]["apiKeys"],
            json!({ "totalCount": 2, "nodes": [
                { "name": "default", "revokedAt": null },
                { "name": "scraper", "revokedAt": null },
            ] })
        );
        let viewer = self
            .app
            .data(&self.a_second_key, "{ viewer { id name } }", json!({}))
            .await;
        assert_eq!(
            viewer["viewer"],
            json!({ "id": self.a_tenant, "name": "Agency A" })
        );
    }
}

fn assert_not_found(body: &Value) {
    assert_eq!(error_code(body), "NOT_FOUND", "body: {body}");
    assert_eq!(body["data"], json!(null), "body: {body}");
}

#[tokio::test]
async fn another_tenants_objects_cannot_be_read() {
    let world = World::new().await;
    let app = &world.app;
    let b = world.b_key.as_str();

    let body = app
        .graphql(
            b,
            "query($id: ID!) { source(id: $id) { id name } }",
            json!({ "id": world.a_source_id() }),
        )
        .await;
    assert_not_found(&body);
    // The message names the id as given, nothing of A's data.
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(world.a_source_id()), "body: {body}");
    assert!(!message.contains("Feed A"), "body: {body}");

    let body = app
        .graphql(
            b,
            "query($id: ID!) { target(id: $id) { id name } }",
            json!({ "id": world.a_target_id() }),
        )
        .await;
    assert_not_found(&body);

    // node(id) is null for every kind of A's objects, tenant included.
    for id in [
        world.a_source_id(),
        world.a_target_id(),
        world.a_second_key_id.as_str(),
        world.a_tenant.as_str(),
    ] {
        let data = app
            .data(
                b,
                "query($id: ID!) { node(id: $id) { __typename id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["node"], json!(null), "node({id})");
    }
    // … while B's own objects resolve.
    for (id, type_name) in [
        (world.b_source.as_str(), "Source"),
        (world.b_target.as_str(), "Target"),
        (world.b_tenant.as_str(), "Tenant"),
    ] {
        let data = app
            .data(
                b,
                "query($id: ID!) { node(id: $id) { __typename id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["node"], json!({ "__typename": type_name, "id": id }));
    }
    world.assert_a_untouched().await;
}

#[tokio::test]
async fn another_tenants_objects_cannot_be_changed() {
    let world = World::new().await;
    let app = &world.app;
    let b = world.b_key.as_str();

    let attempts = [
        (
            "mutation($id: ID!) { updateSource(input: { id: $id, name: \"Hijacked\", active: false, config: {} }) { source { id } } }",
            world.a_source_id(),
        ),
        (
            "mutation($id: ID!) { deleteSource(input: { id: $id }) { deletedSourceId } }",
            world.a_source_id(),
        ),
        (
            "mutation($id: ID!) { updateTarget(input: { id: $id, name: \"Hijacked\", active: false, conflictPolicy: FLAG }) { target { id } } }",
            world.a_target_id(),
        ),
        (
            "mutation($id: ID!) { deleteTarget(input: { id: $id }) { deletedTargetId } }",
            world.a_target_id(),
        ),
        (
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id revokedAt } } }",
            world.a_second_key_id.as_str(),
        ),
    ];
    for (mutation, id) in attempts {
        let body = app.graphql(b, mutation, json!({ "id": id })).await;
        assert_not_found(&body);
    }
    world.assert_a_untouched().await;

    // B's own objects are still B's.
    let data = app
        .data(
            b,
            "{ sources { totalCount nodes { id name } } targets { totalCount nodes { id name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["sources"],
        json!({ "totalCount": 1, "nodes": [{ "id": world.b_source, "name": "Feed B" }] })
    );
    assert_eq!(
        data["targets"],
        json!({ "totalCount": 1, "nodes": [{ "id": world.b_target, "name": "Site B" }] })
    );
}

#[tokio::test]
async fn lists_only_ever_show_your_own_tenant() {
    let world = World::new().await;
    let app = &world.app;
    // More on both sides, interleaved, so A's rows sit between B's ids.
    for i in 1..=3 {
        app.create_source(&world.a_key, &format!("A extra {i}"))
            .await;
        app.create_source(&world.b_key, &format!("B extra {i}"))
            .await;
    }
    let query =
        "{ sources(first: 100) { totalCount nodes { name } } targets { totalCount nodes { name } }
                   viewer { apiKeys { totalCount nodes { name } } } }";
    let b = app.data(&world.b_key, query, json!({})).await;
    assert_eq!(
        b["sources"],
        json!({ "totalCount": 4, "nodes": [
            { "name": "Feed B" }, { "name": "B extra 1" }, { "name": "B extra 2" }, { "name": "B extra 3" },
        ] })
    );
    assert_eq!(
        b["targets"],
        json!({ "totalCount": 1, "nodes": [{ "name": "Site B" }] })
    );
    assert_eq!(
        b["viewer"]["apiKeys"],
        json!({ "totalCount": 1, "nodes": [{ "name": "default" }] })
    );
    let a = app.data(&world.a_key, query, json!({})).await;
    assert_eq!(
        a["sources"],
        json!({ "totalCount": 4, "nodes": [
            { "name": "Feed A" }, { "name": "A extra 1" }, { "name": "A extra 2" }, { "name": "A extra 3" },
        ] })
    );

    // Paging B's list with small pages never strays into A's rows either.
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = app
            .data(
                &world.b_key,
                "query($after: String) { sources(first: 1, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }),
            )
            .await;
        let connection = &data["sources"];
        for edge in connection["edges"].as_array().unwrap() {
            names.push(edge["node"]["name"].as_str().unwrap().to_owned());
        }
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(names, ["Feed B", "B extra 1", "B extra 2", "B extra 3"]);

    // A cursor taken from A's list only positions B's list; it shows none of A's rows.
    let a_cursor = app
        .data(
            &world.a_key,
            "{ sources(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await["sources"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = app
        .data(
            &world.b_key,
            "query($after: String) { sources(after: $after) { totalCount nodes { name } } }",
            json!({ "after": a_cursor }),
        )
        .await;
    assert_eq!(data["sources"]["totalCount"], 4);
    for node in data["sources"]["nodes"].as_array().unwrap() {
        assert!(node["name"].as_str().unwrap().contains('B'), "{data}");
    }
}

#[tokio::test]
async fn a_revoked_key_of_one_tenant_leaves_the_other_alone() {
    let world = World::new().await;
    let app = &world.app;
    // A revokes its own second key; B's key is unaffected, and B's revoke of it was refused.
    let data = app
        .data(
            &world.a_key,
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { name revokedAt } } }",
            json!({ "id": world.a_second_key_id }),
        )
        .await;
    assert_eq!(data["revokeApiKey"]["apiKey"]["name"], "scraper");
    assert!(data["revokeApiKey"]["apiKey"]["revokedAt"].is_string());
    let body = app
        .graphql(&world.a_second_key, "{ viewer { name } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let data = app
        .data(&world.b_key, "{ viewer { id name } }", json!({}))
        .await;
    assert_eq!(
        data["viewer"],
        json!({ "id": world.b_tenant, "name": "Agency B" })
    );
}
