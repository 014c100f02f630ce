//! SeaORM entities, one file per table of the migrations. No logic lives here: rules are in
//! [`crate::domain`], API shapes in [`crate::graphql::types`].

pub mod api_key;
pub mod cleanup_run;
pub mod import_run;
pub mod source;
pub mod source_property;
pub mod source_snapshot;
pub mod sync_log;
pub mod target;
pub mod target_property;
pub mod target_snapshot;
pub mod tenant;

/// Implements [`crate::domain::scope::TenantOwned`] for an entity with a `tenant_id` column.
macro_rules! tenant_owned {
    ($($module:ident => $type_name:literal),+ $(,)?) => {
        $(
            impl crate::domain::scope::TenantOwned for $module::Entity {
                const TYPE_NAME: &'static str = $type_name;

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
    import_run => "ImportRun",
    source => "Source",
    source_property => "SourceProperty",
    source_snapshot => "SourceSnapshot",
    sync_log => "SyncLog",
    target => "Target",
    target_property => "TargetProperty",
    target_snapshot => "TargetSnapshot",
);
