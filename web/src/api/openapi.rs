//! The API described as OpenAPI 3.1, served at `/api/v1/openapi.json`.
//! [`OPERATIONS`] lists every route of the API; the routers build their
//! routes from the same paths, and `tests/e2e/openapi.rs` calls every
//! operation the document lists and checks the answer against it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::AppState;

pub const MODELS: &str = "/api/v1/models";
pub const MODEL_RUNS: &str = "/api/v1/models/{model}/runs";
pub const MODEL_SECRETS: &str = "/api/v1/models/{model}/secrets";
pub const MODEL_SECRET: &str = "/api/v1/models/{model}/secrets/{name}";
pub const IMAGES_SYNC: &str = "/api/v1/images/sync";
pub const RUNS: &str = "/api/v1/runs";
pub const RUN: &str = "/api/v1/runs/{id}";
pub const RUN_OUTPUT: &str = "/api/v1/runs/{id}/outputs/{*name}";
pub const RUN_CANCEL: &str = "/api/v1/runs/{id}/cancel";
pub const RUN_RERUN: &str = "/api/v1/runs/{id}/rerun";
pub const RUN_LOG: &str = "/api/v1/runs/{id}/log";
pub const JOB_INPUTS: &str = "/api/v1/jobs/{id}/inputs";
pub const JOB_OUTPUTS: &str = "/api/v1/jobs/{id}/outputs";
pub const OPENAPI: &str = "/api/v1/openapi.json";

/// Every operation: method, route (as the router has it), operation id.
pub const OPERATIONS: [(&str, &str, &str); 15] = [
    ("get", MODELS, "listModels"),
    ("post", MODEL_RUNS, "submitRun"),
    ("get", MODEL_SECRETS, "listSecrets"),
    ("put", MODEL_SECRET, "setSecret"),
    ("delete", MODEL_SECRET, "deleteSecret"),
    ("post", IMAGES_SYNC, "syncImages"),
    ("get", RUNS, "listRuns"),
    ("get", RUN, "getRun"),
    ("get", RUN_OUTPUT, "getOutput"),
    ("post", RUN_CANCEL, "cancelRun"),
    ("post", RUN_RERUN, "rerunRun"),
    ("get", RUN_LOG, "getLog"),
    ("get", JOB_INPUTS, "getJobInputs"),
    ("post", JOB_OUTPUTS, "storeJobOutput"),
    ("get", OPENAPI, "getOpenApi"),
];

pub fn router() -> Router<AppState> {
    Router::new().route(OPENAPI, get(serve))
}

async fn serve(State(state): State<AppState>) -> Json<Value> {
    Json(document(&state.config.public_url))
}

/// `{*name}` in a route is `{name}` in OpenAPI.
fn openapi_path(route: &str) -> String {
    route.replace("{*", "{")
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn ok(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } })
}

fn model_param() -> Value {
    json!({ "name": "model", "in": "path", "required": true, "schema": { "type": "string" } })
}

