//! The mutation root: one module per area, merged. Every mutation takes one `input` and
//! returns a payload object, so fields can be added to either without breaking clients.

mod api_keys;
mod history;
mod listings;
mod sources;
mod sync;
mod targets;
mod tenants;

use async_graphql::MergedObject;

/// Everything you can change.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    tenants::TenantMutation,
    api_keys::ApiKeyMutation,
    sources::SourceMutation,
    targets::TargetMutation,
    sync::SyncMutation,
    listings::ListingMutation,
    history::HistoryMutation,
);
