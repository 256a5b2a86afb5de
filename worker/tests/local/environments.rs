//! Environments built for real, offline: from a wheel that the test makes
//! itself, with pip and (when the server has it) with uv.

use std::path::{Path, PathBuf};

use modelrun_core::config::{EnvironmentsConfig, PackageIndex, WorkerConfig};
use modelrun_core::environment::{EnvironmentError, EnvironmentSpec, EnvironmentStatus};
use modelrun_core::status::RunStatus;
use modelrun_core::task::{TaskKind, TaskState};
use modelrun_testkit::wheelhouse;
use modelrun_worker::TaskOutcome;
use modelrun_worker::environments::LocalEnvironments;
use serde_json::json;

use crate::support::Harness;

/// The installers this machine has: pip always, uv when the test venv or
/// `PATH` has it.
pub fn installers() -> Vec<Option<PathBuf>> {
    let venv_uv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/uv");
    let uv = std::env::var_os("MODELRUN_TEST_UV")
        .map(PathBuf::from)
        .or_else(|| venv_uv.is_file().then_some(venv_uv));
    std::iter::once(None).chain(uv.map(Some)).collect()
}

/// Environments under `root`, installing only from `wheels`.
pub fn offline(root: &Path, wheels: &Path, uv: Option<PathBuf>) -> LocalEnvironments {
    LocalEnvironments::new(offline_config(root.join("environments"), wheels, uv))
}

pub fn offline_config(root: PathBuf, wheels: &Path, uv: Option<PathBuf>) -> EnvironmentsConfig {
    let mut config = EnvironmentsConfig::new(root);
    config.uv = uv;
    config.search_path = std::env::var("PATH").unwrap_or_default();
    config.index = PackageIndex {
        find_links: vec![wheels.display().to_string()],
        no_index: true,
        ..PackageIndex::default()
    };
    config
}

async fn spec(environments: &LocalEnvironments, requirements: &str) -> EnvironmentSpec {
    EnvironmentSpec {
        requirements: requirements.to_owned(),
        python: None,
        interpreter: environments.interpreter(None).await.expect("python3"),
    }
}

#[tokio::test]
async fn an_environment_is_built_offline_and_shared_by_its_digest() {
    for uv in installers() {
        let root = tempfile::tempdir().expect("dir");
        let wheels = wheelhouse(root.path());
        let environments = offline(root.path(), &wheels, uv.clone());
        let spec = spec(&environments, "modelrun-probe==1.0\n").await;
        assert!(
            spec.interpreter.starts_with("Python 3."),
            "{}",
            spec.interpreter
        );
        let digest = spec.digest();
        assert!(!environments.is_ready(&digest));
        environments.build(&spec).await.expect("built");
        assert!(environments.is_ready(&digest), "with {uv:?}");

        let python = environments.dir(&digest).join("bin/python");
        let out = std::process::Command::new(&python)
            .args(["-c", "import modelrun_probe; print(modelrun_probe.VALUE)"])
            .output()
            .expect("python");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "42",
            "with {uv:?}"
        );

        // The same requirements are the same environment: nothing is rebuilt.
        let marker = environments.dir(&digest).join(".modelrun-ready");
        let before = std::fs::metadata(&marker)
            .expect("marker")
            .modified()
            .expect("time");
        let again = environments.build(&spec).await.expect("ready");
        assert_eq!(again, "", "a ready environment runs no installer");
        let after = std::fs::metadata(&marker)
            .expect("marker")
            .modified()
            .expect("time");
        assert_eq!(before, after);
    }
}

#[tokio::test]
async fn a_broken_requirement_fails_with_the_installers_message() {
    for uv in installers() {
        let root = tempfile::tempdir().expect("dir");
        let wheels = wheelhouse(root.path());
        let environments = offline(root.path(), &wheels, uv.clone());
        let spec = spec(&environments, "modelrun-probe==1.0\nno-such-package==9.9\n").await;
        let error = environments.build(&spec).await.expect_err("cannot install");
        let EnvironmentError::Failed { summary, log } = error else {
            panic!("not an installer failure: {error:?}")
        };
        assert!(
            summary.contains("installing the requirements failed"),
            "{summary}"
        );
        assert!(log.contains("no-such-package"), "with {uv:?}: {log}");
        assert!(!environments.is_ready(&spec.digest()));

        // Once the wheel exists, the same environment builds over the failed one.
        let fixed = spec_with(&spec, "modelrun-probe==1.0\n");
        environments.build(&fixed).await.expect("built");
    }
}

#[tokio::test]
async fn a_python_the_machine_lacks_is_named() {
    let root = tempfile::tempdir().expect("dir");
    let environments = offline(root.path(), root.path(), None);
    let error = environments
        .interpreter(Some("2.1"))
        .await
        .expect_err("no Python 2.1 here");
    assert!(
        error.to_string().contains("this server has no Python 2.1"),
        "{error}"
    );
}

fn spec_with(spec: &EnvironmentSpec, requirements: &str) -> EnvironmentSpec {
    EnvironmentSpec {
        requirements: requirements.to_owned(),
        ..spec.clone()
    }
}

/// A model that prints what the probe package says, with `requirements`.
pub fn probe_model(root: &Path, name: &str, requirements: &str) -> PathBuf {
    python_model(
        root,
        name,
        requirements,
        "import os, sys, modelrun_probe\n\
         print('probe says', modelrun_probe.VALUE, 'from', sys.prefix)\n\
         open(os.path.join(os.environ['MODELRUN_OUTPUT_DIR'], 'value.txt'), 'w').write(str(modelrun_probe.VALUE))\n",
    )
}

