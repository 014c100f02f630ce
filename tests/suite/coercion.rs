//! Input coercion as the GraphQL spec (October 2021) says, one test per rule, on the scalars,
//! enums, lists and input objects this schema uses: 3.5 Scalars (Int, String, Boolean, ID, and
//! the custom `DateTime`), 3.9 Enums, 3.10 Input Objects (its coercion table), 3.11 Lists (its
//! table), 3.12 Non-Null, 5.8.5 All Variable Usages Are Allowed and 6.1.2 Coercing Variable
//! Values. Each rule is tried as a literal and as a variable where the spec tells them apart.
//!
//! A *request error* (the request is refused before execution) answers 400 without `data`
//! under `Accept: application/graphql-response+json`, and `data: null` with errors without a
//! `path` under `application/json`; a *field error* has a `path`. Every coercion error carries
//! `extensions.code: BAD_USER_INPUT`. Outcomes were compared with graphql-js 16 (`buildSchema`
//! over `schema.graphql`); where ours differs, the test says why.
//!
//! Rules without a place in this schema are not tested: Float input coercion (no argument or
//! input field is a `Float`) and nested lists (no input type is a list of lists).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, TestResponse};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// A tenant with an active `Feed` (kind JSON, listings `a-1`…`a-3` priced 100…300) and an
/// inactive `Scrape` (kind SCRAPED), created in that order.
struct Fixture {
    app: TestApp,
    key: String,
    feed: String,
}

impl Fixture {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let (_, key) = app.create_tenant("Coercion").await;
        let feed = app.create_source(&key, "Feed").await;
        app.data(
            &key,
            r#"mutation { createSource(input: { name: "Scrape", kind: SCRAPED, active: false }) { source { id } } }"#,
            json!({}),
        )
        .await;
        app.data(
            &key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
            json!({ "s": feed, "items": [
                { "id": "a-1", "price": 100 },
                { "id": "a-2", "price": 200 },
                { "id": "a-3", "price": 300 },
            ] }),
        )
        .await;
        Self { app, key, feed }
    }

    async fn post(&self, accept: &str, query: &str, variables: &Value) -> TestResponse {
        self.post_body(accept, &json!({ "query": query, "variables": variables }))
            .await
    }

    async fn post_body(&self, accept: &str, body: &Value) -> TestResponse {
        let body = body.to_string();
        let request = Request::post("/graphql")
            .header("content-type", APPLICATION_JSON)
            .header("accept", accept)
            .header("x-api-key", &self.key)
            .body(Body::from(body))
            .unwrap();
        self.app.send(request).await
    }

    /// Runs `query`, which must succeed; returns its `data`.
    async fn accepted(&self, query: &str, variables: Value) -> Value {
        let response = self.post(GRAPHQL_RESPONSE_JSON, query, &variables).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{query}: {}",
            response.body
        );
        assert!(
            response.body.get("errors").is_none(),
            "{query} {variables}: unexpected errors: {}",
            response.body
        );
        response.body["data"].clone()
    }

    /// Runs `query`, which must be refused as a request error, under both media types; one
    /// of the errors says `message`. Returns the errors.
    async fn refused(&self, query: &str, variables: Value, message: &str) -> Vec<Value> {
        let response = self.post(GRAPHQL_RESPONSE_JSON, query, &variables).await;
        let context = format!("{query} {variables}: {}", response.body);
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{context}");
        assert!(response.body.get("data").is_none(), "{context}");
        let errors = request_errors(&response.body, message, &context);

        let response = self.post(APPLICATION_JSON, query, &variables).await;
        let context = format!("{query} {variables}: {}", response.body);
        assert_eq!(response.status, StatusCode::OK, "{context}");
        assert_eq!(response.body["data"], Value::Null, "{context}");
        assert!(response.body.as_object().unwrap().contains_key("data"));
        request_errors(&response.body, message, &context);
        errors
    }

    /// Like [`Self::refused`], and the error that says `message` names `field` in
    /// `extensions.field`.
    async fn refused_naming(&self, query: &str, variables: Value, field: &str, message: &str) {
        let errors = self.refused(query, variables, message).await;
        let error = errors
            .iter()
            .find(|e| e["message"].as_str().unwrap().contains(message))
            .unwrap();
        assert_eq!(error["extensions"]["field"], field, "{error}");
    }

    /// Runs `query`, which must fail at one field: `data` is there, the only error has
    /// `path` and says `message`. Returns `data`.
    async fn field_error(
        &self,
        query: &str,
        variables: Value,
        path: Value,
        message: &str,
    ) -> Value {
        let response = self.post(GRAPHQL_RESPONSE_JSON, query, &variables).await;
        let context = format!("{query} {variables}: {}", response.body);
        assert_eq!(response.status, StatusCode::OK, "{context}");
        let errors = response.body["errors"].as_array().expect(&context);
        assert_eq!(errors.len(), 1, "{context}");
        assert_eq!(errors[0]["path"], path, "{context}");
        assert_eq!(
            errors[0]["extensions"]["code"], "BAD_USER_INPUT",
            "{context}"
        );
        assert!(
            errors[0]["message"].as_str().unwrap().contains(message),
            "{context}"
        );
        response.body["data"].clone()
    }
}

/// The errors of a request error: none has a `path`, each is `BAD_USER_INPUT`, one says
/// `message`.
fn request_errors(body: &Value, message: &str, context: &str) -> Vec<Value> {
    let errors = body["errors"].as_array().expect(context).clone();
    assert!(!errors.is_empty(), "{context}");
    for error in &errors {
        assert!(error.get("path").is_none(), "{context}");
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{context}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains(message)),
        "expected an error saying {message:?}: {context}"
    );
    errors
}