fn secret_param() -> Value {
    json!({ "name": "name", "in": "path", "required": true, "description": "The secret's name, such as WAREHOUSE_URL", "schema": { "type": "string" } })
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn operation(id: &str) -> Value {
    let unauthorized = error("No token, or a wrong, revoked or expired one");
    let not_found = error("No such thing, or one you may not see");
    let too_many = error("Over a rate limit; `Retry-After` says when to try again");
    let idempotency = json!({
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": "A repeat with the same key answers 200 with the run the first request made",
        "schema": { "type": "string", "minLength": 1, "maxLength": 128 }
    });
    match id {
        "listModels" => json!({
            "summary": "Models with their versions and input schemas",
            "responses": { "200": ok("The models", "ModelList"), "401": unauthorized }
        }),
        "submitRun" => json!({
            "summary": "Submit a run (runner role)",
            "parameters": [model_param(), idempotency],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SubmitRequest" } } } },
            "responses": {
                "201": ok("The new run", "Run"), "200": ok("The run this Idempotency-Key made", "Run"),
                "400": error("A bad version or key"), "401": unauthorized,
                "403": error("The token's role may not submit"), "404": not_found,
                "409": error("The version is retired, a secret it reads is not set, or its environment failed to build"),
                "413": error("The inputs are too large"),
                "415": error("Not JSON"), "422": error("Invalid inputs; `fields` names each"),
                "429": too_many
            }
        }),
        "listSecrets" => json!({
            "summary": "The secrets a model reads and whether each is set; never a value",
            "parameters": [model_param()],
            "responses": { "200": ok("The secrets", "SecretList"), "401": unauthorized, "404": not_found }
        }),
        "setSecret" => json!({
            "summary": "Set a model secret's value (admin role); it is never shown again",
            "parameters": [model_param(), secret_param()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SecretValue" } } } },
            "responses": {
                "204": { "description": "Set" },
                "400": error("A bad secret name, or one that no version of the model reads"), "401": unauthorized,
                "403": error("Admins only"), "404": not_found, "415": error("Not JSON"),
                "422": error("No value, or a value that is empty, only white space, over 32 KiB or with a NUL character; `fields` names it"),
                "503": error("The secret store is unavailable")
            }
        }),
        "deleteSecret" => json!({
            "summary": "Delete a model secret's value (admin role)",
            "parameters": [model_param(), secret_param()],
            "responses": {
                "204": { "description": "Deleted" }, "400": error("A bad name"), "401": unauthorized,
                "403": error("Admins only"), "404": error("No such model, or the secret is not set"),
                "503": error("The secret store is unavailable")
            }
        }),
        "syncImages" => json!({
            "summary": "Register versions from new images in ECR now (admin role)",
            "responses": { "202": { "description": "Queued" }, "401": unauthorized, "403": error("Admins only"), "409": error("No image registry is configured") }
        }),
        "listRuns" => json!({
            "summary": "Runs, newest first unless `sort=oldest`, one page",
            "parameters": [
                query("model", "Runs of this model", json!({ "type": "string" })),
                query("version", "Runs of this version label", json!({ "type": "string" })),
                query("status", "Runs in this status", json!({ "$ref": "#/components/schemas/Status" })),
                query("submitter", "Runs submitted by this email", json!({ "type": "string" })),
                query("from", "Created on or after this day", json!({ "type": "string", "format": "date" })),
                query("to", "Created on or before this day", json!({ "type": "string", "format": "date" })),
                query("sort", "Order", json!({ "type": "string", "enum": ["newest", "oldest"] })),
                query("limit", "Page size", json!({ "type": "integer", "minimum": 1, "maximum": 200 })),
                query("cursor", "`next_cursor` of the previous page", json!({ "type": "string" }))
            ],
            "responses": { "200": ok("One page", "RunList"), "400": error("A bad filter"), "401": unauthorized }
        }),
        "getRun" => json!({
            "summary": "A run with its events and outputs",
            "parameters": [id_param()],
            "responses": { "200": ok("The run", "Run"), "401": unauthorized, "404": not_found }
        }),
        "getOutput" => json!({
            "summary": "Download an output (or a redirect to a short-lived URL)",
            "parameters": [id_param(), { "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": {
                "200": { "description": "The file", "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                "303": { "description": "A presigned download URL, for 10 minutes" },
                "401": unauthorized, "404": not_found
            }
        }),
        "cancelRun" => json!({
            "summary": "Ask an active run to stop",
            "parameters": [id_param()],
            "responses": { "202": ok("The run, now cancelling", "Run"), "401": unauthorized, "403": error("Not yours, or not a runner"), "404": not_found, "409": error("The run cannot be cancelled now") }
        }),
        "rerunRun" => json!({
            "summary": "A new run from an earlier one: its inputs with changes",
            "parameters": [id_param(), idempotency],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RerunRequest" } } } },
            "responses": {
                "201": ok("The new run", "Run"), "200": ok("The run this Idempotency-Key made", "Run"),
                "400": error("A bad version or key"), "401": unauthorized, "403": error("Not a runner"),
                "404": not_found, "409": error("The version is retired"), "413": error("Too large"),
                "415": error("Not JSON"), "422": error("Invalid inputs"), "429": too_many
            }
        }),
        "getLog" => json!({
            "summary": "The run's log, as text",
            "parameters": [id_param()],
            "responses": { "200": { "description": "The log", "content": { "text/plain": { "schema": { "type": "string" } } } }, "401": unauthorized, "404": not_found }
        }),
        "getJobInputs" => json!({
            "summary": "For a run's job on AWS Batch: a presigned request that reads the run's inputs",
            "description": "Only with the run's job token, which the job gets in `MODELRUN_JOB_TOKEN`, and only while the run has not ended. The URL lives 15 minutes.",
            "security": [{ "jobToken": [] }],
            "parameters": [id_param()],
            "responses": {
                "200": ok("The request to make", "Presigned"), "401": error("No job token, or a wrong one"),
                "403": error("The token is for another run"), "404": not_found,
                "409": error("The run has ended, or this server keeps files locally")
            }
        }),
        "storeJobOutput" => json!({
            "summary": "For a run's job on AWS Batch: a presigned request that stores one output file",
            "description": "Only with the run's job token, and only while the run has not ended. The request stores exactly the file described: S3 refuses another size or checksum. The URL lives 15 minutes; ask again for each file.",
            "security": [{ "jobToken": [] }],
            "parameters": [id_param()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/OutputUpload" } } } },
            "responses": {
                "200": ok("The request to make", "Presigned"), "400": error("A bad name, size, checksum or type; the message names the field"),
                "401": error("No job token, or a wrong one"), "403": error("The token is for another run"), "404": not_found,
                "409": error("The run has ended, or this server keeps files locally"),
                "415": error("Not JSON"), "422": error("Not an upload")
            }
        }),
        "getOpenApi" => json!({
            "summary": "This document",
            "security": [],
            "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": { "schema": { "type": "object" } } } } }
        }),
        other => json!({ "summary": other, "responses": {} }),
    }
}

fn schemas() -> Value {
    let mut schemas = run_schemas();
    if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), model_schemas()) {
        all.extend(more);
    }
    schemas
}

/// The schemas of models and their secrets.
fn model_schemas() -> Value {
    json!({
        "SecretValue": {
            "type": "object", "required": ["value"], "additionalProperties": false,
            "properties": { "value": {
                "type": "string", "minLength": 1, "maxLength": 32768, "pattern": "\\S",
                "description": "The value, exactly as the model will read it: at most 32,768 bytes (32 KiB) of UTF-8, so fewer characters when some take several bytes; not empty, not only white space, no NUL character"
            } }
        },
        "SecretList": {
            "type": "object", "required": ["secrets"],
            "properties": { "secrets": { "type": "array", "items": { "type": "object", "required": ["name", "declared", "set", "readable"], "properties": {
                "name": { "type": "string" }, "declared": { "type": "boolean" }, "set": { "type": "boolean" },
                "readable": { "type": "boolean", "description": "false when the value was sealed with another key and must be set again" },
                "updated_at": { "type": ["string", "null"], "format": "date-time" }, "updated_by": { "type": ["string", "null"] } } } } }
        },
        "Environment": {
            "type": "object", "required": ["digest", "status"],
            "properties": { "digest": { "type": "string" }, "status": { "type": "string", "enum": ["pending", "preparing", "ready", "failed"] } }
        },
        "Version": {
            "type": "object", "required": ["label", "active", "input_schema", "secrets"],
            "properties": {
                "label": { "type": "string" }, "active": { "type": "boolean" }, "registered_at": { "type": "string", "format": "date-time" },
                "input_schema": { "type": "object" },
                "environment": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Environment" }] },
                "secrets": { "type": "array", "items": { "type": "string" } }
            }
        },
        "Model": {
            "type": "object", "required": ["name", "title", "versions"],
            "properties": {
                "name": { "type": "string" }, "title": { "type": "string" }, "description": { "type": "string" }, "owner": { "type": "string" },
                "latest_version": { "type": ["string", "null"] },
                "versions": { "type": "array", "items": { "$ref": "#/components/schemas/Version" } }
            }
        },
        "ModelList": {
            "type": "object", "required": ["models"],
            "properties": { "models": { "type": "array", "items": { "$ref": "#/components/schemas/Model" } } }
        }
    })
}

/// The schemas of runs, errors and requests.
fn run_schemas() -> Value {
    json!({
        "Error": {
            "type": "object", "required": ["error"],
            "properties": { "error": { "type": "object", "required": ["status", "message"], "properties": {
                "status": { "type": "integer" }, "message": { "type": "string" },
                "fields": { "type": "array", "items": { "type": "object", "required": ["field", "message"], "properties": {
                    "field": { "type": "string" }, "message": { "type": "string" } } } }
            } } }
        },
        "Status": { "type": "string", "enum": modelrun_core::status::RunStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>() },
        "SubmitRequest": {
            "type": "object", "required": ["inputs"], "additionalProperties": false,
            "properties": { "inputs": { "type": "object" }, "version": { "type": "string" } }
        },
        "RerunRequest": {
            "type": "object", "additionalProperties": false,
            "properties": { "inputs": { "type": "object" }, "version": { "type": "string", "description": "same (default), latest, or a label" } }
        },
        "Output": {
            "type": "object", "required": ["name", "size", "content_type", "url"],
            "properties": { "name": { "type": "string" }, "size": { "type": "integer" }, "content_type": { "type": "string" },
                "sha256": { "type": ["string", "null"] }, "url": { "type": "string" } }
        },
        "Event": {
            "type": "object", "required": ["at", "kind", "message"],
            "properties": { "at": { "type": "string", "format": "date-time" }, "kind": { "type": "string", "enum": ["status", "fact"] },
                "status": { "oneOf": [{ "$ref": "#/components/schemas/Status" }, { "type": "null" }] }, "message": { "type": "string" }, "data": {} }
        },
        "Run": {
            "type": "object", "required": ["id", "model", "version", "status", "submitted_by", "inputs", "created_at", "url"],
            "properties": {
                "id": { "type": "integer" }, "model": { "type": "string" }, "version": { "type": "string" },
                "status": { "$ref": "#/components/schemas/Status" }, "status_reason": { "type": ["string", "null"] },
                "submitted_by": { "type": "string" }, "inputs": { "type": "object" }, "resources": { "type": "object" },
                "job_id": { "type": ["string", "null"] }, "created_at": { "type": "string", "format": "date-time" },
                "started_at": { "type": ["string", "null"], "format": "date-time" }, "finished_at": { "type": ["string", "null"], "format": "date-time" },
                "duration_seconds": { "type": ["number", "null"] }, "rerun_of": { "type": ["integer", "null"] }, "url": { "type": "string" },
                "events": { "type": "array", "items": { "$ref": "#/components/schemas/Event" } },
                "outputs": { "type": "array", "items": { "$ref": "#/components/schemas/Output" } }
            }
        },
        "OutputUpload": {
            "type": "object", "required": ["name", "size", "sha256", "content_type"],
            "properties": {
                "name": { "type": "string", "description": "The file's path below the outputs directory" },
                "size": { "type": "integer", "minimum": 0, "maximum": 5368709120_u64 },
                "sha256": { "type": "string", "pattern": "^[0-9a-fA-F]{64}$" },
                "content_type": { "type": "string", "minLength": 1, "maxLength": 255 }
            }
        },
        "Presigned": {
            "type": "object", "required": ["method", "url", "headers"],
            "properties": {
                "method": { "type": "string" }, "url": { "type": "string" },
                "headers": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Send these headers: they are signed" }
            }
        },
        "RunList": {
            "type": "object", "required": ["runs", "next_cursor"],
            "properties": { "runs": { "type": "array", "items": { "$ref": "#/components/schemas/Run" } }, "next_cursor": { "type": ["string", "null"] } }
        }
    })
}

/// The whole document.
pub fn document(public_url: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for (method, route, id) in OPERATIONS {
        let mut op = operation(id);
        op["operationId"] = json!(id);
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
            "schemas": schemas()
        }
    })
}
