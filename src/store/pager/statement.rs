//! The statements that read pages: one for a top-level list, and for a nested list one for
//! any number of parents.
//!
//! For parents p1…pn the query is, on SQLite, a `UNION ALL` of one index-backed
//! `SELECT … WHERE parent = pi … ORDER BY … LIMIT n` per parent (400 parents a statement:
//! SQLite allows 500 parts in a compound `SELECT`), and on PostgreSQL one `unnest` of the
//! parents joined `LATERAL` to the same page. So each parent gets its own page (`first: 100`
//! under each of 50 parents) and the statement count does not grow with the parents.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, JoinType, Order, OrderedStatement, Query,
    SelectStatement, UnionType, Value,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryResult,
    QuerySelect, QueryTrait, Select, Statement,
};

use crate::error::Error;
use crate::store::listing_filter::DataStandIn;
use crate::store::pager::keyset::order_by;
use crate::store::pager::rows::Omitted;
use crate::store::pager::{PageQuery, PagedEntity, PagedRow, Parents};

/// Parents per statement on SQLite: it allows 500 parts in a compound `SELECT`.
const PARENTS_PER_STATEMENT: usize = 400;

/// The column in which a PostgreSQL page that does not read the listing JSON carries the
/// sort key (after the entity's columns, which rows are read from by position).
const PAGE_KEY: &str = "page_key";

/// The key the rows of a top-level list are grouped under (they have one parent).
pub(super) const ONE_PARENT: i64 = 0;

/// Which rows of each parent one statement reads.
pub(super) struct Slice {
    /// The keyset conditions (rows after/before cursors).
    pub condition: Condition,
    /// Read against the order (`last`/`before`), else along it.
    pub reverse: bool,
    /// Rows per parent.
    pub limit: u64,
}

/// Builds and runs the statements of one [`PageQuery`].
pub(super) struct Reader<'q, 'a, E: EntityTrait> {
    pub backend: DbBackend,
    pub query: &'q PageQuery<'a, E>,
    /// What the pages select in place of the listing JSON ([`Self::stand_in_of`]).
    stand_in: Option<DataStandIn>,
    /// The entity's columns the pages leave out ([`Self::omitted_of`]).
    omitted: Omitted,
}

