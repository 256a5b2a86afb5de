//! Model environments, the tasks that build them, and sealed secrets.

use std::sync::Arc;

use chrono::{Duration, Utc};
use modelrun_core::environment::{EnvironmentSpec, EnvironmentStatus};
use modelrun_core::store::{Store, StoreError};
use modelrun_core::task::{PrepareEnvironment, TaskKind, TaskState};
use serde_json::json;

use crate::support;

fn spec(requirements: &str) -> EnvironmentSpec {
    EnvironmentSpec {
        requirements: requirements.to_owned(),
        python: Some("3.11".to_owned()),
        interpreter: "Python 3.11.7".to_owned(),
    }
}

async fn prepare_tasks(store: &Arc<dyn Store>) -> usize {
    store
        .list_tasks(Some(TaskState::Queued), 100)
        .await
        .expect("tasks")
        .iter()
        .filter(|t| t.kind == TaskKind::PrepareEnvironment)
        .count()
}

pub async fn a_version_records_its_environment_and_secrets(store: Arc<dyn Store>) {
    let mut new = support::new_version("holt-winters", "v1", "d1");
    new.environment = Some(spec("pandas==2.2.3\n"));
    new.prepare_environment = true;
    new.secrets = vec!["WAREHOUSE_URL".to_owned(), "FX_API_KEY".to_owned()];
    let version = store
        .register_version(new, Vec::new())
        .await
        .expect("register")
        .version()
        .clone();
    let digest = spec("pandas==2.2.3\n").digest();
    assert_eq!(version.environment.as_deref(), Some(digest.as_str()));
    assert_eq!(version.secrets, ["WAREHOUSE_URL", "FX_API_KEY"]);
    assert_eq!(version.model, "holt-winters");
    let environment = store
        .environment(&digest)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(environment.status, EnvironmentStatus::Preparing);
    assert_eq!(environment.spec, spec("pandas==2.2.3\n"));
    assert_eq!(
        prepare_tasks(&store).await,
        1,
        "its build is queued with it"
    );
    let task = &store
        .list_tasks(Some(TaskState::Queued), 10)
        .await
        .expect("tasks")[0];
    let job: PrepareEnvironment = serde_json::from_value(task.payload.clone()).expect("job");
    assert_eq!(job.digest, digest);

    // A second version with the same requirements shares the row and the task.
    let mut same = support::new_version("holt-winters", "v2", "d2");
    same.environment = Some(spec("pandas==2.2.3\n"));
    same.prepare_environment = true;
    let v2 = store
        .register_version(same, Vec::new())
        .await
        .expect("register");
    assert_eq!(v2.version().environment.as_deref(), Some(digest.as_str()));
    assert_eq!(prepare_tasks(&store).await, 1);

    let reread = store
        .version(version.id)
        .await
        .expect("query")
        .expect("version");
    assert_eq!(reread, version);
}

pub async fn an_environment_is_requested_once_and_finishes(store: Arc<dyn Store>) {
    let mut new = support::new_version("holt-winters", "v1", "d1");
    new.environment = Some(spec("statsmodels==0.14.4\n"));
    let version = store
        .register_version(new, Vec::new())
        .await
        .expect("register");
    let digest = version.version().environment.clone().expect("digest");
    let pending = store
        .environment(&digest)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(
        pending.status,
        EnvironmentStatus::Pending,
        "built on first use"
    );
    assert_eq!(prepare_tasks(&store).await, 0);

    let now = Utc::now();
    let first = store
        .request_environment(&digest, now)
        .await
        .expect("request");
    assert!(first.is_some());
    assert_eq!(
        store
            .request_environment(&digest, now)
            .await
            .expect("again"),
        None
    );
    assert_eq!(prepare_tasks(&store).await, 1);

    store
        .finish_environment(&digest, EnvironmentStatus::Failed, "no such package", now)
        .await
        .expect("failed");
    let failed = store
        .environment(&digest)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(
        (failed.status, failed.log.as_str()),
        (EnvironmentStatus::Failed, "no such package")
    );
    assert!(
        store
            .request_environment(&digest, now)
            .await
            .expect("retry")
            .is_some(),
        "a failed environment can be built again"
    );
    store
        .finish_environment(
            &digest,
            EnvironmentStatus::Ready,
            "Successfully installed",
            now,
        )
        .await
        .expect("ready");
    assert_eq!(
        store
            .request_environment(&digest, now)
            .await
            .expect("ready"),
        None
    );
    assert!(matches!(
        store
            .finish_environment("no-such-digest", EnvironmentStatus::Ready, "", now)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .environment("no-such-digest")
            .await
            .expect("query")
            .is_none()
    );
}

pub async fn a_postponed_task_waits_uncounted_and_a_lease_is_extended(store: Arc<dyn Store>) {
    store
        .enqueue(modelrun_core::task::NewTask::new(
            TaskKind::SendEmail,
            json!({}),
        ))
        .await
        .expect("enqueue");
    let now = Utc::now();
    let claimed = store
        .claim(now, Duration::seconds(30))
        .await
        .expect("claim")
        .expect("task");
    store
        .extend_lease(&claimed, now + Duration::seconds(300))
        .await
        .expect("extend");
    assert!(
        store
            .claim(now + Duration::seconds(60), Duration::seconds(30))
            .await
            .expect("claim")
            .is_none(),
        "an extended lease keeps the task"
    );
    store
        .postpone(&claimed, now + Duration::seconds(5), now)
        .await
        .expect("postpone");
    assert!(
        store
            .claim(now, Duration::seconds(30))
            .await
            .expect("claim")
            .is_none(),
        "not due yet"
    );
    let again = store
        .claim(now + Duration::seconds(6), Duration::seconds(30))
        .await
        .expect("claim")
        .expect("due again");
    assert_eq!(again.task.attempts, 1, "the wait counted no attempt");
    assert!(matches!(
        store.postpone(&claimed, now, now).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert!(matches!(
        store.extend_lease(&claimed, now).await,
        Err(StoreError::LeaseLost(_))
    ));
}

pub async fn sealed_secrets_are_kept_per_model_and_name(store: Arc<dyn Store>) {
    support::version(&store, "forecast", "v1").await;
    support::version(&store, "other", "v1").await;
    let now = Utc::now();
    store
        .put_sealed_secret(
            "forecast",
            "WAREHOUSE_URL",
            "v1:k:AAA",
            "ann@example.com",
            now,
        )
        .await
        .expect("put");
    store
        .put_sealed_secret("forecast", "API_KEY", "v1:k:BBB", "ann@example.com", now)
        .await
        .expect("put");
    store
        .put_sealed_secret(
            "forecast",
            "WAREHOUSE_URL",
            "v1:k:CCC",
            "bob@example.com",
            now,
        )
        .await
        .expect("replace");
    let sealed = store.sealed_secrets("forecast").await.expect("list");
    let names: Vec<_> = sealed
        .iter()
        .map(|(info, value)| (info.name.as_str(), value.as_str(), info.updated_by.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("API_KEY", "v1:k:BBB", "ann@example.com"),
            ("WAREHOUSE_URL", "v1:k:CCC", "bob@example.com")
        ]
    );
    assert!(
        store
            .sealed_secrets("other")
            .await
            .expect("list")
            .is_empty()
    );
    assert!(matches!(
        store
            .put_sealed_secret("missing", "X", "v1", "ann", now)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .delete_sealed_secret("forecast", "API_KEY")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_sealed_secret("forecast", "API_KEY")
            .await
            .expect("again")
    );
    assert_eq!(
        store.sealed_secrets("forecast").await.expect("list").len(),
        1
    );
}
