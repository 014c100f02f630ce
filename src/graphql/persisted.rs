//! Automatic persisted queries (the APQ protocol of Apollo clients): a client sends a query's
//! SHA-256 instead of its text; the first time, with the text, the server keeps it.
//! Kept outside the schema's extensions, which would otherwise wrap every field's resolution.

use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

/// Why a persisted query could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum PersistedQueryError {
    /// The hash is unknown: send the query text with it once.
    NotFound,
    /// The hash does not match the query text sent with it.
    HashMismatch,
}

/// Query texts by hash; past the capacity, the queries used least go first (`quick_cache`).
#[derive(Debug)]
pub struct PersistedQueries {
    queries: Cache<String, String>,
}

impl PersistedQueries {
    /// A store that keeps up to `capacity` queries.
    pub fn new(capacity: usize) -> Self {
        Self {
            queries: Cache::new(capacity.max(1)),
        }
    }

    /// Fills in the query text of a persisted-query request, or remembers the text it brings.
    pub fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), PersistedQueryError> {
        let Some(hash) = request
            .extensions
            .get("persistedQuery")
            .and_then(|ext| match ext {
                async_graphql::Value::Object(map) => map.get("sha256Hash"),
                _ => None,
            })
            .and_then(|hash| match hash {
                async_graphql::Value::String(hash) => Some(hash.to_ascii_lowercase()),
                _ => None,
            })
        else {
            return Ok(());
        };
        if request.query.is_empty() {
            return match self.queries.get(&hash) {
                Some(query) => {
                    request.query = query;
                    Ok(())
                }
                None => Err(PersistedQueryError::NotFound),
            };
        }
        if hex::encode(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(PersistedQueryError::HashMismatch);
        }
        if !self.queries.contains_key(&hash) {
            self.queries.insert(hash, request.query.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, of: &str) -> async_graphql::Request {
        let hash = hex::encode(Sha256::digest(of.as_bytes()));
        let mut request = async_graphql::Request::new(query);
        let extension = async_graphql::Value::from_json(serde_json::json!({
            "version": 1, "sha256Hash": hash
        }))
        .unwrap();
        request
            .extensions
            .insert("persistedQuery".into(), extension);
        request
    }

    #[test]
    fn a_query_sent_once_is_found_by_its_hash() {
        let store = PersistedQueries::new(10);
        let query = "{ viewer { id } }";
        assert_eq!(
            store.resolve(&mut request("", query)),
            Err(PersistedQueryError::NotFound)
        );
        assert_eq!(store.resolve(&mut request(query, query)), Ok(()));
        let mut by_hash = request("", query);
        assert_eq!(store.resolve(&mut by_hash), Ok(()));
        assert_eq!(by_hash.query, query);
    }

    #[test]
    fn a_hash_of_another_text_is_refused() {
        let store = PersistedQueries::new(10);
        assert_eq!(
            store.resolve(&mut request("{ a }", "{ b }")),
            Err(PersistedQueryError::HashMismatch)
        );
    }

    #[test]
    fn the_store_keeps_at_most_its_capacity() {
        let store = PersistedQueries::new(10);
        for n in 0..100 {
            let query = format!("{{ q{n}: viewer {{ id }} }}");
            assert_eq!(store.resolve(&mut request(&query, &query)), Ok(()));
        }
        assert!(store.queries.len() <= 10, "{} kept", store.queries.len());
        let last = "{ q99: viewer { id } }";
        assert_eq!(store.resolve(&mut request("", last)), Ok(()));
    }
}
