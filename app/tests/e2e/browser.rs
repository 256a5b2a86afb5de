//! The browser flow: sign in, browse, fill the form, watch, download.

use modelrun_core::run::RunFilter;
use reqwest::StatusCode;

use crate::support::*;

pub async fn signing_in_and_out(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.browser();
    let response = browser.get("/models").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fmodels");

    let refused = browser
        .post_form(
            "/login",
            &[("email", RUNNER_EMAIL), ("password", "wrong password here")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let page = refused.text().await.expect("body");
    assert!(page.contains("The email or the password is wrong."));
    assert!(
        page.contains(&format!("value=\"{RUNNER_EMAIL}\"")),
        "the email is kept"
    );
    let unknown = browser
        .post_form(
            "/login",
            &[
                ("email", "nobody@example.com"),
                ("password", RUNNER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    let signed_in = browser
        .post_form(
            "/login",
            &[
                ("email", " Ann@Example.com "),
                ("password", RUNNER_PASSWORD),
                ("next", "/runs"),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/runs");
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(browser.page("/models").await.contains(RUNNER_EMAIL));

    // Signing out ends the session on the server: the old cookie is dead.
    let session = cookie.split(';').next().unwrap_or_default().to_owned();
    let out = browser.post_form("/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(app.url("/models"))
        .header("cookie", session)
        .send()
        .await
        .expect("GET");
    assert_eq!(
        replay.status(),
        StatusCode::SEE_OTHER,
        "a signed-out session still worked"
    );
}

pub async fn models_are_listed_with_their_versions(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let label = app.forecast_label().await;
    let page = browser.page("/models").await;
    assert!(page.contains("Revenue forecast"));
    assert!(page.contains(&format!("<code>{label}</code>")));
    assert!(page.contains("built-in example"));
    assert!(page.contains("href=\"/models/forecast/runs/new\""));
    let detail = browser.page("/models/forecast").await;
    assert!(detail.contains("0.25 vCPU, 512 MiB, 300 s limit"));
    assert_eq!(
        browser.get("/models/nope").await.status(),
        StatusCode::NOT_FOUND
    );
}

pub async fn the_form_is_generated_from_the_schema_with_defaults(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page("/models/forecast/runs/new").await;
    for expected in [
        "<label for=\"in-growth_rate\">Monthly growth rate",
        "name=\"growth_rate\" type=\"text\" value=\"0.02\"",
        "inputmode=\"decimal\"",
        "name=\"horizon_months\" type=\"text\" value=\"24\"",
        "inputmode=\"numeric\"",
        "<select id=\"in-seasonality\" name=\"seasonality\"",
        "<option value=\"none\" selected>Flat</option>",
        "<option value=\"retail\">Retail: strong Q4</option>",
        "pattern=\"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])$\"",
        "title=\"Start month must look like 2027-01, a month from 1900-01 to 2199-12\"",
        "Growth of new business per month",
    ] {
        assert!(page.contains(expected), "missing {expected:?}");
    }
}

async fn submit_form(
    browser: &Browser,
    label: &str,
    overrides: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("version", label),
        ("start_month", "2027-01"),
        ("horizon_months", "12"),
        ("base_revenue", "100000"),
        ("growth_rate", "0.02"),
        ("seasonality", "none"),
        ("churn_rate", "0.01"),
    ];
    for (key, value) in overrides {
        match form.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => form.push((key, value)),
        }
    }
    browser.post_form("/models/forecast/runs/new", &form).await
}

pub async fn bad_form_input_comes_back_with_messages_and_creates_nothing(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let label = app.forecast_label().await;
    let refused = submit_form(
        &browser,
        &label,
        &[
            ("growth_rate", "0.9"),
            ("horizon_months", "twelve"),
            ("base_revenue", ""),
            ("start_month", "2027-13"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("body");
    for expected in [
        "4 inputs need correcting; nothing was submitted.",
        "Monthly growth rate must be at most 0.5.",
        "Horizon (months) must be a whole number.",
        "Base monthly revenue is required.",
        "Start month must look like 2027-01, a month from 1900-01 to 2199-12.",
        "value=\"0.9\"",
        "value=\"twelve\"",
        "value=\"2027-13\"",
        "aria-invalid=\"true\"",
    ] {
        assert!(page.contains(expected), "missing {expected:?}");
    }
    // A year that would write five-digit months later on is refused by name.
    for month in ["9999-12", "1899-12", "2200-01"] {
        let refused = submit_form(&browser, &label, &[("start_month", month)]).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{month}"
        );
        let page = refused.text().await.expect("body");
        assert!(
            page.contains("Start month must look like 2027-01, a month from 1900-01 to 2199-12."),
            "{month}: {page}"
        );
    }
    let unknown = submit_form(&browser, &label, &[("colour", "red")]).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown
            .text()
            .await
            .expect("body")
            .contains("colour is not an input of this model")
    );
    let runs = app
        .store
        .list_runs(&RunFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("runs");
    assert!(runs.items.is_empty(), "a refused form created a run");
    assert!(
        app.store
            .list_tasks(None, 10)
            .await
            .expect("tasks")
            .is_empty(),
        "a refused form queued a task"
    );
}

pub async fn a_run_submitted_in_the_browser_is_watched_and_downloaded(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let label = app.forecast_label().await;
    let submitted = submit_form(&browser, &label, &[("growth_rate", "0.07")]).await;
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let run_path = location(&submitted);
    assert!(run_path.starts_with("/runs/"), "{run_path}");

    // Before the worker runs, the page refreshes itself, with or without script.
    let waiting = browser.page(&run_path).await;
    assert!(waiting.contains("status-queued"));
    assert!(waiting.contains("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"));
    assert!(waiting.contains("data-live=\"true\""));
    assert!(waiting.contains("Outputs appear here when the run ends."));

    app.drain().await;
    let done = browser.page(&run_path).await;
    assert!(done.contains("status-succeeded"));
    assert!(
        !done.contains("http-equiv=\"refresh\""),
        "a finished run stops refreshing"
    );
    assert!(done.contains("data-live=\"false\""));
    for expected in [
        "Forecasting 12 months from 2027-01",
        "<dt>Total revenue</dt>",
        "<dt>Annual growth</dt>",
        "forecast.csv</a>",
        "metrics.json</a>",
        "<th scope=\"row\">Monthly growth rate</th><td>0.07</td>",
        "running",
        "queued: submitted by ann@example.com",
    ] {
        assert!(done.contains(expected), "missing {expected:?}");
    }

    let download = browser
        .get(&format!("{run_path}/outputs/forecast.csv"))
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    let header = |name: &str| {
        download
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/csv");
    assert!(header("content-disposition").starts_with("attachment; filename=\"forecast.csv\""));
    assert_eq!(header("x-content-type-options"), "nosniff");
    let csv = download.text().await.expect("csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("month,revenue,low,high"));
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("2027-01,{},", first_month(100_000.0, 0.07, 0.01))),
        "{first}"
    );
    assert_eq!(csv.lines().count(), 13);
}

pub async fn the_runs_list_filters_and_pages(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let label = app.forecast_label().await;
    for _ in 0..27 {
        assert_eq!(
            submit_form(&browser, &label, &[]).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let first = browser.page("/runs").await;
    assert_eq!(
        first.matches("<tr>").count(),
        1 + 25,
        "header row and 25 runs"
    );
    assert!(
        first.find("#27").unwrap_or(usize::MAX) < first.find("#26").unwrap_or(0),
        "newest first"
    );
    assert!(first.contains("href=\"/runs?before=3\" rel=\"next\""));
    let second = browser.page("/runs?before=3").await;
    assert!(second.contains("#2") && second.contains("#1") && !second.contains("#3<"));
    assert!(!second.contains("rel=\"next\""));

    let queued = browser.page("/runs?model=forecast&status=queued").await;
    assert_eq!(queued.matches("status-queued").count(), 25);
    let none = browser.page("/runs?status=succeeded").await;
    assert!(none.contains("No run matches."));
    let bad = browser.get("/runs?status=exploded").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(
        bad.text()
            .await
            .expect("body")
            .contains("status must be one of")
    );
}

pub async fn the_submitter_gets_an_email_and_admins_read_the_outbox(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let label = app.forecast_label().await;
    let run_path = location(&submit_form(&browser, &label, &[]).await);
    app.drain().await;

    assert_eq!(
        browser.get("/admin/outbox").await.status(),
        StatusCode::FORBIDDEN
    );
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let outbox = admin.page("/admin/outbox").await;
    let run_id = run_path.trim_start_matches("/runs/");
    assert!(outbox.contains(&format!("Run #{run_id} of forecast succeeded")));
    assert!(outbox.contains(RUNNER_EMAIL) && outbox.contains("status-sent"));
    let message = admin.page("/admin/outbox/1").await;
    assert!(
        message.contains(&app.url(&run_path)),
        "the email links to the run"
    );
    let html = admin.get("/admin/outbox/1/html").await;
    assert!(
        html.headers()
            .get("content-security-policy")
            .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("sandbox"))
    );
    let eml = std::fs::read_to_string(app.dir.path().join("data/outbox/000001.eml")).expect("eml");
    assert!(eml.contains(&format!("To: {RUNNER_EMAIL}")));
}

pub async fn a_run_that_waits_long_shows_what_the_check_found(store: StoreKind) {
    let app = TestApp::spawn_tuned(store, |settings| {
        settings.local.max_concurrent_runs = 1;
        settings.worker.stuck_after = std::time::Duration::ZERO;
    })
    .await;
    app.register_model(
        "hog",
        "name = \"hog\"\ncommand = [\"sleep\", \"30\"]\n[inputs]\ntype = \"object\"\n",
    )
    .await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    for _ in 0..2 {
        let created = api
            .post("/api/v1/models/hog/runs")
            .json(&serde_json::json!({"inputs": {}}))
            .send()
            .await
            .expect("POST");
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    // The first run holds the only slot, the second waits for it.
    use modelrun_core::status::RunStatus;
    let status = |id| {
        let store = app.store.clone();
        async move {
            let run = store.run(modelrun_core::ids::RunId(id)).await;
            run.expect("query").expect("run").status
        }
    };
    for _ in 0..250 {
        app.components.worker.run_due().await.expect("tasks");
        if status(1).await == RunStatus::Running && status(2).await == RunStatus::Runnable {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status(1).await, RunStatus::Running, "the first run started");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.components.worker.sweep().await.expect("sweep");
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page("/runs/2").await;
    for expected in [
        "This run has been runnable for long",
        "1 of 1 run slots on this machine are busy, and 1 run waits for one",
        "Every run slot is taken",
        "--max-concurrent-runs",
    ] {
        assert!(page.contains(expected), "missing {expected:?}");
    }
    assert!(
        !browser.page("/runs/1").await.contains("for long"),
        "the running run has no banner"
    );
    app.components.shutdown().await;
}
