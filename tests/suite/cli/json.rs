//! One vocabulary: every `--json` output is the payload of the GraphQL mutation it matches,
//! with the same names and values as the API shows for the same objects, and a failed
//! `--json` command prints `{"error": {code, message, field}}` on stdout.

use serde_json::{Value, json};

use super::{Cli, str_of};

/// A selection of exactly the fields `object` has (`sub` gives the sub-selection of a
/// field that needs one).
fn selection_of(object: &Value, sub: &[(&str, &str)]) -> String {
    object
        .as_object()
        .unwrap()
        .keys()
        .map(|key| match sub.iter().find(|(field, _)| field == key) {
            Some((_, inner)) => format!("{key} {inner}"),
            None => key.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn every_json_output_is_what_graphql_shows_for_the_same_object() {
    let cli = Cli::new().await;
    let created = cli.json(&["create-tenant", "Acme Homes", "--json"]);
    let key = str_of(&created, "key").to_owned();
    let keyed = cli.json(&[
        "create-api-key",
        "acme-homes",
        "--name",
        "scraper",
        "--read-only",
        "--json",
    ]);
    let mut keys: Vec<&String> = keyed.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["apiKey", "key"], "createApiKey's payload: {keyed}");
    let source = cli.json(&[
        "create-source",
        "acme-homes",
        "Feed",
        "--kind",
        "scraped",
        "--config",
        r#"{"id_field":"ref"}"#,
        "--json",
    ]);
    let target = cli.json(&[
        "create-target",
        "acme-homes",
        "Site",
        "--conflict-policy",
        "keep-target",
        "--json",
    ]);
    std::fs::write(cli.dir.join("a.json"), r#"[{"ref": "x", "price": 1}]"#).unwrap();
    let imported = cli.json(&["import", "acme-homes", "Feed", "a.json", "--json"]);
    assert_eq!(imported["listings"], 1);
    let synced = cli.json(&["sync", "acme-homes", "Feed", "Site", "--json"]);
    let cleaned = cli.json(&["cleanup", "acme-homes", "--dry-run", "--json"]);

    // Each object the CLI printed, asked of the API with exactly its fields.
    let query = format!(
        "{{ viewer {{ {tenant} apiKeys {{ nodes {{ {api_key} }} }} }}
           sources {{ nodes {{ {source} importRuns {{ nodes {{ {run} }} }} }} }}
           targets {{ nodes {{ {target} }} }}
           syncLogs {{ nodes {{ {log} }} }} }}",
        tenant = selection_of(&created["tenant"], &[]),
        api_key = selection_of(&created["apiKey"], &[]),
        source = selection_of(&source["source"], &[]),
        run = selection_of(&imported["importRun"], &[]),
        target = selection_of(&target["target"], &[]),
        log = selection_of(
            &synced["syncLog"],
            &[("warnings", "{ externalId targetPropertyId message }")]
        ),
    );
    let body = cli.graphql(&key, &query).await;
    assert!(body.get("errors").is_none(), "{body}");
    let data = &body["data"];
    let mut viewer = data["viewer"].clone();
    let api_keys = viewer.as_object_mut().unwrap().remove("apiKeys").unwrap();
    assert_eq!(viewer, created["tenant"]);
    assert_eq!(api_keys["nodes"][0], created["apiKey"]);
    assert_eq!(api_keys["nodes"][1], keyed["apiKey"]);
    let mut listed = data["sources"]["nodes"][0].clone();
    let runs = listed
        .as_object_mut()
        .unwrap()
        .remove("importRuns")
        .unwrap();
    assert_eq!(listed, source["source"]);
    assert_eq!(runs["nodes"][0], imported["importRun"]);
    assert_eq!(data["targets"]["nodes"][0], target["target"]);
    assert_eq!(data["syncLogs"]["nodes"][0], synced["syncLog"]);
    // Enum values as GraphQL spells them.
    assert_eq!(keyed["apiKey"]["scopes"], json!(["READ"]));
    assert_eq!(source["source"]["kind"], "SCRAPED");
    assert_eq!(target["target"]["conflictPolicy"], "KEEP_TARGET");
    assert_eq!(imported["importRun"]["mode"], "INCREMENTAL");

    // cleanup prints `cleanupSnapshots`'s payload.
    let mut keys: Vec<&String> = cleaned.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "cleanupRun",
            "cutoff",
            "dryRun",
            "keptPinned",
            "sourceSnapshotsDeleted",
            "targetSnapshotsDeleted"
        ]
    );
}

/// Runs a `--json` command that must fail with `code`; returns the one JSON line of stdout.
fn json_error(cli: &Cli, args: &[&str], code: i32) -> Value {
    let output = cli.run(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "{args:?}: one line of JSON: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap()
}

#[tokio::test]
async fn a_failed_json_command_prints_a_json_error() {
    let cli = Cli::new().await;
    cli.json(&["create-tenant", "Acme", "--json"]);
    cli.json(&["create-source", "acme", "Feed", "--json"]);

    assert_eq!(
        json_error(&cli, &["create-source", "nobody", "Other", "--json"], 4),
        json!({ "error": { "code": "NOT_FOUND", "message": "Tenant not found: nobody", "field": null } })
    );
    assert_eq!(
        json_error(&cli, &["create-api-key", "nobody", "--json"], 4)["error"]["code"],
        "NOT_FOUND"
    );
    let duplicate = json_error(&cli, &["create-source", "acme", "Feed", "--json"], 5);
    assert_eq!(duplicate["error"]["code"], "CONFLICT");
    assert_eq!(duplicate["error"]["field"], Value::Null);
    let invalid = json_error(
        &cli,
        &["create-target", "acme", "Site", "--config", "[1]", "--json"],
        3,
    );
    assert_eq!(invalid["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(invalid["error"]["field"], "input.config");
    std::fs::write(cli.dir.join("bad.jsonl"), "{\"id\": 5}\n{\"price\": 1}\n").unwrap();
    assert_eq!(
        json_error(&cli, &["import", "acme", "Feed", "bad.jsonl", "--json"], 3),
        json!({ "error": {
            "code": "BAD_USER_INPUT",
            "message": "invalid bad.jsonl:2: has no `id` field",
            "field": "bad.jsonl:2",
        } })
    );
    assert_eq!(
        json_error(&cli, &["sync", "acme", "Feed", "Nope", "--json"], 4)["error"]["code"],
        "NOT_FOUND"
    );
    assert_eq!(
        json_error(&cli, &["cleanup", "acme", "--days=-1", "--json"], 3)["error"]["code"],
        "BAD_USER_INPUT"
    );
    assert_eq!(
        json_error(
            &cli,
            &[
                "migrate-json",
                "--tenant",
                "nobody",
                "--source",
                "Feed",
                "--auto",
                "--json"
            ],
            4
        )["error"]["code"],
        "NOT_FOUND"
    );
    // A command line that does not parse.
    assert_eq!(
        json_error(
            &cli,
            &[
                "create-source",
                "acme",
                "Other",
                "--kind",
                "telepathy",
                "--json"
            ],
            2
        ),
        json!({ "error": {
            "code": "BAD_USER_INPUT",
            "message": "invalid value 'telepathy' for '--kind <KIND>' [possible values: json, scraped, manual]",
            "field": "--kind <KIND>",
        } })
    );

    // Without --json, failures leave stdout empty.
    let output = cli.run(&["create-source", "nobody", "Other"]);
    assert_eq!(output.status.code(), Some(4));
    assert!(output.stdout.is_empty());
    assert_eq!(cli.count("sources").await, 1);
}
