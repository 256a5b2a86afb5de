//! A fresh Postgres database for each test or benchmark, dropped afterwards.

use std::str::FromStr;
use std::time::Duration;

use modelrun_core::config::PostgresConfig;
use modelrun_core::crypto::random_hex;
use modelrun_core::secret::Secret;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

/// The variable that names the server for tests: a URL whose user may
/// create databases. Defaults to the local server with trust auth.
pub const TEST_DATABASE_URL: &str = "MODELRUN_TEST_DATABASE_URL";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The server's URL for tests: `MODELRUN_TEST_DATABASE_URL`, or the local
/// server with trust auth.
pub fn server_url() -> String {
    std::env::var(TEST_DATABASE_URL).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// An empty database that exists until this is dropped.
#[derive(Debug)]
pub struct TempDatabase {
    pub config: PostgresConfig,
    admin: PgConnectOptions,
    name: String,
}

impl TempDatabase {
    /// Creates `modelrun_test_<random>` on the server named by
    /// `MODELRUN_TEST_DATABASE_URL`. Panics with what to do when the server
    /// cannot be reached: tests that need Postgres fail, they never skip.
    pub async fn create() -> Self {
        let url = server_url();
        match Self::try_create(&url).await {
            Ok(database) => database,
            Err(error) => panic!(
                "cannot create a test database on the Postgres server ({error}); start one and set \
                 {TEST_DATABASE_URL} (default {DEFAULT_URL}), or run .ci/run, which starts it"
            ),
        }
    }

    async fn try_create(url: &str) -> Result<Self, sqlx::Error> {
        let admin = PgConnectOptions::from_str(url)?;
        let name = format!("modelrun_test_{}", random_hex(6));
        let mut conn = PgConnection::connect_with(&admin).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let url = with_database(url, &name);
        Ok(TempDatabase {
            config: PostgresConfig {
                url: Secret::new(url),
                max_connections: 10,
                acquire_timeout: Duration::from_secs(10),
                behind_proxy: false,
            },
            admin,
            name,
        })
    }
}

/// `url` with its database replaced by `name`, everything else as written,
/// so that libpq tools (psql, pgbench) read it too.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside or outside a runtime: use a thread of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&admin).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=require", "t1"),
            "postgres://u:p@h/t1?sslmode=require"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
    }
}
