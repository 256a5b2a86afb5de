//! Versions from images pushed to ECR.

use bytes::Bytes;
use modelrun_core::blob::{BlobKey, BlobStore};
use modelrun_core::model::Runtime;
use modelrun_core::task::{Job, SyncImages, TaskKind, TaskState};
use serde_json::json;

use crate::support::*;

const MANIFEST: &str = include_str!("../../../examples/models/forecast/modelrun.toml");

async fn push(h: &Harness, tag: &str, layer: &str) {
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": format!("sha256:{}", layer.repeat(64 / layer.len()))},
        "layers": [],
    });
    h.world
        .ecr_client()
        .put_image()
        .repository_name("modelrun/forecast")
        .image_manifest(manifest.to_string())
        .image_tag(tag)
        .send()
        .await
        .expect("push");
}

async fn upload_manifest(h: &Harness, tag: &str) {
    upload(h, tag, MANIFEST.to_owned()).await;
}

async fn upload(h: &Harness, tag: &str, manifest: String) {
    let key = BlobKey::new(format!("manifests/forecast/{tag}/modelrun.toml")).expect("key");
    h.blob
        .put(&key, Bytes::from(manifest), "application/toml")
        .await
        .expect("manifest");
}

/// A version whose own resources Fargate cannot give (1 vCPU takes 2048
/// MiB at least) would be offered in the form and fail every run: its
/// image is not registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_asking_for_resources_the_platform_cannot_give_is_not_registered() {
    let h = Harness::new().await;
    h.world
        .ecr_client()
        .create_repository()
        .repository_name("modelrun/forecast")
        .send()
        .await
        .expect("repository");
    push(&h, "b0b0b0b", "a").await;
    let odd = MANIFEST
        .replace("vcpu = 0.25", "vcpu = 1.0")
        .replace("memory_mib = 512", "memory_mib = 1024");
    assert_ne!(odd, MANIFEST);
    upload(&h, "b0b0b0b", odd).await;
    h.store
        .enqueue(SyncImages {}.task())
        .await
        .expect("enqueue");
    run_tasks(&h.worker).await;
    assert!(
        h.store.model("forecast").await.expect("query").is_none(),
        "no version that cannot run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_sync_registers_exactly_the_new_tags() {
    let h = Harness::new().await;
    let ecr = h.world.ecr_client();
    ecr.create_repository()
        .repository_name("modelrun/forecast")
        .send()
        .await
        .expect("repository");
    ecr.create_repository()
        .repository_name("somebody-else/forecast")
        .send()
        .await
        .expect("repository");
    push(&h, "a1b2c3d", "a").await;
    push(&h, "latest", "b").await;
    push(&h, "beefcafe", "c").await;
    upload_manifest(&h, "a1b2c3d").await;
    upload_manifest(&h, "latest").await;

    h.store
        .enqueue(SyncImages {}.task())
        .await
        .expect("enqueue");
    run_tasks(&h.worker).await;
    let model = h
        .store
        .model("forecast")
        .await
        .expect("query")
        .expect("the model appeared");
    let labels: Vec<_> = model.versions.iter().map(|v| v.label.as_str()).collect();
    assert_eq!(
        labels,
        ["a1b2c3d"],
        "latest is not a git sha; beefcafe has no manifest yet"
    );
    let version = &model.versions[0];
    assert_eq!(version.registered_via, "ecr");
    assert_eq!(model.model.title, "Revenue forecast");
    assert_eq!(version.inputs.fields().len(), 8);
    assert!(
        matches!(&version.runtime, Runtime::Image { uri, digest: Some(_) }
        if uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelrun/forecast:a1b2c3d")
    );
    // Its job definition was registered by the task the sync queued.
    assert!(
        h.store
            .version(version.id)
            .await
            .expect("get")
            .and_then(|v| v.job_definition_arn)
            .is_some()
    );

    // The build uploads the other manifest; the next sync picks it up, and
    // running it again changes nothing.
    upload_manifest(&h, "beefcafe").await;
    for _ in 0..2 {
        h.store
            .enqueue(SyncImages {}.task())
            .await
            .expect("enqueue");
        run_tasks(&h.worker).await;
    }
    let model = h
        .store
        .model("forecast")
        .await
        .expect("query")
        .expect("model");
    let labels: Vec<_> = model.versions.iter().map(|v| v.label.as_str()).collect();
    assert_eq!(labels, ["beefcafe", "a1b2c3d"]);
    let syncs = h
        .store
        .list_tasks(Some(TaskState::Done), 50)
        .await
        .expect("tasks");
    assert_eq!(
        syncs
            .iter()
            .filter(|t| t.kind == TaskKind::SyncImages)
            .count(),
        3
    );
    assert!(
        h.store
            .list_tasks(Some(TaskState::Dead), 10)
            .await
            .expect("tasks")
            .is_empty()
    );
}
