//! `serve --demo` keeps one demo key across restarts, and warns when it is reachable from
//! other machines.

use std::process::Stdio;

use serde_json::{Value, json};

use super::{Cli, Served};

const KEY_FILE: &str = "sync-manager-demo.key";

/// Starts the demo on `bind` and returns the key it printed and its banner line.
fn start_demo(cli: &Cli, bind: &str) -> (Served, String) {
    let command = cli.command(&["serve", "--demo", "--bind", bind]);
    let served = Served::start(command, "demo tenant API key");
    let line = served.lines.last().unwrap().trim_start().to_owned();
    let key = line.rsplit(' ').next().unwrap().to_owned();
    assert!(key.starts_with("smk_"), "{:?}", served.lines);
    (served, line)
}

#[tokio::test]
async fn two_starts_of_the_demo_leave_one_demo_key() {
    let cli = Cli::new().await;
    let (served, line) = start_demo(&cli, "127.0.0.1:0");
    drop(served);
    let (first, second_line) = (line.rsplit(' ').next().unwrap().to_owned(), line);
    assert!(
        second_line.starts_with(
            "demo tenant API key (new, kept in sync-manager-demo.key; already in GraphiQL's headers): "
        ),
        "{second_line}"
    );
    let file = cli.dir.join(KEY_FILE);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{first}\n")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let (served, line) = start_demo(&cli, "127.0.0.1:0");
    assert_eq!(
        line,
        format!(
            "demo tenant API key (reused from sync-manager-demo.key; already in GraphiQL's headers): {first}"
        )
    );
    assert_eq!(cli.count("api_keys").await, 1);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let viewer: Value = client
        .post(format!("{}/graphql", served.base))
        .header("content-type", "application/json")
        .header("x-api-key", &first)
        .body(json!({ "query": "{ viewer { slug apiKeys { totalCount } } }" }).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        viewer,
        json!({ "data": { "viewer": { "slug": "demo", "apiKeys": { "totalCount": 1 } } } })
    );
    drop(served);

    // A key file that no longer opens the demo tenant is replaced by a new key.
    std::fs::write(&file, "smk_not_a_key\n").unwrap();
    let (served, line) = start_demo(&cli, "127.0.0.1:0");
    drop(served);
    let third = line.rsplit(' ').next().unwrap().to_owned();
    assert_ne!(third, first);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{third}\n")
    );
    assert_eq!(cli.count("api_keys").await, 2);
}

#[tokio::test]
async fn the_demo_on_a_public_address_warns_that_its_page_hands_out_the_key() {
    let cli = Cli::new().await;
    let log = cli.dir.join("stderr.log");
    let command = cli.command(&["serve", "--demo", "--bind", "0.0.0.0:0"]);
    let served = Served::start_with_stderr(
        command,
        "demo tenant API key",
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    let address = served.base.strip_prefix("http://").unwrap().to_owned();
    drop(served);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(
        stderr.contains(&format!(
            "warning: --demo on {address}, which is not a loopback address: anyone who can \
             reach it gets the demo tenant's read-write API key from the GraphiQL page at \
             /graphql. Bind to 127.0.0.1 unless that is what you want."
        )),
        "{stderr}"
    );

    // On loopback, no warning.
    let command = cli.command(&["serve", "--demo", "--bind", "127.0.0.1:0"]);
    let served = Served::start_with_stderr(
        command,
        "demo tenant API key",
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    drop(served);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(!stderr.contains("warning"), "{stderr}");
}
