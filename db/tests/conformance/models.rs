use std::sync::Arc;

use chrono::Utc;
use modelrun_core::manifest::Resources;
use modelrun_core::model::Registered;
use modelrun_core::outputs::{BandDecl, ChartDecl, MetricDecl, MetricFormat, Outputs, SeriesDecl};
use modelrun_core::run::NewRun;
use modelrun_core::store::{Store, StoreError};
use modelrun_core::task::{NewTask, TaskKind, TaskState};
use serde_json::json;

use crate::support;

pub async fn registers_versions_immutably(store: Arc<dyn Store>) {
    let follow_up = || {
        vec![NewTask::new(
            TaskKind::SendEmail,
            json!({"note": "on create only"}),
        )]
    };
    let first = store
        .register_version(
            support::new_version("forecast", "a1", "digest-1"),
            follow_up(),
        )
        .await
        .expect("register");
    let Registered::Created(v1) = first else {
        panic!("expected a new version")
    };
    assert_eq!(v1.label, "a1");
    assert!(v1.is_active());
    assert_eq!(v1.inputs.fields().len(), 1);

    let again = store
        .register_version(
            support::new_version("forecast", "a1", "digest-1"),
            follow_up(),
        )
        .await
        .expect("register again");
    assert!(matches!(again, Registered::Unchanged(ref v) if v.id == v1.id));
    assert_eq!(
        store
            .list_tasks(Some(TaskState::Queued), 10)
            .await
            .expect("tasks")
            .len(),
        1
    );

    let changed = store
        .register_version(
            support::new_version("forecast", "a1", "digest-2"),
            follow_up(),
        )
        .await;
    assert!(matches!(changed, Err(StoreError::Conflict(message)) if message.contains("a1")));

    let mut newer = support::new_version("forecast", "b2", "digest-2");
    newer.model.title = "Revenue forecast".to_owned();
    store
        .register_version(newer, Vec::new())
        .await
        .expect("second version");
    let model = store
        .model("forecast")
        .await
        .expect("query")
        .expect("model");
    assert_eq!(model.model.title, "Revenue forecast");
    let labels: Vec<_> = model.versions.iter().map(|v| v.label.as_str()).collect();
    assert_eq!(labels, ["b2", "a1"]);
    assert_eq!(
        store.version(v1.id).await.expect("query").map(|v| v.digest),
        Some("digest-1".to_owned())
    );
    assert!(store.model("absent").await.expect("query").is_none());
}

