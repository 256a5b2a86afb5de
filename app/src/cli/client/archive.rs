//! `modelrun sweeps download`: a sweep's archive into a file. The server
//! answers 202 with `Retry-After` while its worker builds the zip; this
//! waits through those, then streams the zip (or the presigned URL it is
//! redirected to) into the file, never over one that exists unless asked.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use tokio::io::AsyncWriteExt;

use super::Client;
use super::terminal::one_line;

/// The longest wait between two asks, whatever `Retry-After` says.
const MOST_BETWEEN: Duration = Duration::from_secs(30);

/// How long the whole download may take: an archive holds every output of
/// up to hundreds of runs, far more than the two minutes the client gives
/// an ordinary request.
const DOWNLOAD_TAKES_AT_MOST: Duration = Duration::from_secs(6 * 60 * 60);

/// Downloads the archive of sweep `id` into `target`; an existing file is
/// replaced only with `force`. A download cut short leaves no file.
///
/// # Errors
/// The server's refusal (409 before every run has ended, 404), an
/// existing file, or a download that was cut.
pub(super) async fn download(
    client: &Client,
    id: i64,
    target: &Path,
    force: bool,
) -> anyhow::Result<()> {
    if !force && target.exists() {
        bail!(
            "{} exists: pass --force to replace it, or -o to write elsewhere",
            target.display()
        );
    }
    let path = format!("/api/v1/sweeps/{id}/archive");
    let mut told = false;
    let response = loop {
        let request = client
            .request(Method::GET, &path)
            .timeout(DOWNLOAD_TAKES_AT_MOST);
        let response = client.send(request).await?;
        if response.status() != StatusCode::ACCEPTED {
            break response;
        }
        if !told {
            eprintln!("The archive of sweep {id} is being made; waiting for it.");
            told = true;
        }
        let after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map_or(Duration::from_secs(2), Duration::from_secs);
        tokio::time::sleep(after.clamp(Duration::from_secs(1), MOST_BETWEEN)).await;
    };
    let bytes = write(response, target, force).await?;
    eprintln!(
        "Downloaded {} ({bytes} bytes).",
        one_line(&target.display().to_string())
    );
    Ok(())
}

/// Streams the body into a temporary file beside `target`, and gives it
/// `target`'s name once whole: a download cut short (an error, Ctrl-C)
/// never leaves a partial file under the name. Without `force` a file
/// that appeared at `target` meanwhile is not replaced. The bytes written.
async fn write(response: reqwest::Response, target: &Path, force: bool) -> anyhow::Result<u64> {
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let partial = tempfile::Builder::new()
        .prefix(".modelrun-download-")
        .suffix(".part")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let mut file = tokio::fs::File::from_std(partial.as_file().try_clone()?);
    let mut body = response.bytes_stream();
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.context("the download was cut")?;
        file.write_all(&chunk).await?;
        bytes += chunk.len() as u64;
    }
    file.flush().await?;
    file.sync_all().await?;
    let kept = if force {
        partial.persist(target).map(|_| ())
    } else {
        partial.persist_noclobber(target).map(|_| ())
    };
    kept.map_err(|error| error.error)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(bytes)
}