/// The names of `sources` in `data`.
fn source_names(data: &Value) -> Vec<&str> {
    data["sources"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect()
}

const SOURCES_FIRST: &str = "query($f: Int) { sources(first: $f) { nodes { name } } }";
const SOURCES_ACTIVE: &str = "query($a: Boolean) { sources(active: $a) { nodes { name } } }";
const SOURCES_KIND: &str = "query($k: SourceKind) { sources(kind: $k) { nodes { name } } }";
const SOURCES_SINCE: &str = "query($d: DateTime) { sources(createdAfter: $d) { nodes { name } } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
const EXTERNAL_IDS: &str = "query($s: ID!, $e: [String!]) { source(id: $s) { properties(externalIds: $e) { totalCount } } }";
const IMPORT: &str = "mutation($input: ImportPropertiesInput!) { importProperties(input: $input) { importRun { mode dryRun created updated unchanged } } }";
const CREATE_KEY: &str = "mutation($s: [ApiKeyScope!]) { createApiKey(input: { name: \"k\", scopes: $s }) { apiKey { scopes } } }";

/// `sources(<args>) { nodes { name } }` as a whole query.
fn sources(args: &str) -> String {
    format!("{{ sources({args}) {{ nodes {{ name }} }} }}")
}

/// `source(id: $s) { properties(<args>) { totalCount } }`, `$s` being the feed.
fn properties(args: &str) -> String {
    format!("query($s: ID!) {{ source(id: $s) {{ properties({args}) {{ totalCount }} }} }}")
}

fn total(data: &Value) -> &Value {
    &data["source"]["properties"]["totalCount"]
}

// ---- 3.5.1 Int ----

#[tokio::test]
async fn int_accepts_integers_in_32_bits() {
    let f = Fixture::new().await;
    assert_eq!(
        source_names(&f.accepted(&sources("first: 1"), json!({})).await),
        ["Feed"]
    );
    let data = f.accepted(SOURCES_FIRST, json!({ "f": 1 })).await;
    assert_eq!(source_names(&data), ["Feed"]);
    // The largest Int is an Int: coercion lets it through and the resolver refuses the page
    // size (a field error with a path).
    for variables in [json!({}), json!({ "f": 2_147_483_647 })] {
        let query = if variables["f"].is_null() {
            sources("first: 2147483647")
        } else {
            SOURCES_FIRST.to_owned()
        };
        let data = f
            .field_error(&query, variables, json!(["sources"]), "must be at most 500")
            .await;
        assert_eq!(data, Value::Null);
    }
}

#[tokio::test]
async fn int_refuses_non_integer_numbers() {
    let f = Fixture::new().await;
    for literal in ["1.5", "1.0", "1e2"] {
        f.refused(
            &sources(&format!("first: {literal}")),
            json!({}),
            "expected type \"Int\"",
        )
        .await;
    }
    f.refused(SOURCES_FIRST, json!({ "f": 1.5 }), "expected type \"Int\"")
        .await;
}

#[tokio::test]
async fn int_refuses_strings_with_numeric_content() {
    let f = Fixture::new().await;
    f.refused(&sources("first: \"1\""), json!({}), "expected type \"Int\"")
        .await;
    f.refused(SOURCES_FIRST, json!({ "f": "1" }), "expected type \"Int\"")
        .await;
}

#[tokio::test]
async fn int_refuses_booleans() {
    let f = Fixture::new().await;
    f.refused(&sources("first: true"), json!({}), "expected type \"Int\"")
        .await;
    f.refused(SOURCES_FIRST, json!({ "f": true }), "expected type \"Int\"")
        .await;
}

#[tokio::test]
async fn int_refuses_values_outside_32_bits() {
    let f = Fixture::new().await;
    let message = "Only integers from -2147483648 to 2147483647 are accepted";
    for value in [2_147_483_648_i64, -2_147_483_649] {
        f.refused(&sources(&format!("first: {value}")), json!({}), message)
            .await;
        f.refused(SOURCES_FIRST, json!({ "f": value }), message)
            .await;
    }
    // Inside an input object too, given as a variable (it failed in the resolver, `INTERNAL`).
    let cleanup = "mutation($i: CleanupSnapshotsInput!) { cleanupSnapshots(input: $i) { cutoff } }";
    f.refused_naming(
        cleanup,
        json!({ "i": { "olderThanDays": 2_147_483_648_i64 } }),
        "$i.olderThanDays",
        message,
    )
    .await;
    f.refused(
        "mutation { cleanupSnapshots(input: { olderThanDays: 2147483648 }) { cutoff } }",
        json!({}),
        message,
    )
    .await;
}

// ---- 3.5.3 String ----

#[tokio::test]
async fn string_accepts_strings() {
    let f = Fixture::new().await;
    let query = r#"query($s: ID!, $p: String!) { source(id: $s) { properties(first: 1) { nodes { a: field(path: "price") b: field(path: $p) } } } }"#;
    let data = f.accepted(query, json!({ "s": f.feed, "p": "id" })).await;
    assert_eq!(
        data["source"]["properties"]["nodes"],
        json!([{ "a": 100, "b": "a-1" }])
    );
}

#[tokio::test]
async fn string_refuses_numbers_and_booleans() {
    let f = Fixture::new().await;
    let field = |literal: &str| {
        format!(
            "query($s: ID!) {{ source(id: $s) {{ properties {{ nodes {{ field(path: {literal}) }} }} }} }}"
        )
    };
    for literal in ["1", "1.5", "true"] {
        f.refused(
            &field(literal),
            json!({ "s": f.feed }),
            "expected type \"String\"",
        )
        .await;
    }
    let query = "query($s: ID!, $p: String!) { source(id: $s) { properties { nodes { field(path: $p) } } } }";
    for value in [json!(1), json!(1.5), json!(true)] {
        f.refused(
            query,
            json!({ "s": f.feed, "p": value }),
            "expected type \"String\"",
        )
        .await;
    }
}

// ---- 3.5.4 Boolean ----

#[tokio::test]
async fn boolean_accepts_true_and_false() {
    let f = Fixture::new().await;
    assert_eq!(
        source_names(&f.accepted(&sources("active: false"), json!({})).await),
        ["Scrape"]
    );
    assert_eq!(
        source_names(&f.accepted(SOURCES_ACTIVE, json!({ "a": true })).await),
        ["Feed"]
    );
}

#[tokio::test]
async fn boolean_refuses_numbers_and_strings() {
    let f = Fixture::new().await;
    for literal in ["1", "0", "\"true\""] {
        f.refused(
            &sources(&format!("active: {literal}")),
            json!({}),
            "expected type \"Boolean\"",
        )
        .await;
    }
    for value in [json!(1), json!(0), json!("true")] {
        f.refused(
            SOURCES_ACTIVE,
            json!({ "a": value }),
            "expected type \"Boolean\"",
        )
        .await;
    }
}

// ---- 3.5.5 ID ----

#[tokio::test]
async fn id_accepts_strings() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            &format!("{{ nodes(ids: [\"{}\"]) {{ id }} }}", f.feed),
            json!({}),
        )
        .await;
    assert_eq!(data["nodes"], json!([{ "id": f.feed }]));
    let data = f.accepted(NODES, json!({ "ids": [f.feed] })).await;
    assert_eq!(data["nodes"], json!([{ "id": f.feed }]));
}

