//! GraphiQL in a real browser: the `sync-manager serve --demo` binary, and headless Chromium
//! driven over chromedriver (WebDriver) with every host but 127.0.0.1 unresolvable. The
//! editor renders, a typed query runs and shows data, the docs pane lists `Query`, every file
//! the page loaded came from the server's origin with a 200, a `syncProgress` subscription run
//! from the editor shows the `FINISHED` event of a sync (run by the CLI on PostgreSQL), and a
//! screenshot is written to `target/graphiql.png`.
//!
//! Runs when `CHROMIUM` (the browser) and `CHROMEDRIVER` (its driver) name the programs, as
//! `.ci/run` sets them after installing Debian's `chromium` and `chromium-driver`; without them
//! it says it is skipped and passes, so `cargo test` needs only Rust.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::cli::{Cli, Served};

/// The chromedriver process, ended when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port for chromedriver.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A WebDriver session of headless Chromium, through chromedriver listening on `port`.
async fn connect(chromium: &str, port: u16) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
                "--window-size=1400,900",
                // Any host but the server's fails to resolve: the page must need none.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = None;
    // chromedriver needs a moment before it listens.
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(err) => last_error = Some(err),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no WebDriver session from {url}: {last_error:?}");
}

/// Runs `script` in the page until it returns a string containing `wanted` (for up to 15 s);
/// returns the last string it returned.
async fn text_of(client: &Client, script: &str, wanted: &str) -> String {
    text_within(client, script, wanted, 150).await
}

/// As [`text_of`], for up to `tries` tenths of a second.
async fn text_within(client: &Client, script: &str, wanted: &str, tries: usize) -> String {
    let mut text = String::new();
    for _ in 0..tries {
        text = match client.execute(script, vec![]).await {
            Ok(Value::String(text)) => text,
            Ok(other) => other.to_string(),
            Err(err) => err.to_string(),
        };
        if text.contains(wanted) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    text
}

#[tokio::test]
async fn graphiql_runs_a_query_in_headless_chromium_without_the_network() {
    let (Ok(chromium), Ok(chromedriver)) =
        (std::env::var("CHROMIUM"), std::env::var("CHROMEDRIVER"))
    else {
        eprintln!(
            "skipped: set CHROMIUM and CHROMEDRIVER (e.g. /usr/bin/chromium and \
             /usr/bin/chromedriver from Debian's chromium and chromium-driver) to run the \
             GraphiQL browser test; .ci/run does"
        );
        return;
    };
    let cli = Cli::new().await;
    let served = Served::start(
        cli.command(&["serve", "--demo", "--bind", "127.0.0.1:0"]),
        "demo tenant API key",
    );
    let port = free_port();
    let _driver = Driver(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}")),
    );
    let client = connect(&chromium, port).await;
    let mut outcome = check_graphiql(&client, &served.base).await;
    if outcome.is_ok() {
        outcome = check_subscription(&client, &cli, &served.base).await;
    }
    if outcome.is_ok() {
        outcome = screenshot(&client).await;
    }
    let _ = client.close().await;
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

async fn check_graphiql(client: &Client, base: &str) -> Result<(), String> {
    let fail = |what: &str| {
        let what = what.to_owned();
        move |err: fantoccini::error::CmdError| format!("{what}: {err}")
    };
    client
        .goto(&format!("{base}/graphql"))
        .await
        .map_err(fail("open /graphql"))?;
    // The editor renders only when every script loaded and ran.
    let editor = client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(".graphiql-query-editor .CodeMirror textarea"))
        .await
        .map_err(fail("GraphiQL's query editor never rendered"))?;
    let opened = text_of(
        client,
        "return document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue();",
        "viewer",
    )
    .await;
    if !opened.starts_with("{\n  viewer { name slug }\n  sources(first: 10)") {
        return Err(format!(
            "the editor opened with {opened:?}, not the README's first query"
        ));
    }

    // Typed into the editor as a person would (CodeMirror closes each `{`; typing `}` steps
    // over the closing one).
    editor
        .send_keys(&(Key::Control + "a"))
        .await
        .map_err(fail("select the editor's text"))?;
    editor
        .send_keys("{ viewer { name slug } }")
        .await
        .map_err(fail("type a query"))?;
    let typed = text_of(
        client,
        "return document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue();",
        "",
    )
    .await;
    if typed != "{ viewer { name slug } }" {
        return Err(format!("the editor holds {typed:?} after typing"));
    }
    client
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .map_err(fail("the run button"))?
        .click()
        .await
        .map_err(fail("click the run button"))?;
    let answer = text_of(
        client,
        "const r = document.querySelector('.graphiql-response'); return r ? r.innerText : '';",
        "Demo Agency",
    )
    .await;
    if !(answer.contains("\"name\": \"Demo Agency\"") && answer.contains("\"slug\": \"demo\"")) {
        return Err(format!("the response pane shows {answer:?}"));
    }

    client
        .find(Locator::XPath(
            "//button[contains(@aria-label, 'Documentation Explorer')]",
        ))
        .await
        .map_err(fail("the docs button"))?
        .click()
        .await
        .map_err(fail("open the docs"))?;
    let docs = text_of(
        client,
        "const d = document.querySelector('.graphiql-doc-explorer'); return d ? d.innerText : '';",
        "Query",
    )
    .await;
    if !docs.contains("query: Query") {
        return Err(format!("the docs pane shows {docs:?}"));
    }

    // Everything the page loaded came from the server, and was found.
    let loaded = client
        .execute(
            "return performance.getEntriesByType('resource')
                 .map(e => ({ name: e.name, status: e.responseStatus }));",
            vec![],
        )
        .await
        .map_err(fail("list the page's resources"))?;
    let loaded = loaded.as_array().cloned().unwrap_or_default();
    let origin = format!("{base}/");
    for resource in &loaded {
        let name = resource["name"].as_str().unwrap_or("");
        if !name.starts_with(&origin) {
            return Err(format!("the page loaded {name}, outside {base}"));
        }
        if resource["status"] != 200 {
            return Err(format!("{name} answered {}", resource["status"]));
        }
    }
    for file in [
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql.min.css",
        "graphql-ws.min.js",
        "page.js",
        "page.css",
    ] {
        if !loaded
            .iter()
            .any(|r| r["name"].as_str().is_some_and(|n| n.ends_with(file)))
        {
            return Err(format!("the page did not load {file}: {loaded:?}"));
        }
    }

    Ok(())
}

