//! GraphQL object types. Each wraps what the domain returns and converts with `From`;
//! the `///` comments are the documentation GraphiQL shows.

mod api_key;
mod source;
mod target;
mod tenant;

pub use api_key::{ApiKey, ApiKeyConnection, ApiKeyEdge};
pub use source::{Source, SourceConnection, SourceEdge};
pub use target::{Target, TargetConnection, TargetEdge};
pub use tenant::Tenant;