/// An integer is coerced to its decimal string. `"123"` is no global id of ours, so the
/// resolver (not coercion) refuses it, naming the string it received.
#[tokio::test]
async fn id_accepts_integers_as_their_string() {
    let f = Fixture::new().await;
    let nodes_path = json!(["nodes"]);
    let data = f
        .field_error(
            "{ nodes(ids: [123]) { id } }",
            json!({}),
            nodes_path.clone(),
            "`123` is not a valid id",
        )
        .await;
    assert_eq!(
        data,
        Value::Null,
        "`nodes` is non-null: its error nulls `data`"
    );
    f.field_error(
        NODES,
        json!({ "ids": [123] }),
        nodes_path,
        "`123` is not a valid id",
    )
    .await;
    let data = f
        .field_error(
            "{ viewer { name } node(id: 123) { id } }",
            json!({}),
            json!(["node"]),
            "`123` is not a valid id",
        )
        .await;
    assert_eq!(
        data,
        json!({ "viewer": { "name": "Coercion" }, "node": null })
    );
}

#[tokio::test]
async fn id_refuses_floats_and_booleans() {
    let f = Fixture::new().await;
    for literal in ["1.5", "true"] {
        f.refused(
            &format!("{{ nodes(ids: [{literal}]) {{ id }} }}"),
            json!({}),
            "expected type \"ID\"",
        )
        .await;
    }
    for value in [json!(1.5), json!(true)] {
        f.refused(NODES, json!({ "ids": [value] }), "expected type \"ID\"")
            .await;
    }
}

// ---- Custom scalar DateTime (3.5 Scalars; 5.6.1 Values of Correct Type) ----

#[tokio::test]
async fn datetime_accepts_rfc_3339_strings() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            &sources("createdAfter: \"2000-01-01T00:00:00Z\""),
            json!({}),
        )
        .await;
    assert_eq!(source_names(&data), ["Feed", "Scrape"]);
    let data = f
        .accepted(SOURCES_SINCE, json!({ "d": "2999-01-01T00:00:00+02:00" }))
        .await;
    assert_eq!(source_names(&data), Vec::<&str>::new());
}

/// A value the scalar cannot coerce is a request error, in a literal ("Values of Correct
/// Type") as in a variable (6.1.2); it was a field error with code `INTERNAL`.
#[tokio::test]
async fn datetime_refuses_other_values() {
    let f = Fixture::new().await;
    f.refused_naming(
        &sources("createdAfter: \"yesterday\""),
        json!({}),
        "createdAfter",
        "DateTime cannot represent \"yesterday\"",
    )
    .await;
    f.refused_naming(
        &sources("createdAfter: 5"),
        json!({}),
        "createdAfter",
        "DateTime cannot represent a number",
    )
    .await;
    f.refused_naming(
        SOURCES_SINCE,
        json!({ "d": "2024-13-01T00:00:00Z" }),
        "$d",
        "DateTime cannot represent",
    )
    .await;
    f.refused_naming(
        SOURCES_SINCE,
        json!({ "d": 5 }),
        "$d",
        "DateTime cannot represent a number",
    )
    .await;
}

// ---- 3.9 Enums ----

