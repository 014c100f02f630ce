//! Conflicts (rule 5): target listings edited by hand whose source changed afterwards, and
//! their resolution. Every resolution clears the flag and is recorded on the listing
//! (`resolution`, `resolved_at`, `resolved_by`); one that replaces the listing's data also
//! leaves a snapshot of the replaced version, one that keeps it (`KEEP_TARGET`, or the same
//! data again) leaves none: a snapshot is a replaced version, never a copy.
//!
//! Each resolution also sets the listing's `edited_paths` to the fields where its data now
//! differs from the source's (none after `ACCEPT_SOURCE`): the fields a later `MERGE` keeps as
//! the person's. `MERGE` merges field by field (see [`merge`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DeriveActiveEnum, EnumIter, QueryFilter, Set,
};
use serde_json::Value;

use crate::domain::audit::Actor;
use crate::domain::edits::{id_field_of, keep_id_field, locked_target_property, save_next_version};
use crate::domain::listings::{get_source_property, source_properties_by_ids};
use crate::domain::merge::{self, Choice, FieldDiff};
use crate::domain::snapshots::{data_at_last_sync_of, snapshot_target_property};
use crate::entity::SnapshotReason;
use crate::entity::{source_property, target_property};
use crate::error::Error;
use crate::events::{ChangeCause, ChangeKind};
use crate::hashing::content_hash;
use crate::ids::{SourcePropertyId, TargetPropertyId};
use crate::store::numbers;
use crate::store::pager::{self, Page, PageLimits, PageRequest};
use crate::store::scope::{Permission, TenantScope};
use crate::store::tenant_write::TenantWrite;

/// How to resolve a conflict.
// Stored in `target_properties.resolution` as the `string_value`; a stored value this version
// does not know fails the read (an internal error), never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Resolution {
    /// Keep the hand-edited version; it stays protected from later syncs.
    #[sea_orm(string_value = "keep_target")]
    KeepTarget,
    /// Take the source's version; the listing follows the source again.
    #[sea_orm(string_value = "accept_source")]
    AcceptSource,
    /// Use the supplied (merged) data; it is protected like a hand edit.
    #[sea_orm(string_value = "use_data")]
    UseData,
    /// Merge field by field (see `Conflict.fields`): the source's value where only the source
    /// changed a field, the person's where only the person did, and the `choices` for fields
    /// changed on both sides differently. The listing stays protected for the fields that keep
    /// the person's values.
    #[sea_orm(string_value = "merge")]
    Merge,
}

/// One conflict: the target listing with the versions a person compares.
#[derive(Clone, Debug)]
pub(crate) struct Conflict {
    /// The hand-edited target listing (its `data` is the target version).
    pub(crate) target: target_property::Model,
    /// The source listing as it is now.
    pub(crate) source: Option<source_property::Model>,
    /// The data at the last sync, if retention kept it.
    pub(crate) base_data: Option<Value>,
    /// The fields that differ between the base, the source and the target.
    pub(crate) fields: Vec<FieldDiff>,
}