impl<'q, 'a, E> Reader<'q, 'a, E>
where
    E: PagedEntity,
{
    /// The reader of `query` on `backend`, with what its pages select worked out once.
    pub fn new(backend: DbBackend, query: &'q PageQuery<'a, E>) -> Self {
        let stand_in = Self::stand_in_of(backend, query);
        let omitted = Self::omitted_of(query, stand_in.as_ref());
        Self {
            backend,
            query,
            stand_in,
            omitted,
        }
    }

    /// Reads `slice` of each of `parents` (all of them: [`ONE_PARENT`] for a top-level list),
    /// grouped by parent, each group in page order.
    pub async fn read<C: ConnectionTrait>(
        &self,
        db: &C,
        parents: &[i64],
        slice: &Slice,
    ) -> Result<HashMap<i64, Vec<E::Model>>, Error> {
        let mut grouped: HashMap<i64, Vec<E::Model>> = HashMap::new();
        if parents.is_empty() {
            return Ok(grouped);
        }
        let (statements, parent_of) = match &self.query.parents {
            Parents::One => (vec![self.page(None, slice)], None),
            Parents::Each { column, of, .. } => {
                let statements = match self.backend {
                    // One statement for any number of parents, with the same text each time,
                    // so the server keeps one prepared statement and plan for it.
                    DbBackend::Postgres => vec![self.lateral(*column, parents, slice)],
                    _ => parents
                        .chunks(PARENTS_PER_STATEMENT)
                        .map(|chunk| self.union(*column, chunk, slice))
                        .collect(),
                };
                (statements, Some(*of))
            }
        };
        let key_column = self.key_column();
        // A parent's rows come one after another: they are gathered into one vector and
        // filed under their parent when the next parent's begin. The vector starts with room
        // for a few rows (not a whole page: hundreds of parents may have a row or two each).
        let page_rows = usize::try_from(slice.limit).map_or(1, |limit| limit.min(16));
        let mut run: Option<(i64, Vec<E::Model>)> = None;
        for statement in statements {
            for row in db
                .query_all_raw(self.built(&statement, slice.limit))
                .await?
            {
                let mut model = E::Model::from_row(&row, self.omitted)?;
                if let Some(index) = key_column {
                    model.hold_sort_key(self.query.sort, read_key(&row, index)?);
                }
                let parent = match parent_of {
                    None => Some(ONE_PARENT),
                    Some(of) => of(&model),
                };
                let Some(parent) = parent else { continue };
                match &mut run {
                    Some((of, rows)) if *of == parent => rows.push(model),
                    _ => {
                        file_rows(&mut grouped, run.take());
                        let mut rows = Vec::with_capacity(page_rows);
                        rows.push(model);
                        run = Some((parent, rows));
                    }
                }
            }
        }
        file_rows(&mut grouped, run);
        Ok(grouped)
    }

    /// How many rows each parent has (ignoring cursors and sizes).
    pub async fn count<C: ConnectionTrait>(
        &self,
        db: &C,
        parents: &[i64],
    ) -> Result<HashMap<i64, u64>, Error> {
        let rows = &self.query.rows;
        let Parents::Each { column, .. } = &self.query.parents else {
            let n = rows.clone().count(db).await?;
            return Ok(HashMap::from([(ONE_PARENT, n)]));
        };
        let mut totals = HashMap::new();
        for chunk in parents.chunks(5_000) {
            let counted: Vec<(i64, i64)> = rows
                .clone()
                .filter(column.is_in(chunk.iter().copied()))
                .select_only()
                .column(*column)
                .column_as(Expr::cust("COUNT(*)"), "n")
                .group_by(*column)
                .into_tuple()
                .all(db)
                .await?;
            totals.extend(counted.into_iter().map(|(parent, n)| (parent, n as u64)));
        }
        Ok(totals)
    }

    /// `statement` for the backend; on PostgreSQL with its page size written into its text
    /// ([`limit_written_out`]).
    fn built(&self, statement: &SelectStatement, limit: u64) -> Statement {
        let built = self.backend.build(statement);
        match self.backend {
            DbBackend::Postgres => limit_written_out(built, limit),
            _ => built,
        }
    }

    /// The page of one parent (`parent` is the value its parent column must equal; `None`
    /// for a top-level list): the rows of `slice`, in page order.
    fn page(&self, parent: Option<(E::Column, Expr)>, slice: &Slice) -> SelectStatement {
        let mut select: Select<E> = self.query.rows.clone();
        if let Some((column, parent)) = parent {
            select = select.filter(Expr::col((E::default(), column)).eq(parent));
        }
        let mut part = select.filter(slice.condition.clone()).into_query();
        if self.query.skip_data || self.omitted != Omitted::default() {
            self.narrowed(&mut part);
        }
        self.order(&mut part, slice.reverse);
        part.limit(slice.limit);
        part
    }

    /// Selects only the columns the caller reads ([`Self::omitted_of`]), and in place of the
    /// `data` column what the order needs of it (see [`DataStandIn`]): the listing JSON is not
    /// in the covering page index, and a page of 100 listings carries some 170 KB of it.
    /// Keeps `data` when only the whole listing can give the sort key.
    fn narrowed(&self, part: &mut SelectStatement) {
        part.clear_selects();
        for (index, column) in <E::Column as sea_orm::Iterable>::iter().enumerate() {
            if self.omitted.has(index) {
                continue;
            }
            match (sea_orm::IdenStatic::as_str(&column), &self.stand_in) {
                ("data", Some(DataStandIn::Object(object))) => {
                    part.expr_as(Expr::cust(object.clone()), Alias::new("data"))
                }
                _ => part.column((E::default(), column)),
            };
        }
        if let (Some(DataStandIn::KeyColumn), Some(key)) =
            (&self.stand_in, self.query.sort.key_sql(self.backend))
        {
            part.expr_as(key, Alias::new(PAGE_KEY));
        }
    }

    /// The entity's columns the pages of `query` leave out: those the caller does not read
    /// ([`PageQuery::unread`]) but the id, the parent column and the order's column; and
    /// without the listing JSON, `data` (unless it carries an order's key,
    /// [`DataStandIn::Object`]) and `edited_paths` (a target listing's, read with its data).
    /// Only rows read by position can be read from such a page.
    fn omitted_of(query: &PageQuery<'_, E>, stand_in: Option<&DataStandIn>) -> Omitted {
        if !E::Model::READS_BY_POSITION {
            return Omitted::default();
        }
        let parent = match &query.parents {
            Parents::One => None,
            Parents::Each { column, .. } => Some(sea_orm::IdenStatic::as_str(column)),
        };
        // A path order's key is in `data` (or a stand-in), never a column left out.
        let sorted = query.sort.by.column().unwrap_or("id");
        let mut omitted = Omitted::default();
        for (index, column) in <E::Column as sea_orm::Iterable>::iter().enumerate() {
            let name = sea_orm::IdenStatic::as_str(&column);
            let left_out = match name {
                "data" => matches!(
                    stand_in,
                    Some(DataStandIn::Nothing | DataStandIn::KeyColumn)
                ),
                "edited_paths" => stand_in.is_some(),
                _ => {
                    query.unread.contains(&name)
                        && name != "id"
                        && name != sorted
                        && Some(name) != parent
                }
            };
            if left_out {
                omitted = omitted.with(index);
            }
        }
        omitted
    }

    /// What the pages of `query` select in place of the listing JSON, when the caller does
    /// not read it: nothing on PostgreSQL when the caller reads no cursor (its pages are put
    /// together by row number, not by key), else what the order needs
    /// ([`crate::store::listing_filter::Sort::data_stand_in`]). SQLite orders the union of its
    /// pages by the key, so it always selects it.
    fn stand_in_of(backend: DbBackend, query: &PageQuery<'_, E>) -> Option<DataStandIn> {
        if !query.skip_data {
            return None;
        }
        if query.skip_sort_key && backend == DbBackend::Postgres {
            return Some(DataStandIn::Nothing);
        }
        query.sort.data_stand_in(backend)
    }

    /// Where the rows carry their sort key in a column of their own ([`DataStandIn::KeyColumn`]):
    /// its position, after the entity's columns the page selects. The same expression as the
    /// order's key ([`crate::store::listing_filter::Sort::key_sql`]), built by the same
    /// function.
    fn key_column(&self) -> Option<usize> {
        (self.stand_in == Some(DataStandIn::KeyColumn))
            .then(|| <E::Column as sea_orm::Iterable>::iter().count() - self.omitted.count())
    }

    /// Orders a statement or window in the query's order (reversed when `reverse`).
    fn order<S: OrderedStatement>(&self, stmt: &mut S, reverse: bool) {
        order_by(
            stmt,
            self.backend,
            self.query.sort,
            reverse,
            self.query.keys_present,
        );
    }

    /// Orders the pages of all parents: by parent, then in each page's order.
    fn order_pages(&self, stmt: &mut SelectStatement, column: E::Column, slice: &Slice) {
        stmt.order_by(column, Order::Asc);
        self.order(stmt, slice.reverse);
    }

    /// PostgreSQL: `unnest` of the parents as an array, each joined `LATERAL` to its page.
    ///
    /// No outer `ORDER BY`: the reader groups the rows by parent, and needs each parent's
    /// rows in page order, which is how PostgreSQL returns them. A subquery that refers to
    /// a table beside it (`LATERAL`) is only ever run as the inner side of a nested loop,
    /// once per parent, and a subquery with a `LIMIT` is never merged into the outer query,
    /// so each page comes out whole and in its own `ORDER BY`. Sorting the joined rows again
    /// (by parent, then by a row number each page gave its rows) took about a third of the
    /// statement's time on 10 parents × 100 listings.
    fn lateral(&self, column: E::Column, parents: &[i64], slice: &Slice) -> SelectStatement {
        let parent = Alias::new("parent");
        let page = self.page(
            Some((column, Expr::col((parent.clone(), parent.clone())))),
            slice,
        );
        // The ids travel as one text parameter (`{1,2,3}`) cast to an array.
        let ids = parents
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        Query::select()
            .column((Alias::new("p"), Asterisk))
            .from_function(
                Func::cust(Alias::new("unnest"))
                    .arg(Expr::val(format!("{{{ids}}}")).cast_as(Alias::new("bigint[]"))),
                parent,
            )
            .join_lateral(
                JoinType::InnerJoin,
                page,
                Alias::new("p"),
                Expr::cust("TRUE"),
            )
            .to_owned()
    }

    /// SQLite: a `UNION ALL` of one page per parent (`parents` is not empty).
    fn union(&self, column: E::Column, parents: &[i64], slice: &Slice) -> SelectStatement {
        let mut union: Option<SelectStatement> = None;
        for (i, parent) in parents.iter().enumerate() {
            let part = self.page(Some((column, Expr::val(*parent))), slice);
            let wrapped = Query::select()
                .column(Asterisk)
                .from_subquery(part, Alias::new(format!("p{i}")))
                .to_owned();
            match &mut union {
                None => union = Some(wrapped),
                Some(all) => {
                    all.union(UnionType::All, wrapped);
                }
            }
        }
        // Only an outer ORDER BY promises the order of a UNION's rows.
        let mut stmt = Query::select()
            .column(Asterisk)
            .from_subquery(union.unwrap_or_default(), Alias::new("u"))
            .to_owned();
        self.order_pages(&mut stmt, column, slice);
        stmt
    }
}

