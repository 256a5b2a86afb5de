//! Long logs: their end is what a person follows, the reason of a failed
//! run carries the last lines its model printed, and pages never split a
//! character.

use std::time::Duration;

use modelrun_core::config::WorkerConfig;
use modelrun_core::executor::Executor;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;
use serde_json::json;

use crate::support::*;

/// The end of the log the run page shows.
const TAIL_BYTES: usize = 256 * 1024;

/// Prints 1.1 MB, then a traceback on stderr, and fails.
const CRASHING: &str = "yes 'loading data' | head -c 1100008; \
    printf 'Traceback (most recent call last):\\n  File \"model.py\", line 7, in main\\n' >&2; \
    printf 'ValueError: no data for 2027-01\\n\\n' >&2; exit 1";

/// Every page of the log, read through the executor as a download does.
async fn whole_log(h: &Harness, run: &Run) -> String {
    let mut text = String::new();
    let mut cursor = None;
    loop {
        let page = h.executor.log(run, cursor.as_deref()).await.expect("page");
        text.push_str(&page.text);
        if !page.truncated {
            return text;
        }
        cursor = page.next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_log_ends_with_the_exception_and_the_reason_carries_it() {
    let h = Harness::new(1).await;
    let version = h.shell_model("crashing", CRASHING, 60).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);

    let tail = h.executor.log_tail(&run, TAIL_BYTES).await.expect("tail");
    assert!(tail.earlier, "a 1.1 MB log is shown from its end");
    assert!(tail.text.len() <= TAIL_BYTES);
    assert!(
        tail.text.starts_with("loading data\n"),
        "from a line's start"
    );
    assert!(
        tail.text
            .ends_with("line 7, in main\nValueError: no data for 2027-01\n\n"),
        "{}",
        &tail.text[tail.text.len() - 200..]
    );

    let reason = run.status_reason.unwrap_or_default();
    assert!(
        reason.starts_with("the model exited with code 1; the last lines it printed:\n"),
        "{reason}"
    );
    assert!(
        reason.ends_with(
            "Traceback (most recent call last):\n  File \"model.py\", line 7, in main\n\
             ValueError: no data for 2027-01"
        ),
        "{reason}"
    );
    assert!(
        reason.lines().count() <= 11 && reason.len() <= 2200,
        "{reason}"
    );
    let emails = h.store.list_emails(None, 10).await.expect("emails");
    assert!(
        emails[0].text.contains("ValueError: no data for 2027-01"),
        "{}",
        emails[0].text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_log_limit_the_log_still_ends_with_the_exception() {
    let h = Harness::build(1, WorkerConfig::default(), |local| {
        local.max_log_bytes = 100_000;
    })
    .await;
    let version = h.shell_model("crashing", CRASHING, 60).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    let reason = run.status_reason.clone().unwrap_or_default();
    assert!(
        reason.ends_with("ValueError: no data for 2027-01"),
        "{reason}"
    );
    let log = whole_log(&h, &run).await;
    assert!(log.contains("the log reached its limit of 100000 bytes"));
    assert!(
        log.ends_with("ValueError: no data for 2027-01\n\n"),
        "{}",
        &log[log.len() - 200..]
    );
    assert!(log.len() < 100_000 + 20_000, "{} bytes", log.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_model_shows_its_latest_progress() {
    let h = Harness::new(1).await;
    let script = "yes 'start-up chatter' | head -c 307200; \
        for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do \
        echo \"progress $i\"; sleep 0.25; done";
    let version = h.shell_model("progressing", script, 60).await;
    let run = h.submit(&version, json!({})).await;
    h.wait_for(run.id, RunStatus::Running).await;
    let mut seen = None;
    for _ in 0..100 {
        let current = h.run(run.id).await;
        let tail = h
            .executor
            .log_tail(&current, TAIL_BYTES)
            .await
            .expect("tail");
        if tail.text.contains("progress 3\n") {
            seen = Some((current.status, tail));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, tail) = seen.expect("the tail shows the progress lines");
    assert_eq!(status, RunStatus::Running, "seen while the run goes on");
    assert!(tail.earlier);
    let last = tail.text.lines().last().unwrap_or_default();
    assert!(last.starts_with("progress "), "{last}");
    h.drain().await;
    let run = h.run(run.id).await;
    let tail = h.executor.log_tail(&run, 4096).await.expect("tail");
    assert!(
        tail.text.ends_with("progress 19\nprogress 20\n"),
        "{}",
        tail.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_across_a_page_boundary_reads_back_whole() {
    let h = Harness::new(1).await;
    // 262143 bytes, then `é` (two bytes) across the 256 KiB boundary.
    let script = "head -c 262143 /dev/zero | tr '\\000' a; printf '\\303\\251 done\\n'; \
        printf 'bad \\377 byte\\n'";
    let version = h.shell_model("accented", script, 60).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    let log = whole_log(&h, &run).await;
    assert_eq!(log.len(), 262_143 + "é done\nbad \u{FFFD} byte\n".len());
    assert!(
        log.ends_with("aé done\nbad \u{FFFD} byte\n"),
        "invalid bytes elsewhere still read as U+FFFD: {:?}",
        &log[log.len() - 30..]
    );
    let tail = h.executor.log_tail(&run, 20).await.expect("tail");
    assert_eq!(tail.text, "bad \u{FFFD} byte\n");
}
