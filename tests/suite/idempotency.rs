//! Idempotency keys: a repeat returns the first answer without doing the work again, another
//! input under the key is refused, keys are per tenant and mutation, concurrent calls with one
//! key do the work once (also through two servers over one database), a failed mutation
//! leaves no key, the `Idempotency-Key` header, and expiry.

use axum::body::Body;
use axum::http::Request;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sync_manager::{db, http};

use crate::common::{TestApp, TestResponse, assert_bad_input, error_code, without_request_ids};
use crate::engine::Setup;

const IMPORT: &str = "mutation($s: ID!, $items: JSON!, $key: String) { importProperties(input: { sourceId: $s, items: $items, idempotencyKey: $key }) { importRun { id created updated unchanged removed startedAt finishedAt } } }";

const SYNC: &str = "mutation($s: ID!, $t: ID!, $key: String) { syncSource(input: { sourceId: $s, targetId: $t, idempotencyKey: $key }) { syncLog { id created updated skipped startedAt } } }";

const EDIT: &str = "mutation($id: ID!, $patch: JSON!, $key: String) { updateTargetProperty(input: { id: $id, patch: $patch, idempotencyKey: $key }) { targetProperty { id data updatedAt snapshots { totalCount } } } }";

const RESOLVE: &str = "mutation($id: ID!, $key: String) { resolveConflict(input: { id: $id, resolution: ACCEPT_SOURCE, idempotencyKey: $key }) { targetProperty { id data hasConflict snapshots { totalCount } } } }";

/// How many import runs the source has and how many listings it holds.
async fn source_counts(s: &Setup) -> (i64, i64) {
    let data = s
        .app
        .data(
            &s.key,
            "query($s: ID!) { source(id: $s) { importRuns { totalCount } properties { totalCount } } }",
            json!({ "s": s.source }),
        )
        .await;
    (
        data["source"]["importRuns"]["totalCount"].as_i64().unwrap(),
        data["source"]["properties"]["totalCount"].as_i64().unwrap(),
    )
}

/// How many idempotency keys are stored, in every tenant.
async fn stored_keys(app: &TestApp) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM idempotency_keys",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// A POST of `query` with `headers`, through `router`.
async fn post(
    app: &TestApp,
    router: Option<&axum::Router>,
    key: &str,
    headers: &[(&str, &str)],
    query: &str,
    variables: Value,
) -> TestResponse {
    let mut builder = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-api-key", key);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Body::from(
            json!({ "query": query, "variables": variables }).to_string(),
        ))
        .unwrap();
    match router {
        None => app.send(request).await,
        Some(router) => {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let response = router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            TestResponse {
                status,
                headers,
                body: serde_json::from_slice(&bytes).unwrap(),
            }
        }
    }
}