/// Files `run`, one parent's rows in page order, under its parent (after any rows it has).
fn file_rows<M>(grouped: &mut HashMap<i64, Vec<M>>, run: Option<(i64, Vec<M>)>) {
    let Some((parent, rows)) = run else { return };
    match grouped.entry(parent) {
        Entry::Vacant(entry) => {
            entry.insert(rows);
        }
        Entry::Occupied(mut entry) => entry.get_mut().extend(rows),
    }
}

/// `statement` (a page statement, whose last parameter is its `LIMIT`) with the limit written
/// into its text instead of sent as a parameter.
///
/// PostgreSQL plans a prepared statement for its parameters' values on each of its first five
/// runs, then keeps one plan for any values once that plan is estimated to cost no more than
/// those did. Not knowing the limit, that one plan is costed for a tenth of the rows a
/// parent has, ten times the cost of a page: so it never qualified, and every page was
/// planned again (0.09–0.14 ms of the 0.5–0.7 ms a 10 × 100 page of listings took in
/// PostgreSQL, 2026-12-04). With the limit in the text, the kept plan costs what the page
/// costs. The limit is a number the pager worked out (the page size, plus one), never text
/// from a request; a statement of another size is another prepared statement.
fn limit_written_out(mut statement: Statement, limit: u64) -> Statement {
    let Some(values) = statement.values.as_mut() else {
        return statement;
    };
    if values.0.last() != Some(&Value::BigUnsigned(Some(limit))) {
        return statement;
    }
    let placeholder = format!(" LIMIT ${}", values.0.len());
    let Some(at) = statement.sql.rfind(&placeholder) else {
        return statement;
    };
    let end = at + placeholder.len();
    if statement.sql[end..].starts_with(|c: char| c.is_ascii_digit()) {
        return statement;
    }
    statement
        .sql
        .replace_range(at..end, &format!(" LIMIT {limit}"));
    values.0.pop();
    statement
}

