//! GraphQL object types. Each wraps what the domain returns and converts with `From`;
//! the `///` comments are the documentation GraphiQL shows.

mod api_key;
mod audit;
mod conflict;
pub mod enums;
mod property;
mod snapshot;
mod source;
mod target;
mod tenant;

pub use api_key::{ApiKey, ApiKeyConnection};
pub use audit::{
    CleanupRun, CleanupRunConnection, ImportRun, ImportRunConnection, SyncLog, SyncLogConnection,
};
pub use conflict::{ConflictConnection, ResolutionRecord};
pub use property::{
    SourceProperty, SourcePropertyConnection, TargetProperty, TargetPropertyConnection,
};
pub use snapshot::{
    SourceSnapshot, SourceSnapshotConnection, TargetSnapshot, TargetSnapshotConnection,
};
pub use source::{Source, SourceConnection};
pub use target::{Target, TargetConnection};
pub use tenant::Tenant;