#[tokio::test]
async fn enum_accepts_enum_values() {
    let f = Fixture::new().await;
    assert_eq!(
        source_names(&f.accepted(&sources("kind: SCRAPED"), json!({})).await),
        ["Scrape"]
    );
    let data = f
        .accepted(
            "query($k: SourceKind = JSON) { sources(kind: $k) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(source_names(&data), ["Feed"]);
}

/// "GraphQL string literals must not be accepted as an enum input", at any depth: an
/// argument, an input object's field, a list item, a variable's default.
#[tokio::test]
async fn enum_refuses_string_literals() {
    let f = Fixture::new().await;
    let message = "cannot represent non-enum value";
    f.refused_naming(&sources("kind: \"JSON\""), json!({}), "kind", message)
        .await;
    f.refused_naming(
        &properties(r#"where: [{ path: "price", op: "GT", value: 1 }]"#),
        json!({ "s": f.feed }),
        "where[0].op",
        message,
    )
    .await;
    f.refused_naming(
        r#"mutation { createApiKey(input: { name: "k", scopes: [READ, "WRITE"] }) { key } }"#,
        json!({}),
        "input.scopes[1]",
        message,
    )
    .await;
    f.refused_naming(
        "query($k: SourceKind = \"JSON\") { sources(kind: $k) { nodes { name } } }",
        json!({}),
        "$k",
        message,
    )
    .await;
}

/// Transports without enums (JSON) send enum values as strings: in variables they are
/// accepted, at any depth.
#[tokio::test]
async fn enum_accepts_strings_in_variables() {
    let f = Fixture::new().await;
    assert_eq!(
        source_names(&f.accepted(SOURCES_KIND, json!({ "k": "JSON" })).await),
        ["Feed"]
    );
    let query = "query($s: ID!, $w: [WhereCondition!]) { source(id: $s) { properties(where: $w) { totalCount } } }";
    let data = f
        .accepted(
            query,
            json!({ "s": f.feed, "w": [{ "path": "price", "op": "GT", "value": 150 }] }),
        )
        .await;
    assert_eq!(total(&data), 2);
}

#[tokio::test]
async fn enum_refuses_unknown_values() {
    let f = Fixture::new().await;
    let message = "does not contain the value";
    f.refused(&sources("kind: XML"), json!({}), message).await;
    f.refused(&sources("kind: json"), json!({}), message).await;
    f.refused(SOURCES_KIND, json!({ "k": "XML" }), message)
        .await;
    // Enum values are case-sensitive.
    f.refused(SOURCES_KIND, json!({ "k": "json" }), message)
        .await;
    f.refused(
        &sources("kind: 1"),
        json!({}),
        "expected type \"SourceKind\"",
    )
    .await;
    f.refused(
        SOURCES_KIND,
        json!({ "k": 1 }),
        "expected type \"SourceKind\"",
    )
    .await;
}

// ---- 3.10 Input Objects (rows of the coercion table) ----

/// Row `{ b: 123 }`: a field left out takes its default (`mode`, `dryRun`, `scopes`).
#[tokio::test]
async fn input_object_missing_field_takes_its_default() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [{ id: \"a-4\" }] }) { importRun { mode dryRun created } } }",
            json!({ "s": f.feed }),
        )
        .await;
    assert_eq!(
        data["importProperties"]["importRun"],
        json!({ "mode": "INCREMENTAL", "dryRun": false, "created": 1 })
    );
    let data = f
        .accepted(
            r#"mutation { createApiKey(input: { name: "k" }) { apiKey { scopes } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["createApiKey"]["apiKey"]["scopes"],
        json!(["READ", "WRITE"])
    );
}

/// Row `{ a: "abc", b: null }`: an explicit `null` for a non-null field is an error even
/// when the field has a default.
#[tokio::test]
async fn input_object_null_literal_for_non_null_field_is_refused() {
    let f = Fixture::new().await;
    for field in ["mode: null", "dryRun: null"] {
        f.refused(
            &format!("mutation($s: ID!) {{ importProperties(input: {{ sourceId: $s, items: [], {field} }}) {{ importRun {{ mode }} }} }}"),
            json!({ "s": f.feed }),
            "Invalid value for argument \"input.",
        )
        .await;
    }
    f.refused(
        r#"mutation { createApiKey(input: { name: "k", scopes: null }) { key } }"#,
        json!({}),
        "Invalid value for argument \"input.scopes\"",
    )
    .await;
}

/// Row `{ a: $var, b: 123 }` with `{}`: a field whose variable the request left out is
/// absent, so the field's default applies (issue 9: `mode: $m` without `$m` failed).
#[tokio::test]
async fn input_object_field_from_an_omitted_variable_takes_its_default() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            "mutation($s: ID!, $i: JSON!, $m: ImportMode, $d: Boolean) { importProperties(input: { sourceId: $s, items: $i, mode: $m, dryRun: $d }) { importRun { mode dryRun created } } }",
            json!({ "s": f.feed, "i": [{ "id": "a-4" }] }),
        )
        .await;
    assert_eq!(
        data["importProperties"]["importRun"],
        json!({ "mode": "INCREMENTAL", "dryRun": false, "created": 1 })
    );
    let data = f.accepted(CREATE_KEY, json!({})).await;
    assert_eq!(
        data["createApiKey"]["apiKey"]["scopes"],
        json!(["READ", "WRITE"])
    );
    // The variable's own default comes first (6.1.2), then the field's.
    let data = f
        .accepted(
            "mutation($s: ID!, $m: ImportMode = FULL) { importProperties(input: { sourceId: $s, items: [], mode: $m, dryRun: true }) { importRun { mode dryRun } } }",
            json!({ "s": f.feed }),
        )
        .await;
    assert_eq!(
        data["importProperties"]["importRun"],
        json!({ "mode": "FULL", "dryRun": true })
    );
}

