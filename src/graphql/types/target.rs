//! `Target`: where listings go.

use crate::graphql::args::TargetListingStatus;
use crate::graphql::catalog::{catalog_connections, catalog_object};
use crate::graphql::types::enums::{ConflictPolicy, TargetKind};
use crate::graphql::types::{SyncLogConnection, TargetPropertyConnection};

catalog_object! {
    /// A place listings are synced to: a website or a partner API. Listings edited there by hand
    /// are never silently overwritten by a sync.
    Target(target, TargetId, TargetConnections) {
        /// What the target is.
        kind: TargetKind,
        /// Inactive targets refuse syncs.
        active,
        /// Free-form settings (a JSON object).
        config,
        /// What a sync does with a listing edited here by hand when its source changes.
        conflict_policy: ConflictPolicy => "conflictPolicy",
    }
    TargetConnection, TargetEdge, "targets"
}

catalog_connections! {
    TargetConnections;
    /// The target's listings, oldest first unless `orderBy` says otherwise. Filter by ids,
    /// state (synced, modified by hand, in conflict, removed), date and values in the JSON.
    properties: TargetListingStatus => TargetPropertyConnection, target_property_pages;
    /// The syncs into this target, oldest first.
    sync_logs: SyncLogConnection, sync_log_pages [
        "Return the first N sync logs.", "Return sync logs after this cursor.",
        "Return the last N sync logs.", "Return sync logs before this cursor."
    ]
}
