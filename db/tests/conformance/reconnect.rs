//! Postgres only: the pool checks a connection only after it sat idle, so
//! a server that closed every connection (a restart, a failover) costs
//! nothing once a second has passed.

use std::time::Duration;

use modelrun_core::store::ModelStore;
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_closed_are_replaced_after_an_idle_second() {
    let database = modelrun_db::postgres::testing::TempDatabase::create().await;
    let store = modelrun_db::PgStore::open(&database.config)
        .await
        .expect("open postgres");
    store.migrate().await.expect("migrate");
    store.models().await.expect("a first query");
    let name = database
        .config
        .url
        .expose()
        .rsplit('/')
        .next()
        .expect("database name")
        .to_owned();
    let mut admin = sqlx::PgConnection::connect(database.config.url.expose())
        .await
        .expect("connect");
    let closed: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    assert!(!closed.is_empty(), "the pool had a connection open");
    tokio::time::sleep(modelrun_db::postgres::CHECK_AFTER_IDLE + Duration::from_millis(300)).await;
    store
        .models()
        .await
        .expect("a closed connection is found and replaced before use");
}