/// GraphiQL runs a subscription over WebSocket: `syncProgress` of the demo's source and target
/// shows the `FINISHED` event of a sync run meanwhile: from the CLI (another process) on
/// PostgreSQL, whose events reach the server through `NOTIFY`; over the API on SQLite, where a
/// CLI run reaches no server (see the README).
async fn check_subscription(client: &Client, cli: &Cli, base: &str) -> Result<(), String> {
    let subscription = r#"subscription { syncProgress(sourceId: "U291cmNlOjE", targetId: "VGFyZ2V0OjE") { phase processed total syncLog { actor } } }"#;
    client
        .execute(
            "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(arguments[0]);",
            vec![json!(subscription)],
        )
        .await
        .map_err(|e| format!("put the subscription in the editor: {e}"))?;
    client
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .map_err(|e| format!("the run button: {e}"))?
        .click()
        .await
        .map_err(|e| format!("click the run button: {e}"))?;
    let on_postgres = cli.url.starts_with("postgres");
    let key = std::fs::read_to_string(cli.dir.join("sync-manager-demo.key"))
        .map_err(|e| format!("the demo key: {e}"))?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let read_pane =
        "const r = document.querySelector('.graphiql-response'); return r ? r.innerText : '';";
    let mut pane = String::new();
    // The subscription starts once its socket is acknowledged: sync until an event shows.
    for _ in 0..20 {
        if on_postgres {
            let output = cli.run(&["sync", "demo", "Nightly portal scrape", "Agency website"]);
            if !output.status.success() {
                return Err(format!(
                    "the CLI sync failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        } else {
            http.post(format!("{base}/graphql"))
                .header("x-api-key", key.trim())
                .json(&json!({ "query": "mutation { syncSource(input: { sourceId: \"U291cmNlOjE\", targetId: \"VGFyZ2V0OjE\" }) { syncLog { id } } }" }))
                .send()
                .await
                .map_err(|e| format!("the API sync: {e}"))?;
        }
        pane = text_within(client, read_pane, "FINISHED", 20).await;
        if pane.contains("FINISHED") {
            break;
        }
    }
    let actor = if on_postgres {
        "\"actor\": \"cli\""
    } else {
        "\"actor\": \"api_key:"
    };
    if !(pane.contains("\"phase\": \"FINISHED\"") && pane.contains(actor)) {
        return Err(format!("the subscription shows {pane:?}"));
    }
    Ok(())
}

/// Writes what the browser shows to `target/graphiql.png`.
async fn screenshot(client: &Client) -> Result<(), String> {
    let png = client
        .screenshot()
        .await
        .map_err(|e| format!("take a screenshot: {e}"))?;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/graphiql.png");
    std::fs::write(path, png).map_err(|e| format!("write {path}: {e}"))?;
    eprintln!("screenshot of GraphiQL: {path}");
    Ok(())
}
