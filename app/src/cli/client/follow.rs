//! Following a run from the command line: its progress until it ends,
//! its log, and its outputs downloaded.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::Client;
use super::output::{cell, text};
use super::runs::{TERMINAL, encode_path};
use super::terminal::{Sanitizer, one_line};
use super::waiting::Watch;

/// How often `--wait` and `--follow` ask the server.
const POLL: Duration = Duration::from_secs(1);

/// Polls until the run ends, showing each new status with the time taken
/// and the model's progress ([`super::waiting`]).
pub(super) async fn wait_for(client: &Client, id: i64) -> anyhow::Result<Value> {
    let mut watch = Watch::new();
    loop {
        let run = client.get(&format!("/api/v1/runs/{id}")).await?;
        watch.show(&run);
        if TERMINAL.contains(&cell(&run["status"]).as_str()) {
            watch.finish();
            return Ok(run);
        }
        tokio::time::sleep(POLL).await;
    }
}

pub(super) async fn download_outputs(
    client: &Client,
    run: &Value,
    dir: &Path,
) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let id = text(&run["id"]);
    for output in run["outputs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = text(&output["name"]);
        // Names come from the server: keep them inside the directory.
        if name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        {
            bail!("the server named an output {name:?}, which is not a plain path");
        }
        let target = dir.join(&name);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let path = format!("/api/v1/runs/{id}/outputs/{}", encode_path(&name));
        let response = client.send(client.request(Method::GET, &path)).await?;
        let mut file = tokio::fs::File::create(&target)
            .await
            .with_context(|| format!("cannot create {}", target.display()))?;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            file.write_all(&chunk.context("the download was cut")?)
                .await?;
        }
        file.flush().await?;
        eprintln!("  downloaded {}", one_line(&target.display().to_string()));
    }
    Ok(())
}

/// Prints the log, and with `follow` what is added until the run ends: on
/// a terminal without the model's escape sequences, elsewhere byte for byte.
pub(super) async fn logs(client: &Client, id: i64, follow: bool) -> anyhow::Result<()> {
    let mut sanitizer = std::io::stdout().is_terminal().then(Sanitizer::default);
    let mut printed = 0;
    loop {
        let run = if follow {
            Some(client.get(&format!("/api/v1/runs/{id}")).await?)
        } else {
            None
        };
        let log = client
            .send(client.request(Method::GET, &format!("/api/v1/runs/{id}/log")))
            .await?
            .bytes()
            .await
            .context("the log was cut")?;
        if let Some(new) = log.get(printed..).filter(|new| !new.is_empty()) {
            let mut stdout = std::io::stdout().lock();
            match sanitizer.as_mut() {
                Some(sanitizer) => stdout.write_all(sanitizer.push(new).as_bytes()),
                None => stdout.write_all(new),
            }
            .and_then(|()| stdout.flush())
            .context("cannot write the log")?;
            printed = log.len();
        }
        let ended = run.is_none_or(|run| TERMINAL.contains(&text(&run["status"]).as_str()));
        if ended {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}
