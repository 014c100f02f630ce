//! Manual edits (rule 4): a JSON Merge Patch (RFC 7386) applied to a target listing, after a
//! snapshot. The listing is then marked `manually_modified`, so no sync overwrites it.
//! The listing's id field (its source's `config.id_field`) is not editable: it is what ties
//! the listing to its source listing and its `externalId`.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, Set};
use serde_json::Value;

use crate::domain::diff;
use crate::domain::hashing::content_hash;
use crate::domain::numbers;
use crate::domain::properties::{get_source_property, get_target_property};
use crate::domain::scope::TenantScope;
use crate::domain::snapshots::{SnapshotReason, snapshot_target_property};
use crate::domain::sql::{self, LockKind};
use crate::domain::tenant_write::TenantWrite;
use crate::entity::{source, target_property};
use crate::error::Error;
use crate::events::{ChangeCause, ChangeKind};
use crate::ids::{SourcePropertyId, TargetPropertyId};

/// Applies `patch` to a target listing of the scope's tenant. A patch that changes nothing
/// writes nothing.
pub async fn update_target_property(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetPropertyId,
    patch: Value,
) -> Result<target_property::Model, Error> {
    scope.require_write()?;
    if !patch.is_object() {
        return Err(Error::invalid(
            "input.patch",
            "must be a JSON object (a JSON Merge Patch: keys to set, null to remove)",
        ));
    }
    let mut patch = patch;
    numbers::store_exactly(&mut patch).map_err(|reason| Error::invalid("input.patch", reason))?;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let current = get_target_property(&txn, scope, id).await?;
    sql::lock(&txn, LockKind::Target, current.target_id).await?;
    // Read again under the lock, so a sync that just ran is seen.
    let current = get_target_property(&txn, scope, id).await?;
    let id_field = id_field_of(&txn, scope, &current).await?;
    if let Some(value) = patch.get(&id_field) {
        keep_id_field("input.patch", &id_field, &current, Some(value))?;
    }
    let mut data = current.data.clone();
    json_patch::merge(&mut data, &patch);
    let hash = content_hash(&data);
    if hash == current.content_hash {
        return Ok(current);
    }
    let now = Utc::now();
    snapshot_target_property(&txn, &current, SnapshotReason::ManualEdit, now).await?;
    let mut active: target_property::ActiveModel = current.into();
    active.data = Set(data);
    active.content_hash = Set(hash);
    active.manually_modified = Set(true);
    active.manual_changed_at = Set(Some(now));
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    crate::events::listing_changed(db, &updated, ChangeKind::Updated, ChangeCause::ManualEdit)
        .await;
    Ok(updated)
}

/// Refuses an edit that would set the listing's id field `id_field` to `value` (`None` or
/// null: remove it) unless that is the value it has. `input` names the edited input.
pub(crate) fn keep_id_field(
    input: &str,
    id_field: &str,
    current: &target_property::Model,
    value: Option<&Value>,
) -> Result<(), Error> {
    let unchanged = match (current.data.get(id_field), value) {
        (Some(now), Some(value)) => !value.is_null() && diff::same(now, value),
        _ => false,
    };
    if unchanged {
        return Ok(());
    }
    Err(Error::invalid(
        format!("{input}.{id_field}"),
        format!(
            "`{id_field}` is the listing's id field (the source's `config.id_field`) and cannot be changed or removed by hand; it ties the listing to its source listing `{}`",
            current.external_id
        ),
    ))
}

/// The id field of a target listing: its source's `config.id_field` (default `id`).
pub(crate) async fn id_field_of<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    listing: &target_property::Model,
) -> Result<String, Error> {
    let Some(source_property) = listing.source_property_id else {
        return Ok("id".to_owned());
    };
    let source_property =
        get_source_property(conn, scope, SourcePropertyId(source_property)).await?;
    let source = scope
        .get::<source::Entity, _>(conn, source_property.source_id)
        .await?;
    Ok(source
        .config
        .get("id_field")
        .and_then(Value::as_str)
        .unwrap_or("id")
        .to_owned())
}
