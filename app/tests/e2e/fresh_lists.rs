//! The runs list (API and page) is kept while the database has not
//! changed: what another process commits shows at the next request, and
//! so does what this server commits.

use modelrun_core::run::StatusChange;
use modelrun_core::status::RunStatus;

use crate::support::*;

/// The status the API's list gives for `id`.
async fn listed_status(api: &Api, id: i64) -> String {
    let list = api.get_json("/api/v1/runs?limit=5").await;
    let runs = list["runs"].as_array().expect("runs");
    let run = runs
        .iter()
        .find(|run| run["id"] == id)
        .unwrap_or_else(|| panic!("run {id} is not listed: {list}"));
    run["status"].as_str().expect("status").to_owned()
}

/// The status the `/runs` page shows for its newest run.
async fn page_status(browser: &Browser) -> String {
    let page = browser.page("/runs").await;
    let from = page
        .find("class=\"status status-")
        .expect("a status on the page");
    let rest = &page[from + "class=\"status status-".len()..];
    rest[..rest.find('"').expect("end of the class")].to_owned()
}

pub async fn a_kept_runs_list_shows_every_commit_at_once(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let run = api.submit_defaults("forecast").await;
    let id = run["id"].as_i64().expect("id");

    // Asked three times: built, then kept, then the one kept, the same.
    for _ in 0..3 {
        assert_eq!(listed_status(&api, id).await, "queued");
        assert_eq!(page_status(&browser).await, "queued");
    }

    // Another process (a separate worker) moves the run: the server hears
    // of it only through the database.
    let other = app.another_store().await;
    other
        .transition(StatusChange::new(run_id(id), RunStatus::Dispatching))
        .await
        .expect("dispatching");
    assert_eq!(listed_status(&api, id).await, "dispatching");
    assert_eq!(page_status(&browser).await, "dispatching");

    // A running run's duration grows with the clock, which no commit
    // moves: a list holding one is built afresh each time.
    for status in [RunStatus::Submitted, RunStatus::Running] {
        other
            .transition(StatusChange::new(run_id(id), status))
            .await
            .expect("moves on");
    }
    let duration = || async {
        let list = api.get_json("/api/v1/runs?limit=5").await;
        list["runs"][0]["duration_seconds"]
            .as_f64()
            .expect("a running run's duration")
    };
    let first = duration().await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let later = duration().await;
    assert!(later >= first + 1.0, "duration {first} s, then {later} s");

    // This server's own commit: a cancel through the API.
    let cancelled = api
        .post(&format!("/api/v1/runs/{id}/cancel"))
        .send()
        .await
        .expect("cancel");
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
    let now = listed_status(&api, id).await;
    assert!(matches!(now.as_str(), "cancelling" | "cancelled"), "{now}");
    assert_eq!(page_status(&browser).await, now);
}

fn run_id(id: i64) -> modelrun_core::ids::RunId {
    modelrun_core::ids::RunId(id)
}