/// A page of the tenant's conflicts, oldest first.
pub(crate) async fn list_conflicts(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<Conflict>, Error> {
    let select = scope
        .select::<target_property::Entity>()
        .filter(target_property::Column::Conflict.eq(true));
    let page = pager::page(db, select, &request, limits).await?;
    let source_ids: Vec<i64> = page.rows().filter_map(|t| t.source_property_id).collect();
    let sources: HashMap<i64, source_property::Model> =
        source_properties_by_ids(db, scope, &source_ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
    let mut base = data_at_last_sync_of(db, scope, page.rows()).await?;
    Ok(page.map(|target| {
        let source = target
            .source_property_id
            .and_then(|id| sources.get(&id).cloned());
        let base_data = base.remove(&target.id);
        let fields = source.as_ref().map_or_else(Vec::new, |source| {
            merge::three_way(base_data.as_ref(), &source.data, &target.data)
        });
        Conflict {
            source,
            base_data,
            fields,
            target,
        }
    }))
}

/// Resolves the conflict of a target listing of the scope's tenant, on behalf of `actor`.
/// `data` goes with `USE_DATA` only, `choices` with `MERGE` only. With `expected_version`, a
/// listing at another version is refused with [`Error::StaleVersion`].
pub async fn resolve_conflict(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetPropertyId,
    resolution: Resolution,
    data: Option<Value>,
    choices: Vec<Choice>,
    actor: Actor,
    expected_version: Option<i64>,
) -> Result<target_property::Model, Error> {
    scope.require(Permission::Edit)?;
    let data = checked_input(resolution, data, &choices)?;
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let current = locked_target_property(&txn, scope, id, expected_version).await?;
    if !current.conflict {
        return Err(Error::Conflict(format!(
            "listing `{}` has no conflict to resolve",
            current.external_id
        )));
    }
    let source = match current.source_property_id {
        Some(source_id) => {
            let whole = scope.whole_tenant();
            Some(get_source_property(&txn, &whole, SourcePropertyId(source_id)).await?)
        }
        None => None,
    };
    let resolving = Resolving {
        resolution,
        current: &current,
        source: source.as_ref(),
    };
    let data = resolving.data(&txn, scope, data, &choices).await?;
    let now = Utc::now();
    let active = resolving.resolved(data, &actor, now)?;
    let replaced = match &active.content_hash {
        sea_orm::ActiveValue::Set(hash) => *hash != current.content_hash,
        _ => false,
    };
    if replaced {
        snapshot_target_property(&txn, &current, SnapshotReason::Resolve, now).await?;
    }
    let resolved = save_next_version(&txn, scope, &current, active).await?;
    txn.publish_after_commit([crate::events::listing_changed(
        &resolved,
        ChangeKind::Resolved,
        ChangeCause::ConflictResolution,
    )]);
    txn.commit().await?;
    Ok(resolved)
}

/// Checks what goes with a resolution: `data` (an object, its numbers kept exactly) with
/// `USE_DATA` only, `choices` with `MERGE` only. Returns the data.
fn checked_input(
    resolution: Resolution,
    data: Option<Value>,
    choices: &[Choice],
) -> Result<Option<Value>, Error> {
    if resolution != Resolution::Merge && !choices.is_empty() {
        return Err(Error::invalid(
            "input.choices",
            "is only accepted with MERGE",
        ));
    }
    match (resolution, data) {
        (Resolution::UseData, Some(mut data)) if data.is_object() => {
            numbers::store_exactly(&mut data)
                .map_err(|reason| Error::invalid("input.data", reason))?;
            Ok(Some(data))
        }
        (Resolution::UseData, Some(_)) => {
            Err(Error::invalid("input.data", "must be a JSON object"))
        }
        (Resolution::UseData, None) => {
            Err(Error::invalid("input.data", "is required with USE_DATA"))
        }
        (_, Some(_)) => Err(Error::invalid(
            "input.data",
            "is only accepted with USE_DATA",
        )),
        (_, None) => Ok(None),
    }
}

/// A conflict being resolved: the listing as it is and its source listing.
struct Resolving<'a> {
    resolution: Resolution,
    current: &'a target_property::Model,
    source: Option<&'a source_property::Model>,
}

impl Resolving<'_> {
    /// The data the listing will hold, when the resolution supplies it: the checked `data` of
    /// `USE_DATA`, the merge of `MERGE`. It must keep the listing's id field.
    async fn data(
        &self,
        txn: &TenantWrite,
        scope: &TenantScope,
        data: Option<Value>,
        choices: &[Choice],
    ) -> Result<Option<Value>, Error> {
        let current = self.current;
        let data = match (self.resolution, self.source) {
            (Resolution::Merge, Some(source)) => {
                let base = data_at_last_sync_of(txn, scope, std::slice::from_ref(current))
                    .await?
                    .remove(&current.id);
                let fields = merge::three_way(base.as_ref(), &source.data, &current.data);
                Some(merge::merge(&current.data, &fields, choices)?)
            }
            _ => data,
        };
        if let Some(data) = &data {
            let input = match self.resolution {
                Resolution::Merge => "input.choices",
                _ => "input.data",
            };
            let id_field = id_field_of(txn, scope, current).await?;
            keep_id_field(input, &id_field, current, data.get(&id_field))?;
        }
        Ok(data)
    }

    /// The listing once resolved with `data` (see [`Self::data`]) by `actor` at `now`.
    fn resolved(
        &self,
        data: Option<Value>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<target_property::ActiveModel, Error> {
        let current = self.current;
        let no_source = || {
            Error::Conflict(format!(
                "listing `{}` has no source listing to accept or merge",
                current.external_id
            ))
        };
        let mut active: target_property::ActiveModel = current.clone().into();
        active.conflict = Set(false);
        active.updated_at = Set(now);
        active.base_hash = Set(self
            .source
            .map(|s| s.content_hash.clone())
            .or(current.base_hash.clone()));
        active.resolution = Set(Some(self.resolution));
        active.resolved_at = Set(Some(now));
        active.resolved_by = Set(Some(actor.label()));
        match self.resolution {
            Resolution::KeepTarget => {
                active.edited_paths = Set(self.edited(&current.data));
            }
            Resolution::AcceptSource => {
                let source = self.source.ok_or_else(no_source)?.clone();
                active.edited_paths = Set(merge::paths_value(Vec::new()));
                active.data = Set(source.data);
                active.content_hash = Set(source.content_hash);
                active.manually_modified = Set(false);
                active.manual_changed_at = Set(None);
                active.last_synced_at = Set(Some(now));
            }
            Resolution::UseData => {
                let data = data.unwrap_or_default();
                active.edited_paths = Set(self.edited(&data));
                active.content_hash = Set(content_hash(&data));
                active.data = Set(data);
                active.manually_modified = Set(true);
                active.manual_changed_at = Set(Some(now));
            }
            Resolution::Merge => {
                let (Some(data), Some(_)) = (data, self.source) else {
                    return Err(no_source());
                };
                let paths = self.edited(&data);
                let protected = paths.as_array().is_some_and(|p| !p.is_empty());
                active.edited_paths = Set(paths);
                active.content_hash = Set(content_hash(&data));
                active.data = Set(data);
                active.manually_modified = Set(protected);
                active.manual_changed_at = Set(protected.then_some(now));
                active.last_synced_at = Set(Some(now));
            }
        }
        Ok(active)
    }

    /// The fields that hold the person's values in `result`: where it differs from the source.
    fn edited(&self, result: &Value) -> Value {
        match self.source {
            Some(source) => merge::paths_value(merge::paths_differing(&source.data, result)),
            None => self.current.edited_paths.clone(),
        }
    }
}