/// The sort key a page row carries in column `index` (SQL `NULL`: none).
fn read_key(row: &QueryResult, index: usize) -> Result<Option<serde_json::Value>, Error> {
    if let Some(row) = row.try_as_pg_row() {
        return Ok(super::pg_columns::column(row, index)?);
    }
    Ok(row.try_get_by_index(index)?)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::Values;

    use super::*;

    fn statement(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, Values(values))
    }

    #[test]
    fn the_last_parameter_is_written_out_when_it_is_the_limit() {
        let written = limit_written_out(
            statement(
                "SELECT \"p\".* FROM unnest($1) AS \"parent\" INNER JOIN LATERAL (SELECT 1 WHERE \"t\" = $2 LIMIT $3) AS \"p\" ON TRUE",
                vec!["{1,2}".into(), 7i64.into(), 101u64.into()],
            ),
            101,
        );
        assert_eq!(
            written.sql,
            "SELECT \"p\".* FROM unnest($1) AS \"parent\" INNER JOIN LATERAL (SELECT 1 WHERE \"t\" = $2 LIMIT 101) AS \"p\" ON TRUE"
        );
        assert_eq!(
            written.values.map(|values| values.0),
            Some(vec!["{1,2}".into(), 7i64.into()])
        );
    }

    #[test]
    fn a_statement_whose_last_parameter_is_not_the_limit_is_left_as_it_is() {
        for (sql, values, limit) in [
            // Another value last.
            ("SELECT 1 LIMIT $1", vec![Value::from(5i64)], 5),
            // Another limit.
            ("SELECT 1 LIMIT $1", vec![Value::from(6u64)], 5),
            // `$1` is only the start of `$10`.
            ("SELECT 1 LIMIT $10", vec![Value::from(5u64)], 5),
            // No LIMIT clause for it.
            ("SELECT $1", vec![Value::from(5u64)], 5),
        ] {
            let written = limit_written_out(statement(sql, values.clone()), limit);
            assert_eq!(written.sql, sql);
            assert_eq!(written.values.map(|values| values.0), Some(values));
        }
    }
}
