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

    // The last N bytes of a file shorter than N: all of it, as a part
    // (RFC 9110 §14.1.3), not a refusal.
    let suffix = api
        .get(&path)
        .header("range", format!("bytes=-{}", whole.len() + 1000))
        .send()
        .await
        .expect("GET");
    assert_eq!(suffix.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        suffix.headers()["content-range"],
        format!("bytes 0-{}/{}", whole.len() - 1, whole.len()).as_str()
    );
    assert_eq!(suffix.bytes().await.expect("body"), whole);

    // A range the server does not serve as a part gets the whole file,
    // not a refusal: several ranges, another unit, a stale If-Range.
    let last_modified = part_last_modified(&api, &path).await;
    for (range, if_range) in [
        ("bytes=0-1,5-6", None),
        ("items=0-5", None),
        ("bytes=0-4", Some("Mon, 01 Jan 2024 00:00:00 GMT")),
        ("bytes=0-4", Some("\"an-entity-tag\"")),
    ] {
        let mut request = api.get(&path).header("range", range);
        if let Some(condition) = if_range {
            request = request.header("if-range", condition);
        }
        let response = request.send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "{range} {if_range:?}");
        assert_eq!(response.bytes().await.expect("body"), whole, "{range}");
    }
    let unchanged = api
        .get(&path)
        .header("range", "bytes=0-4")
        .header("if-range", &last_modified)
        .send()
        .await
        .expect("GET");
    assert_eq!(
        unchanged.status(),
        StatusCode::PARTIAL_CONTENT,
        "If-Range: the file's own date"
    );

    // The audit log has a download per download begun, not per part:
    // the ranges from byte 6 and past the end went on with one.
    let downloads = app
        .store
        .audit_entries(&modelrun_core::audit::AuditFilter {
            limit: 100,
            action: Some(modelrun_core::audit::AuditAction::Download),
            ..Default::default()
        })
        .await
        .expect("audit")
        .len();
    assert_eq!(
        downloads, 7,
        "the whole file, its first byte, four whole-file answers and bytes=0-4"
    );

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

/// The `Last-Modified` a download of `path` answers with.
async fn part_last_modified(api: &Api, path: &str) -> String {
    let response = api
        .get(path)
        .header("range", "bytes=0-0")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    response.headers()["last-modified"]
        .to_str()
        .expect("a date")
        .to_owned()
}
