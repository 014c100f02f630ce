//! Manual edits (rule 4): a JSON Merge Patch (RFC 7386) applied to a target listing, after a
//! snapshot. The listing is then marked `manually_modified`, so no sync overwrites it, and
//! the paths the patch touched join its `edited_paths` (see [`merge::patched_paths`]).
//! The listing's id field (its source's `config.id_field`) is not editable: it is what ties
//! the listing to its source listing and its `externalId`.
//!
//! Every change of a target listing row increments its `version`. A caller that read version
//! N may pass `expected_version: N`: the change is refused with `STALE_VERSION` when the
//! listing has moved on, and the write itself is a compare-and-set (`… WHERE version = N`),
//! so of two edits made from the same version only one can win.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use crate::domain::diff;
use crate::domain::listings::{get_source_property, get_target_property};
use crate::domain::merge;
use crate::domain::snapshots::snapshot_target_property;
use crate::entity::SnapshotReason;
use crate::entity::{source, target_property};
use crate::error::Error;
use crate::events::{ChangeCause, ChangeKind};
use crate::hashing::content_hash;
use crate::ids::{SourcePropertyId, TargetPropertyId};
use crate::store::locks::{self, LockKind};
use crate::store::numbers;
use crate::store::scope::{Permission, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// Applies `patch` to a target listing of the scope's tenant. A patch that changes nothing
/// writes nothing. With `expected_version`, a listing at another version is refused with
/// [`Error::StaleVersion`].
pub async fn update_target_property(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetPropertyId,
    patch: Value,
    expected_version: Option<i64>,
) -> Result<target_property::Model, Error> {
    scope.require(Permission::Edit)?;
    if !patch.is_object() {
        return Err(Error::invalid(
            "input.patch",
            "must be a JSON object (a JSON Merge Patch: keys to set, null to remove)",
        ));
    }
    let mut patch = patch;
    numbers::store_exactly(&mut patch).map_err(|reason| Error::invalid("input.patch", reason))?;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let current = locked_target_property(&txn, scope, id, expected_version).await?;
    let id_field = id_field_of(&txn, scope, &current).await?;
    if let Some(value) = patch.get(&id_field) {
        keep_id_field("input.patch", &id_field, &current, Some(value))?;
    }
    let mut data = current.data.clone();
    json_patch::merge(&mut data, &patch);
    let touched = merge::patched_paths(&patch, &current.data);
    let Some(updated) = change_by_hand(
        &txn,
        scope,
        current.clone(),
        data,
        touched,
        SnapshotReason::ManualEdit,
    )
    .await?
    else {
        return Ok(current);
    };
    txn.commit().await?;
    Ok(updated)
}

/// A target listing of the scope's tenant, read under its target's lock (so a sync that just
/// ran is seen, and none runs until the caller's write commits), at `expected_version` if one
/// is given.
pub(crate) async fn locked_target_property(
    txn: &TenantWrite,
    scope: &TenantScope,
    id: TargetPropertyId,
    expected_version: Option<i64>,
) -> Result<target_property::Model, Error> {
    let current = get_target_property(txn, scope, id).await?;
    locks::lock(txn, LockKind::Target, current.target_id).await?;
    let current = get_target_property(txn, scope, id).await?;
    match expected_version {
        Some(expected) if expected != current.version => Err(stale(&current, expected)),
        _ => Ok(current),
    }
}

fn stale(current: &target_property::Model, expected: i64) -> Error {
    Error::StaleVersion {
        entity: "target listing",
        id: current.external_id.clone(),
        expected,
        current: current.version,
    }
}

/// Replaces a target listing's data by hand (an edit, or a restored snapshot): snapshots the
/// current version with `reason`, marks the listing `manually_modified`, and saves it with
/// [`save_next_version`]; the `touched` paths join its `edited_paths`. `None` when `data` is
/// the data it has: nothing is written.
pub(crate) async fn change_by_hand(
    txn: &TenantWrite,
    scope: &TenantScope,
    current: target_property::Model,
    data: Value,
    touched: Vec<String>,
    reason: SnapshotReason,
) -> Result<Option<target_property::Model>, Error> {
    let mut edited = merge::stored_paths(&current.edited_paths);
    edited.extend(touched);
    let hash = content_hash(&data);
    if hash == current.content_hash {
        return Ok(None);
    }
    let now = Utc::now();
    snapshot_target_property(txn, &current, reason, now).await?;
    let mut active: target_property::ActiveModel = current.clone().into();
    active.data = Set(data);
    active.content_hash = Set(hash);
    active.manually_modified = Set(true);
    active.manual_changed_at = Set(Some(now));
    active.edited_paths = Set(merge::paths_value(edited));
    active.updated_at = Set(now);
    let saved = save_next_version(txn, scope, &current, active).await?;
    txn.publish_after_commit([crate::events::listing_changed(
        &saved,
        ChangeKind::Updated,
        ChangeCause::ManualEdit,
    )]);
    Ok(Some(saved))
}

/// Saves `changed` (read as `current`) as the listing's next version: a compare-and-set on
/// `version`, so a write based on a version another write replaced fails with
/// [`Error::StaleVersion`] instead of overwriting it.
pub(crate) async fn save_next_version(
    txn: &TenantWrite,
    scope: &TenantScope,
    current: &target_property::Model,
    mut changed: target_property::ActiveModel,
) -> Result<target_property::Model, Error> {
    changed.version = Set(current.version + 1);
    let saved = target_property::Entity::update(changed)
        .validate()?
        .filter(target_property::Column::Version.eq(current.version))
        .exec(txn)
        .await;
    match saved {
        Ok(model) => Ok(model),
        Err(sea_orm::DbErr::RecordNotUpdated) => {
            let now = get_target_property(txn, scope, TargetPropertyId(current.id)).await?;
            Err(stale(&now, current.version))
        }
        Err(err) => Err(err.into()),
    }
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
    let scope = &scope.whole_tenant();
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
