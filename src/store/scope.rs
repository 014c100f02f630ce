//! The tenant gate. A [`TenantScope`] is made only from an authenticated API key
//! ([`crate::domain::api_keys::authenticate`]) or a tenant named on the CLI
//! ([`crate::domain::tenants::scope_for_cli`]); every domain function takes one, and every
//! read goes through [`TenantScope::select`], so no query can forget the tenant filter.
//!
//! A scope also carries what its key may change ([`Permission`], checked by every domain
//! write with [`TenantScope::require`] before it reads anything) and the sources and targets
//! the key is limited to, which [`TenantScope::select`] applies to every entity through
//! [`TenantOwned::limited_by`]: rows out of the limits are left out of every read, so they
//! behave like another tenant's (`NOT_FOUND`). A new write names its permission in one line,
//! `scope.require(Permission::Edit)?`; a new entity declares its limit where it is registered
//! (`crate::entity`'s `tenant_owned!`).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use sea_orm::sea_query::{Expr, ExprTrait, IntoIden, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

use crate::entity::{source_property, target_property};
use crate::error::Error;
use crate::ids::TenantId;

/// An entity whose rows belong to one tenant.
pub(crate) trait TenantOwned: EntityTrait {
    /// Its `tenant_id` column.
    fn tenant_column() -> Self::Column;
    /// Its `id` primary-key column.
    fn id_column() -> Self::Column;
    /// Which of a key's object limits its rows fall under.
    fn limited_by() -> LimitedBy<Self::Column> {
        LimitedBy::Nothing
    }
    /// The GraphQL type name its rows appear as, for "not found" errors.
    const TYPE_NAME: &'static str;
}

/// How the rows of an entity relate to the sources and targets a key may be limited to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LimitedBy<C> {
    /// Not at all (API keys).
    Nothing,
    /// The column holds a source id.
    Source(C),
    /// The column holds a target id.
    Target(C),
    /// The columns hold a source id and a target id (a sync log): both must be allowed.
    SourceAndTarget(C, C),
    /// The column holds a source listing id (a source snapshot).
    SourceListing(C),
    /// The column holds a target listing id (a target snapshot).
    TargetListing(C),
}

/// What a key may change, beyond reading (which every key may). Each domain write names the
/// permission it needs in [`TenantScope::require`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Permission {
    /// Import listings into the sources the key may see.
    Import,
    /// Sync a source the key may see into a target it may see.
    Sync,
    /// Edit target listings by hand, resolve conflicts, restore and pin snapshots.
    Edit,
    /// Create, change and delete sources and targets, manage API keys, clean up snapshots.
    Admin,
}

impl Permission {
    /// Every permission.
    pub(crate) const ALL: [Self; 4] = [Self::Import, Self::Sync, Self::Edit, Self::Admin];

    fn bit(self) -> u8 {
        match self {
            Self::Import => 1,
            Self::Sync => 2,
            Self::Edit => 4,
            Self::Admin => 8,
        }
    }

    /// The scope that grants it, as the API names it.
    pub(crate) fn scope_name(self) -> &'static str {
        match self {
            Self::Import => "IMPORT",
            Self::Sync => "SYNC",
            Self::Edit => "EDIT",
            Self::Admin => "ADMIN",
        }
    }
}

/// A set of [`Permission`]s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Permissions(u8);

impl Permissions {
    /// Every permission.
    pub(crate) fn all() -> Self {
        Self::from_iter(Permission::ALL)
    }

    /// Whether `permission` is in the set.
    pub(crate) fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// Whether every permission of `other` is in the set.
    pub(crate) fn covers(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl FromIterator<Permissions> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permissions>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, p| bits | p.0))
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, p| bits | p.bit()))
    }
}

/// The objects of one kind a key is limited to: `None` for all of them.
pub(crate) type ObjectLimit = Option<Arc<[i64]>>;

/// Whether `inner` allows no object that `outer` does not.
fn within(inner: &ObjectLimit, outer: &ObjectLimit) -> bool {
    match (inner, outer) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(inner), Some(outer)) => inner.iter().all(|id| outer.contains(id)),
    }
}

/// The tenant a caller acts for, what it may change, and the sources and targets it may see.
///
/// Objects outside the limits behave like another tenant's: every read through
/// [`TenantScope::select`] leaves them out, so fetching one is `NOT_FOUND` and a list does not
/// show it. A write the scope's permissions do not allow is `FORBIDDEN`, checked before
/// anything is read.
#[derive(Clone, Debug)]
pub struct TenantScope {
    tenant: TenantId,
    permissions: Permissions,
    sources: ObjectLimit,
    targets: ObjectLimit,
    expires_at: Option<DateTime<Utc>>,
}

impl TenantScope {
    /// Everything on `tenant`: the CLI's scope (the operator owns the database) and a new
    /// tenant's. Only the domain's authentication paths make scopes.
    pub(crate) fn full(tenant: TenantId) -> Self {
        Self::limited(tenant, Permissions::all(), None, None, None)
    }

