//! The `MERGE` conflict policy at sync time: hand-edited target listings whose source changed
//! are merged field by field (see [`merge`]) instead of being flagged.
//!
//! A listing whose fields changed only at the source, only by the person, or on both sides
//! alike is merged: the source's changes are applied on top of the person's version, the
//! replaced version is snapshotted (reason `SYNC`), its `base_hash` becomes the source's hash,
//! and it stays manually modified for the fields that keep the person's values. A listing
//! with a field changed on both sides differently is flagged as a conflict, as `FLAG` does.
//! These listings are few (hand edits), so they are planned and written one by one, in Rust,
//! inside the sync's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::{Value, json};

use crate::domain::merge;
use crate::domain::snapshots::{data_at_last_sync_of, snapshot_target_property};
use crate::entity::SnapshotReason;
use crate::entity::{source_property, target_property};
use crate::error::Error;
use crate::hashing::content_hash;
use crate::ids::TargetPropertyId;
use crate::store::scope::TenantScope;

/// One listing the sync merges.
#[derive(Debug)]
pub(crate) struct Merged {
    current: target_property::Model,
    source: source_property::Model,
    data: Value,
}

/// What a `MERGE` sync does with the hand-edited listings whose source changed.
#[derive(Debug, Default)]
pub(crate) struct MergePlan {
    /// Listings merged without a conflict.
    pub merged: Vec<Merged>,
    /// Listings with fields changed on both sides differently: (listing, those paths).
    pub conflicts: Vec<(target_property::Model, Vec<String>)>,
}

impl MergePlan {
    /// Ids of the listings merged.
    pub fn merged_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.merged.iter().map(|m| m.current.id)
    }

    /// Ids of the listings to flag.
    pub fn conflict_ids(&self) -> Vec<i64> {
        self.conflicts.iter().map(|(t, _)| t.id).collect()
    }

    /// One warning per listing flagged as a conflict, naming the fields.
    pub fn warnings(&self) -> Vec<Value> {
        self.conflicts
            .iter()
            .map(|(listing, paths)| {
                json!({
                    "externalId": listing.external_id,
                    "targetPropertyId": TargetPropertyId(listing.id).to_global(),
                    "message": format!(
                        "edited by hand on the target and changed at the source, differently on both sides in {}: kept the target version and flagged a conflict (policy MERGE)",
                        paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                    ),
                })
            })
            .collect()
    }
}

/// Plans the merge of the target listings `ids` (hand-edited, source changed, not flagged yet).
pub(crate) async fn plan<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    ids: &[i64],
) -> Result<MergePlan, Error> {
    let mut plan = MergePlan::default();
    if ids.is_empty() {
        return Ok(plan);
    }
    let mut listings = scope
        .get_many::<target_property::Entity, _>(conn, ids)
        .await?;
    listings.sort_by_key(|t| t.id);
    let source_ids: Vec<i64> = listings
        .iter()
        .filter_map(|t| t.source_property_id)
        .collect();
    let mut sources: HashMap<i64, source_property::Model> = scope
        .get_many::<source_property::Entity, _>(conn, &source_ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut bases = data_at_last_sync_of(conn, scope, &listings).await?;
    for current in listings {
        let Some(source) = current
            .source_property_id
            .and_then(|id| sources.remove(&id))
        else {
            continue;
        };
        let base = bases.remove(&current.id);
        let fields = merge::three_way(base.as_ref(), &source.data, &current.data);
        let both: Vec<String> = merge::unresolved(&fields)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if !both.is_empty() {
            plan.conflicts.push((current, both));
            continue;
        }
        let data = merge::merge(&current.data, &fields, &[])?;
        plan.merged.push(Merged {
            current,
            source,
            data,
        });
    }
    Ok(plan)
}

/// Writes the merged listings of `plan`.
pub(crate) async fn write_merged<C: ConnectionTrait>(
    conn: &C,
    plan: MergePlan,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for Merged {
        current,
        source,
        data,
    } in plan.merged
    {
        let hash = content_hash(&data);
        if hash != current.content_hash {
            snapshot_target_property(conn, &current, SnapshotReason::Sync, now).await?;
        }
        let edited = merge::paths_differing(&source.data, &data);
        let protected = !edited.is_empty();
        let manual_changed_at = current.manual_changed_at;
        let version = current.version + 1;
        let mut active: target_property::ActiveModel = current.into();
        active.data = Set(data);
        active.content_hash = Set(hash);
        active.base_hash = Set(Some(source.content_hash));
        active.source_property_id = Set(Some(source.id));
        active.edited_paths = Set(merge::paths_value(edited));
        active.manually_modified = Set(protected);
        active.manual_changed_at = Set(manual_changed_at.filter(|_| protected));
        active.removed_at = Set(None);
        active.last_synced_at = Set(Some(now));
        active.updated_at = Set(now);
        active.version = Set(version);
        active.update(conn).await?;
    }
    Ok(())
}
