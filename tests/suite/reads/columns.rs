//! A listing page reads only the columns its selection needs (`COLUMNS_READ_BY` in
//! `src/graphql/args.rs`, left out by the pager): whatever a query selects, each field answers
//! what it answers when every field is selected, through fragments, aliases and every order.

use sea_orm::DbBackend;
use serde_json::{Value, json};

use crate::common::TestApp;

/// Every scalar field (and the object fields read from columns) of each listing type.
const SOURCE_FIELDS: &[&str] = &[
    "externalId",
    "contentHash",
    "removedAt",
    "createdAt",
    "updatedAt",
    "sourceId",
];
const TARGET_FIELDS: &[&str] = &[
    "externalId",
    "contentHash",
    "baseHash",
    "manuallyModified",
    "manualChangedAt",
    "hasConflict",
    "removedAt",
    "lastSyncedAt",
    "createdAt",
    "updatedAt",
    "targetId",
    "version",
    "editedPaths",
    "lastResolution { resolution resolvedAt resolvedBy }",
    "sourceProperty { id externalId }",
];

/// A tenant whose listings differ in every column: a removed one, hand-edited ones, an open
/// conflict, a resolved one. Returns (app, key, source id, target id).
async fn listings() -> (TestApp, String, String, String) {
    let app = TestApp::spawn().await;
    let (_, key) = app.create_tenant("Columns").await;
    let source = app.create_source(&key, "Scrape").await;
    let target = app.create_target(&key, "Website").await;
    let item =
        |id: &str, price: i64| json!({ "id": id, "price": price, "title": format!("Flat {id}") });
    app.import(
        &key,
        &source,
        json!([
            item("a", 1),
            item("b", 2),
            item("c", 3),
            item("d", 4),
            item("e", 5)
        ]),
    )
    .await;
    app.sync(&key, &source, &target).await;
    let ids = app
        .data(
            &key,
            "query($t: ID!) { target(id: $t) { properties { nodes { id externalId } } } }",
            json!({ "t": target }),
        )
        .await;
    let id_of = |external: &str| -> String {
        ids["target"]["properties"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["externalId"] == external)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for external in ["b", "d", "e"] {
        app.data(
            &key,
            "mutation($id: ID!) { updateTargetProperty(input: { id: $id, patch: { title: \"By hand\" } }) { targetProperty { id } } }",
            json!({ "id": id_of(external) }),
        )
        .await;
    }
    // d and e change at the source (conflicts); a full scrape without c removes it.
    app.data(
        &key,
        "mutation($s: ID!, $items: JSON!) { importProperties(input: { sourceId: $s, items: $items, mode: FULL, allowMassRemoval: true }) { importRun { removed } } }",
        json!({ "s": source, "items": [item("a", 1), item("b", 2), item("d", 40), item("e", 50)] }),
    )
    .await;
    app.sync(&key, &source, &target).await;
    app.data(
        &key,
        "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: KEEP_TARGET }) { targetProperty { id } } }",
        json!({ "id": id_of("d") }),
    )
    .await;
    (app, key, source, target)
}

/// The listing nodes of an answer (those under any `edges`), with their ids, in order.
fn listing_nodes(value: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("edges", Value::Array(edges)) => found.extend(edges.iter().map(|edge| {
                        let node = &edge["node"];
                        (
                            node["id"].as_str().unwrap_or_default().to_owned(),
                            node.clone(),
                        )
                    })),
                    _ => found.extend(listing_nodes(inner)),
                }
            }
        }
        Value::Array(items) => found.extend(items.iter().flat_map(listing_nodes)),
        _ => {}
    }
    found
}

/// Every order of a listing connection.
const ORDERS: &[&str] = &[
    "",
    "orderBy: { field: CREATED_AT }",
    "orderBy: { field: UPDATED_AT, direction: DESC }",
    "orderBy: { field: EXTERNAL_ID }",
    "orderBy: { path: \"price\" }",
    "orderBy: { path: \"price\" }, where: [{ path: \"price\", op: LT, value: 45 }]",
];