    /// `permissions` on `tenant`, seeing only the sources and targets the limits allow.
    pub(crate) fn limited(
        tenant: TenantId,
        permissions: Permissions,
        sources: ObjectLimit,
        targets: ObjectLimit,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            tenant,
            permissions,
            sources,
            targets,
            expires_at,
        }
    }

    /// The same tenant and permissions without object limits: for reading the source side of
    /// a target listing the scope sees (its id field, the source version a resolution takes),
    /// which belongs to the listing whichever sources the key may see. Never for answers.
    pub(crate) fn whole_tenant(&self) -> Self {
        Self {
            sources: None,
            targets: None,
            ..self.clone()
        }
    }

    /// What the scope may change.
    pub(crate) fn permissions(&self) -> Permissions {
        self.permissions
    }

    /// The sources the scope is limited to (`None`: all).
    pub(crate) fn source_limit(&self) -> &ObjectLimit {
        &self.sources
    }

    /// The targets the scope is limited to (`None`: all).
    pub(crate) fn target_limit(&self) -> &ObjectLimit {
        &self.targets
    }

    /// The tenant.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    /// All rows of `E` that belong to this tenant and lie within the scope's limits.
    pub(crate) fn select<E: TenantOwned>(&self) -> Select<E> {
        let select = E::find().filter(E::tenant_column().eq(self.tenant.0));
        match self.limit_of::<E>() {
            Some(condition) => select.filter(condition),
            None => select,
        }
    }

    /// The condition that keeps `E`'s rows within the scope's object limits, if any applies.
    fn limit_of<E: TenantOwned>(&self) -> Option<Condition> {
        fn ids(limit: &ObjectLimit) -> Option<Vec<i64>> {
            limit.as_ref().map(|ids| ids.to_vec())
        }
        /// `col` names a listing whose parent (`parent_col` of `table`) is within `limit`.
        fn in_listings<C: ColumnTrait, L: ColumnTrait>(
            col: C,
            listing_id: L,
            parent_col: L,
            limit: &ObjectLimit,
            table: impl IntoIden,
        ) -> Option<Condition> {
            ids(limit).map(|ids| {
                let listings = Query::select()
                    .column(listing_id)
                    .from(table)
                    .and_where(Expr::col(parent_col).is_in(ids))
                    .to_owned();
                Condition::all().add(Expr::col(col).in_subquery(listings))
            })
        }
        match E::limited_by() {
            LimitedBy::Nothing => None,
            LimitedBy::Source(col) => {
                ids(&self.sources).map(|ids| Condition::all().add(col.is_in(ids)))
            }
            LimitedBy::Target(col) => {
                ids(&self.targets).map(|ids| Condition::all().add(col.is_in(ids)))
            }
            LimitedBy::SourceAndTarget(source, target) => {
                let mut condition = Condition::all();
                if let Some(ids) = ids(&self.sources) {
                    condition = condition.add(source.is_in(ids));
                }
                if let Some(ids) = ids(&self.targets) {
                    condition = condition.add(target.is_in(ids));
                }
                (!condition.is_empty()).then_some(condition)
            }
            LimitedBy::SourceListing(col) => in_listings(
                col,
                source_property::Column::Id,
                source_property::Column::SourceId,
                &self.sources,
                source_property::Entity,
            ),
            LimitedBy::TargetListing(col) => in_listings(
                col,
                target_property::Column::Id,
                target_property::Column::TargetId,
                &self.targets,
                target_property::Entity,
            ),
        }
    }

    /// The tenant's row of `E` with primary key `id`, or `NOT_FOUND` (also when the row
    /// exists in another tenant).
    pub(crate) async fn get<E: TenantOwned, C: ConnectionTrait>(
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
    pub(crate) async fn get_many<E: TenantOwned, C: ConnectionTrait>(
        &self,
        db: &C,
        ids: &[i64],
    ) -> Result<Vec<E::Model>, Error> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::store::locks::CHUNK_IDS) {
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
    pub(crate) async fn find_for_cli<E: TenantOwned, C: ConnectionTrait>(
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

    /// Fails with `FORBIDDEN` unless the scope has `permission`: the one check every domain
    /// write makes, before it reads anything.
    pub(crate) fn require(&self, permission: Permission) -> Result<(), Error> {
        if self.permissions.contains(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this API key lacks the {} scope this operation needs",
                permission.scope_name()
            )))
        }
    }

    /// Fails with `FORBIDDEN` unless the scope has `permission` and is limited to no sources
    /// or targets: for what reaches beyond single objects (creating a source or target,
    /// cleaning up every snapshot), `what` saying which.
    pub(crate) fn require_unlimited(
        &self,
        permission: Permission,
        what: &str,
    ) -> Result<(), Error> {
        self.require(permission)?;
        if self.sources.is_some() || self.targets.is_some() {
            return Err(Error::Forbidden(format!(
                "this API key is limited to some sources or targets; {what} needs a key without limits"
            )));
        }
        Ok(())
    }

    /// Whether a key with these rights allows nothing this scope does not (permissions,
    /// objects, time), as a key made or revoked by this scope must.
    pub(crate) fn covers(
        &self,
        permissions: Permissions,
        sources: &ObjectLimit,
        targets: &ObjectLimit,
        expires_at: Option<DateTime<Utc>>,
    ) -> bool {
        self.permissions.covers(permissions)
            && within(sources, &self.sources)
            && within(targets, &self.targets)
            && self
                .expires_at
                .is_none_or(|mine| expires_at.is_some_and(|theirs| theirs <= mine))
    }
}
