//! Relay connections: walking forwards and backwards, page info at every step, size limits,
//! bad cursors, cursors that outlive inserts and deletes, the default page size, and the
//! `apiKeys` connection of the viewer.

use serde_json::{Value, json};

use crate::common::{TestApp, assert_bad_input, test_config};

const SOURCES_PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  sources(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

/// One page, as the test looks at it.
struct Page {
    names: Vec<String>,
    cursors: Vec<String>,
    has_next: bool,
    has_previous: bool,
    start: Value,
    end: Value,
    total: i64,
}

impl Page {
    fn from_connection(connection: &Value) -> Self {
        let edges = connection["edges"].as_array().expect("edges");
        let page = Self {
            names: edges
                .iter()
                .map(|e| e["node"]["name"].as_str().expect("name").to_owned())
                .collect(),
            cursors: edges
                .iter()
                .map(|e| e["cursor"].as_str().expect("cursor").to_owned())
                .collect(),
            has_next: connection["pageInfo"]["hasNextPage"]
                .as_bool()
                .expect("hasNextPage"),
            has_previous: connection["pageInfo"]["hasPreviousPage"]
                .as_bool()
                .expect("hasPreviousPage"),
            start: connection["pageInfo"]["startCursor"].clone(),
            end: connection["pageInfo"]["endCursor"].clone(),
            total: connection["totalCount"].as_i64().expect("totalCount"),
        };
        // startCursor and endCursor are the cursors of the first and last edge (or null).
        assert_eq!(
            page.start,
            page.cursors.first().map_or(Value::Null, |c| json!(c))
        );
        assert_eq!(
            page.end,
            page.cursors.last().map_or(Value::Null, |c| json!(c))
        );
        page
    }

    fn end(&self) -> &str {
        self.end.as_str().expect("an end cursor")
    }

    fn start(&self) -> &str {
        self.start.as_str().expect("a start cursor")
    }
}

fn names(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|i| format!("Source {i}")).collect()
}

async fn sources_page(app: &TestApp, key: &str, args: Value) -> Page {
    let data = app.data(key, SOURCES_PAGE, args).await;
    Page::from_connection(&data["sources"])
}

/// A tenant with sources `Source 1` … `Source n`, created in that order.
async fn tenant_with_sources(app: &TestApp, n: u32) -> String {
    let (_, key) = app.create_tenant("Acme").await;
    for i in 1..=n {
        app.create_source(&key, &format!("Source {i}")).await;
    }
    key
}

#[tokio::test]
async fn first_and_after_walk_forwards() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 7).await;

    let page = sources_page(&app, &key, json!({ "first": 3 })).await;
    assert_eq!(page.names, names(1..=3));
    assert!(page.has_next);
    assert!(!page.has_previous);
    assert_eq!(page.total, 7);

    let page = sources_page(&app, &key, json!({ "first": 3, "after": page.end() })).await;
    assert_eq!(page.names, names(4..=6));
    assert!(page.has_next);
    assert!(page.has_previous);
    assert_eq!(page.total, 7);

    let page = sources_page(&app, &key, json!({ "first": 3, "after": page.end() })).await;
    assert_eq!(page.names, names(7..=7));
    assert!(!page.has_next);
    assert!(page.has_previous);
    assert_eq!(page.total, 7);

    // Past the end: an empty page, no cursors.
    let page = sources_page(&app, &key, json!({ "first": 3, "after": page.end() })).await;
    assert!(page.names.is_empty());
    assert!(!page.has_next);
    assert!(page.has_previous);
    assert_eq!(page.start, Value::Null);
    assert_eq!(page.end, Value::Null);
    assert_eq!(page.total, 7);
}

#[tokio::test]
async fn last_and_before_walk_backwards() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 7).await;

    let page = sources_page(&app, &key, json!({ "last": 3 })).await;
    assert_eq!(page.names, names(5..=7));
    assert!(!page.has_next);
    assert!(page.has_previous);
    assert_eq!(page.total, 7);

    let page = sources_page(&app, &key, json!({ "last": 3, "before": page.start() })).await;
    assert_eq!(page.names, names(2..=4));
    assert!(page.has_next);
    assert!(page.has_previous);
    assert_eq!(page.total, 7);

    let page = sources_page(&app, &key, json!({ "last": 3, "before": page.start() })).await;
    assert_eq!(page.names, names(1..=1));
    assert!(page.has_next);
    assert!(!page.has_previous);
    assert_eq!(page.total, 7);
}

