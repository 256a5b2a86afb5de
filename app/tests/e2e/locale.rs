//! Times and numbers as the person reads them: the runs list's days are
//! days in their zone (the browser's, or their account's), times carry
//! their UTC form, and key figures and inputs follow their number style.

use std::sync::Arc;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use serde_json::Value;

use crate::security::submit;
use crate::support::*;

/// A zone whose date differs from UTC's at `now` and for the next hour:
/// 12 hours behind until 11:00 UTC (another day until 12:00), else 14
/// hours ahead (another day from 10:00).
fn zone_on_another_day(now: DateTime<Utc>) -> Tz {
    let zone = if now.hour() < 11 {
        Tz::Etc__GMTPlus12
    } else {
        Tz::Pacific__Kiritimati
    };
    assert_ne!(now.with_timezone(&zone).date_naive(), now.date_naive());
    zone
}

/// A signed-in browser whose script has reported `zone`.
async fn browser_in(app: &TestApp, zone: Tz) -> reqwest::Client {
    let jar = Arc::new(Jar::default());
    let base = app.url("/").parse().expect("url");
    jar.add_cookie_str(&format!("modelrun_tz={}; Path=/", zone.name()), &base);
    let client = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(Policy::none())
        .build()
        .expect("client");
    let signed_in = client
        .post(app.url("/login"))
        .header("origin", app.url(""))
        .form(&[("email", RUNNER_EMAIL), ("password", RUNNER_PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "sign-in failed");
    client
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let response = client.get(app.url(path)).send().await.expect("GET");
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.expect("body")
}

fn listed(page: &str) -> usize {
    page.matches("<td><a href=\"/runs/").count()
}

async fn set_display(
    app: &TestApp,
    client: &reqwest::Client,
    zone: &str,
    numbers: &str,
) -> (StatusCode, String) {
    let response = client
        .post(app.url("/account/display"))
        .header("origin", app.url(""))
        .form(&[("time_zone", zone), ("number_style", numbers)])
        .send()
        .await
        .expect("POST");
    (response.status(), response.text().await.expect("body"))
}

pub async fn the_runs_list_filters_days_in_the_persons_zone(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    // Read before the runs are made, so that they fall on the days it names.
    let now = Utc::now();
    let zone = zone_on_another_day(now);
    submit(&api).await;
    submit(&api).await;
    let local_today = now.with_timezone(&zone).date_naive();
    let utc_today = now.date_naive();
    let client = browser_in(&app, zone).await;

    let runs = page(
        &app,
        &client,
        &format!("/runs?from={local_today}&to={local_today}"),
    )
    .await;
    assert_eq!(listed(&runs), 2, "today where the person is");
    assert!(runs.contains(&format!("From and To are days in {}", zone.name())));
    assert!(
        runs.contains(&format!("title=\"{}", now.format("%Y-%m-%d"))) && runs.contains(" UTC\">"),
        "UTC is one hover away"
    );
    assert!(runs.contains(&format!("<time datetime=\"{}", now.format("%Y-%m-%dT"))));
    assert!(
        runs.contains(&format!("<span>{local_today}</span> ")),
        "the time shown is local"
    );
    let utc_day = page(
        &app,
        &client,
        &format!("/runs?from={utc_today}&to={utc_today}"),
    )
    .await;
    assert!(
        utc_day.contains("No run matches."),
        "UTC's today is another day here"
    );

    let api_listed: Value = api
        .get(&format!("/api/v1/runs?from={utc_today}&to={utc_today}"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(
        api_listed["runs"].as_array().map(Vec::len),
        Some(2),
        "the API's days stay UTC days"
    );

    let (status, refused) = set_display(&app, &client, "Mars/Olympus", "1,234.5").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("time zone: unknown time zone"),
        "the field is named"
    );
    let (status, _) = set_display(&app, &client, "UTC", "1,234.5").await;
    assert_eq!(status, StatusCode::OK);
    let chosen = page(
        &app,
        &client,
        &format!("/runs?from={utc_today}&to={utc_today}"),
    )
    .await;
    assert_eq!(
        listed(&chosen),
        2,
        "the account's zone wins over the browser's"
    );
    assert!(
        page(&app, &client, "/account")
            .await
            .contains("UTC, from your choice")
    );
}

/// A number of five or more whole digits as the comma-decimal style
/// writes it.
fn comma_decimal(text: &str) -> String {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    if fraction.is_empty() {
        grouped
    } else {
        format!("{grouped},{fraction}")
    }
}

pub async fn key_figures_and_inputs_follow_the_number_style(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = submit(&api).await;
    app.drain().await;
    let client = browser_in(&app, Tz::Europe__Berlin).await;
    let metrics: Value = client
        .get(app.url(&format!("/runs/{id}/outputs/metrics.json")))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("metrics");
    let total = metrics["total_revenue"].as_f64().expect("total");
    assert!(total >= 1000.0, "a total with thousands: {total}");

    let before = page(&app, &client, &format!("/runs/{id}")).await;
    assert!(before.contains("<td>100,000</td>"), "the default style");
    let (status, _) = set_display(&app, &client, "", "1.234,5").await;
    assert_eq!(status, StatusCode::OK);
    let run = page(&app, &client, &format!("/runs/{id}")).await;
    assert!(run.contains("<td>100.000</td>"), "the base revenue input");
    let figure = format!(
        "<dt>Total revenue</dt><dd>{} €</dd>",
        comma_decimal(&format!("{total:.2}"))
    );
    assert!(run.contains(&figure), "{figure} in the key figures");
    assert!(
        run.contains("(Europe/Berlin)"),
        "the browser's zone, labelled"
    );
    let preview = page(&app, &client, &format!("/runs/{id}/preview/forecast.csv")).await;
    let revenue = first_month(100_000.0, 0.04, 0.01);
    let cell = format!("<td class=\"num\">{}</td>", comma_decimal(&revenue));
    assert!(preview.contains(&cell), "{cell} in the preview");
}
