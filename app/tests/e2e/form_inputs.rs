//! What reaches a model is what the person saw: decimal commas, choices
//! nobody made, optional inputs, `null`, labels, lines and moments, from
//! the form and the API alike.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::security::hidden;
use crate::support::*;

/// A model with a required choice without a default, an optional boolean
/// and number without defaults, and a nullable number with one.
pub const CHOICES: &str = r#"name = "choices"
command = ["true"]
[inputs]
type = "object"
required = ["plan"]
[inputs.properties.plan]
type = "string"
title = "Plan"
enum = ["low", "high"]
[inputs.properties.audit]
type = "boolean"
[inputs.properties.cap]
type = "number"
[inputs.properties.floor]
type = ["number", "null"]
default = 1.5
"#;

/// Sends the new-run form of `model` as `page` showed it (its version and
/// one-time key), with `fields`.
async fn send_form(
    browser: &Browser,
    model: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (version, key) = (hidden(page, "version"), hidden(page, "_key"));
    let mut form = vec![("version", version.as_str()), ("_key", key.as_str())];
    form.extend_from_slice(fields);
    browser
        .post_form(&format!("/models/{model}/runs/new"), &form)
        .await
}

/// The inputs of the run a form submission redirected to.
async fn run_inputs(api: &Api, run_page: &str) -> Value {
    let run: Value = api
        .get(&format!("/api/v1{run_page}"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("run");
    run["inputs"].clone()
}

pub async fn a_decimal_comma_is_read_and_an_ambiguous_number_refused(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let page = browser.page("/models/forecast/runs/new").await;
    assert!(
        page.contains("name=\"base_revenue\" type=\"text\" value=\"100000\"")
            && page.contains("inputmode=\"decimal\""),
        "a text box the browser cannot strip a comma from"
    );
    let label = app.forecast_label().await;
    let post = |revenue: &'static str| {
        let label = label.clone();
        let browser = &browser;
        async move {
            let form = [
                ("version", label.as_str()),
                ("start_month", "2027-01"),
                ("horizon_months", "3"),
                ("base_revenue", revenue),
                ("growth_rate", "0,05"),
                ("seasonality", "none"),
                ("churn_rate", "0.01"),
            ];
            browser.post_form("/models/forecast/runs/new", &form).await
        }
    };
    let created = post("100000,50").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let inputs = run_inputs(&api, &location(&created)).await;
    assert_eq!(inputs["base_revenue"], json!(100000.5));
    assert_eq!(inputs["growth_rate"], json!(0.05));

    let refused = post("1.234,5").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("body");
    assert!(
        page.contains("Base monthly revenue has more than one separator"),
        "{page}"
    );
    let ambiguous = post("100,000").await;
    assert_eq!(ambiguous.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = ambiguous.text().await.expect("body");
    assert!(page.contains("Base monthly revenue could mean 100000 or 100.000"));
}

pub async fn a_required_choice_without_a_default_starts_empty_and_is_refused_empty(
    store: StoreKind,
) {
    let app = TestApp::spawn(store).await;
    app.register_model("choices", CHOICES).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page("/models/choices/runs/new").await;
    assert!(
        page.contains("<option value=\"\">Choose…</option>"),
        "{page}"
    );
    assert!(
        !page.contains(" selected>low"),
        "no option is picked for the person"
    );
    let refused = send_form(&browser, "choices", &page, &[("plan", "")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .expect("body")
            .contains("Plan is required.")
    );
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let refused = api
        .post("/api/v1/models/choices/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

pub async fn every_input_has_a_key_from_the_form_and_the_api(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("choices", CHOICES).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let page = browser.page("/models/choices/runs/new").await;
    let from_form = send_form(
        &browser,
        "choices",
        &page,
        &[("plan", "low"), ("cap", ""), ("floor", "1,5")],
    )
    .await;
    assert_eq!(from_form.status(), StatusCode::SEE_OTHER);
    let from_form = run_inputs(&api, &location(&from_form)).await;
    let from_api: Value = api
        .post("/api/v1/models/choices/runs")
        .json(&json!({"inputs": {"plan": "low"}}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    let expected = json!({"plan": "low", "audit": false, "cap": null, "floor": 1.5});
    assert_eq!(from_form, expected);
    assert_eq!(from_api["inputs"], expected);

    // An emptied nullable box is null, not its default.
    let page = browser.page("/models/choices/runs/new").await;
    let emptied = send_form(
        &browser,
        "choices",
        &page,
        &[("plan", "high"), ("floor", "")],
    )
    .await;
    let inputs = run_inputs(&api, &location(&emptied)).await;
    assert_eq!(inputs["floor"], Value::Null);
}

pub async fn null_is_a_value_only_a_nullable_input_takes(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("choices", CHOICES).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let refused = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {"growth_rate": null}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["fields"][0]["field"], "growth_rate");
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "cannot be null: send a value, or leave it out to take its default"
    );
    let accepted: Value = api
        .post("/api/v1/models/choices/runs")
        .json(&json!({"inputs": {"plan": "high", "floor": null}}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    assert_eq!(accepted["inputs"]["floor"], Value::Null);
}

/// A model whose choices are whole numbers, labelled.
const LABELLED: &str = r#"name = "labelled"
command = ["true"]
[inputs]
type = "object"
required = ["months"]
[inputs.properties.months]
type = "integer"
title = "Horizon"
oneOf = [{ const = 3, title = "A quarter" }, { const = 12, title = "A year" }]
"#;

pub async fn a_labelled_number_choice_shows_labels_and_gives_numbers(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("labelled", LABELLED).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let page = browser.page("/models/labelled/runs/new").await;
    assert!(
        page.contains("<option value=\"12\">A year</option>"),
        "{page}"
    );
    let created = send_form(&browser, "labelled", &page, &[("months", "12")]).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        run_inputs(&api, &location(&created)).await,
        json!({"months": 12})
    );
    // The run page, and the compare page, say what was chosen as it was shown.
    let run_page = browser.page(&location(&created)).await;
    assert!(run_page.contains("<td>A year</td>"), "{run_page}");
    let quarter: Value = api
        .post("/api/v1/models/labelled/runs")
        .json(&json!({"inputs": {"months": 3}}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    let year = location(&created)
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let compared = browser
        .page(&format!("/compare?runs={year}&runs={}", quarter["id"]))
        .await;
    assert!(
        compared.contains("A year") && compared.contains("A quarter"),
        "{compared}"
    );
    let refused = api
        .post("/api/v1/models/labelled/runs")
        .json(&json!({"inputs": {"months": 6}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "must be one of: A quarter (3), A year (12)"
    );
}

/// A model that takes lines of text and a moment.
const NOTES: &str = r#"name = "notes"
command = ["true"]
[inputs]
type = "object"
required = ["at"]
[inputs.properties.notes]
type = "string"
title = "Notes"
x-multiline = true
[inputs.properties.at]
type = "string"
title = "Start at"
format = "date-time"
"#;

pub async fn lines_of_text_and_a_moment_with_its_zone(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("notes", NOTES).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let page = browser.page("/models/notes/runs/new").await;
    assert!(
        page.contains("<textarea id=\"in-notes\" name=\"notes\""),
        "{page}"
    );
    assert!(page.contains("placeholder=\"2027-01-31T09:00:00+01:00\""));
    let post = |at: &'static str| {
        let (browser, page) = (&browser, &page);
        async move {
            let fields = [("notes", "first line\r\nsecond line"), ("at", at)];
            send_form(browser, "notes", page, &fields).await
        }
    };
    let refused = post("2027-01-31T09:00").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .expect("body")
            .contains("Start at must be a date and time with its time zone")
    );
    let created = post("2027-01-31T09:00:00+09:00").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        run_inputs(&api, &location(&created)).await,
        json!({"notes": "first line\nsecond line", "at": "2027-01-31T09:00:00+09:00"})
    );
}
