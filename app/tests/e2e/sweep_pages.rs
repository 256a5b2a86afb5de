//! A sweep's pages: the list, the sweep's page (what varies, the tally,
//! the results table sorted on the server, the compare form, the chart
//! coloured by the first varied input), "Cancel sweep", and the link from
//! each of its runs back to it.

use modelrun_core::config::RunVisibility;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::security::{BOB_EMAIL, BOB_PASSWORD, add_bob, hidden};
use crate::support::*;

/// Submits a forecast sweep of six runs (growth 0.02 to 0.04, seasonality
/// flat or retail) through the API and returns its id.
async fn submit_sweep(api: &Api) -> i64 {
    let created = api
        .post("/api/v1/models/forecast/sweeps")
        .json(&json!({
            "inputs": {"horizon_months": 3},
            "vary": {
                "growth_rate": {"from": 0.02, "to": 0.04, "step": 0.01},
                "seasonality": ["none", "retail"]
            }
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let sweep: Value = created.json().await.expect("json");
    sweep["id"].as_i64().expect("id")
}

/// The results table's rows, each as its cells' text.
fn result_rows(page: &str) -> Vec<Vec<String>> {
    let start = page.find("id=\"sweep-results\"").expect("results table");
    let body = &page[start..];
    let body = &body[body.find("<tbody>").expect("tbody")..body.find("</tbody>").expect("end")];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').map_or(0, |i| i + 1)..];
                    let cell = &cell[..cell.find("</td>").unwrap_or(cell.len())];
                    text_of(cell)
                })
                .collect()
        })
        .collect()
}

/// Text without its tags, trimmed.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The column of the header cell whose link sorts by `key`.
fn column(page: &str, key: &str) -> usize {
    let start = page.find("id=\"sweep-results\"").expect("results table");
    let head = &page[start..start + page[start..].find("</thead>").expect("thead")];
    let at = head
        .find(&format!("?sort={key}&amp;"))
        .or_else(|| head.find(&format!("?sort={key}&")))
        .unwrap_or_else(|| panic!("no column {key}"));
    let before = &head[..at];
    before.matches("<th").count() - before.matches("<thead").count() - 1
}

pub async fn the_sweep_page_shows_sorts_and_compares_its_runs(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = submit_sweep(&api).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let path = format!("/sweeps/{id}");

    let waiting = browser.page(&path).await;
    assert!(
        waiting.contains(&format!("Sweep #{id} of forecast")),
        "{waiting}"
    );
    assert!(
        waiting.contains("0 of 6 runs ended; 6 waiting."),
        "{waiting}"
    );
    assert!(
        waiting.contains("data-live=\"true\""),
        "it refreshes itself"
    );
    assert!(waiting.contains("<meta http-equiv=\"refresh\""));
    assert!(waiting.contains("Cancel sweep"));
    assert!(
        !waiting.contains("id=\"sweep-archive\""),
        "not before every run ended"
    );
    assert!(waiting.contains("<strong>Monthly growth rate</strong>: 0.02, 0.03, 0.04"));
    assert!(
        waiting.contains("Flat, Retail: strong Q4"),
        "choices by their labels"
    );
    assert!(waiting.contains("Horizon (months)"), "the fixed inputs");

    app.drain().await;
    let page = browser.page(&path).await;
    assert!(page.contains("6 of 6 runs ended: 6 succeeded."), "{page}");
    assert!(page.contains("data-live=\"false\""));
    assert!(!page.contains("Cancel sweep"));
    assert!(page.contains(&format!("href=\"/sweeps/{id}/archive\"")));
    let rows = result_rows(&page);
    assert_eq!(rows.len(), 6, "one row per run");
    // Grid order: the first varied input changes slowest.
    let growth = column(&page, "input.growth_rate");
    let season = column(&page, "input.seasonality");
    let grid: Vec<(&str, &str)> = rows
        .iter()
        .map(|row| (row[growth].as_str(), row[season].as_str()))
        .collect();
    assert_eq!(
        grid,
        [
            ("0.02", "Flat"),
            ("0.02", "Retail: strong Q4"),
            ("0.03", "Flat"),
            ("0.03", "Retail: strong Q4"),
            ("0.04", "Flat"),
            ("0.04", "Retail: strong Q4"),
        ]
    );
    assert!(rows.iter().all(|row| row.contains(&"succeeded".to_owned())));

    // The chart: every run drawn, each growth rate once in the legend.
    let svg = &page[page.find("id=\"sweep-chart-title\"").expect("chart")..];
    let svg = &svg[..svg.find("</svg>").expect("end")];
    assert_eq!(svg.matches("<path").count(), 6, "every run");
    assert_eq!(svg.matches("chart-key").count(), 3, "each value once");
    assert_eq!(svg.matches("Monthly growth rate: 0.03").count(), 1);

    // Sorted by a key figure, as numbers, both ways.
    let total = column(&page, "figure.total_revenue");
    let number = |text: &str| {
        let digits = text.replace([',', '€'], "");
        digits.parse::<f64>().expect("a figure")
    };
    for dir in ["asc", "desc"] {
        let sorted = browser
            .page(&format!("{path}?sort=figure.total_revenue&dir={dir}"))
            .await;
        let totals: Vec<f64> = result_rows(&sorted)
            .iter()
            .map(|row| number(&row[total]))
            .collect();
        let mut expected = totals.clone();
        expected.sort_by(f64::total_cmp);
        if dir == "desc" {
            expected.reverse();
        }
        assert_eq!(totals, expected, "{dir}");
        assert_ne!(totals.first(), totals.last());
        let order = if dir == "asc" {
            "ascending"
        } else {
            "descending"
        };
        assert_eq!(sorted.matches(&format!("aria-sort=\"{order}\"")).count(), 1);
    }
    let refused = browser.get(&format!("{path}?sort=nope")).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.expect("body").contains("sort"));

    // Any two runs compare.
    assert!(page.contains("action=\"/compare\""));
    let ids: Vec<String> = rows
        .iter()
        .map(|row| row[1].trim_start_matches('#').to_owned())
        .collect();
    for run in &ids {
        assert!(page.contains(&format!("name=\"runs\" value=\"{run}\"")));
    }
    let compare = browser
        .page(&format!("/compare?runs={}&runs={}", ids[0], ids[5]))
        .await;
    assert!(compare.contains("Compare runs of forecast"));

    // Each run says which sweep it is part of, and where.
    let run = browser.page(&format!("/runs/{}", ids[1])).await;
    assert!(
        run.contains(&format!(
            "Part of <a href=\"/sweeps/{id}\">sweep #{id}</a> (growth_rate = 0.02, seasonality = retail)"
        )),
        "{run}"
    );
    let list = browser.page("/sweeps").await;
    assert!(
        list.contains(&format!("<a href=\"/sweeps/{id}\">#{id}</a>")),
        "{list}"
    );
    assert!(list.contains("6 of 6 runs ended: 6 succeeded."));
}

