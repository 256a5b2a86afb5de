//! Slow and silent clients cannot hold the server: half a request, an idle
//! connection or a trickled body loses its connection after its timeout,
//! and connections past the cap wait in the accept queue rather than use
//! up the server's file descriptors.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

async fn app() -> TestApp {
    TestApp::spawn_with(StoreKind::Sqlite, |web| {
        web.connections.header_read_timeout = HEADER_TIMEOUT;
        web.connections.request_timeout = REQUEST_TIMEOUT;
        web.connections.max_connections = 4;
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Reads until the server closes the connection; what it sent, and when
/// it closed. Gives up after ten seconds.
async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => panic!("the server kept the connection open for 10 s"),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        start.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_a_request_or_silence_loses_the_connection() {
    let app = app().await;
    let mut half = connect(&app).await;
    half.write_all(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .expect("write");
    let mut silent = connect(&app).await;
    let (_, after) = until_closed(&mut half).await;
    assert!(after < HEADER_TIMEOUT * 4, "half a request held {after:?}");
    let (_, after) = until_closed(&mut silent).await;
    assert!(
        after < HEADER_TIMEOUT * 4,
        "a silent connection held {after:?}"
    );

    // A kept-alive connection is served, then closed once idle.
    let mut kept = connect(&app).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let (answer, _) = until_closed(&mut kept).await;
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trickled_body_gets_408() {
    let app = app().await;
    let mut slow = connect(&app).await;
    slow.write_all(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
    )
    .await
    .expect("write");
    let (answer, after) = until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("not complete within 2 s"), "{answer}");
    assert!(after < REQUEST_TIMEOUT * 3, "{after:?}");
}

/// Far more slow connections than the cap: each waits its turn, and once
/// they are gone an ordinary request is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_slow_clients_leave_the_server_serving() {
    let app = app().await;
    let open_files = || {
        std::fs::read_dir("/proc/self/fd")
            .map(Iterator::count)
            .unwrap_or(0)
    };
    let before = open_files();
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut stream = connect(&app).await;
        let _ = stream
            .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await;
        slow.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // This process holds the 40 client ends; the server, in the same
    // process, holds at most its cap of 4 more.
    let opened = open_files().saturating_sub(before);
    assert!(opened <= 40 + 4 + 8, "{opened} files opened for 40 clients");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let started = Instant::now();
    let health = client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("served");
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    drop(slow);
}
