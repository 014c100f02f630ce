//! One pager for every connection: a top-level list (`sources`) and a nested one
//! (`Source.properties`) over the same number of rows answer every combination of
//! `first`/`last`/`after`/`before` alike, share one cursor form, and under many parents each
//! page tells its own `hasPreviousPage`/`hasNextPage`.

use serde_json::{Value, json};

use crate::common::{TestApp, assert_bad_input};

const SOURCES: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  sources(first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor } nodes { name }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

const LISTINGS: &str = "query($s: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  source(id: $s) { properties(first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor } nodes { externalId }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }
}";

/// A page as positions 1…7 in its list, with its flags and total.
#[derive(Debug, PartialEq)]
struct Seen {
    positions: Vec<u64>,
    has_next: bool,
    has_previous: bool,
    total: i64,
}

fn seen(connection: &Value, name_field: &str) -> Seen {
    let positions = connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let name = node[name_field].as_str().unwrap();
            name.rsplit([' ', '-']).next().unwrap().parse().unwrap()
        })
        .collect();
    Seen {
        positions,
        has_next: connection["pageInfo"]["hasNextPage"].as_bool().unwrap(),
        has_previous: connection["pageInfo"]["hasPreviousPage"].as_bool().unwrap(),
        total: connection["totalCount"].as_i64().unwrap(),
    }
}

fn cursors(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["cursor"].as_str().unwrap().to_owned())
        .collect()
}

struct Lists {
    app: TestApp,
    key: String,
    source: String,
}

/// Sources `Source 1…7`; the first of them holds listings `L-1…L-7`.
async fn lists() -> Lists {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    let source = app.create_source(&key, "Source 1").await;
    for i in 2..=7 {
        app.create_source(&key, &format!("Source {i}")).await;
    }
    let items: Vec<Value> = (1..=7).map(|i| json!({ "id": format!("L-{i}") })).collect();
    app.data(
        &key,
        "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
        json!({ "s": source, "items": items }),
    )
    .await;
    Lists { app, key, source }
}

impl Lists {
    async fn top(&self, args: &Value) -> Value {
        self.app.data(&self.key, SOURCES, args.clone()).await["sources"].clone()
    }

    async fn nested(&self, args: &Value) -> Value {
        let mut args = args.clone();
        args["s"] = json!(self.source);
        self.app.data(&self.key, LISTINGS, args).await["source"]["properties"].clone()
    }
}

#[tokio::test]
async fn top_level_and_nested_lists_page_alike() {
    let l = lists().await;
    let top = cursors(&l.top(&json!({})).await);
    let nested = cursors(&l.nested(&json!({})).await);
    assert_eq!((top.len(), nested.len()), (7, 7));
    // Arguments with cursors given as positions (1…7) in the list.
    type Args = (Option<i64>, Option<usize>, Option<i64>, Option<usize>);
    let combos: Vec<Args> = vec![
        (None, None, None, None),
        (Some(3), None, None, None),
        (None, None, Some(3), None),
        (Some(3), Some(2), None, None),
        (Some(3), Some(6), None, None),
        (None, None, Some(3), Some(5)),
        (None, None, Some(3), Some(2)),
        (Some(10), Some(2), None, Some(6)),
        (None, Some(2), Some(10), Some(6)),
        (Some(10), None, None, Some(5)),
        (None, Some(5), Some(10), None),
        (None, None, None, Some(4)),
        (None, Some(4), None, None),
        (Some(5), None, Some(2), None),
        (Some(5), Some(1), Some(2), Some(7)),
        (Some(0), None, None, None),
        (None, None, Some(0), None),
        (Some(2), Some(7), None, None),
        (None, None, Some(2), Some(1)),
    ];
    for (first, after, last, before) in combos {
        let args = |cursors: &[String]| {
            json!({
                "first": first, "last": last,
                "after": after.map(|p| cursors[p - 1].clone()),
                "before": before.map(|p| cursors[p - 1].clone()),
            })
        };
        let top_page = seen(&l.top(&args(&top)).await, "name");
        let nested_page = seen(&l.nested(&args(&nested)).await, "externalId");
        assert_eq!(
            top_page, nested_page,
            "first {first:?} after {after:?} last {last:?} before {before:?}"
        );
    }
}