pub async fn cancel_sweep_stops_its_active_runs(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    add_bob(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = submit_sweep(&api).await;
    let path = format!("/sweeps/{id}");

    // Another runner sees the sweep but may not cancel it.
    let bob = app.signed_in(BOB_EMAIL, BOB_PASSWORD).await;
    let page = bob.page(&path).await;
    assert!(!page.contains("Cancel sweep"));
    let csrf = hidden(&page, "_csrf");
    let refused = bob
        .post_form(&format!("{path}/cancel"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Without script the press asks on a page of its own, and stops nothing
    // until it is answered.
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = ann.page(&path).await;
    let csrf = hidden(&page, "_csrf");
    let asked = ann
        .post_form(&format!("{path}/cancel"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let question = asked.text().await.expect("body");
    assert!(
        question.contains(&format!("Cancel sweep #{id}? Its active runs stop")),
        "{question}"
    );
    assert!(question.contains(&format!("action=\"{path}/cancel\"")));
    assert_eq!(hidden(&question, "confirmed"), "1");
    assert!(question.contains(&format!("<a href=\"{path}\">Keep it running</a>")));
    let sweep = api.get_json(&format!("/api/v1/sweeps/{id}")).await;
    assert_ne!(sweep["status"], "cancelled", "{sweep}");
    let done = ann
        .post_form(
            &format!("{path}/cancel"),
            &[("_csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), format!("{path}?cancelled=6"));
    let page = ann.page(&location(&done)).await;
    assert!(page.contains("6 runs were asked to stop."), "{page}");
    app.drain().await;
    let page = ann.page(&path).await;
    assert!(page.contains("6 of 6 runs ended: 6 cancelled."), "{page}");
    assert!(page.contains("status-cancelled"));
    let sweep = api.get_json(&format!("/api/v1/sweeps/{id}")).await;
    assert_eq!(sweep["status"], "cancelled", "{sweep}");
}

pub async fn own_only_hides_other_peoples_sweeps(kind: StoreKind) {
    let app = TestApp::spawn_with(kind, |web| web.run_visibility = RunVisibility::Own).await;
    add_bob(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = submit_sweep(&api).await;
    let path = format!("/sweeps/{id}");

    let bob = app.signed_in(BOB_EMAIL, BOB_PASSWORD).await;
    assert_eq!(bob.get(&path).await.status(), StatusCode::NOT_FOUND);
    let csrf = hidden(&bob.page("/sweeps").await, "_csrf");
    let cancel = bob
        .post_form(&format!("{path}/cancel"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
    assert!(
        !bob.page("/sweeps")
            .await
            .contains(&format!("href=\"{path}\""))
    );

    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        admin
            .page("/sweeps")
            .await
            .contains(&format!("href=\"{path}\""))
    );
    assert!(
        admin.page(&path).await.contains("Cancel sweep"),
        "admins cancel any"
    );
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    assert!(
        ann.page("/sweeps")
            .await
            .contains(&format!("href=\"{path}\""))
    );
}

pub async fn a_sweep_of_the_most_runs_still_renders(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created = api
        .post("/api/v1/models/forecast/sweeps")
        .json(&json!({
            "inputs": {"horizon_months": 3},
            "vary": {
                "growth_rate": {"from": 0.01, "to": 0.2, "step": 0.01},
                "churn_rate": [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09]
            }
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let started = std::time::Instant::now();
    let page = browser
        .page(&format!("/sweeps/{id}?sort=input.churn_rate&dir=desc"))
        .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(page.contains("0 of 200 runs ended; 200 waiting."), "{page}");
    let rows = result_rows(&page);
    assert_eq!(rows.len(), 200);
    let churn = column(&page, "input.churn_rate");
    assert_eq!(rows[0][churn], "0.09");
    assert_eq!(rows[199][churn], "0");
}
