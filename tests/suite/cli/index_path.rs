//! `index-path add|list|drop`: what an operator types and reads, and the exit codes.

use serde_json::json;

use super::Cli;

#[tokio::test]
async fn an_operator_adds_lists_and_drops_an_indexed_path() {
    let cli = Cli::new().await;
    assert_eq!(cli.run(&["init"]).status.code(), Some(0));
    let listed = cli.run(&["index-path", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "no indexed paths\n"
    );

    let added = cli.run(&["index-path", "add", "address.city"]);
    assert_eq!(added.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&added.stdout),
        "indexed address.city on source_properties, target_properties\n"
    );
    let price = json!({ "path": "price", "tables": ["source_properties", "target_properties"], "ready": true });
    assert_eq!(
        cli.json(&["index-path", "add", "price", "--json"]),
        json!({ "indexedPath": price })
    );
    // Adding it again keeps it (`--wait`: how long to wait for a busy table).
    assert_eq!(
        cli.json(&["index-path", "add", "price", "--json", "--wait", "5"]),
        json!({ "indexedPath": price })
    );
    let city = json!({ "path": "address.city", "tables": ["source_properties", "target_properties"], "ready": true });
    assert_eq!(
        cli.json(&["index-path", "list", "--json"]),
        json!({ "indexedPaths": [city, price] })
    );

    assert_eq!(
        cli.json(&["index-path", "drop", "address.city", "--json"]),
        json!({ "droppedPath": "address.city" })
    );
    assert_eq!(
        cli.json(&["index-path", "list", "--json"]),
        json!({ "indexedPaths": [price] })
    );
    let stderr = cli.fails(&["index-path", "drop", "address.city"], 4);
    assert!(stderr.contains("address.city"), "{stderr}");
    let stderr = cli.fails(&["index-path", "add", "price'; --"], 3);
    assert!(stderr.contains("is not a path"), "{stderr}");
}
