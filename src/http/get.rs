//! `GET /graphql`, as the GraphQL-over-HTTP specification describes it: the request is in the
//! URL's parameters (`query`, `variables`, `operationName`, `extensions`, the last two JSON
//! texts). They are turned into the JSON body a POST would carry, so a GET runs through the
//! same path (authentication, limits, persisted queries, the response cache); only queries
//! run over GET.

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

/// The GraphQL parameters of a GET's URL, as sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
    extensions: Option<String>,
}

impl GetParams {
    /// The parameters of `raw` (the URL's query string); a parameter given twice is an error.
    pub(super) fn parse(raw: Option<&str>) -> Result<Self, String> {
        let mut params = Self::default();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let slot = match name.as_ref() {
                "query" => &mut params.query,
                "variables" => &mut params.variables,
                "operationName" => &mut params.operation_name,
                "extensions" => &mut params.extensions,
                _ => continue,
            };
            if slot.is_some() {
                return Err(format!("the `{name}` parameter is given more than once"));
            }
            *slot = Some(value.into_owned());
        }
        Ok(params)
    }

    /// Whether the URL has a `query` parameter (without one, a browser gets GraphiQL).
    pub(super) fn has_query(&self) -> bool {
        self.query.is_some()
    }

    /// The JSON body a POST of the same request would carry. An empty parameter counts as
    /// absent; `variables` and `extensions` must be JSON objects.
    pub(super) fn into_body(self) -> Result<Bytes, String> {
        let present = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let query = present(self.query);
        let extensions = json_object("extensions", present(self.extensions))?;
        if query.is_none() && extensions.is_none() {
            return Err(
                "a GET /graphql request needs a `query` parameter (a GraphQL query, \
                 URL-encoded: /graphql?query=%7Bviewer%7Bname%7D%7D), or `extensions` with \
                 a persisted query's hash; GraphiQL is served to a browser (an Accept header \
                 with text/html) when there is no `query` parameter"
                    .into(),
            );
        }
        let mut body = Map::new();
        if let Some(query) = query {
            body.insert("query".into(), Value::String(query));
        }
        if let Some(variables) = json_object("variables", present(self.variables))? {
            body.insert("variables".into(), variables);
        }
        if let Some(name) = present(self.operation_name) {
            body.insert("operationName".into(), Value::String(name));
        }
        if let Some(extensions) = extensions {
            body.insert("extensions".into(), extensions);
        }
        serde_json::to_vec(&body)
            .map(Bytes::from)
            .map_err(|err| format!("the request cannot be encoded: {err}"))
    }
}

/// The JSON object in parameter `name`, if any (`null` counts as absent).
fn json_object(name: &str, text: Option<String>) -> Result<Option<Value>, String> {
    let Some(text) = text else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Null) => Ok(None),
        Ok(value @ Value::Object(_)) => Ok(Some(value)),
        Ok(_) => Err(format!(
            "the `{name}` parameter must be a JSON object (URL-encoded), such as {{\"first\":10}}"
        )),
        Err(err) => Err(format!(
            "the `{name}` parameter is not valid JSON: {err} (it must be a URL-encoded JSON object)"
        )),
    }
}

/// Whether the request's `Accept` header names `text/html` (a browser navigating here).
pub(super) fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or("").trim();
            let refused = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .any(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0));
            media.eq_ignore_ascii_case("text/html") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn parameters_become_the_body_a_post_would_carry() {
        let params = GetParams::parse(Some(
            "query=query%20Q(%24n%3AInt)%7Bviewer%7Bname%7D%7D&variables=%7B%22n%22%3A1.50%7D\
             &operationName=Q&other=x",
        ))
        .unwrap();
        assert!(params.has_query());
        assert_eq!(
            params.into_body().unwrap(),
            Bytes::from_static(
                br#"{"operationName":"Q","query":"query Q($n:Int){viewer{name}}","variables":{"n":1.50}}"#
            )
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let err = GetParams::parse(Some("query=a&query=b")).unwrap_err();
        assert_eq!(err, "the `query` parameter is given more than once");
        let err = GetParams::parse(Some("query=%7Ba%7D&variables=%7Bx"))
            .unwrap()
            .into_body()
            .unwrap_err();
        assert!(
            err.starts_with("the `variables` parameter is not valid JSON"),
            "{err}"
        );
        let err = GetParams::parse(Some("query=%7Ba%7D&extensions=%5B%5D"))
            .unwrap()
            .into_body()
            .unwrap_err();
        assert!(
            err.starts_with("the `extensions` parameter must be a JSON object"),
            "{err}"
        );
        let err = GetParams::parse(None).unwrap().into_body().unwrap_err();
        assert!(err.contains("needs a `query` parameter"), "{err}");
    }

    #[test]
    fn only_an_accept_naming_html_gets_the_page() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
            headers
        };
        assert!(accepts_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!accepts_html(&accept("*/*")));
        assert!(!accepts_html(&accept("application/json")));
        assert!(!accepts_html(&accept("text/html;q=0")));
        assert!(!accepts_html(&HeaderMap::new()));
    }
}
