//! The version a target listing had at its last sync (its `base_hash`): what a three-way merge
//! and a conflict compare the listing and its source with.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use crate::entity::{source_property, source_snapshot, target_property, target_snapshot};
use crate::error::Error;
use crate::store::scope::TenantScope;

/// The data each target listing had at its last sync (its `base_hash`), by listing id: the
/// version of the listing, or of its source listing, whose content hash is `base_hash`. That
/// is the listing's own data when it still matches, else the newest of its snapshots with that
/// hash, else its source listing's current version or newest snapshot with that hash (after a
/// conflict resolution the base is a source version the target never held). Missing only
/// when retention removed that version. At most three statements for the whole batch.
pub(crate) async fn data_at_last_sync_of<'m, C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    models: impl IntoIterator<Item = &'m target_property::Model>,
) -> Result<HashMap<i64, Value>, Error> {
    let models: Vec<&target_property::Model> = models.into_iter().collect();
    let mut search = BaseSearch::new(&models);
    if !search.wanted.is_empty() {
        search.in_target_snapshots(conn, scope).await?;
    }
    if !search.wanted.is_empty() {
        search.in_source_versions(conn, scope, &models).await?;
    }
    Ok(search.found)
}

/// The search for the base versions of a batch of target listings.
struct BaseSearch<'m> {
    /// The base version of each target listing found so far.
    found: HashMap<i64, Value>,
    /// The base hash of each target listing whose base is not found yet.
    wanted: HashMap<i64, &'m str>,
    /// The base hashes wanted, without repeats.
    hashes: Vec<String>,
}

impl<'m> BaseSearch<'m> {
    /// Starts with the listings whose own data is their base; the others are wanted.
    fn new(models: &[&'m target_property::Model]) -> Self {
        let mut found = HashMap::new();
        let mut wanted: HashMap<i64, &str> = HashMap::new();
        for model in models {
            match &model.base_hash {
                Some(base) if *base == model.content_hash => {
                    found.insert(model.id, model.data.clone());
                }
                Some(base) => {
                    wanted.insert(model.id, base.as_str());
                }
                None => {}
            }
        }
        let mut hashes: Vec<String> = wanted.values().map(|h| (*h).to_owned()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        Self {
            found,
            wanted,
            hashes,
        }
    }

    /// Finds bases among the listings' own snapshots (the newest with the hash).
    async fn in_target_snapshots<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        scope: &TenantScope,
    ) -> Result<(), Error> {
        let snapshots = scope
            .select::<target_snapshot::Entity>()
            .filter(target_snapshot::Column::TargetPropertyId.is_in(self.wanted.keys().copied()))
            .filter(target_snapshot::Column::ContentHash.is_in(self.hashes.iter().cloned()))
            .order_by_asc(target_snapshot::Column::Id)
            .all(conn)
            .await?;
        // Ascending ids: a newer matching snapshot overwrites an older one.
        for snapshot in snapshots {
            let listing = snapshot.target_property_id;
            if self.wanted.get(&listing) == Some(&snapshot.content_hash.as_str()) {
                self.found.insert(listing, snapshot.data);
            }
        }
        let found = &self.found;
        self.wanted.retain(|id, _| !found.contains_key(id));
        Ok(())
    }

    /// Finds the remaining bases among the versions of the listings' source listings: the
    /// source listing as it is now wins over its snapshots (same content, newest form).
    async fn in_source_versions<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        scope: &TenantScope,
        models: &[&target_property::Model],
    ) -> Result<(), Error> {
        // Target listing ids by source listing id.
        let mut by_source: HashMap<i64, Vec<i64>> = HashMap::new();
        for model in models {
            if let (Some(source), true) = (
                model.source_property_id,
                self.wanted.contains_key(&model.id),
            ) {
                by_source.entry(source).or_default().push(model.id);
            }
        }
        if by_source.is_empty() {
            return Ok(());
        }
        let sources: Vec<i64> = by_source.keys().copied().collect();
        let snapshots = scope
            .select::<source_snapshot::Entity>()
            .filter(source_snapshot::Column::SourcePropertyId.is_in(sources.iter().copied()))
            .filter(source_snapshot::Column::ContentHash.is_in(self.hashes.iter().cloned()))
            .order_by_asc(source_snapshot::Column::Id)
            .all(conn)
            .await?;
        for snapshot in &snapshots {
            if let Some(listings) = by_source.get(&snapshot.source_property_id) {
                self.take(listings, &snapshot.content_hash, &snapshot.data);
            }
        }
        for source in scope
            .get_many::<source_property::Entity, _>(conn, &sources)
            .await?
        {
            if let Some(listings) = by_source.get(&source.id) {
                self.take(listings, &source.content_hash, &source.data);
            }
        }
        Ok(())
    }

    /// Takes `data` as the base of each of `listings` whose base hash is `hash`.
    fn take(&mut self, listings: &[i64], hash: &str, data: &Value) {
        for listing in listings {
            if self.wanted.get(listing) == Some(&hash) {
                self.found.insert(*listing, data.clone());
            }
        }
    }
}