#[tokio::test]
async fn the_edges_of_both_walks_carry_the_same_cursors() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 7).await;
    let all = sources_page(&app, &key, json!({ "first": 7 })).await;
    assert_eq!(all.names, names(1..=7));
    assert!(!all.has_next);
    assert!(!all.has_previous);
    let backwards = sources_page(&app, &key, json!({ "last": 7 })).await;
    assert_eq!(backwards.cursors, all.cursors);
    assert!(!backwards.has_next);
    assert!(!backwards.has_previous);

    // A window between two cursors, from either end.
    let window = json!({ "first": 10, "after": all.cursors[1], "before": all.cursors[5] });
    let page = sources_page(&app, &key, window).await;
    assert_eq!(page.names, names(3..=5));
    assert!(page.has_next);
    assert!(page.has_previous);
    let window = json!({ "last": 10, "after": all.cursors[1], "before": all.cursors[5] });
    let page = sources_page(&app, &key, window).await;
    assert_eq!(page.names, names(3..=5));
    assert!(page.has_next);

    // `first` with `before`: the first rows, and more follow.
    let page = sources_page(&app, &key, json!({ "first": 10, "before": all.cursors[4] })).await;
    assert_eq!(page.names, names(1..=4));
    assert!(page.has_next);
    assert!(!page.has_previous);

    // `first` and `last` together: the last `last` of the first `first`.
    let page = sources_page(&app, &key, json!({ "first": 5, "last": 2 })).await;
    assert_eq!(page.names, names(4..=5));
    assert!(page.has_next);
    assert!(page.has_previous);
}

#[tokio::test]
async fn first_zero_is_an_empty_page() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 7).await;
    let page = sources_page(&app, &key, json!({ "first": 0 })).await;
    assert!(page.names.is_empty());
    assert!(page.has_next);
    assert!(!page.has_previous);
    assert_eq!(page.start, Value::Null);
    assert_eq!(page.end, Value::Null);
    assert_eq!(page.total, 7);

    let page = sources_page(&app, &key, json!({ "last": 0 })).await;
    assert!(page.names.is_empty());
    assert!(page.has_previous);
    assert_eq!(page.total, 7);
}

#[tokio::test]
async fn page_sizes_are_limited() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 7).await;

    // The cap itself is fine.
    let page = sources_page(&app, &key, json!({ "first": 500 })).await;
    assert_eq!(page.names, names(1..=7));
    assert!(!page.has_next);
    let page = sources_page(&app, &key, json!({ "last": 500 })).await;
    assert_eq!(page.names, names(1..=7));

    for (args, field) in [
        (json!({ "first": 501 }), "first"),
        (json!({ "last": 501 }), "last"),
        (json!({ "first": -1 }), "first"),
        (json!({ "last": -3 }), "last"),
        (json!({ "first": i32::MAX }), "first"),
        (json!({ "first": i32::MIN }), "first"),
    ] {
        let body = app.graphql(&key, SOURCES_PAGE, args.clone()).await;
        assert_bad_input(&body, field);
        assert_eq!(body["data"], json!(null), "args {args}");
    }
    let body = app
        .graphql(&key, SOURCES_PAGE, json!({ "first": 501 }))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("500"),
        "body: {body}"
    );
    // The same limits on targets.
    let body = app
        .graphql(&key, "{ targets(first: 501) { totalCount } }", json!({}))
        .await;
    assert_bad_input(&body, "first");
}

#[tokio::test]
async fn the_cap_follows_the_configuration() {
    let mut config = test_config();
    config.max_page_size = 4;
    let app = TestApp::spawn_with(config).await;
    let key = tenant_with_sources(&app, 7).await;
    let page = sources_page(&app, &key, json!({ "first": 4 })).await;
    assert_eq!(page.names, names(1..=4));
    let body = app.graphql(&key, SOURCES_PAGE, json!({ "first": 5 })).await;
    assert_bad_input(&body, "first");
}

