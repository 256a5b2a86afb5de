//! The binary as an AWS Lambda function. The same configuration as a server,
//! read once at start (init), then one of two roles:
//!
//! - **web**: the axum app of [`modelrun_web::app`] behind API Gateway, through
//!   `lambda_http`. It starts no slow work: after committing a task it kicks
//!   the worker function (an asynchronous invoke) and answers.
//! - **worker**: one handler for its four kinds of event
//!   ([`modelrun_worker::lambda`]), running due tasks until the invocation's
//!   deadline nears.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{LambdaEvent, service_fn};
use modelrun_core::config::WebConfig;
use serde_json::Value;

use crate::runtime::Components;
use modelrun_core::error_chain;

/// The log download's limit on Lambda, well under the 6 MB a response may
/// carry once encoded in the runtime's JSON.
pub const MAX_LOG_BYTES: usize = 4 * 1024 * 1024;

/// Serves the web app until the runtime stops the process.
pub async fn web(components: Components, config: WebConfig) -> anyhow::Result<()> {
    let app = modelrun_web::app(components.app_state(config));
    lambda_http::run(app)
        .await
        .map_err(|error| anyhow::anyhow!("the Lambda runtime stopped: {error}"))
}

/// Handles worker events until the runtime stops the process.
pub async fn worker(components: Components) -> anyhow::Result<()> {
    let worker = components.worker.clone();
    let handler = service_fn(move |event: LambdaEvent<Value>| {
        let worker = worker.clone();
        async move {
            let deadline = deadline(event.context.deadline);
            modelrun_worker::lambda::handle(&worker, &event.payload, deadline)
                .await
                .map_err(|error| -> lambda_runtime::Error {
                    tracing::error!(error = %error_chain(&error), "the invocation failed");
                    error_chain(&error).into()
                })
        }
    });
    let _keep = Arc::new(components);
    lambda_runtime::run(handler)
        .await
        .map_err(|error| anyhow::anyhow!("the Lambda runtime stopped: {error}"))
}

/// The invocation's deadline (milliseconds since the epoch) as an instant.
fn deadline(epoch_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(epoch_ms.saturating_sub(now_ms))
}
