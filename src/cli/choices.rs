//! The command line's spelling of the domain's enums: a clap `ValueEnum` mirror of each, with
//! the same variants and documentation (so `--help` lists the same values), converting into
//! the domain enum; and the GraphQL names `--json` prints for them.

use crate::domain::import::ImportMode;
use crate::domain::sources::SourceKind;
use crate::domain::targets::{ConflictPolicy, TargetKind};

/// `--kind` of `create-source`: mirrors [`SourceKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SourceKindChoice {
    /// JSON pushed by a client or read from files.
    Json,
    /// Listings a scraper collected.
    Scraped,
    /// Listings entered by people.
    Manual,
}

impl From<SourceKindChoice> for SourceKind {
    fn from(choice: SourceKindChoice) -> Self {
        match choice {
            SourceKindChoice::Json => Self::Json,
            SourceKindChoice::Scraped => Self::Scraped,
            SourceKindChoice::Manual => Self::Manual,
        }
    }
}

/// `--kind` of `create-target`: mirrors [`TargetKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TargetKindChoice {
    /// A website that shows the listings.
    Website,
    /// A partner API that receives them.
    Api,
    /// Anything else.
    Other,
}

impl From<TargetKindChoice> for TargetKind {
    fn from(choice: TargetKindChoice) -> Self {
        match choice {
            TargetKindChoice::Website => Self::Website,
            TargetKindChoice::Api => Self::Api,
            TargetKindChoice::Other => Self::Other,
        }
    }
}

/// `--conflict-policy` of `create-target`: mirrors [`ConflictPolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ConflictPolicyChoice {
    /// Keep the hand edit and flag a conflict for a person to resolve (the default).
    Flag,
    /// Keep the hand edit without flagging; the source change is only logged as a warning.
    KeepTarget,
    /// Merge field by field: the source's changes to fields the person did not edit are
    /// applied, the person's edits are kept, and only a field changed on both sides
    /// differently flags a conflict. E.g. a person fixed `title`, the scraper changed
    /// `price`: the listing gets the new price and keeps the fixed title.
    Merge,
}

impl From<ConflictPolicyChoice> for ConflictPolicy {
    fn from(choice: ConflictPolicyChoice) -> Self {
        match choice {
            ConflictPolicyChoice::Flag => Self::Flag,
            ConflictPolicyChoice::KeepTarget => Self::KeepTarget,
            ConflictPolicyChoice::Merge => Self::Merge,
        }
    }
}

/// `--mode` of `import` and `migrate-json`: mirrors [`ImportMode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ImportModeChoice {
    /// The batch adds and changes listings; listings it lacks stay as they are.
    Incremental,
    /// The batch is the whole scrape: listings it lacks are marked removed.
    Full,
}

impl From<ImportModeChoice> for ImportMode {
    fn from(choice: ImportModeChoice) -> Self {
        match choice {
            ImportModeChoice::Incremental => Self::Incremental,
            ImportModeChoice::Full => Self::Full,
        }
    }
}

/// A source kind as GraphQL spells it.
pub(crate) fn source_kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Json => "JSON",
        SourceKind::Scraped => "SCRAPED",
        SourceKind::Manual => "MANUAL",
    }
}

/// A target kind as GraphQL spells it.
pub(crate) fn target_kind_name(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Website => "WEBSITE",
        TargetKind::Api => "API",
        TargetKind::Other => "OTHER",
    }
}

/// A conflict policy as GraphQL spells it.
pub(crate) fn conflict_policy_name(policy: ConflictPolicy) -> &'static str {
    match policy {
        ConflictPolicy::Flag => "FLAG",
        ConflictPolicy::KeepTarget => "KEEP_TARGET",
        ConflictPolicy::Merge => "MERGE",
    }
}

/// An import mode as GraphQL spells it.
pub(crate) fn import_mode_name(mode: ImportMode) -> &'static str {
    match mode {
        ImportMode::Incremental => "INCREMENTAL",
        ImportMode::Full => "FULL",
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;
    use sea_orm::Iterable as _;

    use super::*;

    /// The domain values a mirror's values convert into, in order.
    fn converted<C: ValueEnum + Copy + Into<D>, D>() -> Vec<D> {
        C::value_variants().iter().map(|&c| c.into()).collect()
    }

    /// Each mirror has a value per domain variant, and converts into it.
    #[test]
    fn mirrors_cover_the_domain_enums() {
        assert_eq!(
            converted::<SourceKindChoice, SourceKind>(),
            SourceKind::iter().collect::<Vec<_>>()
        );
        assert_eq!(
            converted::<TargetKindChoice, TargetKind>(),
            TargetKind::iter().collect::<Vec<_>>()
        );
        assert_eq!(
            converted::<ConflictPolicyChoice, ConflictPolicy>(),
            ConflictPolicy::iter().collect::<Vec<_>>()
        );
        assert_eq!(
            converted::<ImportModeChoice, ImportMode>(),
            ImportMode::iter().collect::<Vec<_>>()
        );
    }
}
