//! `--input name=@path`: a file input's file, uploaded before the run is
//! submitted. The file is announced (name, size, SHA-256), then sent where
//! the server says: straight to S3 with a presigned request on AWS, to the
//! server itself on one machine. The input's value becomes the upload's id.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::http::Client;

/// How long sending one file may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The prefix of an `--input` value that names a file to upload.
pub const FILE_PREFIX: char = '@';

/// Uploads the file at `path`; returns the upload's id.
pub async fn upload(client: &Client, path: &Path) -> anyhow::Result<String> {
    let bytes = tokio::fs::read(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .with_context(|| format!("{} has no file name in UTF-8", path.display()))?;
    let announced = client
        .json(
            client
                .request(Method::POST, "/api/v1/uploads")
                .json(&json!({
                    "name": name,
                    "bytes": bytes.len(),
                    "sha256": modelrun_core::crypto::sha256_hex(&bytes),
                })),
        )
        .await
        .with_context(|| format!("cannot upload {}", path.display()))?;
    let id = announced["upload"]
        .as_str()
        .context("the server's answer has no upload id")?
        .to_owned();
    let send = &announced["send"];
    let method = send["method"]
        .as_str()
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .context("the server's answer has no method to send the file with")?;
    let url = send["url"]
        .as_str()
        .context("the server's answer has no address to send the file to")?;
    let size = bytes.len();
    // A path is this server's own address; anything else is presigned
    // and must not carry the token.
    let mut request = if url.starts_with('/') {
        client.request(method, url)
    } else {
        client.plain(method, url)
    };
    if let Some(headers) = send["headers"].as_object() {
        for (header, value) in headers {
            if header.eq_ignore_ascii_case("host") {
                continue;
            }
            if let Value::String(value) = value {
                request = request.header(header, value);
            }
        }
    }
    let request = request
        .header("content-length", size)
        .body(bytes)
        .timeout(SEND_TIMEOUT);
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot send {}", path.display()))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        bail!(
            "sending {} was refused ({status}): {}",
            path.display(),
            body.chars().take(500).collect::<String>()
        );
    }
    Ok(id)
}
