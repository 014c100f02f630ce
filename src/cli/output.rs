//! Printing results: a line for people, or one JSON object with `--json` for scripts.
//!
//! The JSON uses the GraphQL API's vocabulary: a command prints the payload of the mutation
//! it matches (`create-tenant` prints `createTenant`'s `{tenant, apiKey, key}`), with the
//! same field names and enum values, and a failure prints `{"error": {code, message,
//! field}}` with the codes of `extensions.code`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::cli::choices;
use crate::db::OpenError;
use crate::domain::import::ImportMode;
use crate::entity::{api_key, cleanup_run, import_run, source, sync_log, target, tenant};
use crate::error::{Error, code};
use crate::graphql::types::enums as api;
use crate::ids::{ApiKeyId, CleanupRunId, ImportRunId, SourceId, SyncLogId, TargetId, TenantId};

/// Prints `json` as one line when `as_json`, else the human `text`. A closed stdout (`| head`)
/// is not an error worth a panic.
pub(crate) fn print(as_json: bool, json: &Value, text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = if as_json {
        writeln!(out, "{json}")
    } else {
        writeln!(out, "{text}")
    };
}

/// An error's message with its causes, each said once: a cause whose text the message
/// already holds (wrappers that repeat their source) is left out.
pub(crate) fn error_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// The JSON of a domain error: its `extensions.code`, its message, and the input it names.
pub(crate) fn domain_error_json(error: &Error) -> Value {
    let field = match error {
        Error::InvalidInput { field, .. } => Some(field.as_str()),
        _ => None,
    };
    json!({ "code": error.code(), "message": error.to_string(), "field": field })
}

/// Prints `{"error": {code, message, field}}` on stdout for a failed `--json` command.
pub(crate) fn print_error(error: &anyhow::Error, message: &str) {
    let body = match error.downcast_ref::<Error>() {
        Some(domain) => domain_error_json(domain),
        None => {
            let code = match error.downcast_ref::<OpenError>() {
                Some(OpenError::Unreachable { .. } | OpenError::Refused { .. }) => {
                    code::SERVICE_UNAVAILABLE
                }
                _ => code::INTERNAL,
            };
            json!({ "code": code, "message": message, "field": null })
        }
    };
    print(true, &json!({ "error": body }), "");
}

/// Prints `{"error": {code, message, field}}` on stdout for a command line that did not
/// parse (`BAD_USER_INPUT`, `field` the argument clap names, if it names one).
pub(crate) fn print_usage_error(error: &clap::Error) {
    use clap::error::{ContextKind, ContextValue};
    // clap's first paragraph, without its `error: ` and on one line.
    let rendered = error.to_string();
    let message = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let message = message.trim_start_matches("error: ");
    let field = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => Some(arg.clone()),
        _ => None,
    };
    print(
        true,
        &json!({ "error": { "code": code::BAD_USER_INPUT, "message": message, "field": field } }),
        "",
    );
}

/// A time as GraphQL's `DateTime` prints it (RFC 3339).
fn time(at: DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339())
}

/// A `Tenant` with the fields GraphQL names so.
pub(crate) fn tenant_json(model: &tenant::Model) -> Value {
    json!({
        "id": TenantId(model.id).to_global(),
        "name": model.name,
        "slug": model.slug,
        "createdAt": time(model.created_at),
    })
}

/// An `ApiKey` with the fields GraphQL names so (never the key itself).
pub(crate) fn api_key_json(model: &api_key::Model) -> Value {
    // As stored, upper-cased as GraphQL names them: printing needs no judgement of them.
    let scopes: Vec<Value> = model
        .scopes
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| Value::String(s.as_str().unwrap_or_default().to_uppercase()))
        .collect();
    let ids = |column: &Option<Value>, global: fn(i64) -> String| {
        column.as_ref().and_then(Value::as_array).map(|ids| {
            ids.iter()
                .filter_map(Value::as_i64)
                .map(global)
                .collect::<Vec<_>>()
        })
    };
    json!({
        "id": ApiKeyId(model.id).to_global(),
        "name": model.name,
        "prefix": model.prefix,
        "scopes": scopes,
        "sourceIds": ids(&model.source_ids, |id| SourceId(id).to_global()),
        "targetIds": ids(&model.target_ids, |id| TargetId(id).to_global()),
        "expiresAt": model.expires_at.map(time),
        "createdAt": time(model.created_at),
    })
}

