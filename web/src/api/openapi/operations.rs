//! Each operation of the API as OpenAPI: its parameters, body and every
//! answer it gives, with the same bounds as the handlers check, so that a
//! request the document allows is never refused for its form, and one it
//! forbids is refused.

use serde_json::{Value, json};

pub(super) fn error(description: &str) -> Value {
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

/// A secret's name as `check_secret_name` takes it: an environment
/// variable's name that is none of modelrun's own, the loader's or the
/// run environment's.
fn secret_param() -> Value {
    json!({
        "name": "name", "in": "path", "required": true,
        "description": "The secret's name, such as WAREHOUSE_URL: 1–128 capital letters, digits and _, not starting with a digit; not MODELRUN_… or LD_…, nor a variable the run's environment sets",
        "schema": {
            "type": "string",
            "pattern": "^(?!MODELRUN_|LD_)(?!(PATH|HOME|TMPDIR|LANG|PYTHONUNBUFFERED|VIRTUAL_ENV|AWS_BATCH_JOB_ID|AWS_BATCH_JOB_ARRAY_INDEX)$)[A-Z_][A-Z0-9_]{0,127}$"
        }
    })
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// A filter of the runs list: empty means not given, as a form sends it.
fn filter(name: &str, description: &str, schema: Value) -> Value {
    query(
        name,
        description,
        json!({ "anyOf": [schema, { "type": "string", "maxLength": 0 }] }),
    )
}

fn idempotency() -> Value {
    json!({
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": "A repeat of the same request with the same key answers 200 with the run the first request made, even past the submit rate (a repeat is not counted); the key with another request (version, inputs, resources, origin) is a 422",
        "schema": { "type": "string", "pattern": "^[!-~]([ -~]{0,126}[!-~])?$" }
    })
}

/// `Range`: part of a file, to resume a download (RFC 9110, section 14).
pub(super) fn range_param() -> Value {
    json!({
        "name": "Range", "in": "header", "required": false,
        "description": "Bytes of the file, such as `bytes=1048576-`, to resume a download",
        "schema": { "type": "string", "pattern": "^bytes=[0-9]*-[0-9]*$" }
    })
}

/// The media types of an output: its own, guessed from its name.
fn output_content() -> Value {
    let file = json!({ "schema": { "type": "string", "format": "binary" } });
    json!({
        "text/csv": file, "application/json": file, "text/plain": file,
        "image/png": file, "application/octet-stream": file, "*/*": file
    })
}

/// The operations on models, their secrets and images.
pub(super) fn model_operation(id: &str) -> Option<Value> {
    let unauthorized = error("No token, or a wrong, revoked or expired one");
    let not_found = error("No such thing, or one you may not see");
    Some(match id {
        "listModels" => json!({
            "summary": "Models with their versions and input schemas",
            "responses": { "200": ok("The models", "ModelList"), "401": unauthorized }
        }),
        "submitRun" => json!({
            "summary": "Submit a run (runner role)",
            "description": "`version` is a label, `production` or `latest` (the newest active version); without one the run is of the model's production version. A candidate version (not production) needs the scientist or admin role. The run records its `alias`.",
            "parameters": [model_param(), idempotency()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SubmitRequest" } } } },
            "responses": {
                "201": ok("The new run", "Run"), "200": ok("The run this Idempotency-Key made", "Run"),
                "400": error("A version the model does not have, a bad key, or a body that is not JSON"), "401": unauthorized,
                "403": error("The token's role may not submit, or may not run a candidate version"), "404": not_found,
                "409": error("The model has no production version, the version is retired, a promotion made it a candidate while a submit of production or a runner's was written (nothing was run), a secret it reads is not set, or its environment failed to build"),
                "413": error("The body or the inputs are too large"),
                "415": error("Not JSON"), "422": error("Invalid inputs, a field of the body that is not one, or an Idempotency-Key used for another request; `fields` or the message names each"),
                "429": error("Over a rate limit; `Retry-After` says when to try again")
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
                "400": error("A secret name that cannot be one, or a body that is not JSON"), "401": unauthorized,
                "403": error("Admins only"), "404": not_found,
                "409": error("No version of the model reads a secret of this name"),
                "413": error("The body is too large"), "415": error("Not JSON"),
                "422": error("No value, or a value that is empty, only white space, over 32 KiB or with a NUL character; `fields` names it")
            }
        }),
        "deleteSecret" => json!({
            "summary": "Delete a model secret's value (admin role)",
            "parameters": [model_param(), secret_param()],
            "responses": {
                "204": { "description": "Deleted" }, "400": error("A secret name that cannot be one"), "401": unauthorized,
                "403": error("Admins only"), "404": error("No such model, or the secret is not set")
            }
        }),
        "syncImages" => json!({
            "summary": "Register versions from new images in ECR now (admin role)",
            "responses": {
                "202": ok("Queued", "Queued"), "401": unauthorized, "403": error("Admins only"),
                "409": error("No image registry is configured")
            }
        }),
        _ => return None,
    })
}

/// The operations on runs.
pub(super) fn run_operation(id: &str) -> Option<Value> {
    let unauthorized = error("No token, or a wrong, revoked or expired one");
    let not_found = error("No such thing, or one you may not see");
    Some(match id {
        "listRuns" => json!({
            "summary": "Runs, newest first unless `sort=oldest`, one page",
            "description": "Each parameter at most once. `from` after `to` is refused (400).",
            "parameters": [
                filter("model", "Runs of this model", json!({ "type": "string" })),
                filter("version", "Runs of this version label", json!({ "type": "string" })),
                filter("status", "Runs in this status", json!({ "$ref": "#/components/schemas/Status" })),
                filter("submitter", "Runs submitted by this email", json!({ "type": "string" })),
                filter("from", "Created on or after this day, a day in UTC", json!({ "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })),
                filter("to", "Created on or before this day, a day in UTC", json!({ "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })),
                filter("sort", "Order", json!({ "type": "string", "enum": ["newest", "oldest"] })),
                filter("limit", "Page size (default 50)", json!({ "type": "integer", "minimum": 1, "maximum": 200 })),
                filter("cursor", "`next_cursor` of the previous page", json!({ "type": "string", "pattern": "^[+-]?[0-9]{1,18}$" })),
                filter("fields", "The properties of each row, separated by commas (`id,model,status,created_at`); every one by default. A table asks for its columns, not every run's inputs", json!({ "type": "string", "pattern": crate::api::run_fields::pattern() }))
            ],
            "responses": { "200": ok("One page", "RunList"), "400": error("A bad filter, or a parameter given twice; the message names it"), "401": unauthorized }
        }),
        "getRun" => json!({
            "summary": "A run with its events and outputs",
            "parameters": [id_param()],
            "responses": { "200": ok("The run", "Run"), "401": unauthorized, "404": not_found }
        }),
        "getOutput" => json!({
            "summary": "Download an output (or a redirect to a short-lived URL)",
            "parameters": [id_param(), { "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }, range_param()],
            "responses": {
                "200": { "description": "The file, with its own media type (guessed from its name)", "content": output_content() },
                "206": { "description": "The range asked for (from a local directory; S3 answers ranges of its presigned URL itself)", "content": output_content() },
                "416": { "description": "A range outside the file" },
                "303": { "description": "A presigned download URL, for 10 minutes", "headers": { "Location": { "required": true, "schema": { "type": "string" } } } },
                "401": unauthorized, "404": not_found
            }
        }),
        "getInputFile" => json!({
            "summary": "Download the file a file input of the run was given (or a redirect to a short-lived URL)",
            "parameters": [id_param(), { "name": "input", "in": "path", "required": true, "schema": { "type": "string" } }, range_param()],
            "responses": {
                "200": { "description": "The file, with the media type it was uploaded with", "content": output_content() },
                "206": { "description": "The range asked for", "content": output_content() },
                "416": { "description": "A range outside the file" },
                "303": { "description": "A presigned download URL, for 10 minutes", "headers": { "Location": { "required": true, "schema": { "type": "string" } } } },
                "401": unauthorized, "404": not_found
            }
        }),
        "announceUpload" => json!({
            "summary": "Announce a file for a file input; the answer says where to send it",
            "description": "Send the file's bytes as the body of the request in `send`, with its method and every header it lists: a presigned PUT straight to S3, or a PUT to this server on one machine. Then name the `upload` id as the value of the file input when submitting a run.",
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewUpload" } } } },
            "responses": {
                "201": ok("The upload's id and the request that sends the file", "Announced"),
                "400": error("A body that is not JSON"), "401": unauthorized, "403": error("Not a runner"),
                "413": error("Too large"), "415": error("Not JSON"),
                "422": error("A bad name or SHA-256, or a file over this server's limit; the message names the field")
            }
        }),
        "sendUpload" => json!({
            "summary": "Send an announced file to this server (one machine)",
            "description": "As `send` of the announcement says: the body is the file, with `Content-Length` and `x-modelrun-sha256`; nothing is stored unless both match.",
            "parameters": [
                { "name": "upload", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[0-9a-f]{32}$" } },
                { "name": "name", "in": "path", "required": true, "schema": { "type": "string", "pattern": modelrun_core::schema::file_name_pattern() } },
                { "name": "x-modelrun-sha256", "in": "header", "required": true, "schema": { "type": "string", "pattern": "^[0-9a-fA-F]{64}$" } }
            ],
            "requestBody": { "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } }, "*/*": { "schema": { "type": "string", "format": "binary" } } } },
            "responses": {
                "200": ok("The file, stored", "FileRef"),
                "400": error("A body whose size or SHA-256 is not what was announced, or no Content-Length"),
                "401": unauthorized, "403": error("Not a runner"), "404": error("A file name that cannot be stored"),
                "409": error("The upload already holds its file"), "413": error("Over this server's limit"),
                "422": error("Not an upload id")
            }
        }),
        "cancelRun" => json!({
            "summary": "Ask an active run to stop",
            "parameters": [id_param()],
            "responses": { "202": ok("The run, now cancelling (or cancelling or cancelled already: a repeated cancel changes nothing)", "Run"), "401": unauthorized, "403": error("Not yours, or not a runner"), "404": not_found, "409": error("The run already finished (succeeded or failed): nothing to cancel") }
        }),
        "rerunRun" => json!({
            "summary": "A new run from an earlier one: its inputs with changes",
            "parameters": [id_param(), idempotency()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RerunRequest" } } } },
            "responses": {
                "201": ok("The new run", "Run"), "200": ok("The run this Idempotency-Key made", "Run"),
                "400": error("A version the model does not have, a bad key, or a body that is not JSON"), "401": unauthorized, "403": error("Not a runner"),
                "404": not_found, "409": error("The version is retired, a promotion made it a candidate while a submit of production or a runner's was written (nothing was run), a secret it reads is not set, or its environment failed to build"),
                "413": error("Too large"), "415": error("Not JSON"), "422": error("Invalid inputs, a field of the body that is not one, or an Idempotency-Key used for another request"),
                "429": error("Over a rate limit; `Retry-After` says when to try again")
            }
        }),
        "getLog" => json!({
            "summary": "The run's log, as text",
            "parameters": [id_param()],
            "responses": { "200": { "description": "The log", "content": { "text/plain": { "schema": { "type": "string" } } } }, "401": unauthorized, "404": not_found }
        }),
        "getBundle" => json!({
            "summary": "The run's reproducibility bundle: a zip (or a redirect to a short-lived URL)",
            "description": "Offered once the run has ended (succeeded, failed or cancelled). The zip holds `bundle.json` (run id, model, version label and digest, image and image digest, source commit or \"not recorded\", inputs, input files and outputs with size and SHA-256, the server's URL), `README.md` (the commands to run it again), `inputs.json`, `inputs/<input>/<file>`, `outputs/<name>` and `log.txt`. The worker builds it on the first request; until it is stored the answer is 202 with `Retry-After`.",
            "parameters": [id_param(), range_param()],
            "responses": {
                "200": { "description": "The zip, as an attachment named `modelrun-run-<id>.zip`", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
                "206": { "description": "The range asked for (from a local directory)", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
                "202": { "description": "Being built: ask again after `Retry-After` seconds", "headers": { "Retry-After": { "required": true, "schema": { "type": "integer" } } }, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/BundlePreparing" } } } },
                "303": { "description": "A presigned download URL, for 10 minutes", "headers": { "Location": { "required": true, "schema": { "type": "string" } } } },
                "401": unauthorized, "404": not_found,
                "409": error("The run has not ended, or its bundle could not be made (the message says why)")
            }
        }),
        "getOutputsZip" => json!({
            "summary": "Every output of the run in one zip (or a redirect to a short-lived URL)",
            "description": "Offered once the run has ended (succeeded, failed or cancelled), to whoever may download its outputs one by one. Each output is in the zip at its name, with the bytes recorded when the run ended: an output missing from storage, or whose bytes no longer match its recorded SHA-256, makes no zip (409 naming it). The worker builds it on the first request; until it is stored the answer is 202 with `Retry-After`.",
            "parameters": [id_param(), range_param()],
            "responses": {
                "200": { "description": "The zip, as an attachment named `modelrun-run-<id>-outputs.zip`", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
                "206": { "description": "The range asked for (from a local directory)", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
                "202": { "description": "Being built: ask again after `Retry-After` seconds", "headers": { "Retry-After": { "required": true, "schema": { "type": "integer" } } }, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/BundlePreparing" } } } },
                "303": { "description": "A presigned download URL, for 10 minutes", "headers": { "Location": { "required": true, "schema": { "type": "string" } } } },
                "401": unauthorized, "404": not_found,
                "409": error("The run has not ended, or the zip could not be made (the message says why)")
            }
        }),
        _ => return None,
    })
}

/// The job API, and the document itself.
pub(super) fn other_operation(id: &str) -> Option<Value> {
    let not_found = error("No such thing, or one you may not see");
    Some(match id {
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
        "getJobFile" => json!({
            "summary": "For a run's job on AWS Batch: a presigned request that reads the file of one file input",
            "description": "Only with the run's job token, and only while the run has not ended. The URL lives 15 minutes.",
            "security": [{ "jobToken": [] }],
            "parameters": [id_param(), { "name": "input", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": {
                "200": ok("The request to make", "Presigned"), "401": error("No job token, or a wrong one"),
                "403": error("The token is for another run"), "404": error("No such run, or no file input of that name"),
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
                "413": error("Too large"), "415": error("Not JSON"), "422": error("Not an upload")
            }
        }),
        "reportJobProgress" => json!({
            "summary": "For a run's job on AWS Batch: the model's latest progress",
            "description": "Only with the run's job token, and only while the run has not ended. `modelrun exec` sends the model's `::progress` lines here, at most once a second; each report replaces the last. The fraction is from 0 to 1 (within 0.001 of it is clamped); the message is cut at 200 characters.",
            "security": [{ "jobToken": [] }],
            "parameters": [id_param()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ProgressReport" } } } },
            "responses": {
                "204": { "description": "Recorded" },
                "401": error("No job token, or a wrong one"), "403": error("The token is for another run"), "404": not_found,
                "409": error("The run has ended"),
                "413": error("Too large"), "415": error("Not JSON"), "422": error("Not a progress report, or a fraction outside 0–1; the message names the field")
            }
        }),
        "getOpenApi" => json!({
            "summary": "This document",
            "security": [],
            "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": { "schema": { "type": "object" } } } } }
        }),
        _ => return None,
    })
}
