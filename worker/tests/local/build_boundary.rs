//! An environment build runs the packages' build scripts, code of the
//! model's choosing: it is sandboxed like a run. A source distribution
//! whose build backend looks around sees none of modelrun's data
//! directory, and what it writes there is gone with the build.

use modelrun_core::config::WorkerConfig;
use modelrun_core::environment::EnvironmentStatus;
use modelrun_core::status::RunStatus;
use modelrun_testkit::{nosy_sdist, wheelhouse};
use serde_json::json;

use crate::environments::{installers, offline_config, python_model};
use crate::support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_packages_build_script_reaches_nothing_of_modelruns() {
    for uv in installers() {
        let sources = tempfile::tempdir().expect("dir");
        let wheels = wheelhouse(sources.path());
        let (wheels_dir, installer) = (wheels.clone(), uv.clone());
        let h = Harness::build(1, WorkerConfig::default(), move |local| {
            local.environments =
                offline_config(local.data_dir.join("environments"), &wheels_dir, installer);
        })
        .await;
        assert!(
            h.executor.boundary().is_sandboxed(),
            "bubblewrap must be installed for this test: {}",
            h.executor.boundary().describe()
        );
        let data = h.data();
        nosy_sdist(&wheels, &data);

        let mut seen = Vec::new();
        // Two versions with different requirements: two builds, one after
        // the other, as two models would have.
        for (name, requirements) in [
            ("nosy", "modelrun-nosy==1.0\n"),
            ("nosy-again", "modelrun-nosy==1.0  # another model\n"),
        ] {
            seen.push(nosy_run(&h, sources.path(), name, requirements, &uv).await);
        }
        for seen in &seen {
            assert_eq!(
                seen["listing"],
                json!(["environments"]),
                "{uv:?}: the build saw modelrun's files: {seen}"
            );
            assert!(
                seen["database"].as_str().unwrap_or("read") != "read",
                "{uv:?}: {seen}"
            );
            assert_eq!(
                seen["left_by_an_earlier_build"],
                json!(false),
                "{uv:?}: a build found what another left in its home: {seen}"
            );
        }
        assert_ne!(
            seen[0]["nonce"], seen[1]["nonce"],
            "{uv:?}: the second build reused what the first built"
        );
        assert!(
            !data.join("pwned").exists(),
            "{uv:?}: the build wrote into the data directory"
        );
    }
}

/// Registers and runs a model that requires the nosy package; what its
/// build saw.
async fn nosy_run(
    h: &Harness,
    sources: &std::path::Path,
    name: &str,
    requirements: &str,
    uv: &Option<std::path::PathBuf>,
) -> serde_json::Value {
    let dir = python_model(
        sources,
        name,
        requirements,
        "import json, os, modelrun_nosy\n\
         out = os.path.join(os.environ['MODELRUN_OUTPUT_DIR'], 'seen.json')\n\
         open(out, 'w').write(json.dumps(modelrun_nosy.SEEN))\n",
    );
    let version = h.register(&dir).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let digest = version.environment.clone().expect("an environment");
    let environment = h.environment(&digest).await;
    assert_eq!(
        environment.status,
        EnvironmentStatus::Ready,
        "{uv:?}: {}",
        environment.log
    );
    let run = h.run(run.id).await;
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "{uv:?}: {:?}\n{}",
        run.status_reason,
        h.log_text(run.id).await
    );
    serde_json::from_slice(
        &std::fs::read(
            h.data()
                .join(format!("blobs/runs/{}/outputs/seen.json", run.id)),
        )
        .expect("seen.json"),
    )
    .expect("json")
}
