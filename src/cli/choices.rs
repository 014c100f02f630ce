//! The command line's spelling of the domain's enums: a clap `ValueEnum` mirror of each, with
//! the same variants and documentation (so `--help` lists the same values), converting into
//! the domain enum; and [`api_name`], the GraphQL name `--json` prints for a value.

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

/// A domain enum's value as the GraphQL API spells it (`SCRAPED`, `KEEP_TARGET`): `--json`
/// answers in the API's vocabulary, so the names come from the API's mirror `M` of the enum,
/// the one place they are written.
pub(crate) fn api_name<M: From<D> + async_graphql::EnumType, D>(value: D) -> &'static str {
    let value = M::from(value);
    M::items()
        .iter()
        .find(|item| item.value == value)
        .map_or("", |item| item.name)
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

    #[test]
    fn api_names_are_the_graphql_names() {
        use crate::graphql::types::enums as api;
        assert_eq!(
            api_name::<api::SourceKind, _>(SourceKind::Scraped),
            "SCRAPED"
        );
        assert_eq!(api_name::<api::TargetKind, _>(TargetKind::Api), "API");
        assert_eq!(
            api_name::<api::ConflictPolicy, _>(ConflictPolicy::KeepTarget),
            "KEEP_TARGET"
        );
        assert_eq!(api_name::<api::ImportMode, _>(ImportMode::Full), "FULL");
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
