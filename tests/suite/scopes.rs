//! Least-privilege API keys: every mutation and every root query against every scope, and a
//! key limited to one source on another source, with the expected outcome in one table;
//! then what a limited key may create, expiry, the CLI's options and stored legacy scopes.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::common::{TestApp, decode_id, error_code};

/// What a request with a key comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// It ran, and the answer shows the object it names.
    Ok,
    /// It ran, but the object is not in the answer (a null node, a list without it): out of
    /// the key's limits, like another tenant's.
    Hidden,
    /// `FORBIDDEN`: the key lacks the scope.
    Forbidden,
    /// `NOT_FOUND`: the object is out of the key's limits.
    NotFound,
}

use Outcome::{Forbidden as F, Hidden as H, NotFound as N, Ok as O};

/// The keys of the table's columns. `LIMITED` is `WRITE` limited to a source of its own; the
/// requests name another source (and a target it is not limited on).
const KEYS: [&str; 7] = [
    "READ", "IMPORT", "SYNC", "EDIT", "ADMIN", "WRITE", "LIMITED",
];

/// Every root query, against each key of [`KEYS`].
const QUERIES: &[(&str, [Outcome; 7])] = &[
    ("viewer", [O, O, O, O, O, O, O]),
    ("node", [O, O, O, O, O, O, H]),
    ("nodes", [O, O, O, O, O, O, H]),
    ("sources", [O, O, O, O, O, O, H]),
    ("source", [O, O, O, O, O, O, N]),
    ("targets", [O, O, O, O, O, O, O]),
    ("target", [O, O, O, O, O, O, O]),
    ("syncLogs", [O, O, O, O, O, O, H]),
    ("conflicts", [O, O, O, O, O, O, O]),
];

/// Every mutation (but `createTenant`, which takes the admin token, not a key), in the order
/// they run, against each key of [`KEYS`].
const MUTATIONS: &[(&str, [Outcome; 7])] = &[
    ("createApiKey", [F, F, F, F, O, O, F]),
    ("revokeApiKey", [F, F, F, F, O, O, F]),
    ("createSource", [F, F, F, F, O, O, F]),
    ("updateSource", [F, F, F, F, O, O, N]),
    ("createTarget", [F, F, F, F, O, O, F]),
    ("updateTarget", [F, F, F, F, O, O, O]),
    ("importProperties", [F, O, F, F, F, O, N]),
    ("syncSource", [F, F, O, F, F, O, N]),
    ("updateTargetProperty", [F, F, F, O, F, O, O]),
    ("resolveConflict", [F, F, F, O, F, O, O]),
    ("restoreSnapshot", [F, F, F, O, F, O, O]),
    ("pinSnapshot", [F, F, F, O, F, O, O]),
    ("cleanupSnapshots", [F, F, F, F, O, O, F]),
    ("deleteSource", [F, F, F, F, O, O, N]),
    ("deleteTarget", [F, F, F, F, O, O, O]),
];

/// Objects made by the owner for one column of the table.
struct Fixture {
    n: usize,
    tenant: String,
    source: String,
    target: String,
    /// The target listing with a conflict.
    conflicted: String,
    /// A target listing without one.
    plain: String,
    sync_log: String,
    /// A read-only key, to revoke.
    spare_key: String,
    /// The conflicted listing's hand-edit snapshot, to restore and pin.
    snapshot: String,
}

