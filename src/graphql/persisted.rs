//! Automatic persisted queries (the APQ protocol of Apollo clients): a client sends a query's
//! SHA-256 instead of its text; the first time, with the text, the server keeps it.
//! Kept outside the schema's extensions, which would otherwise wrap every field's resolution.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Why a persisted query could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum PersistedQueryError {
    /// The hash is unknown: send the query text with it once.
    NotFound,
    /// The hash does not match the query text sent with it.
    HashMismatch,
}

/// Query texts by hash, the oldest forgotten first past the capacity.
#[derive(Debug)]
pub struct PersistedQueries {
    capacity: usize,
    queries: Mutex<(HashMap<String, String>, VecDeque<String>)>,
}

impl PersistedQueries {
    /// A store that keeps up to `capacity` queries.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            queries: Mutex::new((HashMap::new(), VecDeque::new())),
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
        let Ok(mut guard) = self.queries.lock() else {
            return Err(PersistedQueryError::NotFound);
        };
        let (queries, order) = &mut *guard;
        if request.query.is_empty() {
            return match queries.get(&hash) {
                Some(query) => {
                    request.query = query.clone();
                    Ok(())
                }
                None => Err(PersistedQueryError::NotFound),
            };
        }
        if hex::encode(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(PersistedQueryError::HashMismatch);
        }
        if queries
            .insert(hash.clone(), request.query.clone())
            .is_none()
        {
            order.push_back(hash);
            while order.len() > self.capacity {
                if let Some(oldest) = order.pop_front() {
                    queries.remove(&oldest);
                }
            }
        }
        Ok(())
    }
}
