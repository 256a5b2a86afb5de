//! The estimate and budget operations as OpenAPI, with their schemas.

use serde_json::{Value, json};

use super::operations::error;

fn ok(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// The estimate and budget operations.
pub(super) fn operation(id: &str) -> Option<Value> {
    let unauthorized = error("No token, or a wrong, revoked or expired one");
    Some(match id {
        "estimateRuns" => json!({
            "summary": "What runs of a version are likely to take and cost, and the budgets they would cross",
            "description": "Durations are the nearest-rank median and 90th percentile of the version's latest 200 succeeded runs (`history` is null when there is none). On AWS Batch the cost is the resources × that duration × the configured price per vCPU-hour and GiB-hour, an approximation; on the local executor `prices` and `cost` are null. `count` multiplies the totals (a sweep's size). A budget that the median total would cross is listed in `warnings`: submitting is still allowed.",
            "parameters": [
                { "name": "model", "in": "path", "required": true, "schema": { "type": "string" } },
                query("version", "A version label, `production` (the default) or `latest` (the newest active version)", json!({ "type": "string" })),
                query("vcpu", "vCPUs for each run; the version's by default", json!({ "type": "string", "pattern": "^[0-9.]*$" })),
                query("memory_mib", "Memory for each run in MiB; the version's by default", json!({ "type": "string", "pattern": "^[0-9]*$" })),
                query("timeout_seconds", "Time limit of each run in seconds; the version's by default", json!({ "type": "string", "pattern": "^[0-9]*$" })),
                query("count", "How many runs (1 to 10000); 1 by default", json!({ "type": "string", "pattern": "^[0-9]*$" }))
            ],
            "responses": {
                "200": ok("The estimate", "Estimate"), "400": error("A version the model does not have, or a parameter given twice"),
                "401": unauthorized, "404": error("No such model"), "409": error("The model has no active version"),
                "422": error("Resources the version or the platform cannot give, or a bad count; `fields` names each")
            }
        }),
        "listBudgets" => json!({
            "summary": "Monthly budgets with this month's spending (admin role)",
            "responses": { "200": ok("The budgets", "BudgetList"), "401": unauthorized, "403": error("Admins only") }
        }),
        "setBudget" => json!({
            "summary": "Set or remove a monthly budget, the team's or a user's (admin role)",
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SetBudget" } } } },
            "responses": {
                "200": ok("Every budget, after the change", "BudgetList"), "400": error("A body that is not JSON"),
                "401": unauthorized, "403": error("Admins only"), "413": error("Too large"), "415": error("Not JSON"),
                "422": error("An amount out of range, an unknown user or field; `fields` names it")
            }
        }),
        _ => return None,
    })
}

/// The schemas of estimates and budgets.
pub(super) fn schemas() -> Value {
    let money = json!({ "type": "number", "description": "US dollars" });
    json!({
        "Prices": {
            "type": "object", "required": ["platform", "vcpu_hour", "gib_hour", "region", "source", "as_of"],
            "properties": {
                "platform": { "type": "string", "enum": ["FARGATE", "EC2"] }, "vcpu_hour": money, "gib_hour": money,
                "region": { "type": "string" }, "source": { "type": "string" }, "as_of": { "type": "string" }
            }
        },
        "DurationStats": {
            "type": "object", "required": ["runs", "median_seconds", "p90_seconds"],
            "properties": { "runs": { "type": "integer" }, "median_seconds": { "type": "integer" }, "p90_seconds": { "type": "integer" } }
        },
        "CostEstimate": {
            "type": "object", "required": ["median_per_run", "p90_per_run", "median_total", "p90_total"],
            "properties": { "median_per_run": money, "p90_per_run": money, "median_total": money, "p90_total": money }
        },
        "EstimateCore": {
            "type": "object", "required": ["count", "resources", "history", "prices", "cost"],
            "properties": {
                "count": { "type": "integer", "minimum": 1 },
                "resources": { "$ref": "#/components/schemas/Resources" },
                "history": { "oneOf": [{ "$ref": "#/components/schemas/DurationStats" }, { "type": "null" }] },
                "prices": { "oneOf": [{ "$ref": "#/components/schemas/Prices" }, { "type": "null" }] },
                "cost": { "oneOf": [{ "$ref": "#/components/schemas/CostEstimate" }, { "type": "null" }] }
            }
        },
        "Estimate": {
            "allOf": [{ "$ref": "#/components/schemas/EstimateCore" }],
            "type": "object", "required": ["model", "version", "count", "resources", "history", "prices", "cost", "budgets", "warnings"],
            "properties": {
                "model": { "type": "string" }, "version": { "type": "string" },
                "budgets": { "type": "array", "items": { "type": "object", "required": ["scope", "monthly_usd", "spent_usd", "after_usd", "would_cross"], "properties": {
                    "scope": { "type": "string", "enum": ["installation", "user"] }, "user_id": { "type": "integer" },
                    "monthly_usd": money, "spent_usd": money, "after_usd": money, "would_cross": { "type": "boolean" } } } },
                "warnings": { "type": "array", "items": { "type": "string" } }
            }
        },
        "RunCost": {
            "type": "object", "required": ["estimate", "actual_seconds", "actual_cost_usd"],
            "description": "The estimate recorded when the run was submitted, beside what it took",
            "properties": {
                "estimate": { "oneOf": [{ "$ref": "#/components/schemas/EstimateCore" }, { "type": "null" }] },
                "actual_seconds": { "type": ["integer", "null"] },
                "actual_cost_usd": { "type": ["number", "null"], "description": "Resources × running time × the prices of its estimate; null without a price" }
            }
        },
        "BudgetList": {
            "type": "object", "required": ["time_zone", "month_start", "month_end", "priced", "budgets"],
            "properties": {
                "time_zone": { "type": "string" }, "month_start": { "type": "string", "format": "date-time" },
                "month_end": { "type": "string", "format": "date-time" },
                "priced": { "type": "boolean", "description": "false on the local executor, whose runs cost nothing" },
                "budgets": { "type": "array", "items": { "type": "object", "required": ["scope", "user", "monthly_usd", "spent_usd", "set_by", "set_at"], "properties": {
                    "scope": { "type": "string", "enum": ["installation", "user"] }, "user": { "type": ["string", "null"] },
                    "monthly_usd": money, "spent_usd": money, "set_by": { "type": "string" },
                    "set_at": { "type": "string", "format": "date-time" } } } }
            }
        },
        "SetBudget": {
            "type": "object", "required": ["monthly_usd"], "additionalProperties": false,
            "properties": {
                "user": { "type": ["string", "null"], "description": "A user's email; left out or null for the team's budget" },
                "monthly_usd": { "type": ["number", "null"], "minimum": 0.01, "maximum": 100000000, "description": "Dollars a month; null removes the budget" }
            }
        }
    })
}
