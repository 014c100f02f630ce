//! GraphQL object types. Each wraps what the domain returns and converts with `From`;
//! the `///` comments are the documentation GraphiQL shows.

mod api_key;
mod audit;
mod conflict;
mod property;
mod snapshot;
mod source;
mod target;
mod tenant;

pub use api_key::{ApiKey, ApiKeyConnection, ApiKeyEdge};
pub use audit::{
    CleanupRun, CleanupRunConnection, ImportRun, ImportRunConnection, SyncLog, SyncLogConnection,
    SyncWarning,
};
pub use conflict::{Conflict, ConflictConnection, ResolutionRecord};
pub use property::{
    SourceProperty, SourcePropertyConnection, TargetProperty, TargetPropertyConnection,
};
pub use snapshot::{
    SourceSnapshot, SourceSnapshotConnection, TargetSnapshot, TargetSnapshotConnection,
};
pub use source::{Source, SourceConnection, SourceEdge};
pub use target::{Target, TargetConnection, TargetEdge};
pub use tenant::Tenant;
