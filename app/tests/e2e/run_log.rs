//! The run page follows the end of a long log: the exception a model died
//! with is on the page and in the run's reason, with the whole log one
//! click away.

use crate::support::*;

pub async fn the_run_page_shows_the_end_of_a_long_log(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    // 1.1 MB of output, then a traceback on stderr.
    app.register_model(
        "crashing",
        r#"name = "crashing"
command = ["sh", "-c", "yes 'loading data' | head -c 1100008; printf 'Traceback (most recent call last):\nValueError: no data for 2027-01\n' >&2; exit 1"]
[inputs]
type = "object"
"#,
    )
    .await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created = api.submit_defaults("crashing").await;
    app.drain().await;
    let id = created["id"].as_i64().expect("id");
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = ann.page(&format!("/runs/{id}")).await;

    let reason = page
        .split_once("<p class=\"reason status-failed\">")
        .and_then(|(_, rest)| rest.split_once("</p>"))
        .map(|(reason, _)| reason)
        .expect("the reason on the page");
    assert!(
        reason.starts_with("the model exited with code 1; the last lines it printed:"),
        "{reason}"
    );
    assert!(
        reason.ends_with("ValueError: no data for 2027-01"),
        "{reason}"
    );

    let log = page
        .split_once("<pre class=\"log\" tabindex=\"0\" data-follow>")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(log, _)| log)
        .expect("the log on the page");
    assert!(
        log.ends_with("Traceback (most recent call last):\nValueError: no data for 2027-01\n"),
        "the log shows its end: …{}",
        &log[log.len().saturating_sub(200)..]
    );
    assert!(log.starts_with("loading data\n"), "from a line's start");
    assert!(
        log.len() <= 256 * 1024,
        "{} bytes of log on the page",
        log.len()
    );
    assert!(page.contains("Earlier lines are not shown"));
    assert!(page.contains(&format!("<a href=\"/runs/{id}/log\">Full log</a>")));

    let whole = ann.get(&format!("/runs/{id}/log")).await;
    let whole = whole.text().await.expect("the whole log");
    assert_eq!(
        whole.len(),
        1_100_008 + 67,
        "the full log is one click away"
    );
}
