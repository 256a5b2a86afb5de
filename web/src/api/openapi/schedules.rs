//! The schedule operations as OpenAPI, with their schemas.

use serde_json::{Value, json};

use super::operations::error;

fn ok(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } })
}

/// Pause and resume answer alike.
fn change(summary: &str) -> Value {
    json!({
        "summary": summary,
        "parameters": [id_param()],
        "responses": {
            "200": ok("The schedule, changed", "Schedule"),
            "401": error("No token, or a wrong, revoked or expired one"),
            "403": error("Only its owner or an administrator may change a schedule"),
            "404": error("No such schedule, it was deleted, or (run visibility `own`) another person's")
        }
    })
}

/// The schedule operations.
pub(super) fn operation(id: &str) -> Option<Value> {
    let unauthorized = error("No token, or a wrong, revoked or expired one");
    Some(match id {
        "listSchedules" => json!({
            "summary": "Schedules that are not deleted, by name, each with its next fire time",
            "responses": { "200": ok("The schedules", "ScheduleList"), "401": unauthorized }
        }),
        "createSchedule" => json!({
            "summary": "Schedule a version with fixed inputs on a cron rule in a time zone (runner role)",
            "description": "The rule has five fields (minute hour day-of-month month day-of-week) and croner's extensions: `L` (last), `#` (nth weekday), `W` (nearest weekday, within the month); 06:00 on the first weekday of each month is `0 6 1W * *`. Times are wall-clock times in `time_zone`. Each slot makes one run, submitted as the schedule's owner; after downtime only the latest missed slot runs. The inputs are checked against the version's schema now, and for `latest` again at each fire.",
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewSchedule" } } } },
            "responses": {
                "201": ok("The schedule", "Schedule"),
                "400": error("A body that is not JSON"),
                "401": unauthorized, "403": error("Viewers cannot schedule runs"),
                "409": error("The version is retired, or the model has no active version"),
                "413": error("Too large"), "415": error("Not JSON"),
                "422": error("A name the owner already uses or too long, a cron expression or time zone that does not parse, an unknown model, a version the model does not have, or inputs the version refuses; `fields` names each")
            }
        }),
        "getSchedule" => json!({
            "summary": "A schedule with its next 3 fire times and its fires (the runs it made, and slots that made none with why), newest first",
            "parameters": [id_param()],
            "responses": { "200": ok("The schedule", "Schedule"), "401": unauthorized, "404": error("No such schedule, it was deleted, or (run visibility `own`) another person's") }
        }),
        "deleteSchedule" => json!({
            "summary": "Delete a schedule: it fires no more; its runs stay and still say which schedule made them",
            "parameters": [id_param()],
            "responses": {
                "204": { "description": "Deleted" }, "401": unauthorized,
                "403": error("Only its owner or an administrator may delete a schedule"),
                "404": error("No such schedule, it was deleted, or (run visibility `own`) another person's")
            }
        }),
        "pauseSchedule" => change("Pause a schedule: no slot fires until it is resumed"),
        "resumeSchedule" => {
            change("Resume a schedule from its next slot; slots passed while paused do not fire")
        }
        _ => return None,
    })
}

/// The schemas of schedules.
pub(super) fn schemas() -> Value {
    let time = json!({ "type": "string", "format": "date-time" });
    json!({
        "NewSchedule": {
            "type": "object", "required": ["name", "model", "cron"], "additionalProperties": false,
            "properties": {
                "name": { "type": "string", "description": "1–100 characters, unique among the owner's schedules not deleted" },
                "model": { "type": "string" },
                "version": { "type": ["string", "null"], "description": "A version label, or `production` (the default): the model's production version at each fire; `latest` is refused, as a schedule runs unattended" },
                "inputs": { "type": "object", "description": "The fixed inputs of every run; file inputs are refused" },
                "cron": { "type": "string", "description": "Five fields, such as `0 6 1W * *`; at most 200 characters" },
                "time_zone": { "type": ["string", "null"], "description": "An IANA zone such as Europe/Berlin; UTC by default" }
            }
        },
        "ScheduleFire": {
            "type": "object", "required": ["fire_at", "outcome", "run_id", "run_status", "message"],
            "properties": {
                "fire_at": time,
                "outcome": { "type": "string", "enum": ["run", "skipped", "failed"] },
                "run_id": { "type": ["integer", "null"] },
                "run_status": { "type": ["string", "null"] },
                "message": { "type": "string", "description": "Why no run was made (skipped: the owner is disabled or no longer a runner; failed: no active version, or inputs the version now refuses)" }
            }
        },
        "Schedule": {
            "type": "object",
            "required": ["id", "name", "model", "version", "inputs", "cron", "time_zone", "owner", "state", "next_fire_times", "created_at", "url"],
            "properties": {
                "id": { "type": "integer" }, "name": { "type": "string" }, "model": { "type": "string" },
                "version": { "type": "string", "description": "A label, or `latest`" },
                "inputs": { "type": "object" }, "cron": { "type": "string" }, "time_zone": { "type": "string" },
                "owner": { "type": "string", "description": "Who created it: its runs are submitted as them" },
                "state": { "type": "string", "enum": ["active", "paused", "deleted"] },
                "next_fire_times": { "type": "array", "items": time },
                "created_at": time,
                "url": { "type": "string" },
                "fires": { "type": "array", "items": { "$ref": "#/components/schemas/ScheduleFire" } }
            }
        },
        "ScheduleList": {
            "type": "object", "required": ["schedules"],
            "properties": { "schedules": { "type": "array", "items": { "$ref": "#/components/schemas/Schedule" } } }
        },
        "ScheduledBy": {
            "type": "object", "required": ["id", "name", "url"],
            "properties": { "id": { "type": "integer" }, "name": { "type": "string" }, "url": { "type": "string" } }
        }
    })
}
