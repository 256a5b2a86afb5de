//! API Gateway in front of the web function, for callers that speak HTTP,
//! such as a job's `modelrun exec` calling the job API: each request
//! becomes a payload 2.0 event, each answer an HTTP response.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use modelrun_testkit::LambdaRuntime;

use super::BUDGET;
use super::events::http;

/// The gateway's address, `http://127.0.0.1:<port>`, while it lives.
pub struct Gateway {
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub async fn start(web: Arc<LambdaRuntime>) -> Gateway {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let app = Router::new().fallback(forward).with_state(web);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Gateway { url, server }
}

async fn forward(State(web): State<Arc<LambdaRuntime>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 10 * 1024 * 1024).await.unwrap_or_default();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(name, _)| *name != "host")
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let text = String::from_utf8_lossy(&body).into_owned();
    let event = http(
        parts.method.as_str(),
        &path,
        &borrowed,
        &[],
        (!body.is_empty()).then_some(text.as_str()),
    );
    let answer = match web.invoke(event, BUDGET).await {
        Ok(answer) => answer,
        Err(error) => return (StatusCode::BAD_GATEWAY, error).into_response(),
    };
    let status = answer["statusCode"]
        .as_u64()
        .and_then(|code| StatusCode::from_u16(u16::try_from(code).ok()?).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let text = answer["body"].as_str().unwrap_or_default();
    let bytes = if answer["isBase64Encoded"] == true {
        BASE64_STANDARD.decode(text).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    if let Some(headers) = answer["headers"].as_object() {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}
