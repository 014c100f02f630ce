//! Typed ids and the opaque global ids the API shows.
//!
//! Inside the crate every key is a newtype (`SourceId`, `TargetId`…) so one can't be passed
//! for another. Outside, an object is named by a global id: URL-safe base64 of `Type:number`,
//! which `node(id)` resolves and every CLI command accepts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

/// What every typed id does, for code generic over the kind of object an id names.
pub(crate) trait TypedId: Copy + Into<i64> {
    /// Parses a global id that must name this type; `field` names the input in errors.
    fn from_global(global: &str, field: &str) -> Result<Self, Error>;
    /// The opaque global id of the object.
    fn to_global(self) -> String;
}

/// Declares a typed id: a newtype over the `i64` primary key that knows its GraphQL type name.
macro_rules! id_type {
    ($(#[$doc:meta] $name:ident => $type_name:literal),+ $(,)?) => {
        $(
            #[$doc]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $name(pub i64);

            impl $name {
                /// The GraphQL type this id names.
                pub(crate) const TYPE_NAME: &'static str = $type_name;

                /// The opaque global id of this object.
                pub fn to_global(self) -> String {
                    encode_global($type_name, self.0)
                }

                /// Parses a global id that must name this type; `field` names the input in errors.
                pub(crate) fn from_global(global: &str, field: &str) -> Result<Self, Error> {
                    let (type_name, id) = decode_global(global, field)?;
                    if type_name != $type_name {
                        return Err(Error::invalid(
                            field,
                            format!("expected the id of a {}, got the id of a {type_name}", $type_name),
                        ));
                    }
                    Ok(Self(id))
                }
            }

            impl TypedId for $name {
                fn from_global(global: &str, field: &str) -> Result<Self, Error> {
                    $name::from_global(global, field)
                }

                fn to_global(self) -> String {
                    $name::to_global(self)
                }
            }

            impl From<$name> for i64 {
                fn from(id: $name) -> i64 {
                    id.0
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(&self.to_global())
                }
            }
        )+
    };
}

id_type! {
    /// A tenant.
    TenantId => "Tenant",
    /// An API key.
    ApiKeyId => "ApiKey",
    /// A source.
    SourceId => "Source",
    /// A target.
    TargetId => "Target",
    /// A listing of a source.
    SourcePropertyId => "SourceProperty",
    /// A listing of a target.
    TargetPropertyId => "TargetProperty",
    /// A snapshot of a source listing.
    SourceSnapshotId => "SourceSnapshot",
    /// A snapshot of a target listing.
    TargetSnapshotId => "TargetSnapshot",
    /// An import run.
    ImportRunId => "ImportRun",
    /// A sync log.
    SyncLogId => "SyncLog",
    /// The record of a snapshot cleanup.
    CleanupRunId => "CleanupRun",
}

/// Encodes `Type:id` as an opaque global id.
pub fn encode_global(type_name: &str, id: i64) -> String {
    encode_pair(type_name, id)
}

/// Base64url of `prefix:id`, built on the stack: pages write one per row, so this avoids
/// the formatting machinery and an intermediate string.
pub(crate) fn encode_pair(prefix: &str, id: i64) -> String {
    let mut text = Vec::with_capacity(32);
    write_pair(&mut text, prefix, id);
    // Base64url is ASCII.
    String::from_utf8(text).unwrap_or_default()
}

/// Appends the base64url of `prefix:id` to `out` (see [`encode_pair`]).
pub(crate) fn write_pair(out: &mut Vec<u8>, prefix: &str, id: i64) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(id).as_bytes();
    let mut raw = [0u8; 96];
    let len = prefix.len() + 1 + digits.len();
    if len > raw.len() {
        out.extend_from_slice(URL_SAFE_NO_PAD.encode(format!("{prefix}:{id}")).as_bytes());
        return;
    }
    let (head, tail) = raw.split_at_mut(prefix.len());
    head.copy_from_slice(prefix.as_bytes());
    tail[0] = b':';
    tail[1..=digits.len()].copy_from_slice(digits);
    let start = out.len();
    out.resize(start + len.div_ceil(3) * 4, 0);
    let written = URL_SAFE_NO_PAD
        .encode_slice(&raw[..len], &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
}

/// Decodes a global id into its type name and key; `field` names the input in errors.
pub fn decode_global(global: &str, field: &str) -> Result<(String, i64), Error> {
    let not_an_id = || Error::invalid(field, format!("`{global}` is not a valid id"));
    let bytes = URL_SAFE_NO_PAD
        .decode(global.trim_end_matches('='))
        .map_err(|_| not_an_id())?;
    let text = String::from_utf8(bytes).map_err(|_| not_an_id())?;
    let (type_name, id) = text.split_once(':').ok_or_else(not_an_id)?;
    let id = id.parse::<i64>().map_err(|_| not_an_id())?;
    if type_name.is_empty() || !type_name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(not_an_id());
    }
    Ok((type_name.to_owned(), id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_encode_as_their_formatted_text() {
        for id in [0, 7, 42, 1_000_000, i64::MAX, -1, i64::MIN] {
            assert_eq!(
                encode_pair("SourceProperty", id),
                URL_SAFE_NO_PAD.encode(format!("SourceProperty:{id}")),
                "{id}"
            );
        }
        let long = "T".repeat(100);
        assert_eq!(
            encode_pair(&long, 1),
            URL_SAFE_NO_PAD.encode(format!("{long}:1"))
        );
        // Appended after what the buffer holds, every length of padding left out.
        let mut out = b"[\"".to_vec();
        for prefix in ["S", "So", "Sou", "Source"] {
            write_pair(&mut out, prefix, 12);
            out.push(b',');
        }
        let expected: Vec<String> = ["S", "So", "Sou", "Source"]
            .iter()
            .map(|prefix| URL_SAFE_NO_PAD.encode(format!("{prefix}:12")))
            .collect();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("[\"{},", expected.join(","))
        );
    }

    #[test]
    fn global_ids_round_trip_and_check_their_type() {
        let global = SourceId(42).to_global();
        assert_eq!(
            SourceId::from_global(&global, "id").ok(),
            Some(SourceId(42))
        );
        let err = TargetId::from_global(&global, "input.id").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid input.id: expected the id of a Target, got the id of a Source"
        );
        assert!(decode_global("not base64!", "id").is_err());
        assert!(decode_global(&URL_SAFE_NO_PAD.encode("Source:x"), "id").is_err());
    }
}
