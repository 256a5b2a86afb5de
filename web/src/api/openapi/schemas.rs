//! The schemas of the document's bodies: requests as the handlers take
//! them, answers as they write them.

use serde_json::{Value, json};

/// The properties of a run, as a run's own answer and a list's rows write them.
fn run_properties() -> Value {
    json!({
        "id": { "type": "integer" }, "model": { "type": "string" }, "version": { "type": "string" },
        "alias": { "type": ["string", "null"], "enum": ["production", "candidate", null], "description": "Whether its version was production or a candidate when it was submitted; null for runs from before versions had aliases" },
        "status": { "$ref": "#/components/schemas/Status" }, "status_reason": { "type": ["string", "null"] },
        "submitted_by": { "type": "string" }, "inputs": { "type": "object" }, "resources": { "type": "object" },
        "job_id": { "type": ["string", "null"] }, "created_at": { "type": "string", "format": "date-time" },
        "started_at": { "type": ["string", "null"], "format": "date-time" }, "finished_at": { "type": ["string", "null"], "format": "date-time" },
        "duration_seconds": { "type": ["number", "null"] }, "rerun_of": { "type": ["integer", "null"] },
        "attempt": { "type": "integer", "minimum": 1, "description": "Which attempt of its job the run is on: AWS Batch retries a job after an infrastructure fault." },
        "scheduled_by": { "$ref": "#/components/schemas/ScheduledBy", "description": "The schedule that made the run (one run's answer only)" },
        "sweep": { "type": "object", "required": ["id", "position", "url"], "description": "The sweep the run is part of (one run's answer only)", "properties": { "id": { "type": "integer" }, "position": { "type": "integer", "minimum": 0, "description": "Its place in the sweep's grid, from 0 (on AWS Batch its array index)" }, "url": { "type": "string" } } },
        "progress": { "oneOf": [{ "$ref": "#/components/schemas/RunProgress" }, { "type": "null" }], "description": "The latest progress the model reported (a `::progress` line of its output), as it reported it; null until it reports any" },
        "url": { "type": "string" },
        "cost": { "$ref": "#/components/schemas/RunCost" },
        "events": { "type": "array", "items": { "$ref": "#/components/schemas/Event" } },
        "outputs": { "type": "array", "items": { "$ref": "#/components/schemas/Output" } }
    })
}

