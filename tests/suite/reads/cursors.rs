//! Cursors name the order they were made under: one used with another order, or a forged one
//! whose sort key is not of the order's type, is `BAD_USER_INPUT`, never a silent empty page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::{TestApp, assert_bad_input};

const PAGE: &str = "query($s: ID!, $order: ListingOrder, $after: String, $before: String) { source(id: $s) { properties(first: 2, orderBy: $order, after: $after, before: $before) { totalCount pageInfo { hasNextPage endCursor } nodes { externalId } } } }";

struct Listings {
    app: TestApp,
    key: String,
    source: String,
}

async fn listings() -> Listings {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let items: Vec<Value> = (1..=5)
        .map(|i| json!({ "id": format!("L-{i}"), "price": i * 100 }))
        .collect();
    app.data(
        &key,
        "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
        json!({ "s": source, "items": items }),
    )
    .await;
    Listings { app, key, source }
}

impl Listings {
    async fn page(&self, order: Value, after: Option<&str>, before: Option<&str>) -> Value {
        self.app
            .graphql(
                &self.key,
                PAGE,
                json!({ "s": self.source, "order": order, "after": after, "before": before }),
            )
            .await
    }

    async fn end_cursor(&self, order: Value) -> String {
        let body = self.page(order, None, None).await;
        body["data"]["source"]["properties"]["pageInfo"]["endCursor"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap()
}

#[tokio::test]
async fn a_cursor_of_another_order_is_refused_with_the_reason() {
    let l = listings().await;
    let by_price = json!({ "path": "price", "direction": "DESC" });
    let default_cursor = l.end_cursor(Value::Null).await;
    let price_cursor = l.end_cursor(by_price.clone()).await;

    // Each cursor pages on under its own order.
    let body = l.page(by_price.clone(), Some(&price_cursor), None).await;
    assert_eq!(
        body["data"]["source"]["properties"]["nodes"],
        json!([{ "externalId": "L-3" }, { "externalId": "L-2" }])
    );
    let body = l.page(Value::Null, Some(&default_cursor), None).await;
    assert_eq!(
        body["data"]["source"]["properties"]["nodes"],
        json!([{ "externalId": "L-3" }, { "externalId": "L-4" }])
    );

    // A default-order cursor under `orderBy: price DESC`: refused, and the message says why.
    let body = l.page(by_price.clone(), Some(&default_cursor), None).await;
    assert_bad_input(&body, "after");
    assert_eq!(
        message(&body),
        "invalid after: is a cursor of another order: it was made under the default order (by id), and this page is ordered by `orderBy: { path: \"price\", direction: DESC }`. A cursor is a position in one order; pass the same `orderBy` as the page it came from, or start again without `after`"
    );
    // The other way round, as `before`, and under the same key in the other direction.
    let body = l.page(Value::Null, None, Some(&price_cursor)).await;
    assert_bad_input(&body, "before");
    assert!(message(&body).contains("made under `orderBy: { path: \"price\", direction: DESC }`"));
    let by_price_asc = json!({ "path": "price", "direction": "ASC" });
    assert_bad_input(
        &l.page(by_price_asc, Some(&price_cursor), None).await,
        "after",
    );
    let by_created = json!({ "field": "CREATED_AT" });
    assert_bad_input(
        &l.page(by_created, Some(&price_cursor), None).await,
        "after",
    );

    // A top-level list is in id order: a listing cursor of another order is no cursor of it.
    let body = l
        .app
        .graphql(
            &l.key,
            "query($after: String) { sources(first: 1, after: $after) { totalCount } }",
            json!({ "after": price_cursor }),
        )
        .await;
    assert_bad_input(&body, "after");
    assert!(message(&body).contains("another order"));
    // A top-level cursor pages a nested list in the default order (both by id).
    let sources = l
        .app
        .data(
            &l.key,
            "{ sources(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let source_cursor = sources["sources"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap();
    let body = l.page(Value::Null, Some(source_cursor), None).await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn a_forged_or_old_cursor_is_refused_not_an_empty_page() {
    let l = listings().await;
    let forge = |text: &str| URL_SAFE_NO_PAD.encode(text);
    let by_created = json!({ "field": "CREATED_AT" });
    let cursor = |value: Value| forge(&value.to_string());
    for (order, cursor, why) in [
        // A sort key of the wrong type for the order.
        (
            by_created.clone(),
            cursor(json!({ "o": "created_at", "i": 1, "k": { "x": 1 } })),
            "is not a timestamp",
        ),
        (
            by_created.clone(),
            cursor(json!({ "o": "created_at", "i": 1, "k": 17 })),
            "is not a timestamp",
        ),
        (
            json!({ "field": "EXTERNAL_ID" }),
            cursor(json!({ "o": "external_id", "i": 1, "k": 17 })),
            "is not an external id",
        ),
        (
            by_created.clone(),
            cursor(json!({ "o": "created_at", "i": 1 })),
            "is not a timestamp",
        ),
        (
            Value::Null,
            cursor(json!({ "o": "id", "i": 1, "k": "x" })),
            "this order is by id alone",
        ),
        // Not a cursor: fields missing, of the wrong type, or unknown.
        (Value::Null, cursor(json!({ "o": "id" })), "not a cursor"),
        (
            Value::Null,
            cursor(json!({ "o": "id", "i": "1" })),
            "not a cursor",
        ),
        (
            Value::Null,
            cursor(json!({ "o": "id", "i": 1, "x": 1 })),
            "not a cursor",
        ),
        (Value::Null, forge("[1]"), "not a cursor"),
        // Cursors of earlier versions: `order:id[:key]` as text.
        (by_created, forge(r#"cursor:1:{"x":1}"#), "earlier version"),
        (Value::Null, forge("cursor:1"), "earlier version"),
        (Value::Null, forge("id:1"), "earlier version"),
    ] {
        let body = l.page(order, Some(&cursor), None).await;
        assert_bad_input(&body, "after");
        assert!(message(&body).contains(why), "{why}: {body}");
        let body = l
            .app
            .graphql(
                &l.key,
                "query($b: String) { sources(last: 1, before: $b) { totalCount } }",
                json!({ "b": cursor }),
            )
            .await;
        assert_bad_input(&body, "before");
    }
}
