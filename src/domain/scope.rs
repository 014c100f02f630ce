//! The tenant gate. A [`TenantScope`] is made only from an authenticated API key
//! ([`crate::domain::api_keys::authenticate`]) or a tenant named on the CLI
//! ([`crate::domain::tenants::scope_for_cli`]); every domain function takes one, and every
//! read goes through [`TenantScope::select`], so no query can forget the tenant filter.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use crate::error::Error;
use crate::ids::TenantId;

/// An entity whose rows belong to one tenant.
pub trait TenantOwned: EntityTrait {
    /// Its `tenant_id` column.
    fn tenant_column() -> Self::Column;
    /// Its `id` primary-key column.
    fn id_column() -> Self::Column;
    /// The GraphQL type name its rows appear as, for "not found" errors.
    const TYPE_NAME: &'static str;
}

/// What a scope may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Queries only.
    ReadOnly,
    /// Queries and mutations.
    ReadWrite,
}

/// The tenant a caller acts for, and what it may do there.
#[derive(Clone, Copy, Debug)]
pub struct TenantScope {
    tenant: TenantId,
    access: Access,
}

impl TenantScope {
    /// Only the domain's authentication paths make scopes.
    pub(crate) fn new(tenant: TenantId, access: Access) -> Self {
        Self { tenant, access }
    }

    /// The tenant.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    /// All rows of `E` that belong to this tenant.
    pub fn select<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(E::tenant_column().eq(self.tenant.0))
    }

    /// The tenant's row of `E` with primary key `id`, or `NOT_FOUND` (also when the row
    /// exists in another tenant).
    pub async fn get<E: TenantOwned, C: ConnectionTrait>(
        &self,
        db: &C,
        id: i64,
    ) -> Result<E::Model, Error> {
        self.select::<E>()
            .filter(E::id_column().eq(id))
            .one(db)
            .await?
            .ok_or_else(|| {
                Error::not_found(E::TYPE_NAME, crate::ids::encode_global(E::TYPE_NAME, id))
            })
    }

    /// The tenant's rows of `E` with these primary keys (in chunks); unknown ids are skipped.
    pub async fn get_many<E: TenantOwned, C: ConnectionTrait>(
        &self,
        db: &C,
        ids: &[i64],
    ) -> Result<Vec<E::Model>, Error> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::domain::sql::CHUNK_IDS) {
            found.extend(
                self.select::<E>()
                    .filter(E::id_column().is_in(chunk.iter().copied()))
                    .all(db)
                    .await?,
            );
        }
        Ok(found)
    }

    /// A row named on the command line: by `name_col` equal to `reference`, else by its global
    /// id (as `--json` prints it), else by its numeric id.
    pub async fn find_for_cli<E: TenantOwned, C: ConnectionTrait>(
        &self,
        db: &C,
        name_col: E::Column,
        reference: &str,
    ) -> Result<E::Model, Error> {
        if let Some(found) = self
            .select::<E>()
            .filter(name_col.eq(reference))
            .one(db)
            .await?
        {
            return Ok(found);
        }
        let by_id = match crate::ids::decode_global(reference, "reference") {
            Ok((type_name, id)) => (type_name == E::TYPE_NAME).then_some(id),
            Err(_) => reference.parse::<i64>().ok(),
        };
        match by_id {
            Some(id) => self.get::<E, _>(db, id).await.map_err(|err| match err {
                Error::NotFound { .. } => Error::not_found(E::TYPE_NAME, reference),
                other => other,
            }),
            None => Err(Error::not_found(E::TYPE_NAME, reference)),
        }
    }

    /// Fails with `FORBIDDEN` unless the scope may write.
    pub fn require_write(&self) -> Result<(), Error> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::ReadOnly => Err(Error::Forbidden(
                "this API key is read-only; mutations need the WRITE scope".into(),
            )),
        }
    }
}