#[tokio::test]
async fn a_malformed_cursor_is_bad_input() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 3).await;
    let source_id = app.create_source(&key, "Another").await;
    let not_a_number = "Y3Vyc29yOng"; // `cursor:x`
    for cursor in ["nope!", "", "Y3Vyc29y", not_a_number, source_id.as_str()] {
        let body = app
            .graphql(&key, SOURCES_PAGE, json!({ "first": 2, "after": cursor }))
            .await;
        assert_bad_input(&body, "after");
        let body = app
            .graphql(&key, SOURCES_PAGE, json!({ "last": 2, "before": cursor }))
            .await;
        assert_bad_input(&body, "before");
    }
}

#[tokio::test]
async fn cursors_stay_valid_while_rows_come_and_go() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 7).await;
    let first = sources_page(&app, &key, json!({ "first": 3 })).await;
    let old_end = first.end().to_owned();

    for i in 8..=10 {
        app.create_source(&key, &format!("Source {i}")).await;
    }
    let page = sources_page(&app, &key, json!({ "first": 3, "after": old_end })).await;
    assert_eq!(page.names, names(4..=6));
    assert!(page.has_next);
    assert!(page.has_previous);
    assert_eq!(page.total, 10);

    // Delete the row the cursor points at: the cursor still means "after it".
    let third = app
        .data(
            &key,
            "{ sources(first: 3) { nodes { id name } } }",
            json!({}),
        )
        .await["sources"]["nodes"][2]
        .clone();
    assert_eq!(third["name"], "Source 3");
    app.data(
        &key,
        "mutation($id: ID!) { deleteSource(input: { id: $id }) { deletedSourceId } }",
        json!({ "id": third["id"] }),
    )
    .await;
    let page = sources_page(&app, &key, json!({ "first": 3, "after": old_end })).await;
    assert_eq!(page.names, names(4..=6));
    assert!(page.has_previous);
    assert_eq!(page.total, 9);
    let page = sources_page(&app, &key, json!({ "last": 5, "before": old_end })).await;
    assert_eq!(page.names, names(1..=2));
    assert!(page.has_next);
    assert!(!page.has_previous);
}

#[tokio::test]
async fn without_first_or_last_the_default_page_size_applies() {
    let mut config = test_config();
    config.default_page_size = 5;
    let app = TestApp::spawn_with(config).await;
    let key = tenant_with_sources(&app, 7).await;

    let page = sources_page(&app, &key, json!({})).await;
    assert_eq!(page.names, names(1..=5));
    assert!(page.has_next);
    assert!(!page.has_previous);
    assert_eq!(page.total, 7);

    let page = sources_page(&app, &key, json!({ "after": page.end() })).await;
    assert_eq!(page.names, names(6..=7));
    assert!(!page.has_next);
    assert!(page.has_previous);
    assert_eq!(page.total, 7);

    // An explicit `first` still wins over the default.
    let page = sources_page(&app, &key, json!({ "first": 7 })).await;
    assert_eq!(page.names, names(1..=7));
    assert!(!page.has_next);
}

#[tokio::test]
async fn the_default_page_size_is_one_hundred() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 3).await;
    let page = sources_page(&app, &key, json!({})).await;
    assert_eq!(page.names, names(1..=3));
    assert!(!page.has_next);
    assert!(!page.has_previous);
    assert_eq!(page.total, 3);
}

#[tokio::test]
async fn an_empty_connection_has_no_cursors() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let data = app
        .data(
            &key,
            "{ sources { totalCount edges { cursor } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
               targets(last: 2) { totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
            json!({}),
        )
        .await;
    let empty_info = json!({
        "hasNextPage": false,
        "hasPreviousPage": false,
        "startCursor": null,
        "endCursor": null,
    });
    assert_eq!(
        data["sources"],
        json!({ "totalCount": 0, "edges": [], "nodes": [], "pageInfo": empty_info })
    );
    assert_eq!(
        data["targets"],
        json!({ "totalCount": 0, "edges": [], "pageInfo": empty_info })
    );
}

