//! A run's reproducibility bundle, built by the worker from a real run:
//! every output (nested ones too) with the SHA-256 of its bytes, a log of
//! several pages whole, the manifest and the README; built once.

use std::io::Read;
use std::sync::Arc;

use modelrun_core::blob::{BlobKey, BlobStore};
use modelrun_core::bundle::{BundleManifest, NOT_RECORDED};
use modelrun_core::status::RunStatus;
use modelrun_worker::blob::LocalBlobStore;
use modelrun_worker::bundle::{OpenBundle, Parts, build};
use serde_json::json;

use crate::support::*;

/// Writes two outputs, one in a folder, and prints 300 KB over several
/// pages of the log.
const MODEL: &str = "mkdir -p \"$MODELRUN_OUTPUT_DIR/charts\"; \
    printf 'month,revenue\\n2027-01,1\\n' > \"$MODELRUN_OUTPUT_DIR/forecast.csv\"; \
    printf 'a,b\\n' > \"$MODELRUN_OUTPUT_DIR/charts/a.csv\"; \
    yes 'line of the log' | head -c 300000; echo last line";

fn read(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .read_to_end(&mut bytes)
        .expect("read");
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_holds_every_output_with_its_checksum_and_the_whole_log() {
    let h = Harness::new(1).await;
    let version = h.shell_model("bundled", MODEL, 60).await;
    let run = h.submit(&version, json!({ "n": 3 })).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    let blob: Arc<dyn BlobStore> = Arc::new(LocalBlobStore::new(h.data().join("blobs")));
    let parts = Parts {
        store: h.store.clone(),
        blob: blob.clone(),
        executor: Arc::new(h.executor.clone()),
    };
    let key = build(&parts, run.id, "https://models.example.com/")
        .await
        .expect("built");
    assert_eq!(key, BlobKey::run_bundle(run.id));
    let path = blob.local_path(&key).expect("a local file");
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("stat");

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).expect("open")).expect("zip");
    let manifest: BundleManifest =
        serde_json::from_slice(&read(&mut zip, "bundle.json")).expect("manifest");
    assert_eq!(manifest.server_url, "https://models.example.com");
    assert_eq!(manifest.model, "bundled");
    assert_eq!(manifest.version.label, version.label);
    assert_eq!(manifest.version.digest, version.digest);
    assert_eq!(manifest.version.source_commit, NOT_RECORDED);
    assert_eq!(manifest.inputs, json!({ "n": 3 }));
    assert!(manifest.input_files.is_empty());
    let recorded = h.store.run_outputs(run.id).await.expect("outputs");
    let names: Vec<&str> = manifest.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["charts/a.csv", "forecast.csv"]);
    for output in &manifest.outputs {
        let bytes = read(&mut zip, &format!("outputs/{}", output.name));
        assert_eq!(output.sha256, modelrun_core::crypto::sha256_hex(&bytes));
        assert_eq!(output.size, bytes.len() as u64);
        let stored = recorded
            .iter()
            .find(|o| o.name == output.name)
            .expect("recorded");
        assert_eq!(stored.sha256.as_deref(), Some(output.sha256.as_str()));
    }
    assert_eq!(manifest.outputs[0].file_name, "a.csv");
    let log = String::from_utf8(read(&mut zip, "log.txt")).expect("UTF-8");
    assert!(log.len() > 300_000, "every page of the log: {}", log.len());
    assert!(log.starts_with("line of the log\n") && log.ends_with("last line\n"));
    let inputs: serde_json::Value =
        serde_json::from_slice(&read(&mut zip, "inputs.json")).expect("json");
    assert_eq!(inputs, json!({ "n": 3 }));
    let readme = String::from_utf8(read(&mut zip, "README.md")).expect("UTF-8");
    assert!(
        readme.contains(&format!(
            "modelrun runs reproduce modelrun-run-{}.zip --url https://models.example.com",
            run.id
        )),
        "{readme}"
    );
    assert!(
        readme.contains("| Source commit | not recorded |"),
        "{readme}"
    );
    assert!(readme.contains(&manifest.outputs[1].sha256), "{readme}");

    // What the command line reads of it.
    let opened = OpenBundle::open(&path).expect("a bundle");
    assert_eq!(opened.manifest, manifest);

    // Built once: asked again, the stored zip is kept as it is.
    build(&parts, run.id, "https://models.example.com")
        .await
        .expect("again");
    let again = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("stat");
    assert_eq!(modified, again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_has_not_ended_has_no_bundle() {
    let h = Harness::new(1).await;
    let version = h.shell_model("later", "true", 60).await;
    let run = h.submit(&version, json!({})).await;
    let blob: Arc<dyn BlobStore> = Arc::new(LocalBlobStore::new(h.data().join("blobs")));
    let parts = Parts {
        store: h.store.clone(),
        blob,
        executor: Arc::new(h.executor.clone()),
    };
    let refused = build(&parts, run.id, "http://127.0.0.1:8080")
        .await
        .expect_err("queued");
    assert!(refused.to_string().contains("has not ended"), "{refused}");
}