#[tokio::test]
async fn a_repeated_import_returns_the_first_run_without_importing_again() {
    let s = Setup::new().await;
    let items = json!([{ "id": "a", "price": 1 }, { "id": "b", "price": 2 }]);
    let vars = json!({ "s": s.source, "items": items, "key": "scrape-2026-12-02" });
    let first = s.app.data(&s.key, IMPORT, vars.clone()).await;
    assert_eq!(first["importProperties"]["importRun"]["created"], 2);

    // The same input as literals instead of variables: the same request.
    let literal = format!(
        r#"mutation {{ importProperties(input: {{ idempotencyKey: "scrape-2026-12-02", items: [{{ id: "a", price: 1 }}, {{ price: 2, id: "b" }}], sourceId: "{}", mode: INCREMENTAL }}) {{ importRun {{ id created updated unchanged removed startedAt finishedAt }} }} }}"#,
        s.source
    );
    let again = s.app.data(&s.key, &literal, json!({})).await;
    assert_eq!(again, first);
    let again = s.app.data(&s.key, IMPORT, vars).await;
    assert_eq!(again, first);
    assert_eq!(source_counts(&s).await, (1, 2));
    assert_eq!(stored_keys(&s.app).await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_input_is_refused_and_writes_nothing() {
    let s = Setup::new().await;
    let vars = |price: i64| json!({ "s": s.source, "items": [{ "id": "a", "price": price }], "key": "k-1" });
    s.app.data(&s.key, IMPORT, vars(1)).await;
    let body = s.app.graphql(&s.key, IMPORT, vars(2)).await;
    assert_eq!(error_code(&body), "IDEMPOTENCY_KEY_REUSED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("idempotency key `k-1` was used for importProperties at "),
        "{body}"
    );
    assert_eq!(body["data"], json!(null));
    assert_eq!(source_counts(&s).await, (1, 1));
    assert_eq!(s.source_listings().await[0]["data"]["price"], 1);
}

#[tokio::test]
async fn keys_are_per_tenant_and_per_mutation() {
    let s = Setup::new().await;
    let vars = json!({ "s": s.source, "items": [{ "id": "a" }], "key": "shared" });
    let first = s.app.data(&s.key, IMPORT, vars).await;

    // Another tenant with the same key does its own import.
    let (_, other_key) = s.app.create_tenant("Other").await;
    let other_source = s.app.create_source(&other_key, "Feed").await;
    let other = s
        .app
        .data(
            &other_key,
            IMPORT,
            json!({ "s": other_source, "items": [{ "id": "a" }], "key": "shared" }),
        )
        .await;
    assert_eq!(other["importProperties"]["importRun"]["created"], 1);
    assert_ne!(
        other["importProperties"]["importRun"]["id"],
        first["importProperties"]["importRun"]["id"]
    );

    // The same key on another mutation is another key.
    let vars = json!({ "s": s.source, "t": s.target, "key": "shared" });
    let synced = s.app.data(&s.key, SYNC, vars.clone()).await;
    assert_eq!(synced["syncSource"]["syncLog"]["created"], 1);
    assert_eq!(s.app.data(&s.key, SYNC, vars).await, synced);
    assert_eq!(s.audit_counts().await, (1, 1));
    assert_eq!(stored_keys(&s.app).await, 3);
}

#[tokio::test]
async fn a_failed_mutation_leaves_no_key_and_can_be_retried() {
    let s = Setup::new().await;
    let body = s
        .app
        .graphql(
            &s.key,
            IMPORT,
            json!({ "s": s.source, "items": [{ "id": "a" }, { "price": 1 }], "key": "retry-me" }),
        )
        .await;
    assert_bad_input(&body, "input.items[1]");
    assert_eq!(stored_keys(&s.app).await, 0);
    assert_eq!(source_counts(&s).await, (0, 0));

    // The retry, fixed, with the same key: done now.
    let fixed = s
        .app
        .data(
            &s.key,
            IMPORT,
            json!({ "s": s.source, "items": [{ "id": "a" }, { "id": "b" }], "key": "retry-me" }),
        )
        .await;
    assert_eq!(fixed["importProperties"]["importRun"]["created"], 2);
    assert_eq!(stored_keys(&s.app).await, 1);
}

#[tokio::test]
async fn concurrent_calls_with_one_key_do_the_work_once() {
    let s = Setup::new().await;
    let items: Vec<Value> = (0..300).map(|i| json!({ "id": i, "n": i })).collect();
    let vars = json!({ "s": s.source, "items": items, "key": "race" });
    let (a, b) = tokio::join!(
        s.app.data(&s.key, IMPORT, vars.clone()),
        s.app.data(&s.key, IMPORT, vars.clone())
    );
    assert_eq!(a, b);
    assert_eq!(a["importProperties"]["importRun"]["created"], 300);
    assert_eq!(source_counts(&s).await, (1, 300));

    // A second server (its own pool and state) over the same database: a replica.
    let replica_db = db::connect_and_migrate(&s.app.database_url).await.unwrap();
    let config = s.app.config.clone();
    let replica = http::router(http::AppState::new(replica_db, &config, None), &config);
    let vars = json!({ "s": s.source, "t": s.target, "key": "race" });
    let (a, b) = tokio::join!(
        post(&s.app, None, &s.key, &[], SYNC, vars.clone()),
        post(&s.app, Some(&replica), &s.key, &[], SYNC, vars.clone())
    );
    assert!(a.body.get("errors").is_none(), "{}", a.body);
    assert_eq!(a.body, b.body);
    assert_eq!(a.body["data"]["syncSource"]["syncLog"]["created"], 300);
    assert_eq!(s.audit_counts().await, (1, 1));
}

#[tokio::test]
async fn hand_edits_and_resolutions_repeat_their_first_answer() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a", "price": 1 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let id = s.target_listing("a").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vars = json!({ "id": id, "patch": { "note": "corner unit" }, "key": "edit-1" });
    let first = s.app.data(&s.key, EDIT, vars.clone()).await;
    assert_eq!(
        first["updateTargetProperty"]["targetProperty"]["snapshots"]["totalCount"],
        1
    );
    assert_eq!(s.app.data(&s.key, EDIT, vars).await, first);
    let body = s
        .app
        .graphql(
            &s.key,
            EDIT,
            json!({ "id": id, "patch": { "note": "other" }, "key": "edit-1" }),
        )
        .await;
    assert_eq!(error_code(&body), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(s.target_listing("a").await["data"]["note"], "corner unit");

    s.import(json!([{ "id": "a", "price": 2 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let vars = json!({ "id": id, "key": "resolve-1" });
    let resolved = s.app.data(&s.key, RESOLVE, vars.clone()).await;
    let listing = &resolved["resolveConflict"]["targetProperty"];
    assert_eq!(listing["data"], json!({ "id": "a", "price": 2 }));
    assert_eq!(listing["snapshots"]["totalCount"], 2);
    assert_eq!(s.app.data(&s.key, RESOLVE, vars).await, resolved);
    assert_eq!(stored_keys(&s.app).await, 2);
}

#[tokio::test]
async fn the_header_is_the_input_field_for_one_mutation() {
    let s = Setup::new().await;
    let vars = json!({ "s": s.source, "items": [{ "id": "a" }] });
    let header = [("idempotency-key", "hdr-1")];
    let first = post(&s.app, None, &s.key, &header, IMPORT, vars.clone()).await;
    assert_eq!(
        first.body["data"]["importProperties"]["importRun"]["created"],
        1
    );
    let again = post(&s.app, None, &s.key, &header, IMPORT, vars.clone()).await;
    assert_eq!(again.body, first.body);
    // The header and the input field name the same key.
    let with_field = json!({ "s": s.source, "items": [{ "id": "a" }], "key": "hdr-1" });
    assert_eq!(
        s.app.data(&s.key, IMPORT, with_field).await,
        first.body["data"]
    );
    assert_eq!(source_counts(&s).await, (1, 1));

    // Both, different: refused, nothing written.
    let both = json!({ "s": s.source, "items": [{ "id": "b" }], "key": "other" });
    let refused = post(&s.app, None, &s.key, &header, IMPORT, both).await;
    assert_bad_input(&refused.body, "input.idempotencyKey");

    // Not a single mutation field that takes keys: a request error, nothing runs.
    let two = format!(
        r#"mutation {{ a: importProperties(input: {{ sourceId: "{0}", items: [{{ id: "c" }}] }}) {{ importRun {{ id }} }} b: importProperties(input: {{ sourceId: "{0}", items: [{{ id: "d" }}] }}) {{ importRun {{ id }} }} }}"#,
        s.source
    );
    for (query, reason) in [
        (
            two.as_str(),
            "invalid Idempotency-Key header: it applies to a request with a single mutation field; send one request per mutation, or give each its `idempotencyKey` input",
        ),
        (
            "{ viewer { id } }",
            "invalid Idempotency-Key header: it applies to mutations only",
        ),
        (
            r#"mutation { createSource(input: { name: "X", kind: JSON }) { source { id } } }"#,
            "invalid Idempotency-Key header: `createSource` does not take idempotency keys",
        ),
    ] {
        let refused = post(&s.app, None, &s.key, &header, query, json!({})).await;
        assert_eq!(
            without_request_ids(refused.body),
            json!({ "data": null, "errors": [{ "message": reason, "extensions": { "code": "BAD_USER_INPUT", "field": "Idempotency-Key" } }] })
        );
    }
    assert_eq!(source_counts(&s).await, (1, 1));
    let sources = s
        .app
        .data(&s.key, "{ sources { totalCount } }", json!({}))
        .await;
    assert_eq!(sources["sources"]["totalCount"], 1);
}

#[tokio::test]
async fn keys_must_be_short_visible_ascii() {
    let s = Setup::new().await;
    for key in [String::new(), "x".repeat(256), "with space".into()] {
        let body = s
            .app
            .graphql(
                &s.key,
                IMPORT,
                json!({ "s": s.source, "items": [{ "id": "a" }], "key": key }),
            )
            .await;
        assert_bad_input(&body, "input.idempotencyKey");
    }
    assert_eq!(source_counts(&s).await, (0, 0));
    let longest = "k".repeat(255);
    let ok = s
        .app
        .data(
            &s.key,
            IMPORT,
            json!({ "s": s.source, "items": [{ "id": "a" }], "key": longest }),
        )
        .await;
    assert_eq!(ok["importProperties"]["importRun"]["created"], 1);
}

#[tokio::test]
async fn an_expired_key_no_longer_matches_and_is_deleted() {
    let s = Setup::new().await;
    let vars = json!({ "s": s.source, "items": [{ "id": "a" }], "key": "old" });
    s.app.data(&s.key, IMPORT, vars.clone()).await;
    // 25 hours ago: past the default 24.
    let past = (chrono::Utc::now() - chrono::Duration::hours(25)).to_rfc3339();
    s.app
        .db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            s.app.db.get_database_backend(),
            match s.app.db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "UPDATE idempotency_keys SET created_at = $1::timestamptz"
                }
                _ => "UPDATE idempotency_keys SET created_at = ?",
            },
            [past.into()],
        ))
        .await
        .unwrap();
    let again = s.app.data(&s.key, IMPORT, vars).await;
    assert_eq!(again["importProperties"]["importRun"]["unchanged"], 1);
    assert_eq!(source_counts(&s).await, (2, 1));
    assert_eq!(stored_keys(&s.app).await, 1);
}

#[tokio::test]
async fn a_restore_repeats_its_first_answer() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a", "price": 1 }]), "INCREMENTAL")
        .await;
    s.sync().await;
    let id = s.target_listing("a").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let edited = s
        .app
        .data(
            &s.key,
            "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { price: 9 } }) { targetProperty { snapshots(first: 1) { nodes { id } } } } }",
            json!({ "id": id }),
        )
        .await;
    let snapshot =
        edited["updateTargetProperty"]["targetProperty"]["snapshots"]["nodes"][0]["id"].clone();
    let restore = "mutation($id: ID!, $key: String) { restoreSnapshot(input: { id: $id, idempotencyKey: $key }) { restored targetProperty { data version snapshots { totalCount } } } }";
    let vars = json!({ "id": snapshot, "key": "restore-1" });
    let first = s.app.data(&s.key, restore, vars.clone()).await;
    assert_eq!(first["restoreSnapshot"]["restored"], true);
    assert_eq!(
        first["restoreSnapshot"]["targetProperty"]["data"],
        json!({ "id": "a", "price": 1 })
    );
    // Done once: the repeat answers the same, with no second RESTORE snapshot.
    assert_eq!(s.app.data(&s.key, restore, vars).await, first);
    assert_eq!(
        first["restoreSnapshot"]["targetProperty"]["snapshots"]["totalCount"],
        2
    );
    assert_eq!(stored_keys(&s.app).await, 1);
}

#[tokio::test]
async fn a_refused_mass_removal_keeps_its_record_and_no_key() {
    let s = Setup::new().await;
    s.import(json!([{ "id": "a" }, { "id": "b" }]), "INCREMENTAL")
        .await;
    let full = "mutation($s: ID!, $key: String) { importProperties(input: { sourceId: $s, items: [], mode: FULL, idempotencyKey: $key }) { importRun { id } } }";
    let vars = json!({ "s": s.source, "key": "empty-scrape" });
    let body = s.app.graphql(&s.key, full, vars.clone()).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL", "{body}");
    assert_eq!(source_counts(&s).await, (2, 2));
    assert_eq!(stored_keys(&s.app).await, 0);

    // The sync's refusal commits its log in the keyed write: the log stays, the key does not.
    s.sync().await;
    s.app
        .data(
            &s.key,
            "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [], mode: FULL, allowMassRemoval: true }) { importRun { id } } }",
            json!({ "s": s.source }),
        )
        .await;
    let sync_vars = json!({ "s": s.source, "t": s.target, "key": "sync-all-gone" });
    let body = s.app.graphql(&s.key, SYNC, sync_vars.clone()).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL", "{body}");
    let logs = s
        .app
        .data(
            &s.key,
            "{ syncLogs(last: 1) { totalCount nodes { massRemovalRefused wouldRemove } } }",
            json!({}),
        )
        .await;
    assert_eq!(logs["syncLogs"]["totalCount"], 2);
    assert_eq!(
        logs["syncLogs"]["nodes"][0],
        json!({ "massRemovalRefused": true, "wouldRemove": 2 })
    );
    assert_eq!(stored_keys(&s.app).await, 0);
    // A retry meets the guard again rather than an old answer.
    let body = s.app.graphql(&s.key, SYNC, sync_vars).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL", "{body}");
}
