//! Sources: where listings come from.

use sea_orm::{DatabaseConnection, DeriveActiveEnum, EnumIter};
use serde_json::Value;

use crate::domain::catalog::{self, Catalog, CatalogColumns, CatalogFields, catalog_columns};
use crate::entity::source;
use crate::error::Error;
use crate::ids::SourceId;
use crate::store::scope::TenantScope;

/// How a source's listings arrive.
// Stored in `sources.kind` as the `string_value`; a stored value this version does not know
// fails the read (an internal error), never a guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SourceKind {
    /// JSON pushed by a client or read from files.
    #[sea_orm(string_value = "json")]
    Json,
    /// Listings a scraper collected.
    #[sea_orm(string_value = "scraped")]
    Scraped,
    /// Listings entered by people.
    #[sea_orm(string_value = "manual")]
    Manual,
}

/// What a new source needs.
#[derive(Clone, Debug)]
pub struct NewSource {
    /// Name, unique in the tenant.
    pub name: String,
    /// How listings arrive.
    pub kind: SourceKind,
    /// Whether it accepts imports and syncs.
    pub active: bool,
    /// Settings; `id_field` (default `"id"`) names the listing field that identifies a listing.
    pub config: Value,
}

/// A change to a source; `None` leaves a field as it is.
pub type SourcePatch = CatalogFields<SourceKind>;

impl Catalog for source::Entity {
    type Id = SourceId;
    type Kind = SourceKind;
    const NOUN: &'static str = "source";
    const COLUMNS: CatalogColumns<source::Column> = catalog_columns!(source);

    /// `id_field`, when given, must name the listing field that holds a listing's id.
    fn check_config(config: &Value) -> Result<(), Error> {
        match config.get("id_field") {
            None => Ok(()),
            Some(Value::String(field)) if !field.trim().is_empty() => Ok(()),
            Some(_) => Err(Error::invalid(
                "input.config.id_field",
                "must be a non-empty string naming the listing field that holds its id",
            )),
        }
    }
}

/// Creates a source.
pub async fn create_source(
    db: &DatabaseConnection,
    scope: &TenantScope,
    new: NewSource,
) -> Result<source::Model, Error> {
    let fields = CatalogFields::all(new.name, new.kind, new.active, new.config);
    catalog::create::<source::Entity>(db, scope, fields, Default::default()).await
}

/// Changes a source.
pub async fn update_source(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: SourceId,
    patch: SourcePatch,
) -> Result<source::Model, Error> {
    catalog::update::<source::Entity>(db, scope, id, patch, |_| {}).await
}

/// One of the tenant's sources.
pub(crate) async fn get_source(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: SourceId,
) -> Result<source::Model, Error> {
    catalog::get::<source::Entity>(db, scope, id).await
}
