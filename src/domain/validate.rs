//! Input checks shared by the domain modules; each names the field it rejects.

use serde_json::Value;

use crate::error::Error;

/// Longest accepted name.
const MAX_NAME_LEN: usize = 200;

/// Why a value with a NUL character is refused.
pub const NUL_REASON: &str = "contains a NUL character (\\u0000), which cannot be stored";

/// Whether a JSON value holds a NUL character anywhere, keys included (PostgreSQL can store
/// it in neither `text` nor `jsonb`).
pub fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// A trimmed, non-empty name of at most 200 characters, without NUL characters.
pub fn name(field: &str, raw: &str) -> Result<String, Error> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if trimmed.contains('\0') {
        return Err(Error::invalid(field, NUL_REASON));
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A JSON object (settings are always objects) without NUL characters.
pub fn object(field: &str, value: Value) -> Result<Value, Error> {
    if !value.is_object() {
        Err(Error::invalid(field, "must be a JSON object"))
    } else if has_nul(&value) {
        Err(Error::invalid(field, NUL_REASON))
    } else {
        Ok(value)
    }
}
