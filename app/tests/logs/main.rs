//! No password, token or session id is written to any log, even at the most
//! verbose level. A test binary of its own, so that its subscriber is the
//! process's global one and sees every event of every crate and thread.

mod secrets;
#[allow(dead_code)]
#[path = "../e2e/support.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::StoreKind;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn secrets_stay_out_of_the_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let mut secrets = secrets::exercise(StoreKind::Sqlite).await;
    secrets.extend(secrets::exercise(StoreKind::Postgres).await);

    let logs = String::from_utf8_lossy(&capture.0.lock().expect("lock")).into_owned();
    let lines = logs.lines().count();
    assert!(
        logs.contains("signed in"),
        "the capture saw the server's logs"
    );
    assert!(
        logs.contains("run submitted") && lines > 100,
        "{lines} lines"
    );
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret reached the log: {secret}"
        );
    }
    println!(
        "{lines} log lines at TRACE, none with any of {} secrets",
        secrets.len()
    );
}
