//! Numbers exactly as sent: integers beyond 2^53 are stored, served, hashed and compared
//! exactly, ordinary listings hash as they always did, numbers beyond a double are refused,
//! and migration 9 rehashes the stored rows that need it, on both databases.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sync_manager::hashing::{canonical_json, content_hash};
use tower::ServiceExt;

use crate::common::{TestApp, assert_bad_input};
use crate::engine::Setup;

/// JSON text as a value, numbers kept as written.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Sends a GraphQL request and returns the response body as the server wrote it.
async fn raw(app: &TestApp, key: &str, query: &str, variables: Value) -> String {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-api-key", key)
        .body(Body::from(body))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The raw response to reading source listing `external_id` (data, one field, hash).
async fn read_source_listing(setup: &Setup, external_id: &str, path: &str) -> String {
    raw(
        &setup.app,
        &setup.key,
        "query($s: ID!, $ids: [String!], $path: String!) { source(id: $s) { properties(first: 5, externalIds: $ids) { nodes { data field(path: $path) contentHash } } } }",
        json!({ "s": setup.source, "ids": [external_id], "path": path }),
    )
    .await
}

/// SHA-256 of the RFC 8785 form, as the content hash was computed before exact numbers.
fn rfc8785_hash(value: &Value) -> String {
    hex::encode(Sha256::digest(
        serde_json_canonicalizer::to_vec(value).unwrap(),
    ))
}

#[tokio::test]
async fn an_integer_beyond_a_double_that_changes_is_an_update() {
    let setup = Setup::new().await;
    let first = parse(r#"{"id":"big1","agent_id":1500000000000000001}"#);
    let second = parse(r#"{"id":"big1","agent_id":1500000000000000002}"#);
    assert_eq!(
        setup.import(first.clone(), "INCREMENTAL").await,
        [1, 0, 0, 0]
    );
    assert_eq!(setup.import(second, "INCREMENTAL").await, [0, 1, 0, 0]);
    assert_eq!(setup.import(first, "INCREMENTAL").await, [0, 1, 0, 0]);

    let body = read_source_listing(&setup, "big1", "agent_id").await;
    assert!(
        body.contains(r#""data":{"agent_id":1500000000000000001,"id":"big1"}"#),
        "{body}"
    );
    assert!(body.contains(r#""field":1500000000000000001"#), "{body}");

    // The history says what changed, exactly.
    let body = raw(
        &setup.app,
        &setup.key,
        "query($s: ID!) { source(id: $s) { properties(first: 5) { nodes { snapshots { nodes { data changes { path kind before after } } } } } } }",
        json!({ "s": setup.source }),
    )
    .await;
    assert!(
        body.contains(r#"{"data":{"agent_id":1500000000000000002,"id":"big1"},"changes":[{"path":"agent_id","kind":"CHANGED","before":1500000000000000002,"after":1500000000000000001}]}"#),
        "{body}"
    );
    assert!(
        body.contains(r#"{"data":{"agent_id":1500000000000000001,"id":"big1"},"changes":[{"path":"agent_id","kind":"CHANGED","before":1500000000000000001,"after":1500000000000000002}]}"#),
        "{body}"
    );

    // 2^64 is a double's exact value; the integer RFC 8785 writes for it is another one.
    let exact = parse(r#"{"id":"big2","n":18446744073709551616}"#);
    let neighbour = parse(r#"{"id":"big2","n":18446744073709552000}"#);
    assert_eq!(setup.import(exact, "INCREMENTAL").await, [1, 0, 0, 0]);
    let body = read_source_listing(&setup, "big2", "n").await;
    assert!(body.contains(r#""field":18446744073709551616"#), "{body}");
    assert_eq!(setup.import(neighbour, "INCREMENTAL").await, [0, 1, 0, 0]);
    let body = read_source_listing(&setup, "big2", "n").await;
    assert!(body.contains(r#""field":18446744073709552000"#), "{body}");
}

#[tokio::test]
async fn numbers_round_trip_as_sent_through_import_sync_and_reads() {
    let setup = Setup::new().await;
    // Integers and decimals come back byte for byte; a number written with an exponent (or
    // a negative zero) comes back as PostgreSQL's jsonb writes it, on both databases.
    let sent = [
        ("i53", "9007199254740993", "9007199254740993"),
        ("u64", "18446744073709551615", "18446744073709551615"),
        ("over", "18446744073709551616", "18446744073709551616"),
        (
            "e30",
            "1000000000000000000000000000000",
            "1000000000000000000000000000000",
        ),
        (
            "neg",
            "-1000000000000000000000000000001",
            "-1000000000000000000000000000001",
        ),
        ("tenth", "0.1", "0.1"),
        ("scaled", "2.50", "2.50"),
        ("long", "0.10000000000000000001", "0.10000000000000000001"),
        ("plain", "250000", "250000"),
        ("exp", "1.5e3", "1500"),
        ("small", "1E-7", "0.0000001"),
        ("zero", "-0", "0"),
    ];
    let fields: Vec<String> = sent
        .iter()
        .map(|(key, text, _)| format!(r#""{key}":{text}"#))
        .collect();
    let listing = parse(&format!(r#"{{"id":"n1",{}}}"#, fields.join(",")));
    assert_eq!(setup.import(listing, "INCREMENTAL").await, [1, 0, 0, 0]);
    let (counts, _) = setup.sync().await;
    assert_eq!(counts, [1, 0, 0, 0, 0]);

    for (key, _, kept) in sent {
        let body = read_source_listing(&setup, "n1", key).await;
        assert!(
            body.contains(&format!(r#""{key}":{kept}"#)),
            "{key}: {body}"
        );
        assert!(
            body.contains(&format!(r#""field":{kept},"#)),
            "{key}: {body}"
        );
        let body = raw(
            &setup.app,
            &setup.key,
            "query($t: ID!, $path: String!) { target(id: $t) { properties(first: 5) { nodes { data field(path: $path) } } } }",
            json!({ "t": setup.target, "path": key }),
        )
        .await;
        assert!(
            body.contains(&format!(r#""{key}":{kept}"#)),
            "{key}: {body}"
        );
        assert!(
            body.contains(&format!(r#""field":{kept}}}"#)),
            "{key}: {body}"
        );
    }

    // The same listing again is unchanged: the hash is of the value, not of its spelling.
    let again = parse(&format!(
        r#"{{"id":"n1",{}}}"#,
        sent.iter()
            .map(|(key, _, kept)| format!(r#""{key}":{kept}"#))
            .collect::<Vec<_>>()
            .join(",")
    ));
    assert_eq!(setup.import(again, "INCREMENTAL").await, [0, 0, 1, 0]);

    // A filter tells integers of the 64-bit range apart on both databases.
    let body = raw(
        &setup.app,
        &setup.key,
        "query($s: ID!, $v: JSON!) { source(id: $s) { properties(first: 5, where: [{ path: \"i53\", op: EQ, value: $v }]) { totalCount } } }",
        json!({ "s": setup.source, "v": parse("9007199254740993") }),
    )
    .await;
    assert_eq!(
        body,
        r#"{"data":{"source":{"properties":{"totalCount":1}}}}"#
    );
    let body = raw(
        &setup.app,
        &setup.key,
        "query($s: ID!, $v: JSON!) { source(id: $s) { properties(first: 5, where: [{ path: \"i53\", op: EQ, value: $v }]) { totalCount } } }",
        json!({ "s": setup.source, "v": parse("9007199254740992") }),
    )
    .await;
    assert_eq!(
        body,
        r#"{"data":{"source":{"properties":{"totalCount":0}}}}"#
    );
    let body = setup
        .app
        .graphql(
            &setup.key,
            "query($s: ID!, $v: JSON!) { source(id: $s) { properties(first: 5, where: [{ path: \"i53\", op: LT, value: $v }]) { totalCount } } }",
            json!({ "s": setup.source, "v": parse("1e400") }),
        )
        .await;
    assert_bad_input(&body, "where[0].value");
}

#[tokio::test]
async fn a_number_beyond_a_double_is_refused_naming_the_item() {
    let setup = Setup::new().await;
    for (text, reason) in [
        ("1e400", "beyond the range of a double"),
        ("-1e309", "beyond the range of a double"),
        ("1e-400", "too close to zero for a double"),
    ] {
        let items = parse(&format!(
            r#"[{{"id":"ok","n":1}},{{"id":"bad","a":{{"b":[0,{text}]}}}}]"#
        ));
        let body = setup.import_raw(items, "INCREMENTAL", false).await;
        assert_bad_input(&body, "input.items[1]");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(reason) && message.ends_with("at `a.b[1]`"),
            "{message}"
        );
    }
    // Nothing was written.
    assert!(setup.source_listings().await.is_empty());

    // A hand edit cannot bring one in either.
    assert_eq!(
        setup
            .import(json!({"id": "ok", "n": 1}), "INCREMENTAL")
            .await,
        [1, 0, 0, 0]
    );
    setup.sync().await;
    let listing = setup.target_listing("ok").await;
    let body = setup
        .edit(listing["id"].as_str().unwrap(), parse(r#"{"n":1e400}"#))
        .await;
    assert_bad_input(&body, "input.patch");

    // A number where an `Int` is expected is refused as a number, not as serde_json's
    // internal object.
    let body = setup
        .app
        .graphql(
            &setup.key,
            "query($n: Int) { sources(first: $n) { totalCount } }",
            json!({ "n": parse("1.5") }),
        )
        .await;
    assert_eq!(crate::common::error_code(&body), "BAD_USER_INPUT");
    assert!(!body.to_string().contains("serde_json"), "{body}");
}

#[tokio::test]
async fn ordinary_listings_hash_as_they_always_did() {
    let setup = Setup::new().await;
    // Hashes computed by the server before exact numbers (RFC 8785 through
    // serde_json_canonicalizer), for the same listings.
    let listings = parse(
        r#"[{"id":"ord-1","price":250000,"rooms":3,"area":72.5,"ratio":0.1,"tiny":1e-7,"neg":-0.0,"big":1e21,"f":0.30000000000000004,"lat":48.8566,"lon":2.3522,"title":"Loft \"Lumière\" près de la gare\n\t😀","tags":["a","b"],"nested":{"z":1,"a":[1,2.50,{"é":null,"e":true,"\u00e9t":false}]},"max_safe":9007199254740992,"min_safe":-9007199254740992,"one":1.0,"exp":1.5e3},
            {"id":17,"price":199.99,"x":123456789012345,"y":-42,"z":0,"k":{"\ud83d\ude00":1,"\ufb01":2,"a":3}},
            {"id":"ord-3","empty":{},"arr":[],"s":"","ctrl":"\u0001\u001f\u007f"}]"#,
    );
    let before = [
        (
            "ord-1",
            "642082304e97c65bc9cc8d9ac73d90b9e5acfd8cffb171076e541c5a9a0cb72a",
        ),
        (
            "17",
            "405e7e3c4cbbaedcf1913b7c1e2b26e9db873100650f1afa222ebd68336c8e9e",
        ),
        (
            "ord-3",
            "4f095998c63064c1f1de1012d83d5c0315d7faea486b8de4d8289992a5fb4628",
        ),
    ];
    for (listing, (_, hash)) in listings.as_array().unwrap().iter().zip(before) {
        assert_eq!(rfc8785_hash(listing), hash);
        assert_eq!(content_hash(listing), hash);
    }
    assert_eq!(setup.import(listings, "INCREMENTAL").await, [3, 0, 0, 0]);
    let stored = setup.source_listings().await;
    for (external_id, hash) in before {
        let listing = stored
            .iter()
            .find(|l| l["externalId"] == external_id)
            .unwrap();
        assert_eq!(listing["contentHash"], hash, "{external_id}");
    }

    // And the canonical form is RFC 8785's for every number whose RFC 8785 text is exact.
    for text in [
        r#"{"b":[1,-1,0.5,1e-6,1e-7,123456789012345,1.23456789012345e-300,1.7976931348623157e308]}"#,
        r#"{"a":{"\u007f":"\u2028","\u0000":"\u001f","aa":true,"a":false,"Z":null}}"#,
        r#"[100000000000000000000,1e21,5e-324,-0.0,4.35,0.000001,2.220446049250313e-16]"#,
    ] {
        let value = parse(text);
        assert_eq!(
            canonical_json(&value),
            serde_json_canonicalizer::to_vec(&value).unwrap(),
            "{text}"
        );
    }
}

/// `(id, data, content_hash)` of every row of `table`.
async fn rows(db: &DatabaseConnection, table: &str) -> Vec<(i64, Value, String)> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(
        backend,
        format!("SELECT id, data, content_hash FROM {table} ORDER BY id"),
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.try_get("", "id").unwrap(),
            row.try_get("", "data").unwrap(),
            row.try_get("", "content_hash").unwrap(),
        )
    })
    .collect()
}

async fn execute(db: &DatabaseConnection, sql: String) {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
}

/// `(id, content_hash, base_hash, updated_at as text)` of every target listing.
async fn target_hashes(db: &DatabaseConnection) -> Vec<(i64, String, Option<String>, String)> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(
        backend,
        "SELECT id, content_hash, base_hash, CAST(updated_at AS TEXT) AS u FROM target_properties ORDER BY id",
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.try_get("", "id").unwrap(),
            row.try_get("", "content_hash").unwrap(),
            row.try_get("", "base_hash").unwrap(),
            row.try_get("", "u").unwrap(),
        )
    })
    .collect()
}

#[tokio::test]
async fn the_migration_rehashes_rows_with_big_integers_and_leaves_the_others() {
    let setup = Setup::new().await;
    let db = &setup.app.db;
    let listings = |note: &str| {
        parse(&format!(
            r#"[{{"id":"big","agent_id":1500000000000000001,"note":"{note}"}},
                {{"id":"ord","price":250000,"note":"{note}"}},
                {{"id":9007199254740993,"note":"{note}"}}]"#
        ))
    };
    assert_eq!(
        setup.import(listings("a"), "INCREMENTAL").await,
        [3, 0, 0, 0]
    );
    assert_eq!(setup.sync().await.0, [3, 0, 0, 0, 0]);
    // A second version (source snapshots), then a hand edit on the target (a target snapshot
    // of the synced version), and a sync that keeps the edit.
    assert_eq!(
        setup.import(listings("b"), "INCREMENTAL").await,
        [0, 3, 0, 0]
    );
    assert_eq!(setup.sync().await.0, [0, 3, 0, 0, 0]);
    let edited = setup.target_listing("big").await;
    let body = setup
        .edit(edited["id"].as_str().unwrap(), json!({"color": "red"}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    // The database as the code before exact numbers left it: RFC 8785 hashes everywhere,
    // and each target listing's base the RFC 8785 hash of its source listing.
    let tables = [
        "source_properties",
        "source_snapshots",
        "target_properties",
        "target_snapshots",
    ];
    let mut rehashed = 0;
    for table in tables {
        for (id, data, hash) in rows(db, table).await {
            let old = rfc8785_hash(&data);
            assert_eq!(hash, content_hash(&data));
            if old != hash {
                rehashed += 1;
            }
            execute(
                db,
                format!("UPDATE {table} SET content_hash = '{old}' WHERE id = {id}"),
            )
            .await;
        }
    }
    // "big" and 9007199254740993: 2 source listings, 2 source snapshots, 2 target listings,
    // 2 target snapshots of the second sync and 1 of the hand edit.
    assert_eq!(rehashed, 9);
    execute(
        db,
        "UPDATE target_properties SET base_hash = (SELECT content_hash FROM source_properties sp \
         WHERE sp.id = target_properties.source_property_id)"
            .into(),
    )
    .await;
    let old_targets = target_hashes(db).await;

    // Migration 9 again (and those after it).
    let from_nine = u32::try_from(Migrator::migrations().len() - 8).unwrap();
    Migrator::down(db, Some(from_nine)).await.unwrap();
    Migrator::up(db, None).await.unwrap();

    for table in tables {
        for (id, data, hash) in rows(db, table).await {
            assert_eq!(hash, content_hash(&data), "{table} {id}");
        }
    }
    let sources = rows(db, "source_properties").await;
    let new_targets = target_hashes(db).await;
    for (old, new) in old_targets.iter().zip(&new_targets) {
        // Timestamps untouched; the base of each listing is its source's new hash.
        assert_eq!(old.3, new.3);
        let listing = setup
            .target_listings()
            .await
            .into_iter()
            .find(|l| crate::common::decode_id(l["id"].as_str().unwrap()).1 == new.0)
            .unwrap();
        let source_hash = listing["sourceProperty"]["contentHash"].as_str().unwrap();
        assert_eq!(new.2.as_deref(), Some(source_hash));
        if listing["externalId"] == "ord" {
            assert_eq!(old, new, "an ordinary listing is left alone");
        } else {
            assert_ne!(old.2, new.2, "a big-integer listing gets a new base");
        }
    }
    assert!(sources.iter().any(|(_, data, _)| data["id"] == "ord"));

    // The next sync sees nothing changed, and the hand edit raises no conflict.
    let body = setup.sync_raw(false).await;
    let log = &body["data"]["syncSource"]["syncLog"];
    assert_eq!(log["skipped"], 3, "{body}");
    assert_eq!(log["updated"], 0, "{body}");
    assert_eq!(log["conflicts"], 0, "{body}");
    let conflicts = setup
        .app
        .data(&setup.key, "{ conflicts { totalCount } }", json!({}))
        .await;
    assert_eq!(conflicts["conflicts"]["totalCount"], 0);
}