async fn fixture(app: &TestApp, owner: &str, tenant: &str, n: usize) -> Fixture {
    let source = app.create_source(owner, &format!("Feed {n}")).await;
    let target = app.create_target(owner, &format!("Site {n}")).await;
    let import = "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { id } } }";
    let sync = "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { id } } }";
    let st = json!({ "s": source, "t": target });
    app.data(
        owner,
        import,
        json!({ "s": source, "items": [{ "id": "a", "p": 1 }, { "id": "b", "p": 1 }] }),
    )
    .await;
    let log = app.data(owner, sync, st.clone()).await;
    let listings = app
        .data(
            owner,
            "query($t: ID!) { target(id: $t) { properties { nodes { id externalId } } } }",
            json!({ "t": target }),
        )
        .await;
    let id_of = |external: &str| {
        listings["target"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["externalId"] == external)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (conflicted, plain) = (id_of("a"), id_of("b"));
    app.data(
        owner,
        "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { note: \"by hand\" } }) { targetProperty { id } } }",
        json!({ "id": conflicted }),
    )
    .await;
    app.data(
        owner,
        import,
        json!({ "s": source, "items": [{ "id": "a", "p": 2 }] }),
    )
    .await;
    app.data(owner, sync, st).await;
    let snapshots = app
        .data(
            owner,
            "query($id: ID!) { node(id: $id) { ... on TargetProperty { snapshots(first: 1) { nodes { id } } } } }",
            json!({ "id": conflicted }),
        )
        .await;
    let snapshot = snapshots["node"]["snapshots"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let spare = app
        .data(
            owner,
            "mutation($name: String!) { createApiKey(input: { name: $name, scopes: [READ] }) { apiKey { id } } }",
            json!({ "name": format!("spare {n}") }),
        )
        .await;
    Fixture {
        n,
        tenant: tenant.to_owned(),
        source,
        target,
        conflicted,
        plain,
        sync_log: log["syncSource"]["syncLog"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        spare_key: spare["createApiKey"]["apiKey"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        snapshot,
    }
}

/// The request of `operation` on the fixture's objects, and the id its answer shows when the
/// object is visible.
fn request(operation: &str, f: &Fixture) -> (String, Value, String) {
    let (q, vars, shows): (&str, Value, &str) = match operation {
        "viewer" => ("{ viewer { id } }", json!({}), &f.tenant),
        "node" => (
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": f.source }),
            &f.source,
        ),
        "nodes" => (
            "query($id: ID!) { nodes(ids: [$id]) { id } }",
            json!({ "id": f.source }),
            &f.source,
        ),
        "sources" => (
            "{ sources(first: 100) { nodes { id } } }",
            json!({}),
            &f.source,
        ),
        "source" => (
            "query($id: ID!) { source(id: $id) { id } }",
            json!({ "id": f.source }),
            &f.source,
        ),
        "targets" => (
            "{ targets(first: 100) { nodes { id } } }",
            json!({}),
            &f.target,
        ),
        "target" => (
            "query($id: ID!) { target(id: $id) { id } }",
            json!({ "id": f.target }),
            &f.target,
        ),
        "syncLogs" => (
            "{ syncLogs(first: 100) { nodes { id } } }",
            json!({}),
            &f.sync_log,
        ),
        "conflicts" => (
            "{ conflicts(first: 100) { nodes { targetProperty { id } } } }",
            json!({}),
            &f.conflicted,
        ),
        "createApiKey" => (
            "mutation($name: String!) { createApiKey(input: { name: $name, scopes: [READ] }) { apiKey { id } } }",
            json!({ "name": format!("new {}", f.n) }),
            "",
        ),
        "revokeApiKey" => (
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
            json!({ "id": f.spare_key }),
            "",
        ),
        "createSource" => (
            "mutation($name: String!) { createSource(input: { name: $name, kind: JSON }) { source { id } } }",
            json!({ "name": format!("New feed {}", f.n) }),
            "",
        ),
        "updateSource" => (
            "mutation($id: ID!) { updateSource(input: { id: $id, config: { id_field: \"id\" } }) { source { id } } }",
            json!({ "id": f.source }),
            "",
        ),
        "createTarget" => (
            "mutation($name: String!) { createTarget(input: { name: $name, kind: API }) { target { id } } }",
            json!({ "name": format!("New site {}", f.n) }),
            "",
        ),
        "updateTarget" => (
            "mutation($id: ID!) { updateTarget(input: { id: $id, config: { url: \"https://x.example\" } }) { target { id } } }",
            json!({ "id": f.target }),
            "",
        ),
        "importProperties" => (
            "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [{ id: \"c\" }] }) { importRun { id } } }",
            json!({ "s": f.source }),
            "",
        ),
        "syncSource" => (
            "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { id } } }",
            json!({ "s": f.source, "t": f.target }),
            "",
        ),
        "updateTargetProperty" => (
            "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { note: \"x\" } }) { targetProperty { id } } }",
            json!({ "id": f.plain }),
            "",
        ),
        "resolveConflict" => (
            "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: KEEP_TARGET }) { targetProperty { id } } }",
            json!({ "id": f.conflicted }),
            "",
        ),
        "restoreSnapshot" => (
            "mutation($id: ID!) { restoreSnapshot(input: { id: $id }) { restored } }",
            json!({ "id": f.snapshot }),
            "",
        ),
        "pinSnapshot" => (
            "mutation($id: ID!) { pinSnapshot(input: { id: $id, pinned: true }) { targetSnapshot { id } } }",
            json!({ "id": f.snapshot }),
            "",
        ),
        "cleanupSnapshots" => (
            "mutation { cleanupSnapshots(input: { olderThanDays: 30 }) { dryRun } }",
            json!({}),
            "",
        ),
        "deleteSource" => (
            "mutation($id: ID!) { deleteSource(input: { id: $id }) { deletedSourceId } }",
            json!({ "id": f.source }),
            "",
        ),
        "deleteTarget" => (
            "mutation($id: ID!) { deleteTarget(input: { id: $id }) { deletedTargetId } }",
            json!({ "id": f.target }),
            "",
        ),
        other => panic!("no request for {other}"),
    };
    (q.to_owned(), vars, shows.to_owned())
}

/// The tenant's data version: it grows with every committed write.
async fn data_version(app: &TestApp, tenant: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT data_version FROM tenants WHERE id = {}",
                decode_id(tenant).1
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "data_version").unwrap()
}

/// Creates a key with `scopes` (GraphQL literal) and `extra` input fields; returns it.
async fn make_key(app: &TestApp, owner: &str, scopes: &str, extra: &str) -> String {
    let data = app
        .data(
            owner,
            &format!(r#"mutation {{ createApiKey(input: {{ name: "k", scopes: {scopes} {extra} }}) {{ key }} }}"#),
            json!({}),
        )
        .await;
    data["createApiKey"]["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_operation_against_every_scope() {
    let app = TestApp::spawn().await;
    let (tenant, owner) = app.create_tenant("Acme").await;
    let own_source = app.create_source(&owner, "Own feed").await;
    let mut failures = Vec::new();
    for (column, name) in KEYS.iter().enumerate() {
        let key = match *name {
            "LIMITED" => {
                let extra = format!(r#", sourceIds: ["{own_source}"]"#);
                make_key(&app, &owner, "[WRITE]", &extra).await
            }
            scope => make_key(&app, &owner, &format!("[{scope}]"), "").await,
        };
        let f = fixture(&app, &owner, &tenant, column).await;
        // The first use of a key notes its `lastUsedAt`, a write of its own.
        app.data(&key, "{ viewer { id } }", json!({})).await;
        for (operation, expected) in QUERIES.iter().chain(MUTATIONS) {
            let (query, vars, shows) = request(operation, &f);
            let before = data_version(&app, &tenant).await;
            let body = app.graphql(&key, &query, vars).await;
            let outcome = match body["errors"].get(0) {
                None if body["data"].to_string().contains(&shows) => O,
                None => H,
                Some(_) => match error_code(&body) {
                    "FORBIDDEN" => F,
                    "NOT_FOUND" => N,
                    other => panic!("{operation} with {name}: unexpected {other}: {body}"),
                },
            };
            let expected = expected[column];
            if outcome != expected {
                failures.push(format!(
                    "{operation} with {name}: {outcome:?}, expected {expected:?}: {body}"
                ));
            }
            if matches!(outcome, F | N) {
                assert_eq!(body["data"], json!(null), "{operation} with {name}: {body}");
                assert_eq!(
                    data_version(&app, &tenant).await,
                    before,
                    "{operation} with {name} failed but wrote"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_scrapers_key_imports_into_its_own_source_and_sees_nothing_else() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.create_tenant("Acme").await;
    let own = app.create_source(&owner, "Own feed").await;
    let other = app.create_source(&owner, "Other feed").await;
    let key = make_key(
        &app,
        &owner,
        "[IMPORT]",
        &format!(r#", sourceIds: ["{own}"]"#),
    )
    .await;
    let import = "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [{ id: \"a\" }] }) { importRun { created } } }";
    let data = app.data(&key, import, json!({ "s": own })).await;
    assert_eq!(data["importProperties"]["importRun"]["created"], 1);
    let body = app.graphql(&key, import, json!({ "s": other })).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let data = app
        .data(&key, "{ sources { totalCount nodes { id } } }", json!({}))
        .await;
    assert_eq!(
        data["sources"],
        json!({ "totalCount": 1, "nodes": [{ "id": own }] })
    );
    let listed = app
        .data(
            &key,
            "{ viewer { apiKeys { nodes { scopes sourceIds targetIds expiresAt } } } }",
            json!({}),
        )
        .await;
    assert!(
        listed["viewer"]["apiKeys"]["nodes"]
            .as_array()
            .unwrap()
            .contains(&json!({ "scopes": ["READ", "IMPORT"], "sourceIds": [own], "targetIds": null, "expiresAt": null })),
        "{listed}"
    );
}

#[tokio::test]
async fn a_key_cannot_make_a_key_with_more_rights_than_its_own() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.create_tenant("Acme").await;
    let own = app.create_source(&owner, "Own feed").await;
    let other = app.create_source(&owner, "Other feed").await;
    let limited = make_key(
        &app,
        &owner,
        "[ADMIN, IMPORT]",
        &format!(r#", sourceIds: ["{own}"], expiresAt: "2999-01-01T00:00:00Z""#),
    )
    .await;
    let create = |input: String| {
        format!(
            r#"mutation {{ createApiKey(input: {{ name: "n", {input} }}) {{ apiKey {{ scopes sourceIds expiresAt }} }} }}"#
        )
    };
    for input in [
        format!(r#"scopes: [SYNC], sourceIds: ["{own}"], expiresAt: "2998-01-01T00:00:00Z""#),
        format!(r#"scopes: [WRITE], sourceIds: ["{own}"], expiresAt: "2998-01-01T00:00:00Z""#),
        r#"scopes: [IMPORT], expiresAt: "2998-01-01T00:00:00Z""#.to_owned(),
        format!(r#"scopes: [IMPORT], sourceIds: ["{own}"]"#),
        format!(r#"scopes: [IMPORT], sourceIds: ["{own}"], expiresAt: "3000-01-01T00:00:00Z""#),
    ] {
        let body = app
            .graphql(&limited, &create(input.clone()), json!({}))
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{input}: {body}");
    }
    // A source out of its sight is not found, naming the entry.
    let body = app
        .graphql(
            &limited,
            &create(format!(
                r#"scopes: [IMPORT], sourceIds: ["{other}"], expiresAt: "2998-01-01T00:00:00Z""#
            )),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(input.sourceIds[0])"),
        "{body}"
    );
    let data = app
        .data(
            &limited,
            &create(format!(
                r#"scopes: [IMPORT], sourceIds: ["{own}"], expiresAt: "2998-01-01T00:00:00Z""#
            )),
            json!({}),
        )
        .await;
    assert_eq!(
        data["createApiKey"]["apiKey"],
        json!({ "scopes": ["READ", "IMPORT"], "sourceIds": [own], "expiresAt": "2998-01-01T00:00:00+00:00" })
    );
    let keys = app
        .data(&owner, "{ viewer { apiKeys { totalCount } } }", json!({}))
        .await;
    assert_eq!(keys["viewer"]["apiKeys"]["totalCount"], 3);
}

#[tokio::test]
async fn an_expired_key_stops_authenticating() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.create_tenant("Acme").await;
    let body = app
        .graphql(&owner, r#"mutation { createApiKey(input: { name: "late", expiresAt: "2001-01-01T00:00:00Z" }) { key } }"#, json!({}))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.expiresAt");
    let key = make_key(
        &app,
        &owner,
        "[READ]",
        r#", expiresAt: "2999-01-01T00:00:00Z""#,
    )
    .await;
    app.data(&key, "{ viewer { id } }", json!({})).await;
    app.db
        .execute_unprepared("UPDATE api_keys SET expires_at = '2001-01-01T00:00:00+00:00' WHERE expires_at IS NOT NULL")
        .await
        .unwrap();
    let body = app.graphql(&key, "{ viewer { id } }", json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(
        body["errors"][0]["message"],
        format!(
            "API key `{}` expired at 2001-01-01T00:00:00+00:00",
            &key[..12]
        )
    );
}

#[tokio::test]
async fn stored_legacy_scopes_still_work_and_unknown_ones_are_refused() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.create_tenant("Acme").await;
    let reader = make_key(&app, &owner, "[READ]", "").await;
    // The tenant's first key is stored as keys were before the finer scopes: `["read",
    // "write"]`; it still does everything.
    let stored = app
        .data(
            &owner,
            "{ viewer { apiKeys(first: 1) { nodes { scopes } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stored["viewer"]["apiKeys"]["nodes"][0]["scopes"],
        json!(["READ", "WRITE"])
    );
    app.create_source(&owner, "Feed").await;
    let body = app
        .graphql(
            &reader,
            r#"mutation { createSource(input: { name: "X", kind: JSON }) { source { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(
        body["errors"][0]["message"],
        "this API key lacks the ADMIN scope this operation needs"
    );
    app.db
        .execute_unprepared(
            r#"UPDATE api_keys SET scopes = '["read", "superuser"]' WHERE name = 'k'"#,
        )
        .await
        .unwrap();
    let response = app
        .send(
            axum::http::Request::post("/graphql")
                .header("content-type", "application/json")
                .header("x-api-key", &reader)
                .body(axum::body::Body::from(
                    json!({ "query": "{ viewer { id } }" }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(
        response.status,
        axum::http::StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(response.body["errors"][0]["extensions"]["code"], "INTERNAL");
}

#[tokio::test]
async fn the_cli_makes_limited_expiring_keys() {
    let cli = crate::cli::Cli::new().await;
    assert_eq!(cli.run(&["init"]).status.code(), Some(0));
    cli.json(&["create-tenant", "Acme", "--json"]);
    let feed = cli.json(&["create-source", "acme", "Feed", "--json"])["source"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = cli.json(&["create-source", "acme", "Other", "--json"])["source"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let site = cli.json(&["create-target", "acme", "Site", "--json"])["target"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = cli.json(&[
        "create-api-key",
        "acme",
        "--name",
        "scraper",
        "--scope",
        "import",
        "--scope",
        "sync",
        "--source",
        "Feed",
        "--target",
        &site,
        "--expires-at",
        "2999-01-01T00:00:00Z",
        "--json",
    ]);
    let api_key = &created["apiKey"];
    assert_eq!(api_key["scopes"], json!(["READ", "IMPORT", "SYNC"]));
    assert_eq!(api_key["sourceIds"], json!([feed]));
    assert_eq!(api_key["targetIds"], json!([site]));
    assert_eq!(api_key["expiresAt"], "2999-01-01T00:00:00+00:00");
    let key = created["key"].as_str().unwrap();
    let body = cli
        .graphql(key, &format!(r#"mutation {{ importProperties(input: {{ sourceId: "{other}", items: [{{ id: "a" }}] }}) {{ importRun {{ id }} }} }}"#))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = cli
        .graphql(key, &format!(r#"mutation {{ importProperties(input: {{ sourceId: "{feed}", items: [{{ id: "a" }}] }}) {{ importRun {{ created }} }} }}"#))
        .await;
    assert_eq!(
        body["data"]["importProperties"]["importRun"]["created"], 1,
        "{body}"
    );

    // A source that does not exist creates no key.
    let before = cli.count("api_keys").await;
    cli.fails(
        &[
            "create-api-key",
            "acme",
            "--scope",
            "import",
            "--source",
            "Nope",
        ],
        4,
    );
    cli.fails(&["create-api-key", "acme", "--scope", "everything"], 2);
    assert_eq!(cli.count("api_keys").await, before);
}
