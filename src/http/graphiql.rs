//! GraphiQL, served by the binary itself: the page on `GET /graphql` (from a browser), its
//! files under `/graphiql/<hash>/<name>`, and their licences at `/graphiql/licenses.txt`.
//!
//! The files are pinned npm packages that `build.rs` embeds (see `graphiql/package.json`):
//! GraphiQL's UMD build, React's production builds, GraphiQL's CSS (its fonts are inlined as
//! `data:` URLs) and the `graphql-ws` client for subscriptions. The page runs no inline script:
//! `page.js` reads its settings from a JSON block, so the Content-Security-Policy can keep
//! `script-src 'self'`. A binary built without the files serves a page saying how to get them.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;

/// GraphiQL's files as `build.rs` embedded them.
struct Bundle {
    /// The exact GraphiQL version.
    graphiql_version: &'static str,
    /// (name served, content).
    files: &'static [(&'static str, &'static [u8])],
    /// Every bundled package's licence, as one text.
    licenses: &'static str,
}

// `BUNDLE: Result<Bundle, &str>`: the files, or why this build has none.
include!(concat!(env!("OUT_DIR"), "/graphiql_assets.rs"));

/// Starts GraphiQL with the page's settings (a file, not an inline script, for the CSP).
const PAGE_JS: &str = include_str!("graphiql/page.js");
/// The page's own layout around GraphiQL.
const PAGE_CSS: &str = include_str!("graphiql/page.css");

/// The query the editor opens with: the README's first query.
pub(super) const DEFAULT_QUERY: &str = "{
  viewer { name slug }
  sources(first: 10) {
    totalCount
    edges { cursor node { id name kind active config } }
    pageInfo { hasNextPage endCursor }
  }
  targets { nodes { id name kind conflictPolicy } }
}
";

/// Where GraphiQL's fetcher opens subscriptions (`ws(s)://<origin>` + this path).
const SUBSCRIPTION_PATH: &str = "/graphql/ws";

/// Where the licences of the bundled packages are served.
const LICENSES_PATH: &str = "/graphiql/licenses.txt";

/// The assets' `Cache-Control`: their paths change with their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The page, its files by path, and their licences: built once at start-up.
pub(super) struct Graphiql {
    page: String,
    /// Whether the page is the real GraphiQL (its CSP lets it load its files and connect).
    bundled: bool,
    assets: HashMap<String, Asset>,
    licenses: &'static str,
}

struct Asset {
    content_type: &'static str,
    bytes: Bytes,
}

impl Graphiql {
    /// GraphiQL with this build's files; with `demo_key`, its headers hold that key.
    pub(super) fn new(demo_key: Option<&str>) -> Self {
        Self::build(BUNDLE, demo_key)
    }

    fn build(bundle: Result<Bundle, &str>, demo_key: Option<&str>) -> Self {
        let bundle = match bundle {
            Ok(bundle) => bundle,
            Err(why) => {
                return Self {
                    page: missing_page(why),
                    bundled: false,
                    assets: HashMap::new(),
                    licenses: "This build of Sync Manager has no GraphiQL files.\n",
                };
            }
        };
        let own = [
            ("page.js", PAGE_JS.as_bytes()),
            ("page.css", PAGE_CSS.as_bytes()),
        ];
        let mut assets = HashMap::new();
        let mut paths = HashMap::new();
        for (name, bytes) in bundle.files.iter().copied().chain(own) {
            let path = format!("/graphiql/{}/{name}", content_hash(bytes));
            let content_type = if name.ends_with(".css") {
                "text/css; charset=utf-8"
            } else {
                "text/javascript; charset=utf-8"
            };
            paths.insert(name, path.clone());
            assets.insert(
                path,
                Asset {
                    content_type,
                    bytes: Bytes::from_static(bytes),
                },
            );
        }
        Self {
            page: page(bundle.graphiql_version, &paths, demo_key),
            bundled: true,
            assets,
            licenses: bundle.licenses,
        }
    }

    /// The page, with a Content-Security-Policy for the origin the browser reached (`host`).
    pub(super) fn page_response(&self, headers: &HeaderMap) -> Response {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|host| {
                host.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            });
        let csp = if self.bundled {
            content_security_policy(host)
        } else {
            "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
                .to_owned()
        };
        let mut response = (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                // With `--demo` the page holds a key: never keep it in a shared cache.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            self.page.clone(),
        )
            .into_response();
        if let Ok(csp) = HeaderValue::from_str(&csp) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        response
    }
}

/// The policy of the real page: everything from this origin, nothing from elsewhere. GraphiQL
/// needs `'unsafe-inline'` styles (its dialogs lock scrolling by inserting a `<style>`
/// element, react-remove-scroll's, which takes a nonce only from a bundler) and `data:`
/// fonts and images (inlined in its CSS); scripts stay `'self'`. Subscriptions connect to
/// `ws(s)://` of the same host.
fn content_security_policy(host: Option<&str>) -> String {
    let mut connect = String::from("'self'");
    if let Some(host) = host {
        let _ = write!(connect, " ws://{host} wss://{host}");
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         font-src 'self' data:; img-src 'self' data:; connect-src {connect}; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    )
}

