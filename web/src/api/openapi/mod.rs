//! The API described as OpenAPI 3.1, served at `/api/v1/openapi.json`.
//! [`OPERATIONS`] lists every route of the API; the routers build their
//! routes from the same paths, and `tests/e2e/openapi.rs` calls every
//! operation the document lists and checks the answer against it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::AppState;

mod costs;
mod lifecycle;
mod operations;
mod schedules;
mod schemas;
mod sweeps;

use operations::{error, model_operation, other_operation, run_operation};
use schemas::schemas;

pub const MODELS: &str = "/api/v1/models";
pub const MODEL_RUNS: &str = "/api/v1/models/{model}/runs";
pub const MODEL_SECRETS: &str = "/api/v1/models/{model}/secrets";
pub const MODEL_SECRET: &str = "/api/v1/models/{model}/secrets/{name}";
pub const IMAGES_SYNC: &str = "/api/v1/images/sync";
pub const RUNS: &str = "/api/v1/runs";
pub const RUN: &str = "/api/v1/runs/{id}";
pub const RUN_OUTPUT: &str = "/api/v1/runs/{id}/outputs/{*name}";
pub const RUN_FILE: &str = "/api/v1/runs/{id}/files/{input}";
pub const UPLOADS: &str = "/api/v1/uploads";
pub const UPLOAD: &str = "/api/v1/uploads/{upload}/{name}";
pub const RUN_CANCEL: &str = "/api/v1/runs/{id}/cancel";
pub const RUN_RERUN: &str = "/api/v1/runs/{id}/rerun";
pub const RUN_LOG: &str = "/api/v1/runs/{id}/log";
pub const RUN_BUNDLE: &str = "/api/v1/runs/{id}/bundle";
pub const RUN_OUTPUTS_ZIP: &str = "/api/v1/runs/{id}/outputs.zip";
pub const JOB_INPUTS: &str = "/api/v1/jobs/{id}/inputs";
pub const JOB_OUTPUTS: &str = "/api/v1/jobs/{id}/outputs";
pub const JOB_PROGRESS: &str = "/api/v1/jobs/{id}/progress";
pub const MODEL_ESTIMATE: &str = "/api/v1/models/{model}/estimate";
pub const BUDGETS: &str = "/api/v1/budgets";
pub const VERSION_PROMOTE: &str = "/api/v1/models/{model}/versions/{label}/promote";
pub const SCHEDULES: &str = "/api/v1/schedules";
pub const SCHEDULE: &str = "/api/v1/schedules/{id}";
pub const SCHEDULE_PAUSE: &str = "/api/v1/schedules/{id}/pause";
pub const SCHEDULE_RESUME: &str = "/api/v1/schedules/{id}/resume";
pub const MODEL_SWEEPS: &str = "/api/v1/models/{model}/sweeps";
pub const SWEEPS: &str = "/api/v1/sweeps";
pub const SWEEP: &str = "/api/v1/sweeps/{id}";
pub const SWEEP_CANCEL: &str = "/api/v1/sweeps/{id}/cancel";
pub const SWEEP_ARCHIVE: &str = "/api/v1/sweeps/{id}/archive";
pub const OPENAPI: &str = "/api/v1/openapi.json";

/// Every operation: method, route (as the router has it), operation id.
pub const OPERATIONS: [(&str, &str, &str); 37] = [
    ("get", MODELS, "listModels"),
    ("post", MODEL_RUNS, "submitRun"),
    ("get", MODEL_SECRETS, "listSecrets"),
    ("put", MODEL_SECRET, "setSecret"),
    ("delete", MODEL_SECRET, "deleteSecret"),
    ("post", IMAGES_SYNC, "syncImages"),
    ("get", RUNS, "listRuns"),
    ("get", RUN, "getRun"),
    ("get", RUN_OUTPUT, "getOutput"),
    ("get", RUN_FILE, "getInputFile"),
    ("post", UPLOADS, "announceUpload"),
    ("put", UPLOAD, "sendUpload"),
    ("post", RUN_CANCEL, "cancelRun"),
    ("post", RUN_RERUN, "rerunRun"),
    ("get", RUN_LOG, "getLog"),
    ("get", RUN_BUNDLE, "getBundle"),
    ("get", RUN_OUTPUTS_ZIP, "getOutputsZip"),
    ("get", JOB_INPUTS, "getJobInputs"),
    (
        "get",
        modelrun_core::job_access::JOB_FILE_ROUTE,
        "getJobFile",
    ),
    ("post", JOB_OUTPUTS, "storeJobOutput"),
    ("post", JOB_PROGRESS, "reportJobProgress"),
    ("get", MODEL_ESTIMATE, "estimateRuns"),
    ("get", BUDGETS, "listBudgets"),
    ("put", BUDGETS, "setBudget"),
    ("post", VERSION_PROMOTE, "promoteVersion"),
    ("get", SCHEDULES, "listSchedules"),
    ("post", SCHEDULES, "createSchedule"),
    ("get", SCHEDULE, "getSchedule"),
    ("delete", SCHEDULE, "deleteSchedule"),
    ("post", SCHEDULE_PAUSE, "pauseSchedule"),
    ("post", SCHEDULE_RESUME, "resumeSchedule"),
    ("post", MODEL_SWEEPS, "submitSweep"),
    ("get", SWEEPS, "listSweeps"),
    ("get", SWEEP, "getSweep"),
    ("post", SWEEP_CANCEL, "cancelSweep"),
    ("get", SWEEP_ARCHIVE, "getSweepArchive"),
    ("get", OPENAPI, "getOpenApi"),
];

pub fn router() -> Router<AppState> {
    Router::new().route(OPENAPI, get(serve))
}

async fn serve(State(state): State<AppState>) -> Json<Value> {
    Json(document(&state.config))
}

/// `{*name}` in a route is `{name}` in OpenAPI.
fn openapi_path(route: &str) -> String {
    route.replace("{*", "{")
}

/// Operation `id`, with the answers any route of the API may give: 503
/// when the store is busy or unreachable, and 400 for a path parameter
/// that is not UTF-8.
fn operation(id: &str, route: &str) -> Value {
    let mut op = model_operation(id)
        .or_else(|| run_operation(id))
        .or_else(|| other_operation(id))
        .or_else(|| costs::operation(id))
        .or_else(|| lifecycle::operation(id))
        .or_else(|| schedules::operation(id))
        .or_else(|| sweeps::operation(id))
        .unwrap_or_else(|| json!({ "summary": id, "responses": {} }));
    if id != "getOpenApi" {
        op["responses"]["503"] =
            error("The database is busy or unreachable; try again in a moment");
    }
    if route.contains('{') && op["responses"].get("400").is_none() {
        op["responses"]["400"] = error("A path parameter that is not UTF-8 once percent-decoded");
    }
    op["operationId"] = json!(id);
    op
}

/// The whole document, with this server's address and limits.
pub fn document(config: &modelrun_core::config::WebConfig) -> Value {
    let public_url = &config.public_url;
    let mut paths = serde_json::Map::new();
    for (method, route, id) in OPERATIONS {
        let op = operation(id, route);
        let entry = paths
            .entry(openapi_path(route))
            .or_insert_with(|| json!({}));
        entry[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "modelrun API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Models, runs and their outputs. Send `Authorization: Bearer <token>`; create a token on your Account page."
        },
        "servers": [{ "url": public_url.trim_end_matches('/') }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "jobToken": { "type": "http", "scheme": "bearer", "description": "A run's job token (`mrj_…`), given to its job on AWS Batch" }
            },
            "schemas": schemas(config)
        }
    })
}
