//! Content hashes: SHA-256 (hex) of a listing's RFC 8785 (JCS) canonical JSON, so key order,
//! whitespace and number spelling never change a hash and a scraper can compute it too.

use sha2::{Digest, Sha256};

/// The content hash of `value`.
pub fn content_hash(value: &serde_json::Value) -> String {
    let canonical =
        serde_json_canonicalizer::to_vec(value).unwrap_or_else(|_| value.to_string().into_bytes());
    hex::encode(Sha256::digest(&canonical))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_whitespace_do_not_change_the_hash() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":[1,2,{"y":true,"x":null}]}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str("{ \"a\" : [1, 2, {\"x\": null, \"y\": true}],\n \"b\": 1 }")
                .unwrap();
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(
            content_hash(&a),
            content_hash(&json!({"b": 2, "a": [1, 2, {"x": null, "y": true}]}))
        );
        // SHA-256 of the canonical `{"a":2,"b":1}`.
        assert_eq!(
            content_hash(&json!({"b": 1, "a": 2})),
            hex::encode(Sha256::digest(br#"{"a":2,"b":1}"#))
        );
    }
}
