//! SeaORM entities, one file per table of the migrations, and [`SnapshotReason`], the stored
//! value both snapshot tables hold (the statements of [`crate::store`] write it too). No logic
//! lives here: rules are in [`crate::domain`], API shapes in [`crate::graphql::types`].

pub(crate) mod api_key;
pub(crate) mod cleanup_run;
pub(crate) mod idempotency_key;
pub mod import_run;
pub(crate) mod source;
pub mod source_property;
pub mod source_snapshot;
pub mod sync_log;
pub(crate) mod target;
pub mod target_property;
pub mod target_snapshot;
pub mod tenant;

use sea_orm::{DeriveActiveEnum, EnumIter};

/// Implements [`crate::store::scope::TenantOwned`] for an entity with a `tenant_id` column.
/// `by Kind(column, ..)` names how a key's object limits apply to its rows
/// ([`crate::store::scope::LimitedBy`]).
macro_rules! tenant_owned {
    ($($module:ident => $type_name:literal $(by $limit:ident($($col:ident),+))?),+ $(,)?) => {
        $(
            impl crate::store::scope::TenantOwned for $module::Entity {
                const TYPE_NAME: &'static str = $type_name;

                $(
                    fn limited_by() -> crate::store::scope::LimitedBy<Self::Column> {
                        crate::store::scope::LimitedBy::$limit($($module::Column::$col),+)
                    }
                )?

                fn tenant_column() -> Self::Column {
                    $module::Column::TenantId
                }

                fn id_column() -> Self::Column {
                    $module::Column::Id
                }
            }
        )+
    };
}

tenant_owned!(
    api_key => "ApiKey",
    cleanup_run => "CleanupRun",
    idempotency_key => "IdempotencyKey",
    import_run => "ImportRun" by Source(SourceId),
    source => "Source" by Source(Id),
    source_property => "SourceProperty" by Source(SourceId),
    source_snapshot => "SourceSnapshot" by SourceListing(SourcePropertyId),
    sync_log => "SyncLog" by SourceAndTarget(SourceId, TargetId),
    target => "Target" by Target(Id),
    target_property => "TargetProperty" by Target(TargetId),
    target_snapshot => "TargetSnapshot" by TargetListing(TargetPropertyId),
);

/// Why a version was replaced.
// Stored in `source_snapshots.reason` and `target_snapshots.reason` as the `string_value`; a
// stored value this version does not know fails the read (an internal error), never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SnapshotReason {
    /// An import brought a new version of the source listing.
    #[sea_orm(string_value = "import")]
    Import,
    /// A sync brought the source's version to the target.
    #[sea_orm(string_value = "sync")]
    Sync,
    /// A person edited the target listing.
    #[sea_orm(string_value = "manual_edit")]
    ManualEdit,
    /// A conflict was resolved.
    #[sea_orm(string_value = "resolve")]
    Resolve,
    /// An older version was restored.
    #[sea_orm(string_value = "restore")]
    Restore,
}

/// Declares the entity of `$table`, whose rows are the replaced versions of the listings in
/// column `$listing`: source and target snapshots keep the same columns.
macro_rules! snapshot_entity {
    ($table:tt, $listing:ident) => {
        use sea_orm::entity::prelude::*;

        #[doc = concat!("One row of `", $table, "`.")]
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = $table)]
        pub struct Model {
            /// Primary key.
            #[sea_orm(primary_key)]
            pub id: i64,
            /// Owning tenant.
            pub tenant_id: i64,
            /// The listing.
            pub $listing: i64,
            /// The replaced data.
            #[sea_orm(column_type = "JsonBinary")]
            pub data: Json,
            /// Its hash.
            pub content_hash: String,
            /// Why it was replaced (text; an unknown value fails the read).
            pub reason: crate::entity::SnapshotReason,
            /// When.
            pub created_at: DateTimeUtc,
            /// Kept by cleanup whatever its age.
            pub pinned: bool,
        }

        /// Relations are followed by explicit scoped queries in the domain, not by joins.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}
pub(crate) use snapshot_entity;

/// Declares the entity of `$table`, the audit record of one run (an import or a sync): its own
/// columns, then the ones every run record ends with (removals, warnings, who ran it and when,
/// and the mass-removal guard's verdict).
macro_rules! run_record_entity {
    ($table:tt { $($columns:tt)* }) => {
        use sea_orm::entity::prelude::*;

        #[doc = concat!("One row of `", $table, "`.")]
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = $table)]
        pub struct Model {
            $($columns)*
            /// Listings marked removed.
            pub removed: i32,
            /// Warnings, a JSON array (naming listings, for a sync).
            #[sea_orm(column_type = "JsonBinary")]
            pub warnings: Json,
            /// Who ran it: an API key or the CLI.
            pub actor: String,
            /// Start.
            pub started_at: DateTimeUtc,
            /// End.
            pub finished_at: DateTimeUtc,
            /// Listings the run would mark removed (null on records written before this was kept).
            pub would_remove: Option<i32>,
            /// The mass-removal guard refused the run (in a dry run: would have refused it).
            pub mass_removal_refused: bool,
        }

        /// Relations are followed by explicit scoped queries in the domain, not by joins.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}
pub(crate) use run_record_entity;
