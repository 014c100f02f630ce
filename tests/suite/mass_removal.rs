//! The mass-removal guard: a `FULL` import or a sync that would remove more than
//! `config.max_removal_percent` (default 20) of the live listings, or all of them, is refused
//! with `MASS_REMOVAL` and leaves nothing but its record; `allowMassRemoval` lets it through.

use serde_json::{Value, json};

use crate::cli::Cli;
use crate::common::{assert_bad_input, error_code};
use crate::engine::Setup;

const IMPORT: &str = "mutation($s: ID!, $items: JSON!, $dry: Boolean!, $allow: Boolean!) { \
    importProperties(input: { sourceId: $s, items: $items, mode: FULL, dryRun: $dry, allowMassRemoval: $allow }) { \
      importRun { id created updated unchanged removed dryRun wouldRemove massRemovalRefused } } }";

const SYNC: &str = "mutation($s: ID!, $t: ID!, $dry: Boolean!, $allow: Boolean!) { \
    syncSource(input: { sourceId: $s, targetId: $t, dryRun: $dry, allowMassRemoval: $allow }) { \
      syncLog { id created updated skipped removed dryRun wouldRemove massRemovalRefused } } }";

/// Listings `0..n` with `price`.
fn listings(ids: std::ops::Range<i64>, price: i64) -> Value {
    json!(
        ids.map(|i| json!({ "id": i, "price": price }))
            .collect::<Vec<_>>()
    )
}

async fn full_import(s: &Setup, items: Value, dry: bool, allow: bool) -> Value {
    s.app
        .graphql(
            &s.key,
            IMPORT,
            json!({ "s": s.source, "items": items, "dry": dry, "allow": allow }),
        )
        .await
}

async fn sync(s: &Setup, dry: bool, allow: bool) -> Value {
    s.app
        .graphql(
            &s.key,
            SYNC,
            json!({ "s": s.source, "t": s.target, "dry": dry, "allow": allow }),
        )
        .await
}

/// `(external id, content hash, removed)` of every source listing.
async fn source_state(s: &Setup) -> Vec<(Value, Value, bool)> {
    s.source_listings()
        .await
        .into_iter()
        .map(|l| {
            (
                l["externalId"].clone(),
                l["contentHash"].clone(),
                !l["removedAt"].is_null(),
            )
        })
        .collect()
}

/// The record a refused run left, read back by its id.
async fn record(s: &Setup, id: &Value) -> Value {
    let data = s
        .app
        .data(
            &s.key,
            "query($id: ID!) { node(id: $id) { \
               ... on ImportRun { created updated unchanged removed dryRun wouldRemove massRemovalRefused } \
               ... on SyncLog { created updated skipped removed dryRun wouldRemove massRemovalRefused } } }",
            json!({ "id": id }),
        )
        .await;
    data["node"].clone()
}

#[tokio::test]
async fn a_full_import_removing_more_than_the_limit_is_refused_and_writes_only_its_record() {
    let s = Setup::new().await;
    let body = full_import(&s, listings(0..10, 100), false, false).await;
    assert_eq!(body["data"]["importProperties"]["importRun"]["created"], 10);
    let before = source_state(&s).await;

    // 7 of 10 listed, one of them changed: 3 of 10 removed is 30%, more than 20.
    let mut seven = listings(0..7, 100);
    seven[0]["price"] = json!(999);
    let body = full_import(&s, seven.clone(), false, false).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL", "{body}");
    let error = &body["errors"][0];
    assert_eq!(
        error["message"],
        "this FULL import would remove 3 of 10 live listings (30%), more than the source's \
         max_removal_percent of 20; nothing was changed. If that is intended, pass \
         allowMassRemoval: true (CLI: --allow-mass-removal), or raise the source's \
         config.max_removal_percent"
    );
    assert_eq!(error["extensions"]["wouldRemove"], 3);
    assert_eq!(error["extensions"]["liveListings"], 10);
    assert_eq!(error["extensions"]["maxRemovalPercent"], 20);
    assert!(body["data"].is_null());
    // Nothing changed: not the removals, not the changed listing.
    assert_eq!(source_state(&s).await, before);
    assert!(
        s.source_listings()
            .await
            .iter()
            .all(|l| l["snapshots"]["totalCount"] == 0)
    );
    // Only the refused run's record, with zero counts.
    assert_eq!(s.audit_counts().await, (2, 0));
    assert_eq!(
        record(&s, &error["extensions"]["recordId"]).await,
        json!({ "created": 0, "updated": 0, "unchanged": 0, "removed": 0, "dryRun": false,
                "wouldRemove": 3, "massRemovalRefused": true })
    );

    // An empty scrape would remove all of them.
    let body = full_import(&s, json!([]), false, false).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().starts_with(
            "this FULL import would remove 10 of 10 live listings (100%), every one of them;"
        ),
        "{body}"
    );
    assert_eq!(source_state(&s).await, before);

    // A dry run says what it would remove and that the guard would refuse it.
    let body = full_import(&s, seven.clone(), true, false).await;
    let run = &body["data"]["importProperties"]["importRun"];
    assert_eq!(
        [
            &run["updated"],
            &run["unchanged"],
            &run["removed"],
            &run["wouldRemove"],
            &run["massRemovalRefused"],
            &run["dryRun"]
        ],
        [
            &json!(1),
            &json!(6),
            &json!(3),
            &json!(3),
            &json!(true),
            &json!(true)
        ]
    );
    assert_eq!(source_state(&s).await, before);

    // Exactly the limit passes: 2 of 10 is 20%.
    let body = full_import(&s, listings(0..8, 100), false, false).await;
    let run = &body["data"]["importProperties"]["importRun"];
    assert_eq!(
        [
            &run["removed"],
            &run["wouldRemove"],
            &run["massRemovalRefused"]
        ],
        [&json!(2), &json!(2), &json!(false)]
    );

    // allowMassRemoval lets the refused import through, changes included.
    let body = full_import(&s, seven, false, true).await;
    let run = &body["data"]["importProperties"]["importRun"];
    assert_eq!(
        [
            &run["updated"],
            &run["removed"],
            &run["wouldRemove"],
            &run["massRemovalRefused"]
        ],
        [&json!(1), &json!(1), &json!(1), &json!(false)]
    );
    let removed = source_state(&s).await.iter().filter(|l| l.2).count();
    assert_eq!(removed, 3);
}

