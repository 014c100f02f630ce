//! Listing pages decode their rows themselves on PostgreSQL (`src/store/pager/pg_columns.rs`):
//! every column a page answers must be what SeaORM reads from the same row, nulls, flags,
//! timestamps and resolutions included.

use sea_orm::EntityTrait;
use serde_json::{Value, json};
use sync_manager::entity::{source_property, target_property};

use super::Setup;

/// A timestamp as the API writes it.
fn at(t: &chrono::DateTime<chrono::Utc>) -> Value {
    Value::String(t.to_rfc3339())
}

fn maybe_at(t: &Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.as_ref().map_or(Value::Null, at)
}

#[tokio::test]
async fn listing_pages_answer_every_column_as_stored() {
    let s = Setup::new().await;
    let scrape = |b_price: u32, with_c: bool| {
        let mut items = vec![
            json!({ "id": "a", "price": 100, "nested": { "x": [1, 2.50, "é"] } }),
            json!({ "id": "b", "price": b_price }),
        ];
        if with_c {
            items.push(json!({ "id": "c", "price": 300 }));
        }
        items.extend(["d", "e", "f"].map(|id| json!({ "id": id, "price": 400 })));
        Value::Array(items)
    };
    s.import(scrape(200, true), "FULL").await;
    s.sync().await;
    // A hand edit, then a source change: a conflict, resolved keeping the edit; and one
    // listing gone from the scrape.
    let b = s.target_listing("b").await;
    let b_id = b["id"].as_str().unwrap().to_owned();
    s.edit(&b_id, json!({ "price": 190 })).await;
    s.import(scrape(210, false), "FULL").await;
    s.sync().await;
    s.app
        .data(
            &s.key,
            "mutation($id: ID!) { resolveConflict(input: { id: $id, resolution: KEEP_TARGET }) { targetProperty { id } } }",
            json!({ "id": b_id }),
        )
        .await;

    let pages = s
        .app
        .data(
            &s.key,
            "{ sources(first: 5) { nodes { properties(first: 10) { nodes { externalId contentHash removedAt createdAt updatedAt data } } } }
               targets(first: 5) { nodes { properties(first: 10) { nodes { externalId contentHash baseHash manuallyModified manualChangedAt hasConflict removedAt lastSyncedAt createdAt updatedAt version data editedPaths lastResolution { resolution resolvedAt resolvedBy } } } } } }",
            json!({}),
        )
        .await;

    let mut sources = source_property::Entity::find()
        .all(&s.app.db)
        .await
        .unwrap();
    sources.sort_by_key(|m| m.id);
    let expected: Vec<Value> = sources
        .iter()
        .map(|m| {
            json!({
                "externalId": m.external_id,
                "contentHash": m.content_hash,
                "removedAt": maybe_at(&m.removed_at),
                "createdAt": at(&m.created_at),
                "updatedAt": at(&m.updated_at),
                "data": m.data,
            })
        })
        .collect();
    assert_eq!(
        pages["sources"]["nodes"][0]["properties"]["nodes"],
        json!(expected)
    );
    assert!(sources.iter().any(|m| m.removed_at.is_some()));

    let mut targets = target_property::Entity::find()
        .all(&s.app.db)
        .await
        .unwrap();
    targets.sort_by_key(|m| m.id);
    let resolved = targets
        .iter()
        .find(|m| m.resolution.is_some())
        .expect("a resolved listing");
    assert!(resolved.manual_changed_at.is_some() && resolved.resolved_at.is_some());
    let expected: Vec<Value> = targets
        .iter()
        .map(|m| {
            let resolution = m.resolution.map(|_| {
                json!({
                    "resolution": "KEEP_TARGET",
                    "resolvedAt": maybe_at(&m.resolved_at),
                    "resolvedBy": m.resolved_by,
                })
            });
            json!({
                "externalId": m.external_id,
                "contentHash": m.content_hash,
                "baseHash": m.base_hash,
                "manuallyModified": m.manually_modified,
                "manualChangedAt": maybe_at(&m.manual_changed_at),
                "hasConflict": m.conflict,
                "removedAt": maybe_at(&m.removed_at),
                "lastSyncedAt": maybe_at(&m.last_synced_at),
                "createdAt": at(&m.created_at),
                "updatedAt": at(&m.updated_at),
                "version": m.version,
                "data": m.data,
                "editedPaths": m.edited_paths,
                "lastResolution": resolution,
            })
        })
        .collect();
    assert_eq!(
        pages["targets"]["nodes"][0]["properties"]["nodes"],
        json!(expected)
    );
}
