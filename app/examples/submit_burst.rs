//! Sends a burst of submits at once, for the bursts of scripts/bench-peers.
//!
//! ```text
//! cargo run --release --example submit_burst -- \
//!     --addr 127.0.0.1:PORT --path /api/v1/models/NAME/runs --token T [--token T2 …] [--n 50]
//! ```
//!
//! Opens `n` connections first, the requests ready to send, then writes
//! all of them at once from one thread (`Connection: close`, body
//! `{"inputs": {}}`, the tokens taken in turn) and reads each answer to the
//! end. Prints one JSON line per submit: `i` (its token is the `i % tokens`th), `t0` and `t1` (seconds since the
//! Unix epoch, as f64) just before its request was written and once its
//! answer was read, `status` and `body`. One thread and no HTTP library:
//! the 50 people of a burst submit from their own machines, so the client
//! here takes as little as it can of the two cores it shares with the
//! server (a Python client with a thread per submit took about 0.1 CPU-s a
//! burst).

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// The longest one submit may take, connection to last byte.
const LIMIT: Duration = Duration::from_secs(60);

struct Args {
    addr: SocketAddr,
    path: String,
    tokens: Vec<String>,
    n: usize,
}

fn args() -> Result<Args> {
    let mut addr = None;
    let mut path = None;
    let mut tokens = Vec::new();
    let mut n = 50;
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || {
            given
                .next()
                .with_context(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--addr" => addr = Some(value()?.parse().context("--addr: HOST:PORT")?),
            "--path" => path = Some(value()?),
            "--token" => tokens.push(value()?),
            "--n" => n = value()?.parse().context("--n: a count")?,
            other => bail!("unknown argument {other}"),
        }
    }
    if tokens.is_empty() {
        bail!("give at least one --token");
    }
    Ok(Args {
        addr: addr.context("--addr is required")?,
        path: path.context("--path is required")?,
        tokens,
        n,
    })
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn request(args: &Args, token: &str) -> Vec<u8> {
    let body = r#"{"inputs": {}}"#;
    format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        args.path,
        args.addr,
        body.len()
    )
    .into_bytes()
}

/// The status code and body of a whole HTTP/1.1 answer with a
/// `Content-Length` (what the API sends).
fn parse(answer: &[u8]) -> Result<(u16, String)> {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n").context("no end of headers")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .context("no status code")?;
    Ok((status, body.to_owned()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = args()?;
    let mut ready = Vec::with_capacity(args.n);
    for i in 0..args.n {
        let stream = TcpStream::connect(args.addr)
            .await
            .with_context(|| format!("cannot connect to {}", args.addr))?;
        stream.set_nodelay(true)?;
        ready.push((stream, request(&args, &args.tokens[i % args.tokens.len()])));
    }
    let mut burst = JoinSet::new();
    for (i, (mut stream, request)) in ready.into_iter().enumerate() {
        burst.spawn(tokio::time::timeout(LIMIT, async move {
            let t0 = now();
            stream.write_all(&request).await?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await?;
            Ok::<_, std::io::Error>((i, t0, now(), answer))
        }));
    }
    let mut lines = Vec::with_capacity(args.n);
    while let Some(done) = burst.join_next().await {
        let (i, t0, t1, answer) = done?.context("a submit took longer than its limit")??;
        let (status, body) = parse(&answer)?;
        lines.push(serde_json::json!({"i": i, "t0": t0, "t1": t1, "status": status, "body": body}));
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