/// Rows `{ a: null, b: 123 }` and `{ a: $var, b: 123 }` with `{ var: null }`: `null` for a
/// nullable field is accepted, written or from a variable (`updateSource` reads a `null`
/// field as "leave as it is").
#[tokio::test]
async fn input_object_null_for_nullable_field_is_null() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            "mutation($id: ID!) { updateSource(input: { id: $id, name: null, kind: null }) { source { name kind } } }",
            json!({ "id": f.feed }),
        )
        .await;
    assert_eq!(
        data["updateSource"]["source"],
        json!({ "name": "Feed", "kind": "JSON" })
    );
    let data = f
        .accepted(
            "mutation($id: ID!, $n: String, $k: SourceKind) { updateSource(input: { id: $id, name: $n, kind: $k }) { source { name kind } } }",
            json!({ "id": f.feed, "n": null, "k": null }),
        )
        .await;
    assert_eq!(
        data["updateSource"]["source"],
        json!({ "name": "Feed", "kind": "JSON" })
    );
}

/// Row `{ b: $var }` with `{ var: null }` for a non-null field. Section 3.12 says a
/// variable "provided the value null" for a non-null input field is a request error, which
/// async-graphql raises while it validates (it checks variables' values then); section 3.10
/// and CoerceArgumentValues (6.4.1) call it a field error, as graphql-js answers. Turning it
/// into a field error would mean skipping async-graphql's variable validation, so it stays a
/// request error with `BAD_USER_INPUT`, which 3.12 allows.
#[tokio::test]
async fn input_object_null_variable_for_non_null_field_is_refused() {
    let f = Fixture::new().await;
    f.refused(
        "mutation($s: ID!, $m: ImportMode) { importProperties(input: { sourceId: $s, items: [], mode: $m }) { importRun { mode } } }",
        json!({ "s": f.feed, "m": null }),
        "Invalid value for argument \"input.mode\"",
    )
    .await;
    f.refused(
        CREATE_KEY,
        json!({ "s": null }),
        "Invalid value for argument \"input.scopes\"",
    )
    .await;
    // Nothing was imported or created.
    let data = f
        .accepted("{ viewer { apiKeys { totalCount } } sources(first: 1) { nodes { importRuns { totalCount } } } }", json!({}))
        .await;
    assert_eq!(data["viewer"]["apiKeys"]["totalCount"], 1);
    assert_eq!(data["sources"]["nodes"][0]["importRuns"]["totalCount"], 1);
}

/// Rows `{ a: "abc" }` and `$var` with `{ var: { a: "abc" } }`: a required field (non-null,
/// no default) left out is an error, written or in a variable.
#[tokio::test]
async fn input_object_missing_required_field_is_refused() {
    let f = Fixture::new().await;
    let message = "field \"sourceId\" of type \"ID!\" is required but not provided";
    f.refused(
        "mutation { importProperties(input: { items: [] }) { importRun { mode } } }",
        json!({}),
        message,
    )
    .await;
    f.refused(IMPORT, json!({ "input": { "items": [] } }), message)
        .await;
}

/// Row `{ b: $var }` with `{}`: a required field fed by a variable the request left out.
/// A nullable `$s: ID` may not stand for `sourceId: ID!` at all (5.8.5), and a `$s: ID!` not
/// provided is a variable coercion error.
#[tokio::test]
async fn input_object_required_field_from_an_omitted_variable_is_refused() {
    let f = Fixture::new().await;
    let errors = f
        .refused(
            "mutation($s: ID) { importProperties(input: { sourceId: $s, items: [] }) { importRun { mode } } }",
            json!({}),
            "Variable \"$s\" of type \"ID\" used in position expecting type \"ID!\"",
        )
        .await;
    assert_eq!(errors[0]["extensions"]["field"], "input.sourceId");
    f.refused(
        "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [] }) { importRun { mode } } }",
        json!({}),
        "field \"sourceId\" of type \"ID!\" is required but not provided",
    )
    .await;
}

/// Row `{ b: 123, c: "xyz" }`: a field the type does not define is an error.
#[tokio::test]
async fn input_object_unknown_field_is_refused() {
    let f = Fixture::new().await;
    let message = "unknown field \"bogus\" of type \"ImportPropertiesInput\"";
    f.refused(
        "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [], bogus: 1 }) { importRun { mode } } }",
        json!({ "s": f.feed }),
        message,
    )
    .await;
    f.refused(
        IMPORT,
        json!({ "input": { "sourceId": f.feed, "items": [], "bogus": 1 } }),
        message,
    )
    .await;
}

/// Row `{ a: "abc", b: "123" }`: each field is coerced by its own type's rules.
#[tokio::test]
async fn input_object_field_of_wrong_type_is_refused() {
    let f = Fixture::new().await;
    let message = "Invalid value for argument \"input.dryRun\", expected type \"Boolean\"";
    f.refused(
        "mutation($s: ID!) { importProperties(input: { sourceId: $s, items: [], dryRun: \"yes\" }) { importRun { mode } } }",
        json!({ "s": f.feed }),
        message,
    )
    .await;
    f.refused(
        IMPORT,
        json!({ "input": { "sourceId": f.feed, "items": [], "dryRun": "yes" } }),
        message,
    )
    .await;
}

