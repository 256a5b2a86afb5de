//! `GET /healthz`: 200 when the store answers and, on one machine, the
//! data directory's disk can take writes; 503 otherwise, within
//! [`HEALTH_WAIT`] whatever the database does, so that a load balancer sees
//! a 503 rather than a timeout.
//!
//! The body says which part failed: `{"status": "ok" | "unavailable",
//! "store": "sqlite" | "postgres", "writable": bool, "reason"?: "…",
//! "warning"?: "…"}`. `warning` is set, with 200, when free space is below
//! the warning threshold.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::disk::{self, Space};
use crate::state::AppState;
use modelrun_core::error_chain;

/// The longest a health check waits for the database: well under the
/// usual load-balancer timeout (5 s for an ALB health check, 2 s minimum).
pub const HEALTH_WAIT: Duration = Duration::from_secs(1);

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = state.store.backend();
    let answered = tokio::time::timeout(HEALTH_WAIT, state.store.ping()).await;
    let failure = match answered {
        Ok(Ok(())) => None,
        Ok(Err(error)) => {
            tracing::error!(error = %error_chain(&error), "health check failed");
            Some(format!("the database did not answer: {error}"))
        }
        Err(_) => {
            tracing::error!("health check failed: the database did not answer in time");
            Some(format!(
                "the database did not answer within {} s",
                HEALTH_WAIT.as_secs()
            ))
        }
    };
    if let Some(reason) = failure {
        return unavailable(store, reason);
    }
    let Some(watch) = &state.config.disk else {
        return ok(store, None);
    };
    let space = disk::space(watch);
    let warning = space.warning(&watch.dir);
    match (space, warning) {
        (Space::Full { .. }, Some(reason)) => {
            tracing::error!(%reason, "health check failed");
            unavailable(store, reason)
        }
        (_, warning) => ok(store, warning),
    }
}

fn ok(store: &str, warning: Option<String>) -> (StatusCode, Json<Value>) {
    let mut body = json!({ "status": "ok", "store": store, "writable": true });
    if let Some(warning) = warning {
        body["warning"] = json!(warning);
    }
    (StatusCode::OK, Json(body))
}

fn unavailable(store: &str, reason: String) -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({
            "status": "unavailable",
            "store": store,
            "writable": false,
            "reason": reason,
        })),
    )
}