#[tokio::test]
async fn targets_page_like_sources() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    for i in 1..=5 {
        app.create_target(&key, &format!("Target {i}")).await;
    }
    let query = "query($first: Int, $after: String) {
      targets(first: $first, after: $after) {
        totalCount edges { cursor node { name } } nodes { name }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }";
    let data = app.data(&key, query, json!({ "first": 2 })).await;
    let connection = &data["targets"];
    assert_eq!(
        connection["nodes"],
        json!([{ "name": "Target 1" }, { "name": "Target 2" }])
    );
    assert_eq!(connection["totalCount"], 5);
    assert_eq!(connection["pageInfo"]["hasNextPage"], true);
    let end = connection["pageInfo"]["endCursor"].as_str().unwrap();
    assert_eq!(connection["edges"][1]["cursor"], json!(end));
    let data = app
        .data(&key, query, json!({ "first": 10, "after": end }))
        .await;
    assert_eq!(
        data["targets"]["nodes"],
        json!([{ "name": "Target 3" }, { "name": "Target 4" }, { "name": "Target 5" }])
    );
    assert_eq!(data["targets"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(data["targets"]["pageInfo"]["hasPreviousPage"], true);
}

#[tokio::test]
async fn the_viewers_api_keys_are_a_connection_too() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    for name in ["k1", "k2", "k3", "k4"] {
        app.data(
            &key,
            "mutation($name: String!) { createApiKey(input: { name: $name }) { key } }",
            json!({ "name": name }),
        )
        .await;
    }
    let query = "query($first: Int, $after: String, $last: Int, $before: String) {
      viewer { apiKeys(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node { name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } }
    }";
    let page_of = |data: Value| {
        let connection = &data["viewer"]["apiKeys"];
        let page = Page::from_connection(connection);
        assert_eq!(page.total, 5);
        page
    };
    let page = page_of(app.data(&key, query, json!({ "first": 2 })).await);
    assert_eq!(page.names, ["default", "k1"]);
    assert!(page.has_next);
    assert!(!page.has_previous);
    let page = page_of(
        app.data(&key, query, json!({ "first": 2, "after": page.end() }))
            .await,
    );
    assert_eq!(page.names, ["k2", "k3"]);
    assert!(page.has_next);
    assert!(page.has_previous);
    let page = page_of(
        app.data(&key, query, json!({ "first": 2, "after": page.end() }))
            .await,
    );
    assert_eq!(page.names, ["k4"]);
    assert!(!page.has_next);
    assert!(page.has_previous);

    let page = page_of(
        app.data(&key, query, json!({ "last": 2, "before": page.start() }))
            .await,
    );
    assert_eq!(page.names, ["k2", "k3"]);
    assert!(page.has_next);
    assert!(page.has_previous);

    let body = app.graphql(&key, query, json!({ "first": 501 })).await;
    assert_bad_input(&body, "first");
    let body = app.graphql(&key, query, json!({ "after": "bad" })).await;
    assert_bad_input(&body, "after");
}

#[tokio::test]
async fn last_with_after_reports_the_rows_before_after() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 7).await;
    let all = sources_page(&app, &key, json!({ "first": 7 })).await;
    // Everything after Source 5, at most 10 of it from the end: Source 6 and 7, and
    // Source 1…5 precede the page.
    let page = sources_page(&app, &key, json!({ "last": 10, "after": all.cursors[4] })).await;
    assert_eq!(page.names, names(6..=7));
    assert!(!page.has_next);
    assert!(
        page.has_previous,
        "Source 1…5 precede the page, as `first` + `after` would report"
    );
}

#[tokio::test]
async fn before_without_a_size_reports_the_rows_from_before_on() {
    let app = TestApp::spawn().await;
    let key = tenant_with_sources(&app, 7).await;
    let all = sources_page(&app, &key, json!({ "first": 7 })).await;
    // Default page size (100): everything before Source 4, and Source 4…7 follow.
    let page = sources_page(&app, &key, json!({ "before": all.cursors[3] })).await;
    assert_eq!(page.names, names(1..=3));
    assert!(
        page.has_next,
        "Source 4…7 follow the page, as `first` + `before` would report"
    );
}