/// Rows `"abc123"` and `$var` with `{ var: "abc123" }`: a value that is not an object is
/// refused before execution (async-graphql let it through to fail in the resolver, a field
/// error with code `INTERNAL`).
#[tokio::test]
async fn input_object_refuses_values_that_are_not_objects() {
    let f = Fixture::new().await;
    let message = "Expected an input object of type \"ImportPropertiesInput\"";
    for literal in ["\"abc123\"", "1", "[]", "IMPORT"] {
        f.refused_naming(
            &format!(
                "mutation {{ importProperties(input: {literal}) {{ importRun {{ mode }} }} }}"
            ),
            json!({}),
            "input",
            message,
        )
        .await;
    }
    for value in [
        json!("abc123"),
        json!(1),
        json!([{ "sourceId": f.feed, "items": [] }]),
    ] {
        f.refused_naming(IMPORT, json!({ "input": value }), "$input", message)
            .await;
    }
}

/// Row `$var` with `{ var: { b: 123 } }`: a whole input object from a variable, coerced
/// like a literal (defaults for missing fields, enum values as strings).
#[tokio::test]
async fn input_object_from_a_variable_is_coerced_like_a_literal() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            IMPORT,
            json!({ "input": { "sourceId": f.feed, "items": [{ "id": "a-1", "price": 100 }] } }),
        )
        .await;
    assert_eq!(
        data["importProperties"]["importRun"],
        json!({ "mode": "INCREMENTAL", "dryRun": false, "created": 0, "updated": 0, "unchanged": 1 })
    );
    let data = f
        .accepted(
            IMPORT,
            json!({ "input": { "sourceId": f.feed, "items": [], "mode": "FULL", "dryRun": true } }),
        )
        .await;
    assert_eq!(
        data["importProperties"]["importRun"],
        json!({ "mode": "FULL", "dryRun": true, "created": 0, "updated": 0, "unchanged": 0 })
    );
}

// ---- 3.11 Lists (rows of the coercion table) ----

/// Row `[1, 2, 3]`: a list is coerced item by item.
#[tokio::test]
async fn list_accepts_lists() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            &properties(r#"externalIds: ["a-1", "a-3", "zz"]"#),
            json!({ "s": f.feed }),
        )
        .await;
    assert_eq!(total(&data), 2);
    let data = f
        .accepted(EXTERNAL_IDS, json!({ "s": f.feed, "e": ["a-1", "a-3"] }))
        .await;
    assert_eq!(total(&data), 2);
}

