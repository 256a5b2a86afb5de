//! A model's secrets reach its process as variables and never its log.

use modelrun_core::secret::Secret;
use modelrun_core::status::RunStatus;
use serde_json::json;

use crate::support::*;

/// A model that reads a secret and prints it, as a careless one would.
async fn careless_model(h: &Harness) -> modelrun_core::model::ModelVersion {
    let dir = h.dir.path().join("src/careless");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("modelrun.toml"),
        "name = \"careless\"\ncommand = [\"sh\", \"-c\", \"echo connecting to $WAREHOUSE_URL; \
         printf %s \\\"$WAREHOUSE_URL\\\" > $MODELRUN_OUTPUT_DIR/seen.txt\"]\n\
         secrets = [\"WAREHOUSE_URL\"]\n[inputs]\ntype = \"object\"\n",
    )
    .expect("manifest");
    h.register(&dir).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_reaches_the_model_and_is_masked_in_its_log() {
    let h = Harness::new(1).await;
    let version = careless_model(&h).await;
    assert_eq!(version.secrets, ["WAREHOUSE_URL"]);
    let value = "postgres://analyst:s3cret-Pa55@warehouse.internal/sales";
    h.vault
        .put(
            "careless",
            "WAREHOUSE_URL",
            &Secret::new(value.to_owned()),
            "admin@example.com",
        )
        .await
        .expect("set");
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    let log = h.log_text(run.id).await;
    assert_eq!(log.trim(), "connecting to [secret WAREHOUSE_URL]");
    assert!(!log.contains("s3cret"), "{log}");
    let seen = std::fs::read_to_string(
        h.data()
            .join(format!("blobs/runs/{}/outputs/seen.txt", run.id)),
    )
    .expect("output");
    assert_eq!(seen, value, "the model got the value itself");

    // The store holds it sealed, never in the clear.
    let database = std::fs::read(h.data().join("modelrun.db")).expect("db");
    let wal = std::fs::read(h.data().join("modelrun.db-wal")).unwrap_or_default();
    for bytes in [database, wal] {
        assert!(
            !bytes.windows(11).any(|w| w == b"s3cret-Pa55"),
            "a value in the clear"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_secret_is_not_set_fails_naming_it() {
    let h = Harness::new(1).await;
    let version = careless_model(&h).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.status_reason.unwrap_or_default();
    assert!(
        reason.contains("WAREHOUSE_URL") && reason.contains("not set"),
        "{reason}"
    );
}