/// A model directory under `root` whose `main.py` is `script`, with
/// `requirements`.
pub fn python_model(root: &Path, name: &str, requirements: &str, script: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("modelrun.toml"),
        format!(
            "name = \"{name}\"\ncommand = [\"python3\", \"main.py\"]\n\
             [environment]\nrequirements = \"requirements.txt\"\n\
             [inputs]\ntype = \"object\"\n"
        ),
    )
    .expect("manifest");
    std::fs::write(dir.join("requirements.txt"), requirements).expect("requirements");
    std::fs::write(dir.join("main.py"), script).expect("script");
    dir
}

async fn harness_with_wheels(wheels: &Path) -> Harness {
    let wheels = wheels.to_owned();
    Harness::build(2, WorkerConfig::default(), move |local| {
        local.environments = offline_config(local.data_dir.join("environments"), &wheels, None);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_with_requirements_is_prepared_then_runs_in_its_environment() {
    let sources = tempfile::tempdir().expect("dir");
    let wheels = wheelhouse(sources.path());
    let h = harness_with_wheels(&wheels).await;
    let version = h
        .register(&probe_model(
            sources.path(),
            "probe",
            "modelrun-probe==1.0\n",
        ))
        .await;
    let digest = version.environment.clone().expect("an environment");
    let environment = h.environment(&digest).await;
    assert_eq!(
        environment.status,
        EnvironmentStatus::Preparing,
        "its build is queued"
    );

    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let environment = h.environment(&digest).await;
    assert_eq!(
        environment.status,
        EnvironmentStatus::Ready,
        "{}",
        environment.log
    );
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    let log = h.log_text(run.id).await;
    assert!(log.contains("probe says 42 from"), "{log}");
    assert!(
        log.contains(&digest),
        "the run's python3 is the environment's: {log}"
    );

    // Another version with the same requirements shares the environment.
    let other = h
        .register(&probe_model(
            sources.path(),
            "probe-two",
            "modelrun-probe==1.0\n",
        ))
        .await;
    assert_eq!(other.environment.as_deref(), Some(digest.as_str()));
    let builds = std::fs::read_dir(h.data().join("environments"))
        .expect("environments")
        .filter_map(Result::ok)
        .filter(|entry| {
            // Environments are named by their digest alone, beside their
            // fetched Pythons (`<digest>.python`) and the probes' `.home`.
            entry.path().is_dir() && !entry.file_name().to_string_lossy().contains('.')
        })
        .count();
    assert_eq!(builds, 1, "one environment for both versions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_requirement_fails_the_environment_and_its_runs_with_the_reason() {
    let sources = tempfile::tempdir().expect("dir");
    let wheels = wheelhouse(sources.path());
    let h = harness_with_wheels(&wheels).await;
    let version = h
        .register(&probe_model(
            sources.path(),
            "broken",
            "no-such-package==9.9\n",
        ))
        .await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let digest = version.environment.clone().expect("an environment");
    let environment = h.environment(&digest).await;
    assert_eq!(environment.status, EnvironmentStatus::Failed);
    assert!(
        environment.log.contains("no-such-package"),
        "{}",
        environment.log
    );
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.status_reason.unwrap_or_default();
    let tasks = h.store.list_tasks(None, 50).await.expect("tasks");
    assert!(
        tasks.iter().all(|task| task.state != TaskState::Dead),
        "a failed environment is an outcome, not a dead task: {tasks:?}"
    );
    assert!(
        reason.contains("environment could not be built"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waits_queued_while_its_environment_is_built_on_first_use() {
    let sources = tempfile::tempdir().expect("dir");
    let wheels = wheelhouse(sources.path());
    let h = harness_with_wheels(&wheels).await;
    let dir = probe_model(sources.path(), "lazy", "modelrun-probe==1.0\n");
    let version = register_lazily(&h, &dir).await;
    let digest = version.environment.clone().expect("an environment");
    let pending = h.environment(&digest).await;
    assert_eq!(pending.status, EnvironmentStatus::Pending);

    let run = h.submit(&version, json!({})).await;
    let outcome = h.worker.run_one().await.expect("run one").expect("a task");
    assert!(
        matches!(
            outcome,
            TaskOutcome::Waiting {
                kind: TaskKind::DispatchRun,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(h.run(run.id).await.status, RunStatus::Queued);
    let preparing = h.environment(&digest).await;
    assert_eq!(
        preparing.status,
        EnvironmentStatus::Preparing,
        "the wait asked for the build"
    );
    let events = h.store.run_events(run.id).await.expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.message == "waiting for the model's environment to be built"),
        "{events:?}"
    );

    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    let task = h
        .store
        .list_tasks(None, 20)
        .await
        .expect("tasks")
        .into_iter()
        .find(|t| t.kind == TaskKind::DispatchRun)
        .expect("the dispatch task");
    assert_eq!(task.attempts, 1, "waiting counted no attempt");
}

/// Registers a version whose environment is built when a run asks for it,
/// as the built-in examples are.
async fn register_lazily(h: &Harness, dir: &Path) -> modelrun_core::model::ModelVersion {
    modelrun_worker::register::register_local(
        &h.store,
        &h.data(),
        &h.environments,
        modelrun_worker::register::Registration {
            dir: dir.to_owned(),
            label: None,
            via: "example".to_owned(),
            prepare_environment: false,
        },
    )
    .await
    .expect("register")
    .version()
    .clone()
}
