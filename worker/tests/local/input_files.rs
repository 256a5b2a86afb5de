//! File inputs on one machine: the model finds, in its `inputs.json`, the
//! path of its own copy of each uploaded file, can open it (read-only in
//! the sandbox), and a file that cannot be read fails the run, naming it.

use bytes::Bytes;
use modelrun_core::blob::{BlobKey, BlobStore};
use modelrun_core::config::{SandboxMode, WorkerConfig};
use modelrun_core::model::ModelVersion;
use modelrun_core::run::Run;
use modelrun_core::schema::{FileRef, UploadId, Uploads};
use modelrun_core::status::RunStatus;
use modelrun_worker::blob::LocalBlobStore;
use serde_json::{Value, json};

use crate::support::*;

/// Reads the file that `overrides` names, and writes it back in capitals,
/// with what it was given and whether it could change the file.
const SHOUT: &str = r#"path=$(sed -E 's/.*"overrides":"([^"]*)".*/\1/' "$MODELRUN_INPUTS")
out="$MODELRUN_OUTPUT_DIR"
tr a-z A-Z < "$path" > "$out/shouted.csv" || exit 3
cp "$MODELRUN_INPUTS" "$out/inputs.json"
if (echo tampered >> "$path") 2>/dev/null; then echo writable; else echo read-only; fi > "$out/access.txt""#;

/// A model with a required CSV input `overrides`, an optional file input
/// `extra` and a number `n`, whose command is `script`.
async fn file_model(h: &Harness, name: &str, script: &str) -> ModelVersion {
    let dir = h.dir.path().join("src").join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let manifest = format!(
        "name = \"{name}\"\ncommand = [\"sh\", \"-c\", {script:?}]\n\
         [resources]\ntimeout_seconds = 60\n\
         [inputs]\ntype = \"object\"\nrequired = [\"overrides\"]\n\
         [inputs.properties.overrides]\ntype = \"string\"\nformat = \"file\"\ncontentMediaType = \"text/csv\"\n\
         [inputs.properties.extra]\ntype = \"string\"\nformat = \"file\"\n\
         [inputs.properties.n]\ntype = \"integer\"\ndefault = 1\n"
    );
    std::fs::write(dir.join("modelrun.toml"), manifest).expect("manifest");
    h.register(&dir).await
}

/// A run of `version` whose `overrides` is an upload of `content`, stored
/// in the harness's blob directory unless `stored` is false.
async fn submit_upload(h: &Harness, version: &ModelVersion, content: &[u8], stored: bool) -> Run {
    let file = FileRef {
        upload: UploadId::generate(),
        name: "overrides.csv".to_owned(),
        bytes: content.len() as u64,
        media_type: "text/csv".to_owned(),
    };
    if stored {
        let blob = LocalBlobStore::new(h.data().join("blobs"));
        let key = BlobKey::input_file(&file).expect("key");
        blob.put(&key, Bytes::copy_from_slice(content), "text/csv")
            .await
            .expect("upload");
    }
    let uploads = Uploads::from([(file.upload.clone(), file.clone())]);
    h.submit_with(
        version,
        json!({"overrides": file.upload.to_string()}),
        &uploads,
    )
    .await
}

fn output(h: &Harness, run: &Run, name: &str) -> String {
    let path = h
        .data()
        .join(format!("blobs/runs/{}/outputs/{name}", run.id));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

async fn the_model_reads_its_file_at_the_path_it_is_given(h: Harness) {
    let version = file_model(&h, "shout", SHOUT).await;
    let run = submit_upload(&h, &version, b"region,growth\nnorth,0.05\n", true).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    assert_eq!(
        output(&h, &run, "shouted.csv"),
        "REGION,GROWTH\nNORTH,0.05\n"
    );

    let copy = h
        .data()
        .join(format!("work/{}/files/overrides/overrides.csv", run.id));
    let given: Value = serde_json::from_str(&output(&h, &run, "inputs.json")).expect("json");
    assert_eq!(
        given,
        json!({"overrides": copy.to_str().expect("utf-8"), "extra": null, "n": 1}),
        "an absolute path for the file, null for the file left out"
    );
    assert!(
        FileRef::from_value(&run.inputs["overrides"]).is_some(),
        "the run keeps its reference to the upload: {:?}",
        run.inputs
    );
    let access = output(&h, &run, "access.txt");
    if h.executor.boundary().is_sandboxed() {
        assert_eq!(
            access, "read-only\n",
            "the sandbox shows the copy read-only"
        );
    }
    assert!(
        !copy.exists(),
        "the working directory is removed with its files"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandboxed_model_reads_its_input_file() {
    let h = Harness::new(2).await;
    assert!(
        h.executor.boundary().is_sandboxed(),
        "bubblewrap must be installed for this test: {}",
        h.executor.boundary().describe()
    );
    the_model_reads_its_file_at_the_path_it_is_given(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfined_model_reads_its_input_file() {
    let h = Harness::build(2, WorkerConfig::default(), |config| {
        config.sandbox = SandboxMode::Off;
    })
    .await;
    assert!(!h.executor.boundary().is_sandboxed());
    the_model_reads_its_file_at_the_path_it_is_given(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_cannot_be_read_fails_the_run_naming_it() {
    let h = Harness::new(2).await;
    let version = file_model(&h, "shout", SHOUT).await;
    let run = submit_upload(&h, &version, b"north,0.05\n", false).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.status_reason.unwrap_or_default();
    assert!(
        reason.contains(
            "the input file overrides.csv of input overrides could not be read: no object at uploads/"
        ),
        "{reason}"
    );
    assert!(
        h.store
            .run_outputs(run.id)
            .await
            .expect("outputs")
            .is_empty(),
        "the model never ran"
    );
}
