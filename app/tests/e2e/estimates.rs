//! Duration and cost before submit, and budgets: the estimate from a
//! version's succeeded runs in the API, the form, the run page and the
//! CLI; budgets set by admins warn a submission that would cross them.

use modelrun_core::config::BatchPlatform;
use modelrun_core::estimate::Prices;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli_client::client;
use crate::security::hidden;
use crate::support::*;

/// Runs for a little over a second: a duration of 1 s.
const SLEEPY: &str = r#"
name = "sleepy"
command = ["python3", "-c", "import time; time.sleep(1.2)"]

[resources]
vcpu = 1
memory_mib = 2048
timeout_seconds = 600

[resources.max]
vcpu = 4
memory_mib = 4096
timeout_seconds = 600

[inputs]
type = "object"
"#;

/// A server whose runs are priced at `prices` (AWS Batch's, with the
/// local executor doing the work).
async fn priced(store: StoreKind, prices: Prices) -> TestApp {
    let app = TestApp::spawn_with(store, |web| web.costs.prices = Some(prices)).await;
    app.register_model("sleepy", SLEEPY).await;
    app
}

/// The first refused field of a 422 answer.
async fn refused_field(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    body["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

pub async fn an_estimate_comes_from_succeeded_runs_and_is_kept_with_each_run(store: StoreKind) {
    let fargate = Prices::default_for(BatchPlatform::Fargate);
    let app = priced(store, fargate.clone()).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let before = api.get_json("/api/v1/models/sleepy/estimate").await;
    assert_eq!(before["history"], Value::Null, "no history yet");
    assert_eq!(before["cost"], Value::Null);
    assert_eq!(before["prices"]["vcpu_hour"], json!(fargate.vcpu_hour));
    assert_eq!(before["prices"]["region"], "us-east-1");
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let form = browser.page("/models/sleepy/runs/new").await;
    assert!(form.contains("No history yet"), "{form}");

    let first = api.submit_defaults("sleepy").await;
    app.drain().await;
    api.submit_defaults("sleepy").await;
    app.drain().await;

    let estimate = api.get_json("/api/v1/models/sleepy/estimate").await;
    assert_eq!(estimate["history"]["runs"], 2);
    let median = estimate["history"]["median_seconds"]
        .as_i64()
        .expect("median");
    assert!((1..5).contains(&median), "{estimate}");
    let per_run = (fargate.vcpu_hour + 2.0 * fargate.gib_hour) * median as f64 / 3600.0;
    let cost = estimate["cost"]["median_per_run"].as_f64().expect("cost");
    assert!(
        close(cost, per_run),
        "{cost} is resources × duration × price"
    );

    let sweep = api
        .get_json("/api/v1/models/sleepy/estimate?count=3&vcpu=2")
        .await;
    let per_run_2 = (2.0 * fargate.vcpu_hour + 2.0 * fargate.gib_hour) * median as f64 / 3600.0;
    assert!(close(
        sweep["cost"]["median_total"].as_f64().expect("total"),
        3.0 * per_run_2
    ));
    assert_eq!(sweep["count"], 3);
    assert_eq!(sweep["resources"]["vcpu"], json!(2.0));

    let too_many = api
        .get("/api/v1/models/sleepy/estimate?vcpu=9")
        .send()
        .await
        .expect("GET");
    assert_eq!(refused_field(too_many).await, "vcpu");
    let no_count = api
        .get("/api/v1/models/sleepy/estimate?count=0")
        .send()
        .await
        .expect("GET");
    assert_eq!(refused_field(no_count).await, "count");
    let unknown = api
        .get("/api/v1/models/nothing/estimate")
        .send()
        .await
        .expect("GET");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // The first run was submitted without history; it ran and cost money.
    let id = first["id"].as_i64().expect("id");
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(run["cost"]["estimate"]["history"], Value::Null);
    assert!(run["cost"]["actual_seconds"].as_i64().expect("seconds") >= 1);
    assert!(run["cost"]["actual_cost_usd"].as_f64().expect("cost") > 0.0);
    let page = browser.page(&format!("/runs/{id}")).await;
    assert!(page.contains("Duration and cost"), "{page}");
    assert!(page.contains("no history when submitted"), "{page}");
    assert!(page.contains(r#"id="actual-cost">$0.0"#), "{page}");
    // The run's duration reads the same in its summary and beside its estimate.
    let summary = page
        .split("<dt>Duration</dt>")
        .nth(1)
        .and_then(|rest| rest.split("<dd>").nth(1))
        .and_then(|rest| rest.split(['<', '\n']).next())
        .expect("the summary's duration")
        .trim()
        .to_owned();
    assert!(
        summary.ends_with(" s") || summary.contains("min"),
        "{summary}"
    );
    assert!(
        page.contains(&format!(r#"id="actual-duration">{summary}</td>"#)),
        "{summary}: {page}"
    );

    // A run submitted now keeps the estimate it was submitted with.
    let created = api.submit_defaults("sleepy").await;
    let third = api
        .get_json(&format!("/api/v1/runs/{}", created["id"]))
        .await;
    assert_eq!(third["cost"]["estimate"]["history"]["runs"], 2);
    // The 201 says what a read of the run says, from what the submit knew.
    assert_eq!(created["cost"]["estimate"], third["cost"]["estimate"]);
    assert_eq!(created["events"][0], third["events"][0]);
    // As it was created: queued, with its one event, whatever the worker did since.
    assert_eq!(created["status"], "queued");
    assert_eq!(created["events"].as_array().map(Vec::len), Some(1));
    let keys =
        |run: &Value| -> Vec<String> { run.as_object().expect("a run").keys().cloned().collect() };
    assert_eq!(keys(&created), keys(&third));
    for empty in ["progress", "scheduled_by", "sweep"] {
        assert_eq!(created[empty], Value::Null, "{empty}: {created}");
    }
    assert_eq!(created["outputs"], json!([]));
    let form = browser.page("/models/sleepy/runs/new").await;
    assert!(form.contains("What to expect"), "{form}");
    assert!(form.contains("from the latest 2 succeeded runs"), "{form}");
    assert!(
        form.contains("https://aws.amazon.com/fargate/pricing/"),
        "{form}"
    );
}

pub async fn a_local_server_shows_durations_without_a_cost(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("sleepy", SLEEPY).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let run = api.submit_defaults("sleepy").await;
    app.drain().await;
    let estimate = api.get_json("/api/v1/models/sleepy/estimate").await;
    assert_eq!(estimate["history"]["runs"], 1);
    assert_eq!(estimate["prices"], Value::Null);
    assert_eq!(estimate["cost"], Value::Null);
    let run = api.get_json(&format!("/api/v1/runs/{}", run["id"])).await;
    assert_eq!(run["cost"]["actual_cost_usd"], Value::Null);
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let form = browser.page("/models/sleepy/runs/new").await;
    assert!(form.contains("cost no cloud money"), "{form}");
    assert!(!form.contains("id=\"estimate-cost\""), "{form}");

    // A refused form still says what to expect.
    let version = hidden(&form, "version");
    let refused = browser
        .post_form(
            "/models/sleepy/runs/new",
            &[
                ("version", version.as_str()),
                ("_resources.vcpu", "99"),
                ("_resources.memory_mib", "2048"),
                ("_resources.timeout_seconds", "600"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("page");
    assert!(page.contains("What to expect"), "{page}");
    assert!(
        page.contains("from the one succeeded run of this version."),
        "{page}"
    );

    // A run cancelled before it starts still shows what was expected, once:
    // one run's median is its 90th percentile.
    let cancelled = api.submit_defaults("sleepy").await;
    let id = cancelled["id"].as_i64().expect("id");
    let cancel = api
        .post(&format!("/api/v1/runs/{id}/cancel"))
        .send()
        .await
        .expect("POST");
    assert!(cancel.status().is_success(), "{}", cancel.status());
    let page = browser.page(&format!("/runs/{id}")).await;
    let expected = page
        .split("id=\"expected-duration\">")
        .nth(1)
        .and_then(|rest| rest.split("</td>").next())
        .expect("expected duration");
    let seconds = expected
        .strip_prefix("expected about ")
        .and_then(|rest| rest.strip_suffix(" s"))
        .map(str::parse::<u32>);
    assert!(
        expected == "expected under 1 s" || matches!(seconds, Some(Ok(_))),
        "{expected}"
    );
}

pub async fn budgets_warn_a_submission_that_would_cross_them(store: StoreKind) {
    // A dear price, so that one short run costs more than a cent.
    let dear = Prices {
        vcpu_hour: 100.0,
        gib_hour: 0.0,
        source: "configuration".to_owned(),
        ..Prices::default_for(BatchPlatform::Fargate)
    };
    let app = priced(store, dear).await;
    let admin = app.api(&app.token(ADMIN_EMAIL).await);
    let runner = app.api(&app.token(RUNNER_EMAIL).await);

    let denied = runner
        .put("/api/v1/budgets")
        .json(&json!({"monthly_usd": 10}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    for (body, field) in [
        (json!({"monthly_usd": -5}), "monthly_usd"),
        (json!({"monthly_usd": "lots"}), "monthly_usd"),
        (
            json!({"monthly_usd": 5, "user": "nobody@example.com"}),
            "user",
        ),
    ] {
        let refused = admin
            .put("/api/v1/budgets")
            .json(&body)
            .send()
            .await
            .expect("PUT");
        assert_eq!(refused_field(refused).await, field, "{body}");
    }
    let set = admin
        .put("/api/v1/budgets")
        .json(&json!({"monthly_usd": 1000}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(set.status(), StatusCode::OK);
    let list: Value = set.json().await.expect("json");
    assert_eq!(list["budgets"][0]["scope"], "installation");
    assert_eq!(list["budgets"][0]["monthly_usd"], json!(1000.0));
    assert_eq!(list["time_zone"], "UTC");

    runner.submit_defaults("sleepy").await;
    app.drain().await;
    let estimate = runner.get_json("/api/v1/models/sleepy/estimate").await;
    assert_eq!(estimate["warnings"], json!([]), "well within $1,000");

    // Ann's own budget, set on the page: a cent, which her run has spent.
    let browser = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = browser.page("/admin/budgets").await;
    let csrf = hidden(&page, "_csrf");
    let bad = browser
        .post_form(
            "/admin/budgets",
            &[
                ("_csrf", &csrf),
                ("user", RUNNER_EMAIL),
                ("amount", "nothing"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.expect("page").contains("Monthly budget"));
    // Read as the run form reads numbers: "1,000" could be a thousand or
    // one, so it is refused, never guessed; "0,01" is a cent.
    let ambiguous = browser
        .post_form(
            "/admin/budgets",
            &[
                ("_csrf", &csrf),
                ("user", RUNNER_EMAIL),
                ("amount", "1,000"),
            ],
        )
        .await;
    assert_eq!(ambiguous.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = ambiguous.text().await.expect("page");
    assert!(text.contains("could mean 1000 or 1.000"), "{text}");
    let good = browser
        .post_form(
            "/admin/budgets",
            &[("_csrf", &csrf), ("user", RUNNER_EMAIL), ("amount", "0,01")],
        )
        .await;
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let page = browser.page("/admin/budgets").await;
    assert!(
        page.contains(RUNNER_EMAIL) && page.contains("over budget"),
        "{page}"
    );

    let estimate = runner.get_json("/api/v1/models/sleepy/estimate").await;
    let warnings = estimate["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{estimate}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap_or_default()
            .contains("your monthly budget")
    );
    let form = app
        .signed_in(RUNNER_EMAIL, RUNNER_PASSWORD)
        .await
        .page("/models/sleepy/runs/new")
        .await;
    assert!(form.contains("budget-warning"), "{form}");
    assert!(form.contains("You may still submit"), "{form}");
    // The form's script warns for a sweep from each budget's money left.
    assert!(
        form.contains("data-sweep-budget")
            && form.contains("data-budget-name=\"your monthly budget of $0.01\""),
        "{form}"
    );
    // A warning, not a refusal.
    runner.submit_defaults("sleepy").await;

    // Removing it (the API's null) ends the warning.
    let removed = admin
        .put("/api/v1/budgets")
        .json(&json!({"user": RUNNER_EMAIL, "monthly_usd": null}))
        .send()
        .await
        .expect("PUT");
    let list: Value = removed.json().await.expect("json");
    assert_eq!(list["budgets"].as_array().map(Vec::len), Some(1));
    assert!(list["budgets"][0]["spent_usd"].as_f64().expect("spent") > 0.01);

    // Every change, by page or API, is in the audit log, newest first.
    let entries = app
        .store
        .audit_entries(&modelrun_core::audit::AuditFilter {
            action: Some(modelrun_core::audit::AuditAction::BudgetSet),
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("audit");
    let removal = &entries[0];
    assert_eq!(removal.target, format!("budget of {RUNNER_EMAIL}"));
    assert_eq!(removal.detail["monthly_usd"], Value::Null, "{removal:?}");
    assert!(
        entries
            .iter()
            .any(|entry| entry.target == "budget of the team"
                && entry.detail["monthly_usd"] == json!(1000.0)),
        "{entries:?}"
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub async fn the_cli_estimates_and_sets_budgets(store: StoreKind) {
    let app = priced(store, Prices::default_for(BatchPlatform::Ec2)).await;
    let runner = app.token(RUNNER_EMAIL).await;
    let admin = app.token(ADMIN_EMAIL).await;
    app.api(&runner).submit_defaults("sleepy").await;
    app.drain().await;

    let out = client(&app, &runner)
        .args(["runs", "estimate", "sleepy", "--vcpu", "2", "--count", "5"])
        .output()
        .expect("run");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(", 5 runs:"), "{stdout}");
    assert!(stdout.contains("from 1 succeeded run."), "{stdout}");
    assert!(stdout.contains(" each (median"), "{stdout}");
    assert!(
        stdout.contains("; 5 runs ") && stdout.contains(" in all"),
        "{stdout}"
    );
    assert!(stdout.contains("5 runs about $"), "{stdout}");
    assert!(stdout.contains("EC2"), "{stdout}");
    let json_out = client(&app, &runner)
        .args(["runs", "estimate", "sleepy", "--json"])
        .output()
        .expect("run");
    let estimate: Value = serde_json::from_slice(&json_out.stdout).expect("json");
    assert_eq!(estimate["count"], 1);
    assert!(json_out.stdout.ends_with(b"}\n"), "a line ends the JSON");
    let one = client(&app, &runner)
        .args(["runs", "estimate", "sleepy"])
        .output()
        .expect("run");
    assert!(
        text(&one.stdout).contains(", 1 run:"),
        "{}",
        text(&one.stdout)
    );
    assert!(
        !text(&one.stdout).contains(" each "),
        "{}",
        text(&one.stdout)
    );
    for args in [
        &["runs", "estimate", "nope"][..],
        &["sweeps", "submit", "nope", "--vary", "x=1,2"],
        &[
            "schedules",
            "create",
            "nope",
            "--name",
            "n",
            "--cron",
            "0 6 * * *",
        ],
    ] {
        let out = client(&app, &runner).args(args).output().expect("run");
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr.contains("no model nope: the models are "),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("nothing here"), "{stderr}");
    }
    let refused = client(&app, &runner)
        .args(["runs", "estimate", "sleepy", "--vcpu", "64"])
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("vcpu"),
        "{}",
        text(&refused.stderr)
    );

    let out = client(&app, &admin)
        .args(["budgets", "set", "250", "--user", RUNNER_EMAIL])
        .output()
        .expect("run");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(RUNNER_EMAIL) && stdout.contains("$250.00"),
        "{stdout}"
    );
    let out = client(&app, &runner)
        .args(["budgets", "set", "250"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "a runner sets no budget");
    let out = client(&app, &admin)
        .args(["budgets", "remove", "--user", RUNNER_EMAIL])
        .output()
        .expect("run");
    assert!(out.status.success());
    let out = client(&app, &admin)
        .args(["budgets", "list", "--json"])
        .output()
        .expect("run");
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(list["budgets"], json!([]));
}