/// A `Source` with the fields GraphQL names so.
pub(crate) fn source_json(model: &source::Model) -> Value {
    let when = (model.created_at, model.updated_at);
    let kind = choices::api_name::<api::SourceKind, _>(model.kind);
    catalog_json(
        SourceId(model.id).to_global(),
        &model.name,
        kind,
        model.active,
        &model.config,
        when,
    )
}

/// A `Target` with the fields GraphQL names so.
pub(crate) fn target_json(model: &target::Model) -> Value {
    let when = (model.created_at, model.updated_at);
    let kind = choices::api_name::<api::TargetKind, _>(model.kind);
    let mut json = catalog_json(
        TargetId(model.id).to_global(),
        &model.name,
        kind,
        model.active,
        &model.config,
        when,
    );
    json["conflictPolicy"] =
        choices::api_name::<api::ConflictPolicy, _>(model.conflict_policy).into();
    json
}

/// The fields a `Source` and a `Target` share; `when` is (created, updated).
fn catalog_json(
    id: String,
    name: &str,
    kind: &str,
    active: bool,
    config: &Value,
    when: (DateTime<Utc>, DateTime<Utc>),
) -> Value {
    json!({
        "id": id,
        "name": name,
        "kind": kind,
        "active": active,
        "config": config,
        "createdAt": time(when.0),
        "updatedAt": time(when.1),
    })
}

/// An `ImportRun` with the fields GraphQL names so.
pub(crate) fn import_run_json(model: &import_run::Model) -> Value {
    json!({
        "id": ImportRunId(model.id).to_global(),
        "sourceId": SourceId(model.source_id).to_global(),
        "mode": choices::api_name::<api::ImportMode, _>(model.mode),
        "dryRun": model.dry_run,
        "created": model.created,
        "updated": model.updated,
        "unchanged": model.unchanged,
        "removed": model.removed,
        "wouldRemove": model.would_remove,
        "massRemovalRefused": model.mass_removal_refused,
        "warnings": model.warnings,
        "actor": model.actor,
        "startedAt": time(model.started_at),
        "finishedAt": time(model.finished_at),
        "durationMs": (model.finished_at - model.started_at).num_milliseconds(),
    })
}

/// A `SyncLog` with the fields GraphQL names so.
pub(crate) fn sync_log_json(model: &sync_log::Model) -> Value {
    json!({
        "id": SyncLogId(model.id).to_global(),
        "sourceId": SourceId(model.source_id).to_global(),
        "targetId": TargetId(model.target_id).to_global(),
        "dryRun": model.dry_run,
        "created": model.created,
        "updated": model.updated,
        "skipped": model.skipped,
        "conflicts": model.conflicts,
        "newConflicts": model.new_conflicts,
        "openConflicts": model.open_conflicts,
        "keptEdits": model.kept_edits,
        "merged": model.merged,
        "removed": model.removed,
        "wouldRemove": model.would_remove,
        "massRemovalRefused": model.mass_removal_refused,
        "warnings": model.warnings,
        "durationMs": (model.finished_at - model.started_at).num_milliseconds(),
    })
}

/// A cleanup record as GraphQL's `CleanupRun` answers it.
pub(crate) fn cleanup_run_json(model: &cleanup_run::Model) -> Value {
    json!({
        "id": CleanupRunId(model.id).to_global(),
        "olderThanDays": model.older_than_days,
        "cutoff": time(model.cutoff),
        "dryRun": model.dry_run,
        "sourceSnapshotsDeleted": model.source_snapshots_deleted,
        "targetSnapshotsDeleted": model.target_snapshots_deleted,
        "keptPinned": model.kept_pinned,
        "actor": model.actor,
        "startedAt": time(model.started_at),
        "finishedAt": time(model.finished_at),
    })
}

/// An import mode as GraphQL spells it.
pub(crate) fn import_mode_json(mode: ImportMode) -> Value {
    Value::from(choices::api_name::<api::ImportMode, _>(mode))
}
