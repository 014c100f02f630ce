//! Input checks shared by the domain modules; each names the field it rejects.

use serde_json::Value;

use crate::error::Error;

/// Longest accepted name.
const MAX_NAME_LEN: usize = 200;

/// A trimmed, non-empty name of at most 200 characters.
pub fn name(field: &str, raw: &str) -> Result<String, Error> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A JSON object (settings are always objects).
pub fn object(field: &str, value: Value) -> Result<Value, Error> {
    if value.is_object() {
        Ok(value)
    } else {
        Err(Error::invalid(field, "must be a JSON object"))
    }
}