/// A version keeps the most its runs may ask for, and a run keeps what it
/// asked for, not the version's defaults.
pub async fn versions_keep_their_resource_max_and_runs_their_own(store: Arc<dyn Store>) {
    let mut new = support::new_version("forecast", "a1", "digest-1");
    new.max_resources = Resources {
        vcpu: 4.0,
        memory_mib: 8192,
        timeout_seconds: 7200,
    };
    let version = store
        .register_version(new.clone(), Vec::new())
        .await
        .expect("register")
        .version()
        .clone();
    assert_eq!(version.max_resources, new.max_resources);
    assert_eq!(version.resources, new.resources);
    let listed = store
        .model("forecast")
        .await
        .expect("query")
        .expect("model");
    assert_eq!(listed.versions[0].max_resources, new.max_resources);
    let ann = support::user(&store, "ann@example.com").await;
    let asked = Resources {
        vcpu: 2.0,
        memory_mib: 512,
        timeout_seconds: 60,
    };
    let run = store
        .create_run(NewRun {
            version_id: version.id,
            submitted_by: ann.id,
            inputs: support::inputs(0.1),
            resources: asked,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await
        .expect("run")
        .item;
    assert_eq!(run.resources, asked);
    let read = store.run(run.id).await.expect("query").expect("run");
    assert_eq!(read.resources, asked);
}

pub async fn versions_keep_their_declared_outputs(store: Arc<dyn Store>) {
    let plain = store
        .register_version(
            support::new_version("forecast", "a1", "digest-1"),
            Vec::new(),
        )
        .await
        .expect("register")
        .version()
        .clone();
    assert_eq!(plain.outputs, Outputs::default(), "nothing declared");
    let mut new = support::new_version("forecast", "a2", "digest-2");
    new.outputs = Outputs {
        charts: vec![ChartDecl {
            file: "history.csv".into(),
            x: "month".into(),
            series: vec![SeriesDecl {
                file: "forecast.csv".into(),
                column: "forecast".into(),
                label: Some("Forecast — €".into()),
                dashed: true,
            }],
            band: Some(BandDecl {
                file: "forecast.csv".into(),
                low: "low".into(),
                high: "high".into(),
            }),
            title: Some("Revenue".into()),
            units: Some("EUR".into()),
        }],
        metrics: vec![
            MetricDecl {
                name: "total".into(),
                label: Some("Total".into()),
                format: MetricFormat::Currency {
                    symbol: "€".into(),
                    places: 2,
                },
            },
            MetricDecl {
                name: "cagr".into(),
                label: None,
                format: MetricFormat::Percent { places: 1 },
            },
        ],
    };
    let created = store
        .register_version(new.clone(), Vec::new())
        .await
        .expect("register")
        .version()
        .clone();
    assert_eq!(created.outputs, new.outputs);
    let read = store
        .version(created.id)
        .await
        .expect("query")
        .expect("version");
    assert_eq!(read.outputs, new.outputs, "read back as written, in order");
    let listed = store.models().await.expect("query");
    assert_eq!(listed[0].versions[0].outputs, new.outputs);
    assert_eq!(listed[0].versions[1].outputs, Outputs::default());
}

pub async fn lists_models_with_versions_newest_first(store: Arc<dyn Store>) {
    for (model, label) in [
        ("zeta", "1"),
        ("alpha", "1"),
        ("alpha", "2"),
        ("zeta", "2"),
        ("alpha", "3"),
    ] {
        support::version(&store, model, label).await;
    }
    let models = store.models().await.expect("models");
    let shape: Vec<(String, Vec<String>)> = models
        .iter()
        .map(|m| {
            (
                m.model.name.clone(),
                m.versions.iter().map(|v| v.label.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (
                "alpha".to_owned(),
                vec!["3".to_owned(), "2".to_owned(), "1".to_owned()]
            ),
            ("zeta".to_owned(), vec!["2".to_owned(), "1".to_owned()]),
        ]
    );
    assert_eq!(
        models[0].latest_active().map(|v| v.label.as_str()),
        Some("3")
    );
    assert_eq!(
        store.model_names().await.expect("names"),
        ["alpha", "zeta"],
        "the names alone, in the same order"
    );
}

pub async fn retired_versions_take_no_runs(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let old = support::version(&store, "forecast", "old").await;
    let new = support::version(&store, "forecast", "new").await;
    store
        .retire_version(new.id, Utc::now())
        .await
        .expect("retire");
    let model = store
        .model("forecast")
        .await
        .expect("query")
        .expect("model");
    assert_eq!(model.latest_active().map(|v| v.id), Some(old.id));
    let refused = store
        .create_run(NewRun {
            version_id: new.id,
            submitted_by: ann.id,
            inputs: support::inputs(0.1),
            resources: new.resources,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await;
    // The refusal names the version as people know it, by its label.
    assert!(
        matches!(&refused, Err(StoreError::Conflict(message))
            if message == "version new is retired and takes no new runs"),
        "{refused:?}"
    );
    let missing = store
        .create_run(NewRun {
            version_id: modelrun_core::ids::VersionId(9999),
            submitted_by: ann.id,
            inputs: support::inputs(0.1),
            resources: new.resources,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    assert!(store.list_tasks(None, 10).await.expect("tasks").is_empty());
}

pub async fn a_job_definition_is_recorded_once(store: Arc<dyn Store>) {
    let version = support::version(&store, "forecast", "v1").await;
    assert_eq!(version.job_definition_arn, None);
    let arn = "arn:aws:batch:eu-west-1:123456789012:job-definition/modelrun-forecast-v1:1";
    store
        .set_job_definition(version.id, arn)
        .await
        .expect("set");
    store
        .set_job_definition(version.id, arn)
        .await
        .expect("the same again is fine");
    let other = store.set_job_definition(version.id, "arn:other").await;
    assert!(matches!(other, Err(StoreError::Conflict(message)) if message.contains(arn)));
    assert_eq!(
        store
            .version(version.id)
            .await
            .expect("get")
            .and_then(|v| v.job_definition_arn)
            .as_deref(),
        Some(arn)
    );
    assert!(matches!(
        store
            .set_job_definition(modelrun_core::ids::VersionId(999), arn)
            .await,
        Err(StoreError::NotFound)
    ));
}
