//! The OpenAPI document: well formed, and every operation it lists answers
//! as documented, with a status it names and the properties its schema
//! requires.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::security::submit;
use crate::support::*;

/// The schema a `$ref` names.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn check_required(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    for key in schema["required"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let key = key.as_str().expect("key");
        assert!(value.get(key).is_some(), "{at}: no {key} in {value}");
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, item) in values.iter().enumerate() {
            check_required(doc, items, item, &format!("{at}[{i}]"));
        }
    }
    if let Some(properties) = schema["properties"].as_object() {
        for (key, property) in properties {
            if let Some(inner) = value.get(key).filter(|v| !v.is_null()) {
                check_required(doc, property, inner, &format!("{at}.{key}"));
            }
        }
    }
}

/// Whether `received` (a Content-Type header) is of the `documented`
/// media type, which may be a range such as `text/*` or `*/*`.
fn media_type_matches(documented: &str, received: &str) -> bool {
    let essence = received.split(';').next().unwrap_or_default().trim();
    match documented.strip_suffix("/*") {
        Some("*") => true,
        Some(main) => essence.split('/').next() == Some(main),
        None => documented.eq_ignore_ascii_case(essence),
    }
}

pub async fn every_documented_operation_answers_as_documented(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(ADMIN_EMAIL).await;
    let api = app.api(&token);
    let id = submit(&app.api(&app.token(RUNNER_EMAIL).await)).await;
    app.drain().await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("the document is JSON, and public");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], app.base.as_str());
    let paths = doc["paths"].as_object().expect("paths");
    let documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(|m| (m.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let routes: Vec<(String, String)> = modelrun_web::api::openapi::OPERATIONS
        .iter()
        .map(|(m, r, _)| (m.to_string(), r.replace("{*", "{")))
        .collect();
    assert_eq!(documented.len(), routes.len());
    for route in &routes {
        assert!(documented.contains(route), "{route:?} is not documented");
    }

    let mut seen = 0;
    for (method, path) in documented {
        let op = &doc["paths"][&path][&method];
        assert!(
            op["operationId"].is_string() && op["summary"].is_string(),
            "{method} {path}"
        );
        let url = path
            .replace("{model}", "forecast")
            .replace("{id}", &id.to_string())
            .replace("{name}", "forecast.csv");
        let mut request = api
            .client
            .request(
                method.to_uppercase().parse::<Method>().expect("method"),
                app.url(&url),
            )
            .bearer_auth(&token);
        if op.get("requestBody").is_some() {
            request = request.json(&json!({"inputs": {}}));
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let documented_status = &op["responses"][status.as_str()];
        assert!(
            documented_status.is_object(),
            "{method} {path} answered {status}, not documented"
        );
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if let Some(documented_types) = documented_status["content"].as_object() {
            assert!(
                documented_types
                    .keys()
                    .any(|documented| media_type_matches(documented, &content_type)),
                "{method} {path}: {content_type} is not documented"
            );
        }
        if let Some(schema) = documented_status["content"]["application/json"]
            .get("schema")
            .filter(|_| content_type.starts_with("application/json"))
        {
            let body: Value = response.json().await.expect("json");
            check_required(&doc, schema, &body, &format!("{method} {path}"));
        }
        seen += 1;
    }
    assert_eq!(seen, routes.len());

    // Documented refusals answer as documented too.
    let anonymous = reqwest::get(app.url("/api/v1/runs")).await.expect("GET");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(doc["paths"]["/api/v1/runs"]["get"]["responses"]["401"].is_object());
    let missing = api.get("/api/v1/runs/99999").send().await.expect("GET");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.expect("json");
    check_required(
        &doc,
        &json!({"$ref": "#/components/schemas/Error"}),
        &body,
        "404",
    );
}
