//! Errors in the API's own words: what the database says stays in the log.

use sea_orm::{ActiveModelTrait, Set};
use sync_manager::entity::tenant;
use sync_manager::error::Error;

/// A unique-constraint violation that no domain rule named (a race between two writers)
/// reaches the client as a `CONFLICT` in our words, without the database's message, which
/// names tables, indexes and values.
#[tokio::test]
async fn a_raw_unique_violation_does_not_quote_the_database() {
    let app = crate::common::TestApp::spawn().await;
    let row = || tenant::ActiveModel {
        name: Set("Acme".into()),
        slug: Set("acme".into()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    row().insert(&app.db).await.unwrap();
    let err = Error::from(row().insert(&app.db).await.unwrap_err());
    assert_eq!(err.code(), "CONFLICT");
    let message = err.to_string();
    assert_eq!(
        message,
        "another object with the same unique value already exists (it may have been created \
         at the same moment); reload and try again"
    );
    for leak in ["tenants", "slug", "UNIQUE", "duplicate", "constraint"] {
        assert!(!message.contains(leak), "{message}");
    }
}

/// A NUL character, which PostgreSQL cannot store, in any value a client sends is
/// `BAD_USER_INPUT` naming where it is, never `INTERNAL`; and nothing is written.
#[tokio::test]
async fn a_nul_character_anywhere_is_bad_input_naming_it() {
    use serde_json::json;

    let app = crate::common::TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let target = app.create_target(&key, "Site").await;
    let nul = "a\u{0}b";
    let cases: Vec<(String, serde_json::Value, &str)> = vec![
        (
            format!("mutation {{ createSource(input: {{ name: {}, kind: JSON }}) {{ source {{ id }} }} }}", json!(nul)),
            json!({}),
            "input.name",
        ),
        (
            "mutation($name: String!) { createSource(input: { name: $name, kind: JSON }) { source { id } } }".into(),
            json!({ "name": nul }),
            "$name",
        ),
        (
            "mutation($config: JSON!) { createTarget(input: { name: \"T2\", kind: WEBSITE, config: $config }) { target { id } } }".into(),
            json!({ "config": { "x": nul } }),
            "$config.x",
        ),
        (
            "mutation($config: JSON!) { createTarget(input: { name: \"T3\", kind: WEBSITE, config: $config }) { target { id } } }".into(),
            json!({ "config": { nul: 1 } }),
            "$config.a\u{0}b",
        ),
        (
            format!("mutation {{ createApiKey(input: {{ name: {} }}) {{ key }} }}", json!(nul)),
            json!({}),
            "input.name",
        ),
        (
            "mutation($s: ID!, $i: JSON!) { importProperties(input: { sourceId: $s, items: $i }) { importRun { created } } }".into(),
            json!({ "s": source, "i": [{ "id": "1" }, { "id": "2", "title": nul }] }),
            "$i[1].title",
        ),
        (
            format!("{{ source(id: {}) {{ properties(externalIds: [\"x\", {}]) {{ totalCount }} }} }}", json!(source), json!(nul)),
            json!({}),
            "externalIds[1]",
        ),
        (
            format!("{{ source(id: {}) {{ properties(after: {}) {{ totalCount }} }} }}", json!(source), json!(nul)),
            json!({}),
            "after",
        ),
        (
            "query($w: JSON) { targets { nodes { properties(where: [{ path: \"title\", op: EQ, value: $w }]) { totalCount } } } }".into(),
            json!({ "w": nul }),
            "$w",
        ),
        (
            format!("{{ target(id: {}) {{ properties(where: [{{ path: {}, op: EXISTS }}]) {{ totalCount }} }} }}", json!(target), json!(nul)),
            json!({}),
            "where[0].path",
        ),
    ];
    for (query, variables, field) in cases {
        let body = app.graphql(&key, &query, variables).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{query}: {body}"
        );
        assert_eq!(body["data"], serde_json::Value::Null, "{query}: {body}");
    }
    let data = app
        .data(
            &key,
            "{ sources { totalCount } targets { totalCount } viewer { apiKeys { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["sources"]["totalCount"], 1);
    assert_eq!(data["targets"]["totalCount"], 1);
    assert_eq!(data["viewer"]["apiKeys"]["totalCount"], 1);
}

/// The CLI refuses a NUL in a config (exit 3, invalid input), as the API does.
#[tokio::test]
async fn the_cli_refuses_a_nul_in_a_config() {
    let app = crate::common::TestApp::spawn().await;
    let run = |args: &[&str]| {
        crate::common::sync_manager(&app.database_url)
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(run(&["create-tenant", "Acme"]).status.code(), Some(0));
    for args in [
        [
            "create-source",
            "acme",
            "Feed",
            "--config",
            r#"{"x":"a\u0000b"}"#,
        ],
        [
            "create-target",
            "acme",
            "Site",
            "--config",
            r#"{"x":"a\u0000b"}"#,
        ],
    ] {
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("NUL character"), "{stderr}");
    }
}