/// For each field alone (with `id`), in each order, through a fragment or not, the listing
/// nodes answer what they answer when every field of `fields` is selected, which is what
/// `nodes(ids:)` answers for them (rows read whole, by id). `around` is the
/// query with `ARGS` for the connection's arguments and `{}` for its selection.
async fn each_field_alone(
    app: &TestApp,
    key: &str,
    around: &str,
    variables: Value,
    orders: &[&str],
    fields: &[&str],
) {
    let type_name = if fields.contains(&"sourceId") {
        "SourceProperty"
    } else {
        "TargetProperty"
    };
    for order in orders {
        let query = |selection: &str| {
            around
                .replace("ARGS", &format!("first: 50 {order}"))
                .replace("{}", &format!("{{ {selection} }}"))
        };
        let full = query(&format!(
            "edges {{ cursor node {{ id {} }} }}",
            fields.join(" ")
        ));
        let full = listing_nodes(&app.data(key, &full, variables.clone()).await);
        assert!(full.len() >= 4, "{order}: {full:?}");
        // What each listing is, read by id (every column, no page): the full page agrees.
        let ids: Vec<&String> = full.iter().map(|(id, _)| id).collect();
        let by_id = app
            .data(
                key,
                &format!(
                    "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on {type_name} {{ id {} }} }} }}",
                    fields.join(" ")
                ),
                json!({ "ids": ids }),
            )
            .await;
        let by_id = by_id["nodes"].as_array().unwrap().clone();
        for ((id, node), read) in full.iter().zip(&by_id) {
            assert_eq!(node, read, "{order}: {id} in a page and by id");
        }
        for field in fields {
            let name = field.split_whitespace().next().unwrap_or(field);
            for (selection, fragment) in [
                (
                    format!("edges {{ cursor node {{ id {field} }} }}"),
                    String::new(),
                ),
                (
                    format!("edges {{ node {{ id ... on {type_name} {{ {field} }} }} }}"),
                    String::new(),
                ),
                (
                    "edges { node { id ...F } }".to_owned(),
                    format!(" fragment F on {type_name} {{ {field} }}"),
                ),
            ] {
                let text = query(&selection) + &fragment;
                let alone = listing_nodes(&app.data(key, &text, variables.clone()).await);
                assert_eq!(alone.len(), full.len(), "{order} {selection}");
                for ((id, node), (full_id, full_node)) in alone.iter().zip(&full) {
                    assert_eq!(id, full_id, "{order} {selection}: the order changed");
                    assert_eq!(
                        node[name], full_node[name],
                        "{order}: `{field}` of {id} alone ({selection}{fragment}) differs from the full read"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn source_listing_fields_answer_alone_as_in_a_full_read() {
    let (app, key, source, _) = listings().await;
    each_field_alone(
        &app,
        &key,
        "query($s: ID!) { source(id: $s) { properties(ARGS) {} } }",
        json!({ "s": source }),
        ORDERS,
        SOURCE_FIELDS,
    )
    .await;
}

#[tokio::test]
async fn target_listing_fields_answer_alone_as_in_a_full_read() {
    let (app, key, _, target) = listings().await;
    each_field_alone(
        &app,
        &key,
        "query($t: ID!) { target(id: $t) { properties(ARGS) {} } }",
        json!({ "t": target }),
        ORDERS,
        TARGET_FIELDS,
    )
    .await;
}

#[tokio::test]
async fn target_listings_of_source_listings_answer_alone_as_in_a_full_read() {
    let (app, key, source, _) = listings().await;
    each_field_alone(
        &app,
        &key,
        "query($s: ID!) { source(id: $s) { properties(first: 50) { nodes { targetProperties(ARGS) {} } } } }",
        json!({ "s": source }),
        &[""],
        TARGET_FIELDS,
    )
    .await;
}

#[tokio::test]
async fn aliases_with_different_selections_each_get_their_columns() {
    let (app, key, source, _) = listings().await;
    let data = app
        .data(
            &key,
            "query($s: ID!) { source(id: $s) { narrow: properties(first: 50) { edges { node { id } } } wide: properties(first: 50) { edges { node { id removedAt createdAt contentHash } } } } }",
            json!({ "s": source }),
        )
        .await;
    let wide = listing_nodes(&data["source"]["wide"]);
    assert!(
        wide.iter().any(|(_, node)| node["removedAt"].is_string()),
        "the removed listing shows when: {data}"
    );
    assert!(
        wide.iter()
            .all(|(_, node)| node["contentHash"].as_str().is_some_and(|h| h.len() == 64)),
        "{data}"
    );
    assert!(
        wide.iter().all(|(_, node)| node["createdAt"]
            .as_str()
            .is_some_and(|t| !t.starts_with("1970"))),
        "{data}"
    );
}

#[tokio::test]
async fn a_page_selects_only_the_columns_its_fields_read() {
    let (app, key, source, _) = listings().await;
    app.record();
    app.data(
        &key,
        "query($s: ID!) { source(id: $s) { properties(first: 10) { edges { node { id externalId } } } } }",
        json!({ "s": source }),
    )
    .await;
    let statements = app.recorded();
    let page = statements
        .iter()
        .map(|statement| statement.sql.clone())
        .find(|sql| sql.contains("\"source_properties\".\"external_id\""))
        .unwrap_or_else(|| panic!("no page statement among {statements:?}"));
    for unread in [
        "created_at",
        "updated_at",
        "removed_at",
        "content_hash",
        "\"data\"",
    ] {
        assert!(!page.contains(unread), "the page reads {unread}: {page}");
    }
}

#[tokio::test]
async fn a_page_statement_carries_its_size_in_its_text_on_postgresql() {
    let (app, key, _, _) = listings().await;
    app.record();
    let data = app
        .data(
            &key,
            "{ sources(first: 2) { edges { node { properties(first: 2) { edges { node { externalId } } } } } } }",
            json!({}),
        )
        .await;
    let sources = data["sources"]["edges"].as_array().expect("sources");
    assert_eq!(sources.len(), 1, "{data}");
    assert_eq!(
        sources[0]["node"]["properties"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{data}"
    );
    let statements = app.recorded();
    let pages: Vec<_> = statements
        .iter()
        .filter(|statement| statement.sql.contains(" LIMIT "))
        .collect();
    assert_eq!(
        pages.len(),
        2,
        "the sources' page and the listings': {statements:?}"
    );
    let postgres = app.db.get_database_backend() == DbBackend::Postgres;
    for page in pages {
        // One more row than the page shows: whether there is a next page.
        assert_eq!(
            page.sql.contains(" LIMIT 3"),
            postgres,
            "PostgreSQL has the limit in the text, SQLite binds it: {}",
            page.sql
        );
        let parameters = page.sql.matches('$').count();
        let values = page.values.as_ref().map_or(0, |values| values.0.len());
        if postgres {
            assert_eq!(parameters, values, "a value for each parameter: {page:?}");
        }
    }
}
