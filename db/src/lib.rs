//! Store implementations. SQLite is the embedded default, Postgres the
//! production store; every backend
//! implements [`modelrun_core::store::Store`] and passes the same
//! conformance suite (`db/tests/conformance`).

mod convert;
mod limits;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use modelrun_core::config::DatabaseConfig;
use modelrun_core::store::{Store, StoreError};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Opens the configured store, applying pending migrations when `migrate` is set.
pub async fn open(config: &DatabaseConfig, migrate: bool) -> Result<Arc<dyn Store>, StoreError> {
    match config {
        DatabaseConfig::Sqlite { path } => {
            let store = SqliteStore::open(path).await?;
            if migrate {
                store.migrate().await?;
            }
            Ok(Arc::new(store))
        }
        DatabaseConfig::Postgres(config) => {
            let store = PgStore::open(config).await?;
            if migrate {
                store.migrate().await?;
            }
            Ok(Arc::new(store))
        }
    }
}
