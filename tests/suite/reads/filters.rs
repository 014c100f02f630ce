//! Listing filters, order by a JSON path, projection, and state filters.

use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

struct Catalog {
    app: TestApp,
    key: String,
    source: String,
    target: String,
}

async fn catalog() -> Catalog {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let target = app.create_target(&key, "Site").await;
    let items = json!([
        { "id": "a", "price": 120000, "type": "flat", "address": { "city": "Lyon" }, "features": ["lift", "balcony"], "title": "Flat with balcony" },
        { "id": "b", "price": 250000, "type": "house", "address": { "city": "Paris" }, "features": ["garden"], "title": "House and garden" },
        { "id": "c", "price": 249999.5, "type": "flat", "address": { "city": "Lyon" }, "features": [], "title": "Loft" },
        { "id": "d", "price": 800000, "type": "villa", "address": { "city": "Nice" }, "features": ["pool", "garden"], "title": "Villa", "pool": true },
        { "id": "e", "type": "plot", "address": { "city": "Paris" }, "title": "Plot without price" },
    ]);
    app.data(
        &key,
        "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
        json!({ "s": source, "items": items }),
    )
    .await;
    app.data(
        &key,
        "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { created } } }",
        json!({ "s": source, "t": target }),
    )
    .await;
    Catalog {
        app,
        key,
        source,
        target,
    }
}

