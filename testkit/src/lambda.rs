//! The AWS Lambda Runtime API, as Lambda serves it to a function's process:
//! `next` hands out the queued event, `response` and `error` take the
//! answer. A test runs the real `modelrun` binary against it, so every
//! event goes through the runtime's own decoding, exactly as on Lambda.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot};

type Answer = Result<Value, String>;

#[derive(Debug)]
struct Shared {
    queue: Mutex<mpsc::UnboundedReceiver<(String, Value, u64)>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    /// When the function first asked for an event: its init was done.
    ready: tokio::sync::watch::Sender<Option<std::time::Instant>>,
}

/// A runtime API on a free port of 127.0.0.1, for one function.
#[derive(Debug)]
pub struct LambdaRuntime {
    /// `127.0.0.1:<port>`, for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    sender: mpsc::UnboundedSender<(String, Value, u64)>,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for LambdaRuntime {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl LambdaRuntime {
    pub async fn start() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            ready: tokio::sync::watch::channel(None).0,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LambdaRuntime {
            address,
            sender,
            shared,
            server,
        }
    }

    /// What a Lambda function's process finds in its environment.
    pub fn environment(&self, function: &str) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", function),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// When the function's init was done: its first request for an event.
    pub async fn ready(&self) -> std::time::Instant {
        let mut ready = self.shared.ready.subscribe();
        match ready.wait_for(Option::is_some).await {
            Ok(at) => at.unwrap_or_else(std::time::Instant::now),
            Err(_) => std::time::Instant::now(),
        }
    }

    /// Invokes the function with `event` and a deadline `budget` from now;
    /// returns its answer, or the error it reported.
    pub async fn invoke(&self, event: Value, budget: Duration) -> Answer {
        let id = format!("req-{}", modelrun_core::crypto::random_hex(6));
        let (reply, answer) = oneshot::channel();
        self.shared.waiting.lock().await.insert(id.clone(), reply);
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            + budget.as_millis() as u64;
        self.sender
            .send((id, event, deadline))
            .map_err(|_| "the runtime API is gone".to_owned())?;
        match tokio::time::timeout(budget + Duration::from_secs(30), answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err("no answer: the runtime API dropped the invocation".to_owned()),
            Err(_) => Err("the function did not answer in time".to_owned()),
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.ready.send_if_modified(|ready| {
        ready.is_none() && ready.replace(std::time::Instant::now()).is_none()
    });
    let Some((id, event, deadline)) = shared.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let set = |headers: &mut HeaderMap, name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(&mut headers, "lambda-runtime-aws-request-id", id);
    set(
        &mut headers,
        "lambda-runtime-deadline-ms",
        deadline.to_string(),
    );
    set(
        &mut headers,
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:test".to_owned(),
    );
    set(
        &mut headers,
        "lambda-runtime-trace-id",
        "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c".to_owned(),
    );
    (StatusCode::OK, headers, event.to_string()).into_response()
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let answer =
        serde_json::from_slice(&body).map_err(|error| format!("the answer is not JSON: {error}"));
    if let Some(reply) = shared.waiting.lock().await.remove(&id) {
        let _ = reply.send(answer);
    }
    StatusCode::ACCEPTED
}

async fn fail(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    if let Some(reply) = shared.waiting.lock().await.remove(&id) {
        let _ = reply.send(Err(String::from_utf8_lossy(&body).into_owned()));
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let message = format!("init failed: {}", String::from_utf8_lossy(&body));
    for (_, reply) in shared.waiting.lock().await.drain() {
        let _ = reply.send(Err(message.clone()));
    }
    StatusCode::ACCEPTED
}
