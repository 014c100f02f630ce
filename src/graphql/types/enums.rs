//! The GraphQL enums that mirror domain enums, and the enums of the events the domain
//! publishes. The domain keeps its enums free of GraphQL; each mirror here names its domain
//! enum with `remote`, which derives `From` both ways, and carries the GraphQL names and the
//! documentation GraphiQL shows.

use async_graphql::Enum;

/// What a key allows. Every key may read (within its object limits); the other scopes each
/// allow one kind of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::api_keys::ApiKeyScope")]
pub enum ApiKeyScope {
    /// Queries, within the key's sources and targets. Always granted.
    Read,
    /// `importProperties` into the key's sources.
    Import,
    /// `syncSource` between the key's sources and targets.
    Sync,
    /// Hand edits of target listings, resolving conflicts, restoring and pinning snapshots.
    Edit,
    /// Creating, changing and deleting sources and targets, managing API keys, cleaning up
    /// snapshots.
    Admin,
    /// Every change: `IMPORT`, `SYNC`, `EDIT` and `ADMIN` (what keys made before the finer
    /// scopes existed hold).
    Write,
}

/// How a field changed between two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::diff::ChangeKind")]
pub enum ChangeKind {
    /// The field was absent before (`before` is null), and is present now (possibly `null`).
    Added,
    /// The field was present before (possibly `null`), and is absent now (`after` is null).
    Removed,
    /// The field is present in both versions with different values.
    Changed,
}

/// How a field differs between the base, the source and the target of a merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::merge::FieldStatus")]
pub enum ConflictFieldStatus {
    /// Only the source changed it since the base: a merge takes the source's value.
    SourceOnly,
    /// Only the person changed it on the target: a merge keeps the person's value.
    TargetOnly,
    /// Both changed it to the same value: a merge keeps it.
    BothSame,
    /// Both changed it, to different values (or the base is gone and they differ): a merge
    /// needs a choice.
    BothDifferent,
}

/// What a sync does with a target listing edited by hand when its source listing changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::targets::ConflictPolicy")]
pub enum ConflictPolicy {
    /// Keep the hand edit and flag a conflict for a person to resolve (the default).
    #[default]
    Flag,
    /// Keep the hand edit without flagging; the source change is only logged as a warning.
    KeepTarget,
    /// Merge field by field: the source's changes to fields the person did not edit are
    /// applied, the person's edits are kept, and only a field changed on both sides
    /// differently flags a conflict. E.g. a person fixed `title`, the scraper changed
    /// `price`: the listing gets the new price and keeps the fixed title.
    Merge,
}

/// Whether a batch is the whole scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::import::ImportMode")]
pub enum ImportMode {
    /// The batch adds and changes listings; listings it lacks stay as they are.
    #[default]
    Incremental,
    /// The batch is the whole scrape: listings it lacks are marked removed.
    Full,
}

/// What made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::events::ChangeCause")]
pub enum ListingChangeCause {
    /// A sync (its sync log is given).
    Sync,
    /// A manual edit (`updateTargetProperty`).
    ManualEdit,
    /// A conflict resolution (`resolveConflict`).
    ConflictResolution,
}

/// What became of a target listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::events::ChangeKind")]
pub enum ListingChangeKind {
    /// Created by a sync.
    Created,
    /// Its data changed (a sync, or a manual edit).
    Updated,
    /// Marked removed, because its source listing was.
    Removed,
    /// Flagged as a conflict: edited by hand while its source changed.
    Conflict,
    /// Its conflict was resolved.
    Resolved,
}

/// What a [`Choice`] takes, as a caller names it (the value is checked by [`Choice::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::merge::TakeKind")]
pub enum MergeTake {
    /// The source's value (the field is removed if the source removed it).
    Source,
    /// The person's value on the target (the field stays removed if the person removed it).
    Target,
    /// The choice's `value`.
    Value,
}

/// How to resolve a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::conflicts::Resolution")]
pub enum Resolution {
    /// Keep the hand-edited version; it stays protected from later syncs.
    KeepTarget,
    /// Take the source's version; the listing follows the source again.
    AcceptSource,
    /// Use the supplied (merged) data; it is protected like a hand edit.
    UseData,
    /// Merge field by field (see `Conflict.fields`): the source's value where only the source
    /// changed a field, the person's where only the person did, and the `choices` for fields
    /// changed on both sides differently. The listing stays protected for the fields that keep
    /// the person's values.
    Merge,
}

/// Where an import or sync is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::events::RunPhase")]
pub enum RunPhase {
    /// Started: the source (and target) are locked and, for a sync, the counts are known.
    Started,
    /// Writing: a part of an import has been checked and written (not committed yet), or a
    /// sync is writing its changes.
    Writing,
    /// Committed: the event carries the import run or sync log.
    Finished,
}

/// Why a version was replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::entity::SnapshotReason")]
pub enum SnapshotReason {
    /// An import brought a new version of the source listing.
    Import,
    /// A sync brought the source's version to the target.
    Sync,
    /// A person edited the target listing.
    ManualEdit,
    /// A conflict was resolved.
    Resolve,
    /// An older version was restored.
    Restore,
}

/// How a source's listings arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::sources::SourceKind")]
pub enum SourceKind {
    /// JSON pushed by a client or read from files.
    Json,
    /// Listings a scraper collected.
    Scraped,
    /// Listings entered by people.
    Manual,
}

/// What a target is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::targets::TargetKind")]
pub enum TargetKind {
    /// A website that shows the listings.
    Website,
    /// A partner API that receives them.
    Api,
    /// Anything else.
    Other,
}

/// How a value at a path is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum)]
#[graphql(remote = "crate::store::listing_filter::WhereOp")]
pub enum WhereOp {
    /// Equal (numbers by value, strings exactly, objects structurally on PostgreSQL).
    Eq,
    /// Not equal; a listing without the path counts as not equal.
    Ne,
    /// Less than. The four orderings compare a number `value` with numbers and a string
    /// `value` with strings; a listing with another kind of value there does not match.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Equal to one of `value`, which must be an array.
    In,
    /// An array that contains `value`, or a string that contains the string `value`.
    Contains,
    /// The path exists (`value: true`, the default) or not (`value: false`).
    Exists,
}

crate::graphql::connection_lists::scalar_value_of_input!(
    ConflictPolicy,
    ImportMode,
    SnapshotReason,
    SourceKind,
    TargetKind,
);
