//! The promotion of a version to production, as OpenAPI, with its schemas.

use serde_json::{Value, json};

use super::operations::error;

/// The lifecycle's operations.
pub(super) fn operation(id: &str) -> Option<Value> {
    Some(match id {
        "promoteVersion" => json!({
            "summary": "Make a version its model's production version (admin, or the model's owner with the scientist role)",
            "description": "The version planners run, and a run without a version gets. The version that was production becomes a candidate; rolling back is promoting an earlier version. Promoting the production version again changes nothing (`changed` is false). The note goes into the audit log.",
            "parameters": [
                { "name": "model", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "label", "in": "path", "required": true, "schema": { "type": "string" } }
            ],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PromoteRequest" } } } },
            "responses": {
                "200": { "description": "The promotion", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Promotion" } } } },
                "400": error("A body that is not JSON"),
                "401": error("No token, or a wrong, revoked or expired one"),
                "403": error("Neither an administrator nor the model's owner"),
                "404": error("No such model or version"),
                "409": error("The version is retired"),
                "413": error("Too large"), "415": error("Not JSON"),
                "422": error("No note, a note over 1,000 characters, or a field that is not one; `fields` names it")
            }
        }),
        _ => return None,
    })
}

/// The promotion's request and answer.
pub(super) fn schemas() -> Value {
    json!({
        "PromoteRequest": {
            "type": "object", "required": ["note"], "additionalProperties": false,
            "properties": { "note": { "type": "string", "minLength": 1, "maxLength": 1000, "description": "Why this version goes to production (not only white space); kept in the audit log" } }
        },
        "Promotion": {
            "type": "object", "required": ["model", "version", "alias", "previous", "changed"],
            "properties": {
                "model": { "type": "string" }, "version": { "type": "string" },
                "alias": { "type": "string", "enum": ["production"] },
                "previous": { "type": ["string", "null"], "description": "The version that was production before, if any" },
                "changed": { "type": "boolean", "description": "false when the version already was production" }
            }
        }
    })
}
