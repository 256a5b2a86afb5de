//! The sandbox around a local run, tried by a hostile model: it must reach
//! nothing of modelrun's (its process, environment, database, other runs)
//! and write nowhere but its own directories, while the run itself works;
//! and the limits the run page shows must hold.

use modelrun_core::config::WorkerConfig;
use modelrun_core::status::RunStatus;
use serde_json::json;

use crate::support::*;

/// A harness whose runs are sandboxed: these tests mean nothing otherwise.
async fn sandboxed(
    adjust: impl FnOnce(&mut modelrun_core::config::LocalExecutorConfig),
) -> Harness {
    let h = Harness::build(2, WorkerConfig::default(), adjust).await;
    assert!(
        h.executor.boundary().is_sandboxed(),
        "bubblewrap must be installed for these tests: {}",
        h.executor.boundary().describe()
    );
    h
}

fn results(h: &Harness, run: modelrun_core::ids::RunId) -> String {
    std::fs::read_to_string(
        h.data()
            .join(format!("blobs/runs/{run}/outputs/results.txt")),
    )
    .unwrap_or_default()
}

async fn log(h: &Harness, run: modelrun_core::ids::RunId) -> String {
    h.log_text(run).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_model_reaches_nothing_of_modelruns() {
    let h = sandboxed(|_| {}).await;
    // Another person's run, with an output worth stealing.
    let victim = h
        .shell_model(
            "victim",
            "echo TOP SECRET > \"$MODELRUN_OUTPUT_DIR/secret.txt\"",
            60,
        )
        .await;
    let first = h.submit(&victim, json!({})).await;
    h.drain().await;
    assert_eq!(h.run(first.id).await.status, RunStatus::Succeeded);

    let data = h.data();
    let data = data.display();
    let script = format!(
        r#"out="$MODELRUN_OUTPUT_DIR"; r() {{ echo "$1 $2" >> "$out/results.txt"; }}
grep -qa CARGO_ /proc/$PPID/environ /proc/1/environ 2>/dev/null && r environ visible || r environ hidden
r processes "$(ls /proc | grep -c '^[0-9]')"
[ -e {data}/modelrun.db ] && r database visible || r database hidden
[ -e {data}/secrets.key ] && r key visible || r key hidden
[ -e {data}/blobs/runs/{first}/outputs/secret.txt ] && r other-run visible || r other-run hidden
mkdir -p {data}/blobs/runs/{first}/outputs 2>/dev/null; echo TAMPERED > {data}/blobs/runs/{first}/outputs/secret.txt 2>/dev/null
ln /etc/passwd "$out/passwd" 2>/dev/null && r hardlink made || r hardlink refused
ln -s /etc/passwd "$out/passwd-link"
touch /usr/modelrun-was-here 2>/dev/null && r usr writable || r usr read-only
touch model-was-here 2>/dev/null && r model writable || r model read-only
echo fine > "$out/forecast.csv""#,
        first = first.id
    );
    let hostile = h.shell_model("hostile", &script, 60).await;
    let second = h.submit(&hostile, json!({})).await;
    h.drain().await;
    let run = h.run(second.id).await;
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "{:?}\n{}",
        run.status_reason,
        log(&h, run.id).await
    );

    let found = results(&h, run.id);
    for expected in [
        "environ hidden",
        "database hidden",
        "key hidden",
        "other-run hidden",
        "usr read-only",
        "model read-only",
    ] {
        assert!(found.contains(expected), "{expected}:\n{found}");
    }
    let processes: usize = found
        .lines()
        .find_map(|l| l.strip_prefix("processes "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a count");
    assert!(
        processes <= 5,
        "the run sees only its own processes, not {processes}"
    );

    let secret = std::fs::read_to_string(
        h.data()
            .join(format!("blobs/runs/{}/outputs/secret.txt", first.id)),
    )
    .expect("the victim's output");
    assert_eq!(
        secret.trim(),
        "TOP SECRET",
        "another run's output is untouched"
    );
    assert!(!std::path::Path::new("/usr/modelrun-was-here").exists());

    let outputs: Vec<String> = h
        .store
        .run_outputs(run.id)
        .await
        .expect("outputs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        outputs,
        ["forecast.csv", "results.txt"],
        "no link became an output"
    );
    let log = log(&h, run.id).await;
    assert!(
        log.contains("skipped output \"passwd-link\": it is a symbolic link"),
        "{log}"
    );
    if found.contains("hardlink made") {
        assert!(
            log.contains("skipped output \"passwd\": it is a hard link"),
            "{log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_without_network_reaches_none() {
    let h = sandboxed(|_| {}).await;
    // The tests' Postgres listens on 127.0.0.1:5432.
    let reach = "python3 -c \"import socket; socket.create_connection(('127.0.0.1', 5432), 3)\"";
    let online = h.shell_model("online", reach, 60).await;
    let dir = h.dir.path().join("src/offline");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("modelrun.toml"),
        format!("name = \"offline\"\nnetwork = false\ncommand = [\"sh\", \"-c\", {reach:?}]\n[inputs]\ntype = \"object\"\n"),
    )
    .expect("manifest");
    let offline = h.register(&dir).await;
    assert!(online.network && !offline.network);
    let (a, b) = (
        h.submit(&online, json!({})).await,
        h.submit(&offline, json!({})).await,
    );
    h.drain().await;
    assert_eq!(
        h.run(a.id).await.status,
        RunStatus::Succeeded,
        "{}",
        log(&h, a.id).await
    );
    let refused = h.run(b.id).await;
    assert_eq!(refused.status, RunStatus::Failed);
    // Its own network namespace has only a loopback of its own.
    let text = log(&h, b.id).await;
    assert!(
        text.contains("Connection refused") || text.contains("Network is unreachable"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_and_outputs_are_held_to_their_limits() {
    let h = sandboxed(|local| local.max_output_bytes = 1024 * 1024).await;
    let greedy = h.dir.path().join("src/greedy");
    std::fs::create_dir_all(&greedy).expect("mkdir");
    std::fs::write(
        greedy.join("modelrun.toml"),
        "name = \"greedy\"\ncommand = [\"python3\", \"-c\", \"b = bytearray(768 * 1024 * 1024); print('allocated')\"]\n\
         [resources]\nmemory_mib = 256\n[inputs]\ntype = \"object\"\n",
    )
    .expect("manifest");
    let greedy = h.register(&greedy).await;
    let big_file = h
        .shell_model(
            "big-file",
            "head -c 3145728 /dev/zero > \"$MODELRUN_OUTPUT_DIR/big\"",
            60,
        )
        .await;
    let many_files = h
        .shell_model(
            "many-files",
            "for n in 1 2 3; do head -c 700000 /dev/zero > \"$MODELRUN_OUTPUT_DIR/part$n\"; done; sleep 30",
            60,
        )
        .await;
    // Written faster than the outputs are measured while a run runs.
    let quick_files = h
        .shell_model(
            "quick-files",
            "for n in 1 2 3; do head -c 700000 /dev/zero > \"$MODELRUN_OUTPUT_DIR/part$n\"; done",
            60,
        )
        .await;
    let runs = [
        h.submit(&greedy, json!({})).await,
        h.submit(&big_file, json!({})).await,
        h.submit(&many_files, json!({})).await,
        h.submit(&quick_files, json!({})).await,
    ];
    h.drain().await;
    let [greedy, big_file, many_files, quick_files] = runs.map(|r| r.id);

    let run = h.run(greedy).await;
    assert_eq!(run.status, RunStatus::Failed);
    let text = log(&h, greedy).await;
    assert!(
        text.contains("MemoryError") && !text.contains("allocated"),
        "{text}"
    );

    for id in [big_file, many_files, quick_files] {
        let run = h.run(id).await;
        assert_eq!(run.status, RunStatus::Failed);
        let reason = run.status_reason.unwrap_or_default();
        assert!(
            reason.contains("the outputs reached 1 MiB, the limit of a run"),
            "{reason}"
        );
        let kept = h.data().join(format!("blobs/runs/{id}/outputs"));
        assert!(
            !kept.exists() || std::fs::read_dir(&kept).expect("dir").next().is_none(),
            "outputs past the limit are not kept"
        );
    }
    assert!(all_gone("sleep 30").await || processes_with("sleep 30").is_empty());
}
