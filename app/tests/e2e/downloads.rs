//! Downloads from a local directory are served as files: the whole file, a
//! range of it (a download that resumes), or a refusal for a range outside.

use reqwest::StatusCode;

use crate::support::*;

pub async fn a_download_resumes_from_a_range(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let run = api.submit_defaults("forecast").await;
    app.drain().await;
    let path = format!("/api/v1/runs/{}/outputs/forecast.csv", run["id"]);
    let whole = api.get(&path).send().await.expect("GET");
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-type"], "text/csv");
    assert!(
        whole.headers()["content-disposition"]
            .to_str()
            .is_ok_and(|v| v.starts_with("attachment; filename=\"forecast.csv\""))
    );
    let whole = whole.bytes().await.expect("body");

    let part = api
        .get(&path)
        .header("range", "bytes=6-")
        .send()
        .await
        .expect("GET");
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 6-{}/{}", whole.len() - 1, whole.len()).as_str()
    );
    assert_eq!(part.bytes().await.expect("body"), whole.slice(6..));

    let outside = api
        .get(&path)
        .header("range", format!("bytes={}-", whole.len() + 10))
        .send()
        .await
        .expect("GET");
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // The page's download is the same file.
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser
        .client
        .get(app.url(&format!("/runs/{}/outputs/forecast.csv", run["id"])))
        .header("range", "bytes=0-4")
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(page.text().await.expect("body"), "month");
}
