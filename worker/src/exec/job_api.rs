//! The job's side of the job API ([`modelrun_core::job_access`]): the run's
//! inputs, input files and outputs move through presigned S3 requests that
//! modelrun hands out for the job token. Transient failures (no connection,
//! 429, 5xx) are retried, five attempts in all, with waits doubling from
//! one second; anything else fails with the server's message.

use std::path::Path;
use std::time::Duration;

use futures_util::TryStreamExt;
use modelrun_core::blob::{ByteStream, MAX_DOCUMENT_BYTES};
use modelrun_core::ids::RunId;
use modelrun_core::job_access::{OutputUpload, Presigned};
use modelrun_core::progress::Progress;
use modelrun_core::secret::Secret;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::input_files::InputFile;

const ATTEMPTS: u32 = 5;

/// Where a job's files are: modelrun's job API, for one run.
#[derive(Debug, Clone)]
pub struct JobApi {
    /// modelrun's address, such as `https://models.example.com`.
    pub url: String,
    pub run: RunId,
    pub token: Secret<String>,
}

impl JobApi {
    fn client() -> Result<Client, String> {
        Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| format!("cannot start an HTTP client: {error}"))
    }

    fn endpoint(&self, what: &str) -> String {
        format!(
            "{}/api/v1/jobs/{}/{what}",
            self.url.trim_end_matches('/'),
            self.run
        )
    }

    /// The run's stored inputs document (at most [`MAX_DOCUMENT_BYTES`]),
    /// file inputs still as their references.
    pub async fn fetch_inputs(&self) -> Result<Vec<u8>, String> {
        let client = Self::client()?;
        let presigned: Presigned = retried("asking for the inputs", || {
            client
                .get(self.endpoint("inputs"))
                .bearer_auth(self.token.expose())
        })
        .await?
        .json()
        .await
        .map_err(|error| format!("cannot read the job API's answer: {error}"))?;
        let response = retried("reading the inputs", || send(&client, &presigned)).await?;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(format!(
                "the inputs are larger than {MAX_DOCUMENT_BYTES} bytes"
            ));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|error| format!("cannot read the inputs: {error}"))?;
        Ok(bytes.to_vec())
    }

    /// The content of one of the run's input files, read as it arrives
    /// (`GET …/files/{input}`, then the presigned request).
    ///
    /// # Errors
    /// The job API's or S3's refusal, after retries; a length other than
    /// the uploaded size.
    pub(crate) async fn fetch_file(&self, input: InputFile) -> Result<ByteStream, String> {
        let client = Self::client()?;
        let mut url = reqwest::Url::parse(&self.endpoint("files"))
            .map_err(|error| format!("{} is not a URL: {error}", self.url))?;
        url.path_segments_mut()
            .map_err(|()| format!("{} is not a URL with a path", self.url))?
            .push(&input.input);
        let presigned: Presigned = retried("asking the job API for it", || {
            client.get(url.clone()).bearer_auth(self.token.expose())
        })
        .await?
        .json()
        .await
        .map_err(|error| format!("cannot read the job API's answer: {error}"))?;
        let response = retried("downloading it", || send(&client, &presigned)).await?;
        let expected = input.file.bytes;
        match response.content_length() {
            Some(length) if length != expected => Err(format!(
                "it has {length} bytes where {expected} were uploaded"
            )),
            _ => Ok(Box::pin(
                response.bytes_stream().map_err(std::io::Error::other),
            )),
        }
    }

    /// Reports the model's latest progress (`POST …/progress`), once: the
    /// next report replaces it, so a failure is only noted in the log.
    pub async fn report_progress(&self, progress: &Progress) {
        let sent = match Self::client() {
            Ok(client) => client
                .post(self.endpoint("progress"))
                .bearer_auth(self.token.expose())
                .timeout(Duration::from_secs(10))
                .json(progress)
                .send()
                .await
                .map_err(|error| error.to_string()),
            Err(error) => Err(error),
        };
        let failure = match sent {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => refusal(response).await,
            Err(error) => error,
        };
        eprintln!("[modelrun] the run's progress could not be reported: {failure}");
    }

    /// Stores the file at `path` as the output `name`; returns its size.
    pub async fn store_output(&self, name: &str, path: &Path) -> Result<u64, String> {
        let (size, sha256) = digest(path)
            .await
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let upload = OutputUpload {
            name: name.to_owned(),
            size,
            sha256,
            content_type: mime_guess::from_path(name)
                .first_or_octet_stream()
                .essence_str()
                .to_owned(),
        };
        let client = Self::client()?;
        let presigned: Presigned = retried(&format!("asking to store {name}"), || {
            client
                .post(self.endpoint("outputs"))
                .bearer_auth(self.token.expose())
                .json(&upload)
        })
        .await?
        .json()
        .await
        .map_err(|error| format!("cannot read the job API's answer: {error}"))?;
        retried(&format!("storing {name}"), || {
            let body = std::fs::File::open(path)
                .map(|file| reqwest::Body::wrap_stream(file_stream(file)))
                .unwrap_or_else(|_| reqwest::Body::from(Vec::new()));
            send(&client, &presigned).body(body)
        })
        .await?;
        Ok(size)
    }
}

fn file_stream(file: std::fs::File) -> tokio_util::io::ReaderStream<tokio::fs::File> {
    tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file))
}

/// The presigned request, with the headers it was signed with.
fn send(client: &Client, presigned: &Presigned) -> RequestBuilder {
    let method = Method::from_bytes(presigned.method.as_bytes()).unwrap_or(Method::GET);
    presigned.headers.iter().fold(
        client.request(method, &presigned.url),
        |request, (name, value)| request.header(name, value),
    )
}

/// Sends the request built by `request` until it succeeds, retrying what
/// is worth retrying.
async fn retried(what: &str, request: impl Fn() -> RequestBuilder) -> Result<Response, String> {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        let failure = match request().send().await {
            Ok(response) if response.status().is_success() => return Ok(response),
            Ok(response) if !worth_retrying(response.status()) => {
                return Err(format!("{what}: {}", refusal(response).await));
            }
            Ok(response) => refusal(response).await,
            Err(error) => error.to_string(),
        };
        if attempt == ATTEMPTS {
            return Err(format!("{what}: {failure} (after {ATTEMPTS} attempts)"));
        }
        eprintln!(
            "[modelrun] {what}: {failure}; trying again in {} s",
            wait.as_secs()
        );
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    Err(format!("{what}: no attempt was made"))
}

fn worth_retrying(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// What a refusal says: the job API's message, or S3's body, cut short.
async fn refusal(response: Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|json| json["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(300).collect());
    format!("{status}: {message}")
}

/// The size and SHA-256 (hex) of a file, read once.
async fn digest(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}
