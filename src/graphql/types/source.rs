//! `Source`: where listings come from.

use crate::graphql::args::SourceListingStatus;
use crate::graphql::catalog::{catalog_connections, catalog_object};
use crate::graphql::types::enums::SourceKind;
use crate::graphql::types::{ImportRunConnection, SourcePropertyConnection};

catalog_object! {
    /// A place listings come from: a scraper, a JSON feed, or people entering them. Listings are
    /// imported into a source, then synced from it into targets.
    Source(source, SourceId, SourceConnections) {
        /// How its listings arrive.
        kind: SourceKind,
        /// Inactive sources refuse imports and syncs.
        active,
        /// Settings. `id_field` (default `"id"`) names the listing field that identifies a listing.
        config,
    }
    SourceConnection, SourceEdge, "sources"
}

catalog_connections! {
    SourceConnections;
    /// The source's listings (removed ones included, with `removedAt` set), oldest first
    /// unless `orderBy` says otherwise. Filter by ids, state, date and values in the JSON.
    properties: SourceListingStatus => SourcePropertyConnection, source_property_pages;
    /// The imports into this source, oldest first.
    import_runs: ImportRunConnection, import_run_pages [
        "Return the first N import runs.", "Return import runs after this cursor.",
        "Return the last N import runs.", "Return import runs before this cursor."
    ]
}
