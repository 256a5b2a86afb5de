//! Security, against the real server: roles and visibility, sessions,
//! cross-site requests, one-time form keys, rate limits, headers, tokens,
//! and the audit log. What never reaches a log is tested in `tests/logs`.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod limits;
pub mod sessions;

pub use access::*;
pub use accounts::*;
pub use audit::*;
pub use limits::*;
pub use sessions::*;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

pub const BOB_EMAIL: &str = "bob@example.com";
pub const BOB_PASSWORD: &str = "bob-password-for-tests";

/// Submits a forecast through the API and returns its id.
pub async fn submit(api: &Api) -> i64 {
    let created = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {"growth_rate": 0.04, "horizon_months": 3}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let run: Value = created.json().await.expect("json");
    run["id"].as_i64().expect("id")
}

/// A second runner, Bob.
pub async fn add_bob(app: &TestApp) {
    modelrun_app::bootstrap::create_user(
        &app.store,
        BOB_EMAIL,
        BOB_PASSWORD,
        modelrun_core::user::Role::Runner,
    )
    .await
    .expect("bob");
}

/// A filter for every run (up to a page of 200).
pub fn all_runs() -> modelrun_core::run::RunFilter {
    modelrun_core::run::RunFilter {
        limit: 200,
        ..Default::default()
    }
}

/// The value of a hidden input in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in the page"))
        + marker.len();
    let end = page[start..].find('"').expect("end of value") + start;
    page[start..end].to_owned()
}
