//! What a row tells the pager about itself: its id and its sort key, and how it is read from
//! a page statement.

use chrono::{DateTime, Utc};
use sea_orm::{DbErr, EntityTrait, FromQueryResult, QueryResult};
use serde_json::Value;

use crate::store::listing_filter::{Sort, SortBy};

/// What a row of a paged list can tell about itself.
pub trait PagedRow: FromQueryResult + Sized {
    /// The columns [`PagedRow::from_row`] reads by position (empty: it reads by name); a
    /// test checks them against the entity's.
    #[cfg(test)]
    const COLUMNS: &'static [&'static str] = &[];

    /// Its primary key.
    fn id(&self) -> i64;
    /// Its sort key under `sort`, in JSON form (`null` for id order).
    fn sort_key(&self, sort: &Sort) -> Value;

    /// Takes its sort key under `sort`, read from a page that selected it in place of the
    /// row's JSON (`None`: the row has none): rows that sort by a key inside their JSON keep
    /// it there, as an object holding just that key.
    fn hold_sort_key(&mut self, sort: &Sort, key: Option<Value>) {
        let _ = (sort, key);
    }

    /// Whether [`PagedRow::from_row`] reads by position and so can read a page that left
    /// columns out ([`Omitted`]); rows read by name always get every column.
    const READS_BY_POSITION: bool = false;

    /// Reads a row of a page statement, whose columns are the entity's in declaration order
    /// but those `omitted` (which hold their type's default).
    fn from_row(row: &QueryResult, omitted: Omitted) -> Result<Self, DbErr> {
        let _ = omitted;
        Self::from_query_result(row, "")
    }
}

/// The columns of an entity a page statement leaves out, by their position in the entity
/// (bit `i`: column `i`). A row read from such a page holds its type's default there, so
/// only columns the caller does not read may be left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Omitted(u64);

impl Omitted {
    /// With column `index` left out too.
    pub fn with(self, index: usize) -> Self {
        Self(self.0 | 1 << index)
    }

    /// Whether column `index` is left out.
    pub fn has(self, index: usize) -> bool {
        self.0 & 1 << index != 0
    }

    /// How many columns are left out.
    pub fn count(self) -> usize {
        self.0.count_ones() as usize
    }
}

/// An entity the pager can page: its rows are [`PagedRow`]s that may cross tasks.
pub trait PagedEntity: EntityTrait<Model: PagedRow + Send + Sync> {}

impl<E: EntityTrait<Model: PagedRow + Send + Sync>> PagedEntity for E {}

/// [`PagedRow::from_row`] by position, for the listing rows a page holds hundreds of: reading
/// by column name costs a hash lookup per column and row. PostgreSQL rows are decoded by
/// [`pg_columns`](super::pg_columns). A column the page left out takes no position and holds
/// its type's default.
macro_rules! read_by_position {
    ($($field:ident),+ $(,)?) => {
        #[cfg(test)]
        const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

        const READS_BY_POSITION: bool = true;

        fn from_row(row: &QueryResult, omitted: Omitted) -> Result<Self, DbErr> {
            // Fields are initialised in the order written, which is the columns' order.
            let mut columns = 0..;
            let mut positions = 0..;
            let mut next = || {
                let column = columns.next().unwrap_or_default();
                (!omitted.has(column)).then(|| positions.next().unwrap_or_default())
            };
            if let Some(row) = row.try_as_pg_row() {
                use $crate::store::pager::pg_columns::column;
                return Ok(Self {
                    $($field: match next() {
                        Some(position) => column(row, position)?,
                        None => Default::default(),
                    },)+
                });
            }
            Ok(Self {
                $($field: match next() {
                    Some(position) => row.try_get_by_index(position)?,
                    None => Default::default(),
                },)+
            })
        }
    };
}

/// A listing row (source or target): read by position, sortable by every listing order.
macro_rules! listing_row {
    ($model:path { $($field:ident),+ $(,)? }) => {
        impl PagedRow for $model {
            read_by_position!($($field),+);

            fn id(&self) -> i64 {
                self.id
            }

            fn sort_key(&self, sort: &Sort) -> Value {
                match &sort.by {
                    SortBy::Id => Value::Null,
                    SortBy::CreatedAt => timestamp(&self.created_at),
                    SortBy::UpdatedAt => timestamp(&self.updated_at),
                    SortBy::ExternalId => Value::String(self.external_id.clone()),
                    SortBy::Path(path) => path.get(&self.data).cloned().unwrap_or(Value::Null),
                }
            }

            fn hold_sort_key(&mut self, sort: &Sort, key: Option<Value>) {
                if let SortBy::Path(path) = &sort.by {
                    self.data = path.holding(key);
                }
            }
        }
    };
}

listing_row!(crate::entity::source_property::Model {
    id,
    tenant_id,
    source_id,
    external_id,
    data,
    content_hash,
    removed_at,
    created_at,
    updated_at,
});

listing_row!(crate::entity::target_property::Model {
    id,
    tenant_id,
    target_id,
    source_property_id,
    external_id,
    data,
    content_hash,
    base_hash,
    manually_modified,
    manual_changed_at,
    conflict,
    removed_at,
    last_synced_at,
    created_at,
    updated_at,
    resolution,
    resolved_at,
    resolved_by,
    version,
    edited_paths,
});

/// A timestamp sort key in JSON form.
fn timestamp(at: &DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// Rows only ever listed in id order.
macro_rules! id_ordered {
    ($($model:path),+ $(,)?) => {
        $(
            impl PagedRow for $model {
                fn id(&self) -> i64 {
                    self.id
                }

                fn sort_key(&self, _sort: &Sort) -> Value {
                    Value::Null
                }
            }
        )+
    };
}

id_ordered!(
    crate::entity::source_snapshot::Model,
    crate::entity::target_snapshot::Model,
    crate::entity::import_run::Model,
    crate::entity::sync_log::Model,
    crate::entity::cleanup_run::Model,
    crate::entity::source::Model,
    crate::entity::target::Model,
    crate::entity::api_key::Model,
);

#[cfg(test)]
mod tests {
    use sea_orm::{IdenStatic, Iterable};

    use super::PagedRow;
    use crate::entity::{source_property, target_property};

    fn names<C: Iterable + IdenStatic>() -> Vec<&'static str> {
        C::iter().map(|c| c.as_str()).collect()
    }

    #[test]
    fn rows_read_by_position_list_every_column_in_order() {
        assert_eq!(
            source_property::Model::COLUMNS,
            names::<source_property::Column>()
        );
        assert_eq!(
            target_property::Model::COLUMNS,
            names::<target_property::Column>()
        );
    }
}
