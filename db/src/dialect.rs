//! The SQL that differs between the backends. Every query is one text for
//! both (sqlx's SQLite driver reads Postgres's `$1` placeholders); the few
//! that differ are written once too, with the differing fragment named, and
//! [`fragment!`] is the list of those fragments.

use sqlx::{PgConnection, SqliteConnection};

/// A query whose text differs by backend in one fragment; see [`sql!`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sql {
    sqlite: &'static str,
    postgres: &'static str,
}

impl Sql {
    /// Built by [`sql!`] only.
    pub(crate) const fn new(sqlite: &'static str, postgres: &'static str) -> Self {
        Sql { sqlite, postgres }
    }
}

/// Picks a connection's text of a [`Sql`] inside an [`on_conn!`](crate::backend::on_conn) body.
pub(crate) trait Dialect {
    fn sql(&self, query: &Sql) -> &'static str;
}

impl Dialect for SqliteConnection {
    fn sql(&self, query: &Sql) -> &'static str {
        query.sqlite
    }
}

impl Dialect for PgConnection {
    fn sql(&self, query: &Sql) -> &'static str {
        query.postgres
    }
}

/// Writes a [`Sql`] once: `sql!("head", fragment, "tail")`, where the head
/// and tail are literals (or `concat!`s of them) and the fragment is a name
/// from [`fragment!`].
macro_rules! sql {
    ($head:expr, $fragment:ident $(, $tail:expr)?) => {
        $crate::dialect::Sql::new(
            concat!($head, $crate::dialect::fragment!(sqlite $fragment) $(, $tail)?),
            concat!($head, $crate::dialect::fragment!(postgres $fragment) $(, $tail)?),
        )
    };
}
pub(crate) use sql;

/// Every fragment of SQL in which the backends differ.
macro_rules! fragment {
    // Row locks for read-then-write. On SQLite every write transaction
    // already holds the database's one write lock from its first statement.
    (sqlite for_update) => {
        ""
    };
    (postgres for_update) => {
        " FOR UPDATE"
    };
    (sqlite for_share) => {
        ""
    };
    (postgres for_share) => {
        " FOR SHARE"
    };
    // A claim passes over the rows that other workers are claiming.
    (sqlite skip_locked) => {
        ""
    };
    (postgres skip_locked) => {
        " FOR UPDATE SKIP LOCKED"
    };
    // Milliseconds as a length of time: SQLite keeps times as milliseconds.
    (sqlite milliseconds) => {
        ""
    };
    (postgres milliseconds) => {
        " * interval '1 millisecond'"
    };
    // Where a text starts in another (from 1; 0 when it is not there).
    (sqlite position) => {
        "instr"
    };
    (postgres position) => {
        "strpos"
    };
}
pub(crate) use fragment;

/// ` LIMIT n` with `n` written into the text, not bound.
///
/// SQLite (3.47 and later) plans a query with a bound `LIMIT` for the value
/// it was first given and marks the statement to be compiled again whenever
/// that binding changes; sqlx binds afresh at every execution, so a cached
/// statement with `LIMIT $n` was parsed and planned again at every call
/// (about 15 % of a runs list's time). A number in the text keeps one cached
/// statement per page size. `n` is a count the store computed, never text
/// from a request.
pub(crate) fn limit(n: u32) -> String {
    format!(" LIMIT {n}")
}

/// Binds `values` into `query` as a comma-separated list, for an
/// `IN (…)` whose parentheses the caller writes. The list must not be
/// empty (`IN ()` is an error on Postgres).
pub(crate) fn push_list<DB, T>(
    query: &mut sqlx::QueryBuilder<DB>,
    values: impl IntoIterator<Item = T>,
) where
    DB: sqlx::Database,
    T: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
}
