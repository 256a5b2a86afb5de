//! The JSON API over HTTP, with errors that say what the server said.

use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    /// The server's URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn new(url: &str, token: &str) -> anyhow::Result<Self> {
        let base = url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("the server URL must start with http:// or https://, not {base:?}");
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("modelrun-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client {
            http,
            base,
            token: token.to_owned(),
        })
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// A request to another address (a presigned URL), without the token.
    pub fn plain(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends, and turns an error status into the server's message.
    pub async fn send(&self, request: RequestBuilder) -> anyhow::Result<Response> {
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        let mut text = format!("the server answered {status}: {message}");
        if let Some(fields) = body["error"]["fields"].as_array() {
            for field in fields {
                text.push_str(&format!(
                    "\n  {}: {}",
                    field["field"].as_str().unwrap_or("?"),
                    field["message"].as_str().unwrap_or("?")
                ));
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            text.push_str("\n  check the token (--token, MODELRUN_TOKEN or the config file)");
        }
        bail!(text)
    }

    pub async fn json(&self, request: RequestBuilder) -> anyhow::Result<Value> {
        self.send(request)
            .await?
            .json()
            .await
            .context("the server's answer is not JSON")
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.json(self.request(Method::GET, path)).await
    }
}
