//! Model secrets on AWS: values in Secrets Manager, passed to jobs by their
//! definition, masked by the wrapper.

use modelrun_core::model_secrets::{SecretValues, SecretVault};
use modelrun_core::secret::Secret;
use modelrun_core::task::{Job, RegisterJobDefinition};
use modelrun_worker::secrets::SecretsManagerVault;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_live_in_secrets_manager_under_their_prefix() {
    let h = Harness::new().await;
    let vault = SecretsManagerVault::new(&h.world.sdk, "modelrun/models/");
    let value = |text: &str| Secret::new(text.to_owned());
    vault
        .put(
            "forecast",
            "WAREHOUSE_URL",
            &value("postgres://a"),
            "ann@example.com",
        )
        .await
        .expect("create");
    vault
        .put(
            "forecast",
            "WAREHOUSE_URL",
            &value("postgres://b"),
            "bob@example.com",
        )
        .await
        .expect("update");
    vault
        .put(
            "forecast",
            "FX_API_KEY",
            &value("fx-123456"),
            "ann@example.com",
        )
        .await
        .expect("create");
    vault
        .put(
            "forecast-two",
            "OTHER",
            &value("other-value"),
            "ann@example.com",
        )
        .await
        .expect("another model");

    let listed = vault.list("forecast").await.expect("list");
    let names: Vec<_> = listed
        .iter()
        .map(|s| (s.name.as_str(), s.updated_by.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("FX_API_KEY", "ann@example.com"),
            ("WAREHOUSE_URL", "bob@example.com")
        ],
        "this model's own, with who set them"
    );
    let values = vault
        .values(
            "forecast",
            &["WAREHOUSE_URL".to_owned(), "MISSING".to_owned()],
        )
        .await
        .expect("values");
    assert_eq!(values.0.len(), 1);
    assert_eq!(values.0["WAREHOUSE_URL"].expose(), "postgres://b");

    let stored = h
        .world
        .secrets_client()
        .get_secret_value()
        .secret_id("modelrun/models/forecast/WAREHOUSE_URL")
        .send()
        .await
        .expect("the secret by its documented name");
    assert_eq!(stored.secret_string(), Some("postgres://b"));

    assert!(
        vault
            .delete("forecast", "FX_API_KEY")
            .await
            .expect("delete")
    );
    assert!(!vault.delete("forecast", "FX_API_KEY").await.expect("again"));
    assert_eq!(vault.list("forecast").await.expect("list").len(), 1);
    let _: SecretValues = vault.values("forecast", &[]).await.expect("none asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_definition_passes_the_versions_secrets_by_name() {
    let h = Harness::new().await;
    let version = h
        .image_version_with_secrets("warehouse", "a1b2c3d", &["WAREHOUSE_URL", "FX_API_KEY"])
        .await;
    h.store
        .enqueue(
            RegisterJobDefinition {
                version_id: version.id,
            }
            .task(),
        )
        .await
        .expect("enqueue");
    assert_eq!(run_tasks(&h.worker).await, 1);
    let definitions = h
        .world
        .batch_client()
        .describe_job_definitions()
        .job_definition_name(h.definition_name(&version).await)
        .send()
        .await
        .expect("describe");
    let container = definitions.job_definitions()[0]
        .container_properties()
        .expect("container");
    let secrets: Vec<_> = container
        .secrets()
        .iter()
        .map(|s| {
            (
                s.name().unwrap_or_default(),
                s.value_from().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        secrets,
        [
            ("WAREHOUSE_URL", "modelrun/models/warehouse/WAREHOUSE_URL"),
            ("FX_API_KEY", "modelrun/models/warehouse/FX_API_KEY")
        ]
    );
    let names = container
        .environment()
        .iter()
        .find(|v| v.name() == Some("MODELRUN_SECRET_NAMES"))
        .and_then(|v| v.value());
    assert_eq!(names, Some("WAREHOUSE_URL,FX_API_KEY"));
}
