//! SeaORM entities, one file per table of the migrations. No logic lives here: rules are in
//! [`crate::domain`], API shapes in [`crate::graphql::types`].

pub mod api_key;
pub mod cleanup_run;
pub mod idempotency_key;
pub mod import_run;
pub mod source;
pub mod source_property;
pub mod source_snapshot;
pub mod sync_log;
pub mod target;
pub mod target_property;
pub mod target_snapshot;
pub mod tenant;

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
