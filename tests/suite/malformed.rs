//! No client input can produce `INTERNAL`: list arguments are bounded, and a corpus of
//! malformed values sent to every argument of every field (read from the schema by
//! introspection, so new fields are covered as they come) is answered with coded client
//! errors only.

use serde_json::{Value, json};

use crate::common::{TestApp, assert_bad_input, test_config};

/// Every list argument holds at most `SYNC_MAX_LIST_ITEMS` items, as a literal or a variable,
/// in an argument or in an input object's field: past it, `BAD_USER_INPUT` naming it. Up to it,
/// each list argument works on the database (no bound-parameter or expression-depth limit).
#[tokio::test]
async fn list_arguments_are_bounded_by_a_setting() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let listings: Vec<Value> = (0..3)
        .map(|i| json!({ "id": format!("l{i}"), "price": i }))
        .collect();
    app.data(
        &key,
        "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
        json!({ "s": source, "items": listings }),
    )
    .await;

    // 100,000 external ids used to be `INTERNAL` (too many bound values).
    let many: Vec<String> = (0..100_000).map(|i| format!("l{i}")).collect();
    let query = "query($s: ID!, $ids: [String!]) { source(id: $s) { properties(externalIds: $ids) { totalCount } } }";
    let body = app
        .graphql(&key, query, json!({ "s": source, "ids": many }))
        .await;
    assert_bad_input(&body, "$ids");
    assert_eq!(
        body["errors"][0]["message"],
        "$ids holds 100000 items, more than the limit of 1000; send fewer per request"
    );
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");

    // At the limit: a thousand of each list argument runs, on both databases.
    let thousand: Vec<String> = (0..1_000).map(|i| format!("l{i}")).collect();
    let data = app
        .data(&key, query, json!({ "s": source, "ids": thousand }))
        .await;
    assert_eq!(data["source"]["properties"]["totalCount"], 3);
    let conditions: Vec<Value> = (0..1_000)
        .map(|i| json!({ "path": "price", "op": "NE", "value": 1_000 + i }))
        .collect();
    let data = app
        .data(
            &key,
            "query($s: ID!, $w: [WhereCondition!]) { source(id: $s) { properties(where: $w) { totalCount } } }",
            json!({ "s": source, "w": conditions }),
        )
        .await;
    assert_eq!(data["source"]["properties"]["totalCount"], 3);
    // The values of `IN` (a JSON array, each a bound value) are bounded in all conditions.
    let in_query = "query($s: ID!, $w: [WhereCondition!]) { source(id: $s) { properties(where: $w) { totalCount } } }";
    let values: Vec<i64> = (0..10_000).collect();
    let data = app
        .data(
            &key,
            in_query,
            json!({ "s": source, "w": [{ "path": "price", "op": "IN", "value": values }] }),
        )
        .await;
    assert_eq!(data["source"]["properties"]["totalCount"], 3);
    let body = app
        .graphql(
            &key,
            in_query,
            json!({ "s": source, "w": [
                { "path": "price", "op": "IN", "value": (0..9_000).collect::<Vec<i64>>() },
                { "path": "price", "op": "IN", "value": (0..1_001).collect::<Vec<i64>>() },
            ] }),
        )
        .await;
    assert_bad_input(&body, "where[1].value");
    assert_eq!(
        body["errors"][0]["message"],
        "invalid where[1].value: IN compares at most 10000 values in all conditions"
    );
    // `nodes` takes a page's worth (`SYNC_MAX_PAGE_SIZE`, 500 here) below the list bound.
    let ids: Vec<&str> = std::iter::repeat_n(source.as_str(), 500).collect();
    let data = app
        .data(
            &key,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(data["nodes"].as_array().unwrap().len(), 500);
    assert_eq!(data["nodes"][499]["id"], source.as_str());
    let fields: Vec<String> = (0..1_000).map(|i| format!("f{i}")).collect();
    let data = app
        .data(
            &key,
            "query($s: ID!, $f: [String!]) { source(id: $s) { properties(first: 1) { nodes { data(fields: $f) } } } }",
            json!({ "s": source, "f": fields }),
        )
        .await;
    assert_eq!(data["source"]["properties"]["nodes"][0]["data"], json!({}));

    // One past it, each is refused, naming the argument: literals too, and an input field.
    let literal = |items: usize, item: &str| {
        let list = vec![item; items].join(", ");
        format!("[{list}]")
    };
    let cases = [
        (
            format!(
                "{{ nodes(ids: {}) {{ id }} }}",
                literal(1_001, &json!(source).to_string())
            ),
            "ids",
        ),
        (
            format!(
                "{{ source(id: {}) {{ properties(externalIds: {}) {{ totalCount }} }} }}",
                json!(source),
                literal(1_001, "\"x\"")
            ),
            "externalIds",
        ),
        (
            format!(
                "{{ source(id: {}) {{ properties(where: {}) {{ totalCount }} }} }}",
                json!(source),
                literal(1_001, "{ path: \"price\", op: EXISTS }")
            ),
            "where",
        ),
        (
            format!(
                "{{ source(id: {}) {{ properties {{ nodes {{ data(fields: {}) }} }} }} }}",
                json!(source),
                literal(1_001, "\"f\"")
            ),
            "fields",
        ),
        (
            format!(
                "mutation {{ createApiKey(input: {{ name: \"k\", scopes: {} }}) {{ key }} }}",
                literal(1_001, "READ")
            ),
            "input.scopes",
        ),
    ];
    for (query, field) in cases {
        let body = app.graphql(&key, &query, json!({})).await;
        assert_bad_input(&body, field);
        assert_eq!(
            body["errors"][0]["message"],
            format!("{field} holds 1001 items, more than the limit of 1000; send fewer per request")
        );
    }

    // The limit is a setting; an import's `items` (JSON) is not a list argument.
    let mut config = test_config();
    config.max_list_items = 2;
    let app = TestApp::spawn_with(config).await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let body = app
        .graphql(&key, query, json!({ "s": source, "ids": ["a", "b", "c"] }))
        .await;
    assert_bad_input(&body, "$ids");
    let data = app
        .data(
            &key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
            json!({ "s": source, "items": listings }),
        )
        .await;
    assert_eq!(data["importProperties"]["importRun"]["created"], 3);
}