#[tokio::test]
async fn every_connection_reads_one_cursor_form() {
    let l = lists().await;
    let top = cursors(&l.top(&json!({})).await);
    let nested = cursors(&l.nested(&json!({})).await);
    // Both in id order: a cursor is a position, whichever list it came from.
    let page = l.nested(&json!({ "first": 2, "after": top[0] })).await;
    assert_eq!(seen(&page, "externalId").positions, [2, 3]);
    let page = l.top(&json!({ "first": 2, "after": nested[0] })).await;
    assert_eq!(seen(&page, "name").positions, [2, 3]);

    // A cursor of another order is refused by a list in id order, top-level or nested.
    let by_id_desc = l
        .app
        .data(
            &l.key,
            "query($s: ID!) { source(id: $s) { properties(first: 1, orderBy: { field: ID, direction: DESC }) { pageInfo { endCursor } } } }",
            json!({ "s": l.source }),
        )
        .await;
    let desc = by_id_desc["source"]["properties"]["pageInfo"]["endCursor"].clone();
    let body = l
        .app
        .graphql(&l.key, SOURCES, json!({ "first": 1, "after": desc }))
        .await;
    assert_bad_input(&body, "after");
    let body = l
        .app
        .graphql(
            &l.key,
            LISTINGS,
            json!({ "s": l.source, "last": 1, "before": desc }),
        )
        .await;
    assert_bad_input(&body, "before");

    // Garbage is refused the same way everywhere, naming the argument.
    for garbage in ["", "!!!", "bm90IGpzb24", "eyJvIjoiaWQifQ"] {
        let body = l
            .app
            .graphql(&l.key, SOURCES, json!({ "after": garbage }))
            .await;
        assert_bad_input(&body, "after");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("is not a cursor of this API"), "{message}");
        let body = l
            .app
            .graphql(
                &l.key,
                LISTINGS,
                json!({ "s": l.source, "before": garbage }),
            )
            .await;
        assert_bad_input(&body, "before");
    }
}

#[tokio::test]
async fn under_many_parents_each_page_tells_its_own_neighbours() {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Acme").await;
    // Source A's listings get ids 1…3, source B's 4…6.
    let mut sources = Vec::new();
    for (name, prefix) in [("A", "a"), ("B", "b")] {
        let source = app.create_source(&key, name).await;
        let items: Vec<Value> = (1..=3)
            .map(|i| json!({ "id": format!("{prefix}-{i}") }))
            .collect();
        app.data(
            &key,
            "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items }) { importRun { created } } }",
            json!({ "s": source, "items": items }),
        )
        .await;
        sources.push(source);
    }
    let query = "query($after: String, $before: String, $last: Int) { sources { nodes { name properties(first: 5, after: $after, before: $before, last: $last) {
        nodes { externalId } pageInfo { hasNextPage hasPreviousPage } } } } }";
    let first_of_a = app
        .data(
            &key,
            "query($s: ID!) { source(id: $s) { properties(first: 1) { pageInfo { endCursor } } } }",
            json!({ "s": sources[0] }),
        )
        .await["source"]["properties"]["pageInfo"]["endCursor"]
        .clone();
    let page_of = |data: &Value, i: usize| data["sources"]["nodes"][i]["properties"].clone();

    // After A's first listing: A has a listing before the page, B none.
    let data = app.data(&key, query, json!({ "after": first_of_a })).await;
    let (a, b) = (page_of(&data, 0), page_of(&data, 1));
    assert_eq!(
        a["nodes"],
        json!([{ "externalId": "a-2" }, { "externalId": "a-3" }])
    );
    assert_eq!(
        a["pageInfo"],
        json!({ "hasNextPage": false, "hasPreviousPage": true })
    );
    assert_eq!(b["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(
        b["pageInfo"],
        json!({ "hasNextPage": false, "hasPreviousPage": false })
    );

    // Before A's first listing: nothing of A precedes it, and all of A and B follow it.
    let data = app
        .data(&key, query, json!({ "before": first_of_a, "last": 2 }))
        .await;
    let (a, b) = (page_of(&data, 0), page_of(&data, 1));
    assert_eq!(a["nodes"], json!([]));
    assert_eq!(
        a["pageInfo"],
        json!({ "hasNextPage": true, "hasPreviousPage": false })
    );
    assert_eq!(b["nodes"], json!([]));
    assert_eq!(
        b["pageInfo"],
        json!({ "hasNextPage": true, "hasPreviousPage": false })
    );
}
