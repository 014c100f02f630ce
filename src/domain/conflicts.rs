//! Conflicts (rule 5): target listings edited by hand whose source changed afterwards, and
//! their resolution. Every resolution clears the flag and is recorded on the listing
//! (`resolution`, `resolved_at`, `resolved_by`); one that replaces the listing's data also
//! leaves a snapshot of the replaced version, one that keeps it (`KEEP_TARGET`, or the same
//! data again) leaves none: a snapshot is a replaced version, never a copy.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, QueryFilter, Set};
use serde_json::Value;

use crate::domain::audit::Actor;
use crate::domain::edits::{id_field_of, keep_id_field};
use crate::domain::hashing::content_hash;
use crate::domain::numbers;
use crate::domain::pagination::{Page, PageLimits, PageRequest, paginate};
use crate::domain::properties::{
    get_source_property, get_target_property, source_properties_by_ids,
};
use crate::domain::scope::TenantScope;
use crate::domain::snapshots::{SnapshotReason, data_at_last_sync_of, snapshot_target_property};
use crate::domain::sql::{self, LockKind};
use crate::domain::tenant_write::TenantWrite;
use crate::entity::{source_property, target_property};
use crate::error::Error;
use crate::events::{ChangeCause, ChangeKind};
use crate::ids::{SourcePropertyId, TargetPropertyId};

/// How to resolve a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum Resolution {
    /// Keep the hand-edited version; it stays protected from later syncs.
    KeepTarget,
    /// Take the source's version; the listing follows the source again.
    AcceptSource,
    /// Use the supplied (merged) data; it is protected like a hand edit.
    UseData,
}

impl Resolution {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeepTarget => "keep_target",
            Self::AcceptSource => "accept_source",
            Self::UseData => "use_data",
        }
    }

    /// Reads the stored form.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "keep_target" => Some(Self::KeepTarget),
            "accept_source" => Some(Self::AcceptSource),
            "use_data" => Some(Self::UseData),
            _ => None,
        }
    }
}

/// One conflict: the target listing with the versions a person compares.
#[derive(Clone, Debug)]
pub struct Conflict {
    /// The hand-edited target listing (its `data` is the target version).
    pub target: target_property::Model,
    /// The source listing as it is now.
    pub source: Option<source_property::Model>,
    /// The data at the last sync, if retention kept it.
    pub base_data: Option<Value>,
}

/// A page of the tenant's conflicts, oldest first.
pub async fn list_conflicts(
    db: &DatabaseConnection,
    scope: &TenantScope,
    request: PageRequest,
    limits: PageLimits,
) -> Result<Page<Conflict>, Error> {
    let select = scope
        .select::<target_property::Entity>()
        .filter(target_property::Column::Conflict.eq(true));
    let page = paginate(db, select, target_property::Column::Id, request, limits).await?;
    let source_ids: Vec<i64> = page
        .items
        .iter()
        .filter_map(|t| t.source_property_id)
        .collect();
    let sources: HashMap<i64, source_property::Model> =
        source_properties_by_ids(db, scope, &source_ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
    let mut base = data_at_last_sync_of(db, scope, &page.items).await?;
    Ok(page.map(|target| Conflict {
        source: target
            .source_property_id
            .and_then(|id| sources.get(&id).cloned()),
        base_data: base.remove(&target.id),
        target,
    }))
}

/// Resolves the conflict of a target listing of the scope's tenant, on behalf of `actor`.
pub async fn resolve_conflict(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: TargetPropertyId,
    resolution: Resolution,
    data: Option<Value>,
    actor: Actor,
) -> Result<target_property::Model, Error> {
    scope.require_write()?;
    let data = match (resolution, data) {
        (Resolution::UseData, Some(mut data)) if data.is_object() => {
            numbers::store_exactly(&mut data)
                .map_err(|reason| Error::invalid("input.data", reason))?;
            Some(data)
        }
        (Resolution::UseData, Some(_)) => {
            return Err(Error::invalid("input.data", "must be a JSON object"));
        }
        (Resolution::UseData, None) => {
            return Err(Error::invalid("input.data", "is required with USE_DATA"));
        }
        (_, Some(_)) => {
            return Err(Error::invalid(
                "input.data",
                "is only accepted with USE_DATA",
            ));
        }
        (_, None) => None,
    };
    let txn = TenantWrite::begin(db, scope.tenant_id()).await?;
    let current = get_target_property(&txn, scope, id).await?;
    sql::lock(&txn, LockKind::Target, current.target_id).await?;
    let current = get_target_property(&txn, scope, id).await?;
    if !current.conflict {
        return Err(Error::Conflict(format!(
            "listing `{}` has no conflict to resolve",
            current.external_id
        )));
    }
    if let Some(data) = &data {
        let id_field = id_field_of(&txn, scope, &current).await?;
        keep_id_field("input.data", &id_field, &current, data.get(&id_field))?;
    }
    let source = match current.source_property_id {
        Some(source_id) => {
            Some(get_source_property(&txn, scope, SourcePropertyId(source_id)).await?)
        }
        None => None,
    };
    let source_hash = source.as_ref().map(|s| s.content_hash.clone());
    let now = Utc::now();
    let mut active: target_property::ActiveModel = current.clone().into();
    active.conflict = Set(false);
    active.updated_at = Set(now);
    active.base_hash = Set(source_hash.or(current.base_hash.clone()));
    active.resolution = Set(Some(resolution.as_str().to_owned()));
    active.resolved_at = Set(Some(now));
    active.resolved_by = Set(Some(actor.label()));
    match resolution {
        Resolution::KeepTarget => {}
        Resolution::AcceptSource => {
            let source = source.ok_or_else(|| {
                Error::Conflict(format!(
                    "listing `{}` has no source listing to accept",
                    current.external_id
                ))
            })?;
            active.data = Set(source.data);
            active.content_hash = Set(source.content_hash);
            active.manually_modified = Set(false);
            active.manual_changed_at = Set(None);
            active.last_synced_at = Set(Some(now));
        }
        Resolution::UseData => {
            let data = data.unwrap_or_default();
            active.content_hash = Set(content_hash(&data));
            active.data = Set(data);
            active.manually_modified = Set(true);
            active.manual_changed_at = Set(Some(now));
        }
    }
    let replaced = match &active.content_hash {
        sea_orm::ActiveValue::Set(hash) => *hash != current.content_hash,
        _ => false,
    };
    if replaced {
        snapshot_target_property(&txn, &current, SnapshotReason::Resolve, now).await?;
    }
    let resolved = active.update(&txn).await?;
    txn.commit().await?;
    crate::events::listing_changed(
        db,
        &resolved,
        ChangeKind::Resolved,
        ChangeCause::ConflictResolution,
    )
    .await;
    Ok(resolved)
}
