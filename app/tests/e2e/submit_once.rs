//! One-time keys name one request: a repeat of it answers with its run,
//! and anything else sent with the key is refused, from the API and the form.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::form_inputs::CHOICES;
use crate::security::hidden;
use crate::support::*;

pub async fn a_reused_idempotency_key_answers_only_the_same_request(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("choices", CHOICES).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let post = |model: &'static str, inputs: Value| {
        api.post(&format!("/api/v1/models/{model}/runs"))
            .header("Idempotency-Key", "plan-2027")
            .json(&json!({ "inputs": inputs }))
            .send()
    };
    let first = post("forecast", json!({"growth_rate": 0.03}))
        .await
        .expect("POST");
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("run");
    let again = post("forecast", json!({"growth_rate": 0.03}))
        .await
        .expect("POST");
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.expect("run")["id"], first["id"]);
    for (model, inputs, says) in [
        (
            "forecast",
            json!({"growth_rate": 0.04}),
            "which has other inputs",
        ),
        (
            "choices",
            json!({"plan": "low"}),
            "a run of forecast version",
        ),
    ] {
        let refused = post(model, inputs).await.expect("POST");
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{model}"
        );
        let body: Value = refused.json().await.expect("json");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("already used for run #{}", first["id"]))
                && message.contains(says),
            "{message}"
        );
    }
}

pub async fn a_form_sent_again_with_other_values_is_not_its_first_run(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("choices", CHOICES).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page("/models/choices/runs/new").await;
    let (version, key) = (hidden(&page, "version"), hidden(&page, "_key"));
    let send = |plan: &'static str| {
        let form = [
            ("version", version.clone()),
            ("_key", key.clone()),
            ("plan", plan.to_owned()),
        ];
        let browser = &browser;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post_form("/models/choices/runs/new", &pairs).await
        }
    };
    let first = send("low").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&send("low").await),
        location(&first),
        "a double click"
    );
    // The back button, another choice, and submit again.
    let changed = send("high").await;
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = changed.text().await.expect("body");
    assert!(page.contains("This form was already submitted with other values"));
    let fresh = hidden(&page, "_key");
    assert_ne!(fresh, key, "the next press makes a new run");
    let again = browser
        .post_form(
            "/models/choices/runs/new",
            &[("version", &version), ("_key", &fresh), ("plan", "high")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_ne!(location(&again), location(&first));
}
