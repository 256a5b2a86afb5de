//! An environment build runs the packages' build scripts, code of the
//! model's choosing: it is sandboxed like a run. A source distribution
//! whose build backend looks around sees none of modelrun's data
//! directory, and what it writes there is gone with the build.

use modelrun_core::config::WorkerConfig;
use modelrun_core::environment::EnvironmentStatus;
use modelrun_core::status::RunStatus;
use modelrun_testkit::{nosy_sdist, wheelhouse};
use serde_json::json;

use crate::environments::{installers, offline_config};
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

        let dir = sources.path().join("nosy");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("modelrun.toml"),
            "name = \"nosy\"\ncommand = [\"python3\", \"nosy.py\"]\n\
             [environment]\nrequirements = \"requirements.txt\"\n\
             [inputs]\ntype = \"object\"\n",
        )
        .expect("manifest");
        std::fs::write(dir.join("requirements.txt"), "modelrun-nosy==1.0\n").expect("reqs");
        std::fs::write(
            dir.join("nosy.py"),
            "import json, os, modelrun_nosy\n\
             out = os.path.join(os.environ['MODELRUN_OUTPUT_DIR'], 'seen.json')\n\
             open(out, 'w').write(json.dumps(modelrun_nosy.SEEN))\n",
        )
        .expect("script");
        let version = h.register(&dir).await;
        let run = h.submit(&version, json!({})).await;
        h.drain().await;

        let digest = version.environment.clone().expect("an environment");
        let environment = h
            .store
            .environment(&digest)
            .await
            .expect("query")
            .expect("row");
        assert_eq!(
            environment.status,
            EnvironmentStatus::Ready,
            "{uv:?}: {}",
            environment.log
        );
        let run = h.run(run.id).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
        let seen: serde_json::Value = serde_json::from_slice(
            &std::fs::read(data.join(format!("blobs/runs/{}/outputs/seen.json", run.id)))
                .expect("seen.json"),
        )
        .expect("json");
        assert_eq!(
            seen["listing"],
            json!(["environments"]),
            "{uv:?}: the build saw modelrun's files: {seen}"
        );
        assert!(
            seen["database"].as_str().unwrap_or("read") != "read",
            "{uv:?}: {seen}"
        );
        assert!(
            !data.join("pwned").exists(),
            "{uv:?}: the build wrote into the data directory"
        );
    }
}