/// The first 16 hex digits of the SHA-256 of `bytes`: an asset's path changes with it.
fn content_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The GraphiQL page: the files by their hashed paths, and the settings `page.js` reads.
fn page(graphiql_version: &str, paths: &HashMap<&str, String>, demo_key: Option<&str>) -> String {
    let path = |name: &str| escape_html(paths.get(name).map_or("", String::as_str));
    let headers = serde_json::to_string_pretty(&serde_json::json!({
        "X-API-Key": demo_key.unwrap_or(""),
    }))
    .unwrap_or_default();
    let settings = serde_json::json!({
        "endpoint": "/graphql",
        "subscriptionPath": SUBSCRIPTION_PATH,
        "defaultQuery": DEFAULT_QUERY,
        "defaultHeaders": headers,
    });
    // Inside <script type="application/json">, only `</script` could end the block early.
    let settings = settings
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e");
    let key_note = if demo_key.is_some() {
        "The demo tenant's API key is already in the <b>Headers</b> tab below."
    } else {
        "Put your API key in the <b>Headers</b> tab below: <code>{\"X-API-Key\": \"…\"}</code>."
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sync Manager GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{graphiql_css}">
<link rel="stylesheet" href="{page_css}">
<script type="application/json" id="sync-manager-graphiql">{settings}</script>
<script defer src="{react}"></script>
<script defer src="{react_dom}"></script>
<script defer src="{graphiql}"></script>
<script defer src="{graphql_ws}"></script>
<script defer src="{page_js}"></script>
</head>
<body>
<header class="sync-manager-bar">
<span><b>Sync Manager</b> GraphiQL {version}</span>
<span id="sync-manager-key-note">{key_note}</span>
<a href="{LICENSES_PATH}">Licences</a>
</header>
<main id="graphiql">Loading GraphiQL…</main>
</body>
</html>
"#,
        graphiql_css = path("graphiql.min.css"),
        page_css = path("page.css"),
        react = path("react.production.min.js"),
        react_dom = path("react-dom.production.min.js"),
        graphiql = path("graphiql.min.js"),
        graphql_ws = path("graphql-ws.min.js"),
        page_js = path("page.js"),
        version = escape_html(graphiql_version),
    )
}

/// The page of a binary built without GraphiQL's files: why, and how to get them.
fn missing_page(why: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sync Manager · GraphiQL is not in this build</title></head>
<body>
<h1>GraphiQL is not in this build</h1>
<p>This <code>sync-manager</code> binary was built without GraphiQL's files: {why}.</p>
<p>To get them, build on a machine with <a href="https://nodejs.org/">Node.js and npm</a>
and access to the npm registry: <code>cargo build</code> runs <code>npm ci</code> in the
<code>graphiql/</code> folder of the source (or run it there yourself), checks the pinned
packages against <code>graphiql/package-lock.json</code> and embeds them. The server then
needs no network to serve GraphiQL.</p>
<p>The API works without it: <code>POST /graphql</code> with
<code>Content-Type: application/json</code> and your key in <code>X-API-Key</code>, or
<code>GET /graphql?query=…</code>.</p>
</body>
</html>
"#,
        why = escape_html(why)
    )
}

/// `GET /graphiql/<hash>/<name>`: an embedded file, cached for a year (its path changes with
/// its content).
pub(super) async fn asset(
    State(state): State<AppState>,
    Path((hash, name)): Path<(String, String)>,
) -> Response {
    let path = format!("/graphiql/{hash}/{name}");
    match state.inner.graphiql.assets.get(&path) {
        Some(asset) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            asset.bytes.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!("no GraphiQL file at {path}: reload /graphql for the current paths\n"),
        )
            .into_response(),
    }
}

/// `GET /graphiql/licenses.txt`: the licences of every package in the page.
pub(super) async fn licenses(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        state.inner.graphiql.licenses,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_query_is_the_readmes_first_query() {
        let readme = include_str!("../../README.md");
        let first = readme
            .split("```graphql\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next());
        assert_eq!(first, Some(DEFAULT_QUERY));
    }

    #[test]
    fn a_build_without_the_files_says_how_to_get_them() {
        let graphiql = Graphiql::build(Err("npm is not installed"), Some("demo-key"));
        let response = graphiql.page_response(&HeaderMap::new());
        assert!(graphiql.assets.is_empty());
        assert!(graphiql.page.contains("npm is not installed"));
        assert!(graphiql.page.contains("npm ci"));
        assert!(graphiql.page.contains("graphiql/"));
        assert!(!graphiql.page.contains("<script"));
        assert!(!graphiql.page.contains("demo-key"));
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
        );
    }

    #[test]
    fn the_page_holds_the_key_only_in_demo_mode() {
        let files: &'static [(&'static str, &'static [u8])] = &[
            ("react.production.min.js", b"react"),
            ("graphiql.min.css", b"css"),
        ];
        let bundle = || Bundle {
            graphiql_version: "4.1.2",
            files,
            licenses: "MIT",
        };
        let plain = Graphiql::build(Ok(bundle()), None);
        assert!(plain.page.contains(r#"\"X-API-Key\": \"\""#));
        assert!(
            plain
                .page
                .contains("Put your API key in the <b>Headers</b> tab")
        );
        let demo = Graphiql::build(Ok(bundle()), Some("sm_demo</script>"));
        assert!(
            demo.page
                .contains(r#"\"X-API-Key\": \"sm_demo\u003c/script\u003e\""#)
        );
        assert!(!demo.page.contains("sm_demo</script>"));
        let react = format!(
            "/graphiql/{}/react.production.min.js",
            content_hash(b"react")
        );
        assert!(plain.page.contains(&format!(r#"src="{react}""#)));
        assert!(plain.assets.contains_key(&react));
        assert_eq!(
            plain.assets.len(),
            4,
            "two bundled files, page.js and page.css"
        );
    }

    #[test]
    fn the_policy_allows_only_the_pages_origin() {
        assert_eq!(
            content_security_policy(Some("127.0.0.1:8000")),
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             font-src 'self' data:; img-src 'self' data:; \
             connect-src 'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000; object-src 'none'; \
             base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
        );
    }
}