impl Catalog {
    /// External ids of the source listings matching `args` (GraphQL argument text).
    async fn ids(&self, args: &str) -> Vec<String> {
        let body = self.query(args).await;
        assert!(body.get("errors").is_none(), "{args}: {body}");
        body["data"]["source"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["externalId"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn query(&self, args: &str) -> Value {
        self.app
            .graphql(
                &self.key,
                &format!("query($s: ID!) {{ source(id: $s) {{ properties({args}) {{ totalCount nodes {{ externalId }} }} }} }}"),
                json!({ "s": self.source }),
            )
            .await
    }
}

#[tokio::test]
async fn every_operator_filters_values_inside_the_listing() {
    let c = catalog().await;
    let cases = [
        (
            r#"where: [{ path: "price", op: LT, value: 250000 }]"#,
            vec!["a", "c"],
        ),
        (
            r#"where: [{ path: "price", op: LTE, value: 250000 }]"#,
            vec!["a", "b", "c"],
        ),
        (
            r#"where: [{ path: "price", op: GT, value: 250000 }]"#,
            vec!["d"],
        ),
        (
            r#"where: [{ path: "price", op: GTE, value: 249999.5 }]"#,
            vec!["b", "c", "d"],
        ),
        (
            r#"where: [{ path: "price", op: EQ, value: 250000 }]"#,
            vec!["b"],
        ),
        (
            r#"where: [{ path: "type", op: NE, value: "flat" }]"#,
            vec!["b", "d", "e"],
        ),
        (
            r#"where: [{ path: "address.city", op: EQ, value: "Lyon" }]"#,
            vec!["a", "c"],
        ),
        (
            r#"where: [{ path: "address.city", op: IN, value: ["Paris", "Nice"] }]"#,
            vec!["b", "d", "e"],
        ),
        (
            r#"where: [{ path: "features", op: CONTAINS, value: "garden" }]"#,
            vec!["b", "d"],
        ),
        (
            r#"where: [{ path: "title", op: CONTAINS, value: "with" }]"#,
            vec!["a", "e"],
        ),
        (r#"where: [{ path: "pool", op: EXISTS }]"#, vec!["d"]),
        (
            r#"where: [{ path: "price", op: EXISTS, value: false }]"#,
            vec!["e"],
        ),
        (
            r#"where: [{ path: "features.0", op: EQ, value: "pool" }]"#,
            vec!["d"],
        ),
        (
            r#"where: [{ path: "type", op: EQ, value: "flat" }, { path: "price", op: GT, value: 200000 }]"#,
            vec!["c"],
        ),
        (r#"externalIds: ["e", "a", "zz"]"#, vec!["a", "e"]),
        ("status: ACTIVE", vec!["a", "b", "c", "d", "e"]),
        ("status: REMOVED", vec![]),
        (
            r#"updatedSince: "2000-01-01T00:00:00Z""#,
            vec!["a", "b", "c", "d", "e"],
        ),
        (r#"updatedSince: "2999-01-01T00:00:00Z""#, vec![]),
    ];
    for (args, expected) in cases {
        assert_eq!(c.ids(args).await, expected, "{args}");
    }
    let body = c
        .query(r#"where: [{ path: "price", op: LT, value: 250000 }]"#)
        .await;
    assert_eq!(body["data"]["source"]["properties"]["totalCount"], 2);
}

#[tokio::test]
async fn ordering_filters_compare_numbers_with_numbers_and_strings_with_strings() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Feed").await;
    let items = json!([
        { "id": "cheap", "price": 100 },
        { "id": "dear", "price": 900 },
        { "id": "asked", "price": "on request" },
        { "id": "blank", "price": null },
        { "id": "yes", "price": true },
        { "id": "listed", "price": [100] },
        { "id": "none" },
    ]);
    app.data(
        &key,
        "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
        json!({ "s": source, "items": items }),
    )
    .await;
    for (filter, expected) in [
        (r#"{ path: "price", op: LT, value: 500 }"#, vec!["cheap"]),
        (
            r#"{ path: "price", op: LTE, value: 900 }"#,
            vec!["cheap", "dear"],
        ),
        (r#"{ path: "price", op: GT, value: 500 }"#, vec!["dear"]),
        (
            r#"{ path: "price", op: GTE, value: 100 }"#,
            vec!["cheap", "dear"],
        ),
        (r#"{ path: "price", op: GT, value: "a" }"#, vec!["asked"]),
        (r#"{ path: "price", op: LT, value: "a" }"#, vec![]),
    ] {
        let body = app
            .graphql(
                &key,
                &format!(
                    "query($s: ID!) {{ source(id: $s) {{ properties(where: [{filter}]) {{ totalCount nodes {{ externalId }} }} }} }}"
                ),
                json!({ "s": source }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{filter}: {body}");
        let connection = &body["data"]["source"]["properties"];
        let ids: Vec<&str> = connection["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["externalId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected, "{filter}");
        assert_eq!(connection["totalCount"], expected.len(), "{filter}");
    }
}

#[tokio::test]
async fn bad_filters_name_what_is_wrong() {
    let c = catalog().await;
    for (args, field) in [
        (
            r#"where: [{ path: "a'b", op: EQ, value: 1 }]"#,
            "where[0].path",
        ),
        (
            r#"where: [{ path: "price", op: IN, value: 1 }]"#,
            "where[0].value",
        ),
        (
            r#"where: [{ path: "price", op: LT, value: [1] }]"#,
            "where[0].value",
        ),
        (r#"orderBy: { path: "x", field: ID }"#, "orderBy"),
        (r#"orderBy: { path: "" }"#, "orderBy.path"),
    ] {
        let body = c.query(args).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{args}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{args}");
    }
}

#[tokio::test]
async fn listings_order_by_fields_and_json_paths_across_pages() {
    let c = catalog().await;
    assert_eq!(
        c.ids(r#"orderBy: { path: "price" }"#).await,
        ["a", "c", "b", "d", "e"]
    );
    assert_eq!(
        c.ids(r#"orderBy: { path: "price", direction: DESC }"#)
            .await,
        ["d", "b", "c", "a", "e"]
    );
    assert_eq!(
        c.ids(r#"orderBy: { path: "address.city" }"#).await,
        ["a", "c", "d", "b", "e"]
    );
    assert_eq!(
        c.ids("orderBy: { field: EXTERNAL_ID, direction: DESC }")
            .await,
        ["e", "d", "c", "b", "a"]
    );
    assert_eq!(
        c.ids("orderBy: { field: CREATED_AT }").await,
        ["a", "b", "c", "d", "e"]
    );

    // Walk the price order two at a time, forwards and then backwards.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = c
            .app
            .data(
                &c.key,
                r#"query($s: ID!, $after: String) { source(id: $s) { properties(first: 2, after: $after, orderBy: { path: "price", direction: DESC }) { pageInfo { hasNextPage endCursor } nodes { externalId } } } }"#,
                json!({ "s": c.source, "after": after }),
            )
            .await;
        let conn = &data["source"]["properties"];
        seen.extend(
            conn["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["externalId"].as_str().unwrap().to_owned()),
        );
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["d", "b", "c", "a", "e"]);

    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let data = c
            .app
            .data(
                &c.key,
                r#"query($s: ID!, $before: String) { source(id: $s) { properties(last: 2, before: $before, orderBy: { path: "price" }) { pageInfo { hasPreviousPage startCursor } nodes { externalId } } } }"#,
                json!({ "s": c.source, "before": before }),
            )
            .await;
        let conn = &data["source"]["properties"];
        let mut page: Vec<String> = conn["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["externalId"].as_str().unwrap().to_owned())
            .collect();
        page.extend(seen);
        seen = page;
        if conn["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = conn["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["a", "c", "b", "d", "e"]);
}

/// A page that does not read the listing JSON selects only the sort path's value in its
/// place (PostgreSQL: the sort key in a column of its own; SQLite: an object holding it): it
/// must order, filter and page exactly as a page that reads the whole listing, nested paths
/// and array paths (which keep the whole listing on SQLite) too; a JSON `null` sorts as a
/// missing key, last, on both databases.
#[tokio::test]
async fn pages_without_the_listing_order_and_page_as_pages_with_it() {
    let c = catalog().await;
    let more = json!([
        { "id": "f", "price": null, "type": "flat", "address": { "city": null }, "features": ["cellar"] },
        { "id": "g", "price": 120000, "type": "flat", "address": "unknown", "features": ["attic", "lift"] },
    ]);
    c.app
        .data(
            &c.key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
            json!({ "s": c.source, "items": more }),
        )
        .await;
    let walk = |order: &'static str, filter: &'static str, with_data: bool| {
        let c = &c;
        async move {
            let node = if with_data {
                "externalId data"
            } else {
                "externalId"
            };
            let mut seen = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let query = format!(
                    "query($s: ID!, $after: String) {{ source(id: $s) {{ properties(first: 2, after: $after, orderBy: {order}, where: [{filter}]) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {node} }} }} }} }}"
                );
                let data = c
                    .app
                    .data(&c.key, &query, json!({ "s": c.source, "after": after }))
                    .await;
                let conn = &data["source"]["properties"];
                for n in conn["nodes"].as_array().unwrap() {
                    seen.push(n["externalId"].as_str().unwrap().to_owned());
                }
                if conn["pageInfo"]["hasNextPage"] != true {
                    return seen;
                }
                after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            }
        }
    };
    let cases = [
        (
            r#"{ path: "price" }"#,
            r#"{ path: "type", op: NE, value: "villa" }"#,
            vec!["a", "g", "c", "b", "e", "f"],
        ),
        (
            r#"{ path: "price", direction: DESC }"#,
            r#"{ path: "type", op: NE, value: "villa" }"#,
            vec!["b", "c", "g", "a", "f", "e"],
        ),
        (
            r#"{ path: "address.city" }"#,
            r#"{ path: "title", op: EXISTS, value: false }"#,
            vec!["f", "g"],
        ),
        (
            r#"{ path: "address.city", direction: DESC }"#,
            r#"{ path: "type", op: IN, value: ["flat", "house"] }"#,
            vec!["b", "c", "a", "g", "f"],
        ),
        (
            r#"{ path: "features.0" }"#,
            r#"{ path: "type", op: EQ, value: "flat" }"#,
            vec!["g", "f", "a", "c"],
        ),
    ];
    for (order, filter, expected) in cases {
        let without = walk(order, filter, false).await;
        let with = walk(order, filter, true).await;
        assert_eq!(without, with, "orderBy: {order}, where: {filter}");
        assert_eq!(without, expected, "orderBy: {order}, where: {filter}");
    }
}

#[tokio::test]
async fn projection_returns_only_what_is_asked() {
    let c = catalog().await;
    let data = c
        .app
        .data(
            &c.key,
            r#"query($s: ID!) { source(id: $s) { properties(first: 1) { nodes { data(fields: ["price", "title", "missing"]) city: field(path: "address.city") none: field(path: "nope.x") } } } }"#,
            json!({ "s": c.source }),
        )
        .await;
    assert_eq!(
        data["source"]["properties"]["nodes"][0],
        json!({ "data": { "price": 120000, "title": "Flat with balcony" }, "city": "Lyon", "none": null })
    );
}

#[tokio::test]
async fn target_listings_filter_by_state() {
    let c = catalog().await;
    let ids = |data: &Value| -> Vec<String> {
        data["target"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["externalId"].as_str().unwrap().to_owned())
            .collect()
    };
    let query = "query($t: ID!, $status: TargetListingStatus) { target(id: $t) { properties(status: $status) { nodes { id externalId } } } }";
    let all = c
        .app
        .data(&c.key, query, json!({ "t": c.target, "status": null }))
        .await;
    let b = all["target"]["properties"]["nodes"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = all["target"]["properties"]["nodes"][3]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for id in [&b, &d] {
        c.app
            .data(&c.key, "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { note: \"x\" } }) { targetProperty { id } } }", json!({ "id": id }))
            .await;
    }
    // d changes at the source: a conflict; a full scrape without e removes it.
    c.app
        .data(
            &c.key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items, mode: FULL }) { importRun { updated removed } } }",
            json!({ "s": c.source, "items": [
                { "id": "a", "price": 120000, "type": "flat", "address": { "city": "Lyon" }, "features": ["lift", "balcony"], "title": "Flat with balcony" },
                { "id": "b", "price": 250000, "type": "house", "address": { "city": "Paris" }, "features": ["garden"], "title": "House and garden" },
                { "id": "c", "price": 249999.5, "type": "flat", "address": { "city": "Lyon" }, "features": [], "title": "Loft" },
                { "id": "d", "price": 750000, "type": "villa", "address": { "city": "Nice" }, "features": ["pool", "garden"], "title": "Villa", "pool": true },
            ] }),
        )
        .await;
    c.app
        .data(&c.key, "mutation($s: ID!, $t: ID!) { syncSource(input: { sourceId: $s, targetId: $t }) { syncLog { conflicts removed } } }", json!({ "s": c.source, "t": c.target }))
        .await;
    for (status, expected) in [
        ("SYNCED", vec!["a", "c"]),
        ("MODIFIED_BY_HAND", vec!["b", "d"]),
        ("IN_CONFLICT", vec!["d"]),
        ("REMOVED", vec!["e"]),
    ] {
        let data = c
            .app
            .data(&c.key, query, json!({ "t": c.target, "status": status }))
            .await;
        assert_eq!(ids(&data), expected, "{status}");
    }
    let data = c
        .app
        .data(&c.key, "query($s: ID!) { source(id: $s) { properties(status: REMOVED) { nodes { externalId } } } }", json!({ "s": c.source }))
        .await;
    assert_eq!(
        data["source"]["properties"]["nodes"],
        json!([{ "externalId": "e" }])
    );
}

#[tokio::test]
async fn list_screens_filter_sources_targets_and_sync_logs() {
    let c = catalog().await;
    c.app
        .data(&c.key, r#"mutation { createSource(input: { name: "Old scrape", kind: SCRAPED, active: false }) { source { id } } }"#, json!({}))
        .await;
    let names = |data: &Value, list: &str| -> Vec<String> {
        data[list]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let data = c
        .app
        .data(
            &c.key,
            "{ sources(kind: SCRAPED) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(names(&data, "sources"), ["Old scrape"]);
    let data = c
        .app
        .data(
            &c.key,
            "{ sources(active: true) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(names(&data, "sources"), ["Feed"]);
    let data = c.app.data(&c.key, r#"{ sources(createdAfter: "2999-01-01T00:00:00Z") { totalCount } targets(createdBefore: "2999-01-01T00:00:00Z", kind: WEBSITE) { nodes { name } } }"#, json!({})).await;
    assert_eq!(data["sources"]["totalCount"], 0);
    assert_eq!(names(&data, "targets"), ["Site"]);

    // One dry run and one sync with a conflict warning.
    let listing = c
        .app
        .data(
            &c.key,
            "query($t: ID!) { target(id: $t) { properties(first: 1) { nodes { id } } } }",
            json!({ "t": c.target }),
        )
        .await;
    let id = listing["target"]["properties"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.app.data(&c.key, "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { x: 1 } }) { targetProperty { id } } }", json!({ "id": id })).await;
    c.app
        .data(&c.key, "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { updated } } }", json!({ "s": c.source, "items": [{ "id": "a", "price": 1 }] }))
        .await;
    let sync = "mutation($s: ID!, $t: ID!, $dry: Boolean!) { syncSource(input: { sourceId: $s, targetId: $t, dryRun: $dry }) { syncLog { conflicts } } }";
    c.app
        .data(
            &c.key,
            sync,
            json!({ "s": c.source, "t": c.target, "dry": true }),
        )
        .await;
    c.app
        .data(
            &c.key,
            sync,
            json!({ "s": c.source, "t": c.target, "dry": false }),
        )
        .await;
    let data = c
        .app
        .data(&c.key, r#"{ all: syncLogs { totalCount } warned: syncLogs(hasWarnings: true) { totalCount } dry: syncLogs(dryRun: true) { totalCount } clean: syncLogs(hasWarnings: false, dryRun: false) { totalCount } later: syncLogs(startedAfter: "2999-01-01T00:00:00Z") { totalCount } }"#, json!({}))
        .await;
    assert_eq!(
        data,
        json!({ "all": { "totalCount": 3 }, "warned": { "totalCount": 2 }, "dry": { "totalCount": 1 }, "clean": { "totalCount": 1 }, "later": { "totalCount": 0 } })
    );
}
