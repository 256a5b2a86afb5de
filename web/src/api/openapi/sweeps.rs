//! The sweep operations as OpenAPI, with their schemas.

use serde_json::{Value, json};

use super::operations::{error, range_param};

fn ok(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } })
}

const NOT_FOUND: &str = "No such sweep, or (run visibility `own`) another person's";

/// The sweep operations.
pub(super) fn operation(id: &str) -> Option<Value> {
    let unauthorized = error("No token, or a wrong, revoked or expired one");
    Some(match id {
        "submitSweep" => json!({
            "summary": "Submit a sweep: one run per combination of the varied inputs (runner role)",
            "description": "Each input in `vary` takes a range of numbers (`{\"from\": 0.02, \"to\": 0.06, \"step\": 0.01}`, both ends included, rounded to the places of `from` and `step`) or a list of values (`[\"retail\", \"b2b\"]`); `inputs` holds what every run shares. The grid is every combination, the first varied input changing slowest, and holds from 2 runs to the server's maximum (`--max-sweep-runs`). Every run's inputs are checked before anything is made; then the sweep and its runs are created together. On AWS Batch the runs are one array job. An `Idempotency-Key` makes a retry answer 200 with the sweep it made, even past the submit rate (a repeat is not counted).",
            "parameters": [
                { "name": "model", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "minLength": 1, "maxLength": 128 } }
            ],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewSweep" } } } },
            "responses": {
                "201": ok("The sweep, with its runs", "Sweep"),
                "200": ok("The sweep this Idempotency-Key made before", "Sweep"),
                "400": error("A body that is not JSON, or resources or an Idempotency-Key that do not parse"),
                "401": unauthorized,
                "403": error("Viewers cannot submit runs; planners cannot run a candidate version"),
                "404": error("No such model"),
                "409": error("The version is retired, a promotion made it a candidate while a sweep of production or a runner's was written (nothing was run), the model has no version to run, or the version cannot run now (a secret is missing, its environment failed)"),
                "413": error("Too large"), "415": error("Not JSON"),
                "422": error("A variation or input the version refuses, a grid of one run or more than the maximum, or an Idempotency-Key used for another request; `fields` names each"),
                "429": error("Too many submissions; see Retry-After")
            }
        }),
        "listSweeps" => json!({
            "summary": "Sweeps, newest first, each with how many of its runs are where",
            "parameters": [{ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } }],
            "responses": { "200": ok("The sweeps", "SweepList"), "400": error("A limit out of range"), "401": unauthorized }
        }),
        "getSweep" => json!({
            "summary": "A sweep with its runs in grid order",
            "parameters": [id_param()],
            "responses": { "200": ok("The sweep", "Sweep"), "401": unauthorized, "404": error(NOT_FOUND) }
        }),
        "cancelSweep" => json!({
            "summary": "Cancel every run of the sweep that has not ended (its submitter or an administrator)",
            "parameters": [id_param()],
            "responses": {
                "200": ok("The sweep, its runs cancelling (a sweep cancelled already: unchanged)", "Sweep"), "401": unauthorized,
                "403": error("Only the person who submitted a sweep, or an administrator, may cancel it"),
                "404": error(NOT_FOUND),
                "409": error("Every run of the sweep has ended and none was cancelled: nothing to cancel")
            }
        }),
        "getSweepArchive" => json!({
            "summary": "Every output of every run of the sweep in one zip, with index.csv (or a redirect to a short-lived URL)",
            "description": "Offered once every run of the sweep has ended (succeeded, failed or cancelled). The zip holds `index.csv`, with a header row and one row per run and output: `run_id`, `position`, one column per varied input named by the input, `status`, `output`, `path` (in the zip), `size_bytes` and `sha256`; a run without outputs has one row with those four empty. Each output is at `runs/<run id>/<output name>`. The worker builds it on the first request; until it is stored the answer is 202 with `Retry-After`.",
            "parameters": [id_param(), range_param()],
            "responses": {
                "200": { "description": "The zip, as an attachment named `modelrun-sweep-<id>.zip`", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
                "206": { "description": "The range asked for (from a local directory)", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
                "202": { "description": "Being built: ask again after `Retry-After` seconds", "headers": { "Retry-After": { "required": true, "schema": { "type": "integer" } } }, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/BundlePreparing" } } } },
                "303": { "description": "A presigned download URL, for 10 minutes", "headers": { "Location": { "required": true, "schema": { "type": "string" } } } },
                "401": unauthorized, "404": error(NOT_FOUND),
                "409": error("A run of the sweep has not ended, or its archive could not be made (the message says why)")
            }
        }),
        _ => return None,
    })
}

/// The schemas of sweeps.
pub(super) fn schemas(config: &modelrun_core::config::WebConfig) -> Value {
    let time = json!({ "type": "string", "format": "date-time" });
    let tally = json!({
        "type": "object", "required": ["waiting", "running", "succeeded", "failed", "cancelled"],
        "properties": {
            "waiting": { "type": "integer" }, "running": { "type": "integer" },
            "succeeded": { "type": "integer" }, "failed": { "type": "integer" }, "cancelled": { "type": "integer" }
        }
    });
    json!({
        "NewSweep": {
            "type": "object", "required": ["vary"], "additionalProperties": false,
            "properties": {
                "version": { "type": ["string", "null"], "description": "A version label, `production` (the default) or `latest`" },
                "inputs": { "type": "object", "description": "The inputs every run shares, as for one run" },
                "vary": {
                    "type": "object", "minProperties": 1,
                    "description": format!("Each varied input: a range of numbers or a list of values. The grid holds at most {} runs.", config.max_sweep_runs),
                    "additionalProperties": { "oneOf": [
                        { "type": "object", "required": ["from", "to", "step"], "additionalProperties": false,
                          "properties": { "from": { "type": "number" }, "to": { "type": "number" }, "step": { "type": "number", "exclusiveMinimum": 0 } } },
                        { "type": "array", "minItems": 1 }
                    ] }
                },
                "resources": { "$ref": "#/components/schemas/Resources" }
            }
        },
        "SweepRun": {
            "type": "object", "required": ["id", "position", "status", "values", "url"],
            "properties": {
                "id": { "type": "integer" },
                "position": { "type": "integer", "minimum": 0, "description": "Its place in the grid (its AWS Batch array index)" },
                "status": { "type": "string" },
                "values": { "type": "object", "description": "The varied inputs' values" },
                "url": { "type": "string" }
            }
        },
        "SweepAxis": {
            "type": "object", "required": ["field", "values"],
            "properties": { "field": { "type": "string" }, "values": { "type": "array" } }
        },
        "Sweep": {
            "type": "object",
            "required": ["id", "model", "version", "submitted_by", "status", "inputs", "axes", "run_count", "tally", "created_at", "cancelled_at", "url"],
            "properties": {
                "id": { "type": "integer" }, "model": { "type": "string" }, "version": { "type": "string" },
                "submitted_by": { "type": "string" },
                "status": { "type": "string", "enum": ["waiting", "running", "succeeded", "failed", "cancelled"] },
                "inputs": { "type": "object" },
                "axes": { "type": "array", "items": { "$ref": "#/components/schemas/SweepAxis" } },
                "run_count": { "type": "integer" },
                "tally": tally,
                "created_at": time,
                "cancelled_at": { "type": ["string", "null"], "format": "date-time" },
                "url": { "type": "string" },
                "runs": { "type": "array", "items": { "$ref": "#/components/schemas/SweepRun" } }
            }
        },
        "SweepList": {
            "type": "object", "required": ["sweeps"],
            "properties": { "sweeps": { "type": "array", "items": { "$ref": "#/components/schemas/Sweep" } } }
        }
    })
}