/// Every schema, by name; `config` gives the server's limits.
pub(super) fn schemas(config: &modelrun_core::config::WebConfig) -> Value {
    let mut schemas = run_schemas(config);
    if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), model_schemas()) {
        all.extend(more);
    }
    if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), super::costs::schemas()) {
        all.extend(more);
    }
    if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), super::lifecycle::schemas())
    {
        all.extend(more);
    }
    if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), super::schedules::schemas())
    {
        all.extend(more);
    }
    if let (Some(all), Value::Object(more)) =
        (schemas.as_object_mut(), super::sweeps::schemas(config))
    {
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
                "type": "string", "minLength": 1, "maxLength": 32768, "pattern": "^[^\\u0000]*\\S[^\\u0000]*$",
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
        "Resources": {
            "type": "object", "required": ["vcpu", "memory_mib", "timeout_seconds"],
            "properties": { "vcpu": { "type": "number" }, "memory_mib": { "type": "integer" }, "timeout_seconds": { "type": "integer" } }
        },
        "Environment": {
            "type": "object", "required": ["digest", "status"],
            "properties": { "digest": { "type": "string" }, "status": { "type": "string", "enum": ["pending", "preparing", "ready", "failed"] } }
        },
        "Version": {
            "type": "object", "required": ["label", "active", "input_schema", "secrets"],
            "properties": {
                "label": { "type": "string" }, "active": { "type": "boolean" }, "registered_at": { "type": "string", "format": "date-time" },
                "digest": { "type": "string", "description": "What was registered: the digest of a local version's snapshot, or of an image version's image. A reproducibility bundle names it" },
                "alias": { "type": "string", "enum": ["production", "candidate"], "description": "`production`: the model's one version that planners run and a run without a version gets; `candidate`: any other, run by the scientist and admin roles until it is promoted. A retired version (`active` false) is never production and reads `candidate`, but takes no runs and cannot be promoted" },
                "input_schema": { "type": "object" },
                "resources": { "$ref": "#/components/schemas/Resources" },
                "max_resources": { "$ref": "#/components/schemas/Resources", "description": "The most one run may ask for" },
                "environment": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Environment" }] },
                "secrets": { "type": "array", "items": { "type": "string" } },
                "outputs": { "$ref": "#/components/schemas/Outputs" }
            }
        },
        "Outputs": {
            "type": "object", "required": ["charts", "metrics"],
            "description": "The charts and key figures the version's manifest declares (`[outputs]`, docs/models.md); both lists empty when it declares none",
            "properties": {
                "charts": { "type": "array", "maxItems": 8, "items": { "type": "object", "required": ["file", "x", "series"], "properties": {
                    "file": { "type": "string" }, "x": { "type": "string" },
                    "series": { "type": "array", "minItems": 1, "maxItems": 8, "items": { "type": "object", "required": ["file", "column", "dashed"], "properties": {
                        "file": { "type": "string" }, "column": { "type": "string" }, "label": { "type": ["string", "null"] }, "dashed": { "type": "boolean" } } } },
                    "band": { "oneOf": [{ "type": "null" }, { "type": "object", "required": ["file", "low", "high"], "properties": {
                        "file": { "type": "string" }, "low": { "type": "string" }, "high": { "type": "string" } } }] },
                    "title": { "type": ["string", "null"] }, "units": { "type": ["string", "null"] } } } },
                "metrics": { "type": "array", "maxItems": 50, "description": "In the order pages show them", "items": { "type": "object", "required": ["name", "format"], "properties": {
                    "name": { "type": "string", "description": "The key in metrics.json" }, "label": { "type": ["string", "null"] },
                    "format": { "type": "object", "required": ["kind"], "properties": {
                        "kind": { "type": "string", "enum": ["number", "percent", "currency", "integer", "decimals"] },
                        "places": { "type": "integer", "minimum": 0, "maximum": 10 }, "symbol": { "type": "string" } } } } } }
            }
        },
        "Model": {
            "type": "object", "required": ["name", "title", "versions"],
            "properties": {
                "name": { "type": "string" }, "title": { "type": "string" }, "description": { "type": "string" }, "owner": { "type": "string" },
                "latest_version": { "type": ["string", "null"], "description": "The newest active version, production or candidate" },
                "production_version": { "type": ["string", "null"], "description": "The version planners run; null when the model has none" },
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
fn run_schemas(config: &modelrun_core::config::WebConfig) -> Value {
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
            "type": "object", "additionalProperties": false,
            "properties": {
                "inputs": { "type": "object", "description": "The inputs, checked against the version's `input_schema` (422 names each field it refuses); none: its defaults" },
                "version": { "type": ["string", "null"], "description": "A version label, `production` or `latest` (the newest active version); absent, null or empty: the production version" },
                "resources": { "$ref": "#/components/schemas/ResourceRequest" }
            }
        },
        "ResourceRequest": {
            "type": ["object", "null"], "additionalProperties": false,
            "description": "Compute for this run. Each part left out or null is the version's value (a re-run: the earlier run's); each may be from the minimum here up to the version's `max_resources`, and on AWS Fargate the vCPU and memory must be a pair Fargate takes. 422 names each field it refuses (`resources.vcpu`) and the limit",
            "properties": {
                "vcpu": { "type": ["number", "null"], "minimum": modelrun_core::manifest::Resources::MIN_VCPU, "maximum": modelrun_core::manifest::Resources::MAX_VCPU },
                "memory_mib": { "type": ["integer", "null"], "minimum": modelrun_core::manifest::Resources::MIN_MEMORY_MIB, "maximum": modelrun_core::manifest::Resources::MAX_MEMORY_MIB },
                "timeout_seconds": { "type": ["integer", "null"], "minimum": modelrun_core::manifest::Resources::MIN_TIMEOUT_SECONDS, "maximum": modelrun_core::manifest::Resources::MAX_TIMEOUT_SECONDS }
            }
        },
        "RerunRequest": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "inputs": { "type": "object", "description": "Inputs to change; the others are the earlier run's" },
                "version": { "type": ["string", "null"], "description": "same (absent or null: the default), production, latest (the newest active version), or a label" },
                "resources": { "$ref": "#/components/schemas/ResourceRequest" }
            }
        },
        "Queued": {
            "type": "object", "required": ["queued", "task"],
            "properties": { "queued": { "type": "boolean" }, "task": { "type": "integer" } }
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
            "properties": run_properties()
        },
        "RunProgress": {
            "type": "object", "required": ["fraction", "message", "at"],
            "properties": {
                "fraction": { "type": "number", "minimum": 0, "maximum": 1, "description": "How far the model is: 0 nothing done, 1 all done" },
                "message": { "type": ["string", "null"], "maxLength": 200, "description": "What the model said it is doing" },
                "at": { "type": "string", "format": "date-time", "description": "When the model reported it" }
            }
        },
        "ProgressReport": {
            "type": "object", "required": ["fraction"], "additionalProperties": false,
            "properties": {
                "fraction": { "type": "number", "minimum": -0.001, "maximum": 1.001, "description": "From 0 to 1; within 0.001 of the range is clamped" },
                "message": { "type": ["string", "null"], "description": "Control characters become spaces; cut at 200 characters" }
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
        "NewUpload": {
            "type": "object", "required": ["name", "bytes", "sha256"], "additionalProperties": false,
            "properties": {
                "name": { "type": "string", "pattern": modelrun_core::schema::file_name_pattern(), "description": "The file's name: one path segment of 1–255 bytes of UTF-8 (the pattern counts characters), not . or .., without /, \\, control characters or characters that do not show (direction overrides, zero-width spaces), with at least one that shows" },
                "bytes": { "type": "integer", "minimum": 0, "maximum": config.max_upload_bytes, "description": "Its size: at most this server's limit (--max-upload-mib)" },
                "sha256": { "type": "string", "pattern": "^[0-9a-fA-F]{64}$" },
                "media_type": { "type": ["string", "null"], "description": "Such as text/csv; from the name's extension when left out" }
            }
        },
        "FileRef": {
            "type": "object", "required": ["upload", "name", "bytes", "media_type"],
            "description": "An uploaded file, as a run's inputs hold it; a submission may give it back (a re-run) or give only the upload id",
            "properties": {
                "upload": { "type": "string", "pattern": "^[0-9a-f]{32}$" }, "name": { "type": "string" },
                "bytes": { "type": "integer", "minimum": 0 }, "media_type": { "type": "string" }
            }
        },
        "Announced": {
            "type": "object", "required": ["upload", "name", "bytes", "media_type", "send"],
            "properties": {
                "upload": { "type": "string", "pattern": "^[0-9a-f]{32}$" }, "name": { "type": "string" },
                "bytes": { "type": "integer", "minimum": 0 }, "media_type": { "type": "string" },
                "send": { "$ref": "#/components/schemas/Presigned" }
            }
        },
        "BundlePreparing": {
            "type": "object", "required": ["status", "message", "retry_after_seconds"],
            "properties": {
                "status": { "type": "string", "enum": ["preparing"] }, "message": { "type": "string" },
                "retry_after_seconds": { "type": "integer", "minimum": 1 }
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
            "properties": { "runs": { "type": "array", "items": { "$ref": "#/components/schemas/RunRow" } }, "next_cursor": { "type": ["string", "null"] } }
        },
        "RunRow": {
            "type": "object",
            "description": "A run in a list: every property of a Run but those of one run's answer only (events, outputs, cost, scheduled_by, sweep: read them from `/api/v1/runs/{id}`), or those `fields` names",
            "properties": run_properties()
        }
    })
}