#[tokio::test]
async fn the_limit_is_the_source_or_target_config_and_is_checked() {
    let s = Setup::new().await;
    let update = |config: Value| {
        let s = &s;
        async move {
            s.app
                .graphql(
                    &s.key,
                    "mutation($s: ID!, $c: JSON!) { \
                       updateSource(input: { id: $s, config: $c }) { source { config } } }",
                    json!({ "s": s.source, "c": config }),
                )
                .await
        }
    };
    for bad in [json!(101), json!(-1), json!(12.5), json!("20"), json!(null)] {
        let body = update(json!({ "max_removal_percent": bad })).await;
        assert_bad_input(&body, "input.config.max_removal_percent");
        assert_eq!(
            body["errors"][0]["message"],
            "invalid input.config.max_removal_percent: must be an integer from 0 to 100: the \
             largest share of live listings, in percent, one FULL import or sync may mark \
             removed (default 20), e.g. 35"
        );
    }
    let body = s
        .app
        .graphql(
            &s.key,
            "mutation($t: ID!) { updateTarget(input: { id: $t, config: { max_removal_percent: 200 } }) { target { id } } }",
            json!({ "t": s.target }),
        )
        .await;
    assert_bad_input(&body, "input.config.max_removal_percent");

    let body = update(json!({ "max_removal_percent": 50 })).await;
    assert!(body.get("errors").is_none(), "{body}");
    full_import(&s, listings(0..10, 1), false, false).await;
    // 6 of 10 is more than 50%; 5 of 10 is not.
    let body = full_import(&s, listings(0..4, 1), false, false).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL");
    assert_eq!(body["errors"][0]["extensions"]["maxRemovalPercent"], 50);
    let body = full_import(&s, listings(0..5, 1), false, false).await;
    assert_eq!(
        body["data"]["importProperties"]["importRun"]["removed"], 5,
        "{body}"
    );

    // 100: anything but everything.
    update(json!({ "max_removal_percent": 100 })).await;
    let body = full_import(&s, listings(0..1, 1), false, false).await;
    assert_eq!(body["data"]["importProperties"]["importRun"]["removed"], 4);
    let body = full_import(&s, json!([]), false, false).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL");

    // 0: any removal.
    update(json!({ "max_removal_percent": 0 })).await;
    full_import(&s, listings(0..3, 1), false, true).await;
    let body = full_import(&s, listings(0..2, 1), false, false).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL");
    assert_eq!(body["errors"][0]["extensions"]["wouldRemove"], 1);
}

