//! Upgrading a database that already holds runs to installation
//! identities (`migrations/*/0010_installation.sql`): its objects stay
//! where they are, and only runs not yet handed to an executor get a key.

use sqlx::{Connection, Executor};

/// The migration files before 0010, in order, and 0010 itself.
fn migrations(dir: &str) -> (Vec<String>, String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    let (before, rest): (Vec<_>, Vec<_>) = files.into_iter().partition(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n < "0010")
    });
    let read = |p: &std::path::PathBuf| std::fs::read_to_string(p).expect("read");
    let upgrade = rest
        .iter()
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("0010_"))
        })
        .expect("0010");
    (before.iter().map(read).collect(), read(upgrade))
}

const SEED: &str = "\
    INSERT INTO users (email, password_hash, role, created_at) VALUES ('ann@example.com', 'x', 'admin', {now});
    INSERT INTO models (name, title, description, owner, created_at, updated_at)
        VALUES ('forecast', 'Forecast', '', '', {now}, {now});
    INSERT INTO model_versions (model_id, label, digest, runtime, input_schema, vcpu, memory_mib,
        timeout_seconds, registered_via, registered_at)
        VALUES (1, 'v1', 'sha256:00', '{}', '{}', 1, 1024, 60, 'cli', {now});
    INSERT INTO runs (model_id, version_id, submitted_by, inputs, vcpu, memory_mib, timeout_seconds,
        status, created_at, updated_at) VALUES
        (1, 1, 1, '{}', 1, 1024, 60, 'succeeded', {now}, {now}),
        (1, 1, 1, '{}', 1, 1024, 60, 'queued', {now}, {now});";

/// Applies the migrations before 0010 on connection `$db`, adds a user,
/// a model, a version and two runs (one ended, one queued) with `$now`
/// as every time, applies 0010, and checks what it did.
macro_rules! check_upgrade {
    ($db:expr, $dialect:literal, $now:literal) => {{
        let db = $db;
        let (before, upgrade) = migrations($dialect);
        for sql in &before {
            db.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone())))
                .await
                .expect("an earlier migration");
        }
        db.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(
            SEED.replace("{now}", $now),
        )))
        .await
        .expect("seed");
        db.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(upgrade.clone())))
            .await
            .expect("0010");
        let (id, scoped): (String, bool) =
            sqlx::query_as("SELECT id, scoped_storage FROM installation")
                .fetch_one(&mut *db)
                .await
                .expect("installation");
        assert_eq!(id.len(), 12);
        assert!(!scoped, "objects stored before stay unscoped");
        let keys: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT status, job_key FROM runs ORDER BY id")
                .fetch_all(&mut *db)
                .await
                .expect("runs");
        assert_eq!(keys[0], ("succeeded".to_owned(), None));
        assert!(
            keys[1].1.as_deref().is_some_and(|k| k.len() == 16),
            "{keys:?}"
        );
    }};
}

#[tokio::test]
async fn an_sqlite_database_with_runs_keeps_its_objects_where_they_are() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
    check_upgrade!(&mut db, "sqlite", "0");
}

#[tokio::test]
async fn a_postgres_database_with_runs_keeps_its_objects_where_they_are() {
    let database = modelrun_db::postgres::testing::TempDatabase::create().await;
    let mut db = sqlx::PgConnection::connect(database.config.url.expose())
        .await
        .expect("connect");
    check_upgrade!(&mut db, "postgres", "now()");
}