/// Row `1` for `[Int]` → `[1]`: one value where a list is expected is a list of one, coerced
/// by the item's rules (`1` for `[ID!]` is `["1"]`).
#[tokio::test]
async fn list_single_value_is_a_list_of_one() {
    let f = Fixture::new().await;
    let data = f
        .accepted(&properties("externalIds: \"a-2\""), json!({ "s": f.feed }))
        .await;
    assert_eq!(total(&data), 1);
    let data = f
        .accepted(EXTERNAL_IDS, json!({ "s": f.feed, "e": "a-2" }))
        .await;
    assert_eq!(total(&data), 1);
    let data = f
        .accepted(
            &format!("{{ nodes(ids: \"{}\") {{ id }} }}", f.feed),
            json!({}),
        )
        .await;
    assert_eq!(data["nodes"], json!([{ "id": f.feed }]));
    let data = f.accepted(NODES, json!({ "ids": f.feed })).await;
    assert_eq!(data["nodes"], json!([{ "id": f.feed }]));
    f.field_error(
        "{ nodes(ids: 1) { id } }",
        json!({}),
        json!(["nodes"]),
        "`1` is not a valid id",
    )
    .await;
    let data = f
        .accepted(
            &properties(r#"where: { path: "price", op: LT, value: 250 }"#),
            json!({ "s": f.feed }),
        )
        .await;
    assert_eq!(total(&data), 2);
    let data = f
        .accepted(r#"mutation { createApiKey(input: { name: "k", scopes: READ }) { apiKey { scopes } } }"#, json!({}))
        .await;
    assert_eq!(data["createApiKey"]["apiKey"]["scopes"], json!(["READ"]));
    let data = f.accepted(CREATE_KEY, json!({ "s": "READ" })).await;
    assert_eq!(data["createApiKey"]["apiKey"]["scopes"], json!(["READ"]));
}

/// Row `null` for `[Int]`: `null` for a nullable list is `null` (no filter), not `[null]`.
#[tokio::test]
async fn list_null_for_a_nullable_list_is_null() {
    let f = Fixture::new().await;
    let data = f
        .accepted(&properties("externalIds: null"), json!({ "s": f.feed }))
        .await;
    assert_eq!(total(&data), 3);
    let data = f
        .accepted(EXTERNAL_IDS, json!({ "s": f.feed, "e": null }))
        .await;
    assert_eq!(total(&data), 3);
}

/// Row `[1, null]` for `[Int!]`-like lists: a `null` item where items are non-null is an
/// error, written or from a variable.
#[tokio::test]
async fn list_null_item_for_non_null_items_is_refused() {
    let f = Fixture::new().await;
    f.refused(
        &properties(r#"externalIds: ["a-1", null]"#),
        json!({ "s": f.feed }),
        "\"externalIds.1\"",
    )
    .await;
    f.refused(
        EXTERNAL_IDS,
        json!({ "s": f.feed, "e": ["a-1", null] }),
        "\"externalIds.1\"",
    )
    .await;
    f.refused("{ nodes(ids: [1, null]) { id } }", json!({}), "\"ids.1\"")
        .await;
    f.refused(NODES, json!({ "ids": [1, null] }), "\"ids.1\"")
        .await;
}

/// Row `[1, "b", true]` for `[Int]`: one item its type refuses fails the list, as does a
/// list nested where the items are not lists.
#[tokio::test]
async fn list_item_of_wrong_type_is_refused() {
    let f = Fixture::new().await;
    let message = "Invalid value for argument \"externalIds.1\", expected type \"String\"";
    f.refused(
        &properties(r#"externalIds: ["a-1", 1]"#),
        json!({ "s": f.feed }),
        message,
    )
    .await;
    f.refused(
        EXTERNAL_IDS,
        json!({ "s": f.feed, "e": ["a-1", true] }),
        message,
    )
    .await;
    let message = "Invalid value for argument \"ids.0\", expected type \"ID\"";
    f.refused(r#"{ nodes(ids: [["a"]]) { id } }"#, json!({}), message)
        .await;
    f.refused(NODES, json!({ "ids": [["a"]] }), message).await;
}

/// Variables as list items: each must fit the item's type (5.8.5), and takes its value.
#[tokio::test]
async fn list_items_from_variables() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            r#"query($s: ID!, $x: String!) { source(id: $s) { properties(externalIds: ["a-2", $x]) { totalCount } } }"#,
            json!({ "s": f.feed, "x": "a-3" }),
        )
        .await;
    assert_eq!(total(&data), 2);
    let errors = f
        .refused(
            r#"query($s: ID!, $x: String) { source(id: $s) { properties(externalIds: ["a-2", $x]) { totalCount } } }"#,
            json!({ "s": f.feed }),
            "Variable \"$x\" of type \"String\" used in position expecting type \"String!\"",
        )
        .await;
    assert_eq!(errors[0]["extensions"]["field"], "externalIds[1]");
}

// ---- 3.12 Non-Null ----

#[tokio::test]
async fn non_null_refuses_a_null_literal() {
    let f = Fixture::new().await;
    f.refused(
        "{ source(id: null) { name } }",
        json!({}),
        "Invalid value for argument \"id\"",
    )
    .await;
    f.refused(
        "{ nodes(ids: null) { id } }",
        json!({}),
        "Invalid value for argument \"ids\"",
    )
    .await;
    f.refused(
        r#"mutation { createSource(input: { name: null, kind: JSON }) { source { id } } }"#,
        json!({}),
        "Invalid value for argument \"input.name\"",
    )
    .await;
}

#[tokio::test]
async fn non_null_refuses_a_missing_argument() {
    let f = Fixture::new().await;
    f.refused("{ source { name } }", json!({}), "argument \"id\"")
        .await;
    f.refused(
        r#"mutation { createSource(input: { name: "x" }) { source { id } } }"#,
        json!({}),
        "field \"kind\" of type \"SourceKind!\" is required but not provided",
    )
    .await;
}

/// A nullable variable may not feed a non-null place unless it or the place has a default
/// (5.8.5, and 3.12's "provided with a variable that was not provided a value"). async-graphql
/// has this rule but never ran it: `query($id: ID) { source(id: $id) }` was answered.
#[tokio::test]
async fn non_null_refuses_a_nullable_variable_without_default() {
    let f = Fixture::new().await;
    let errors = f
        .refused(
            "query($id: ID) { source(id: $id) { name } }",
            json!({ "id": f.feed }),
            "Variable \"$id\" of type \"ID\" used in position expecting type \"ID!\"",
        )
        .await;
    assert_eq!(errors[0]["extensions"]["field"], "id");
    f.refused(
        "query($id: ID) { source(id: $id) { name } }",
        json!({}),
        "Variable \"$id\" of type \"ID\" used in position expecting type \"ID!\"",
    )
    .await;
    f.refused(
        "mutation($n: String) { createSource(input: { name: $n, kind: JSON }) { source { id } } }",
        json!({ "n": "x" }),
        "Variable \"$n\" of type \"String\" used in position expecting type \"String!\"",
    )
    .await;
    f.refused(
        "query($ids: [ID]!) { nodes(ids: $ids) { id } }",
        json!({ "ids": [f.feed] }),
        "Variable \"$ids\" of type \"[ID]!\" used in position expecting type \"[ID!]!\"",
    )
    .await;
    f.refused(
        "query($x: Boolean) { viewer @include(if: $x) { name } }",
        json!({ "x": true }),
        "Variable \"$x\" of type \"Boolean\" used in position expecting type \"Boolean!\"",
    )
    .await;
    // Nor a single value where a list is expected: list coercion is for values, not types.
    f.refused(
        "query($s: ID!, $e: String) { source(id: $s) { properties(externalIds: $e) { totalCount } } }",
        json!({ "s": f.feed, "e": "a-1" }),
        "Variable \"$e\" of type \"String\" used in position expecting type \"[String!]\"",
    )
    .await;
    // No source was created.
    let data = f.accepted("{ sources { totalCount } }", json!({})).await;
    assert_eq!(data["sources"]["totalCount"], 2);
}

/// A nullable variable with a default may feed a non-null place; left out, it takes its
/// default.
#[tokio::test]
async fn non_null_accepts_a_nullable_variable_with_default() {
    let f = Fixture::new().await;
    let query = format!(
        "query($id: ID = \"{}\") {{ source(id: $id) {{ name }} }}",
        f.feed
    );
    let data = f.accepted(&query, json!({})).await;
    assert_eq!(data["source"]["name"], "Feed");
}

/// The same variable provided as `null`: 3.12 calls it a request error; graphql-js answers a
/// field error (6.4.1), see [`input_object_null_variable_for_non_null_field_is_refused`].
#[tokio::test]
async fn non_null_refuses_a_defaulted_variable_provided_as_null() {
    let f = Fixture::new().await;
    let query = format!(
        "query($id: ID = \"{}\") {{ source(id: $id) {{ name }} }}",
        f.feed
    );
    f.refused(
        &query,
        json!({ "id": null }),
        "Invalid value for argument \"id\"",
    )
    .await;
}

// ---- 6.1.2 Coercing Variable Values ----

#[tokio::test]
async fn variable_of_non_null_type_not_provided_is_refused() {
    let f = Fixture::new().await;
    f.refused(NODES, json!({}), "argument \"ids\"").await;
    f.refused(
        "query($id: ID!) { source(id: $id) { name } }",
        json!({}),
        "argument \"id\"",
    )
    .await;
}

#[tokio::test]
async fn variable_of_non_null_type_provided_as_null_is_refused() {
    let f = Fixture::new().await;
    f.refused(
        NODES,
        json!({ "ids": null }),
        "Invalid value for argument \"ids\"",
    )
    .await;
    f.refused(
        "query($id: ID!) { source(id: $id) { name } }",
        json!({ "id": null }),
        "Invalid value for argument \"id\"",
    )
    .await;
}

/// Not provided, a variable takes its default everywhere it is used, `@include` too (async-
/// graphql read it as absent there and dropped the field: `data` came back `null`).
#[tokio::test]
async fn variable_not_provided_takes_its_default() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            "query($f: Int = 1) { sources(first: $f) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(source_names(&data), ["Feed"]);
    let data = f
        .accepted(
            "query($a: Boolean = false) { sources(active: $a) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(source_names(&data), ["Scrape"]);
    let data = f
        .accepted(
            "query($x: Boolean! = true, $y: Boolean = false) { viewer @include(if: $x) { name } sources @skip(if: $y) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data,
        json!({ "viewer": { "name": "Coercion" }, "sources": { "totalCount": 2 } })
    );
}

/// Provided as `null`, a nullable variable is `null` even when it has a default: `first:
/// null` is no limit, `active: null` no filter.
#[tokio::test]
async fn variable_provided_as_null_overrides_its_default() {
    let f = Fixture::new().await;
    let data = f
        .accepted(
            "query($f: Int = 1) { sources(first: $f) { nodes { name } } }",
            json!({ "f": null }),
        )
        .await;
    assert_eq!(source_names(&data), ["Feed", "Scrape"]);
    let data = f
        .accepted(
            "query($a: Boolean = false) { sources(active: $a) { nodes { name } } }",
            json!({ "a": null }),
        )
        .await;
    assert_eq!(source_names(&data), ["Feed", "Scrape"]);
}

/// Not provided and without a default, a nullable variable leaves its argument out.
#[tokio::test]
async fn variable_not_provided_without_default_leaves_the_argument_out() {
    let f = Fixture::new().await;
    let data = f.accepted(SOURCES_FIRST, json!({})).await;
    assert_eq!(source_names(&data), ["Feed", "Scrape"]);
    let data = f
        .accepted(
            "query($s: ID!, $o: ListingOrderField) { source(id: $s) { properties(orderBy: { field: $o }) { nodes { externalId } } } }",
            json!({ "s": f.feed }),
        )
        .await;
    assert_eq!(
        data["source"]["properties"]["nodes"],
        json!([{ "externalId": "a-1" }, { "externalId": "a-2" }, { "externalId": "a-3" }])
    );
}

/// A variable's default is a literal: the literal rules apply to it.
#[tokio::test]
async fn variable_default_is_coerced_as_a_literal() {
    let f = Fixture::new().await;
    f.refused(
        "query($f: Int = 1.5) { sources(first: $f) { totalCount } }",
        json!({}),
        "\"f\"",
    )
    .await;
    f.refused_naming(
        "query($d: DateTime = \"soon\") { sources(createdAfter: $d) { totalCount } }",
        json!({}),
        "$d",
        "DateTime cannot represent \"soon\"",
    )
    .await;
}

/// A variable's type must be an input type the schema knows, even when the request leaves
/// the variable out and nothing uses it.
#[tokio::test]
async fn variable_of_unknown_or_output_type_is_refused() {
    let f = Fixture::new().await;
    f.refused(
        "query($x: Nope) { viewer { name } }",
        json!({}),
        "Unknown type \"Nope\"",
    )
    .await;
    f.refused(
        "query($x: Source) { viewer { name } }",
        json!({}),
        "non-input type \"Source\"",
    )
    .await;
}

/// Variables in fragments are checked against the operation that spreads them; a fragment
/// only another operation spreads is that operation's business.
#[tokio::test]
async fn variable_usages_in_fragments_follow_the_spreading_operation() {
    let f = Fixture::new().await;
    f.refused(
        "query($id: ID) { ...F } fragment F on Query { source(id: $id) { name } }",
        json!({ "id": f.feed }),
        "Variable \"$id\" of type \"ID\" used in position expecting type \"ID!\"",
    )
    .await;
    let document = "query A($id: ID!) { ...F } query B($id: ID) { syncLogs(sourceId: $id) { totalCount } } fragment F on Query { source(id: $id) { name } }";
    for (operation, data) in [
        ("A", json!({ "source": { "name": "Feed" } })),
        ("B", json!({ "syncLogs": { "totalCount": 0 } })),
    ] {
        let body =
            json!({ "query": document, "operationName": operation, "variables": { "id": f.feed } });
        let response = f.post_body(GRAPHQL_RESPONSE_JSON, &body).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        assert_eq!(response.body, json!({ "data": data }));
    }
}