#[tokio::test]
async fn a_sync_carrying_a_mass_removal_to_a_target_is_refused() {
    let s = Setup::new().await;
    full_import(&s, listings(0..5, 1), false, false).await;
    assert_eq!(s.sync().await.0, [5, 0, 0, 0, 0]);
    // The source removes 4 of 5 (allowed there), and changes the last one.
    let body = full_import(&s, listings(4..5, 2), false, true).await;
    assert_eq!(body["data"]["importProperties"]["importRun"]["removed"], 4);
    let before = s.target_listings().await;

    let body = sync(&s, false, false).await;
    assert_eq!(error_code(&body), "MASS_REMOVAL", "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "this sync would remove 4 of 5 live listings (80%), more than the target's \
         max_removal_percent of 20; nothing was changed. If that is intended, pass \
         allowMassRemoval: true (CLI: --allow-mass-removal), or raise the target's \
         config.max_removal_percent"
    );
    // The target is untouched (not even the changed listing), and the log records the refusal.
    assert_eq!(s.target_listings().await, before);
    assert_eq!(
        record(&s, &body["errors"][0]["extensions"]["recordId"]).await,
        json!({ "created": 0, "updated": 0, "skipped": 0, "removed": 0, "dryRun": false,
                "wouldRemove": 4, "massRemovalRefused": true })
    );

    let body = sync(&s, true, false).await;
    let log = &body["data"]["syncSource"]["syncLog"];
    assert_eq!(
        [
            &log["updated"],
            &log["removed"],
            &log["wouldRemove"],
            &log["massRemovalRefused"]
        ],
        [&json!(1), &json!(4), &json!(4), &json!(true)]
    );
    assert_eq!(s.target_listings().await, before);

    let body = sync(&s, false, true).await;
    let log = &body["data"]["syncSource"]["syncLog"];
    assert_eq!(
        [&log["updated"], &log["removed"], &log["massRemovalRefused"]],
        [&json!(1), &json!(4), &json!(false)]
    );
    let removed = s
        .target_listings()
        .await
        .iter()
        .filter(|l| !l["removedAt"].is_null())
        .count();
    assert_eq!(removed, 4);
}

#[tokio::test]
async fn the_cli_refuses_with_exit_code_8_unless_told_to_allow_it() {
    let cli = Cli::new().await;
    cli.json(&["create-tenant", "Acme", "--json"]);
    cli.json(&["create-source", "acme", "Feed", "--json"]);
    cli.json(&["create-target", "acme", "Site", "--json"]);
    std::fs::write(
        cli.dir.join("all.json"),
        r#"[{"id": 1}, {"id": 2}, {"id": 3}]"#,
    )
    .unwrap();
    std::fs::write(cli.dir.join("none.json"), "[]").unwrap();
    cli.json(&[
        "import", "acme", "Feed", "all.json", "--mode", "full", "--json",
    ]);
    cli.json(&["sync", "acme", "Feed", "Site", "--json"]);

    let stderr = cli.fails(
        &["import", "acme", "Feed", "none.json", "--mode", "full"],
        8,
    );
    assert!(
        stderr.contains("this FULL import would remove 3 of 3 live listings (100%)"),
        "{stderr}"
    );
    let run = cli.json(&[
        "import",
        "acme",
        "Feed",
        "none.json",
        "--mode",
        "full",
        "--dry-run",
        "--json",
    ])["importRun"]
        .clone();
    assert_eq!(
        [&run["removed"], &run["massRemovalRefused"]],
        [&json!(3), &json!(true)]
    );
    // migrate-json takes the same guard and flag.
    let migrate = |extra: &[&str]| {
        let mut args = vec![
            "migrate-json",
            "--tenant",
            "acme",
            "--source",
            "Feed",
            "none.json",
            "--mode",
            "full",
        ];
        args.extend_from_slice(extra);
        cli.run(&args).status.code()
    };
    assert_eq!(migrate(&[]), Some(8));
    // The refused imports removed nothing: the allowed one removes all three.
    let run = cli.json(&[
        "import",
        "acme",
        "Feed",
        "none.json",
        "--mode",
        "full",
        "--allow-mass-removal",
        "--json",
    ])["importRun"]
        .clone();
    assert_eq!(
        [&run["removed"], &run["massRemovalRefused"]],
        [&json!(3), &json!(false)]
    );

    let stderr = cli.fails(&["sync", "acme", "Feed", "Site"], 8);
    assert!(
        stderr.contains("this sync would remove 3 of 3 live listings (100%)"),
        "{stderr}"
    );
    let log = cli.json(&[
        "sync",
        "acme",
        "Feed",
        "Site",
        "--allow-mass-removal",
        "--json",
    ]);
    assert_eq!(log["syncLog"]["removed"], 3);

    cli.json(&["import", "acme", "Feed", "all.json", "--json"]);
    assert_eq!(migrate(&["--allow-mass-removal"]), Some(0));
    assert_eq!(
        cli.count("import_runs WHERE removed = 3 AND NOT dry_run")
            .await,
        2
    );
}
