//! Sessions, passwords and cross-site requests.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

use super::{hidden, submit};
use crate::support::*;

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("modelrun_session="))
        .expect("a session cookie")
        .to_owned()
}

async fn sign_in(browser: &Browser, password: &str) -> reqwest::Response {
    browser
        .post_form("/login", &[("email", RUNNER_EMAIL), ("password", password)])
        .await
}

/// A new session id at each sign-in, HttpOnly and SameSite=Lax; sign-out
/// ends the session on the server, so a kept copy of the cookie is dead.
pub async fn sessions_are_new_at_sign_in_and_end_at_sign_out(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let first = session_cookie(&sign_in(&app.browser(), RUNNER_PASSWORD).await);
    let browser = app.browser();
    let response = sign_in(&browser, RUNNER_PASSWORD).await;
    let second = session_cookie(&response);
    assert_ne!(first, second, "every sign-in gets a new id");
    assert!(
        second.contains("HttpOnly") && second.contains("SameSite=Lax"),
        "{second}"
    );
    assert!(!second.contains("Secure"), "plain-HTTP localhost");
    let value = second.split(';').next().expect("pair").to_owned();

    let copy = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let with_copy = |path: &'static str| {
        copy.get(app.url(path))
            .header("cookie", value.clone())
            .send()
    };
    assert_eq!(
        with_copy("/models").await.expect("GET").status(),
        StatusCode::OK
    );
    let out = browser.post_form("/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        with_copy("/models").await.expect("GET").status(),
        StatusCode::SEE_OTHER,
        "the session ended on the server, not only in the browser"
    );
}

/// A session idle longer than the idle timeout, or older than the absolute
/// timeout, is refused.
pub async fn a_session_that_timed_out_is_refused(store: StoreKind) {
    let idle = TestApp::spawn_with(store, |web| web.session_idle = Duration::from_secs(1)).await;
    let browser = idle.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    assert_eq!(browser.get("/models").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refused = browser.get("/models").await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&refused), "/login?next=%2Fmodels");

    let absolute =
        TestApp::spawn_with(store, |web| web.session_absolute = Duration::from_secs(2)).await;
    let browser = absolute.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    // Active all along, yet refused once the session is older than 2 s.
    for _ in 0..3 {
        assert_eq!(browser.get("/models").await.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(browser.get("/models").await.status(), StatusCode::SEE_OTHER);
}

/// Changing the password ends the person's other sessions and keeps this
/// one; the rules name the limit; long passphrases are welcome.
pub async fn a_password_change_ends_the_other_sessions(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let here = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let elsewhere = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let short = here
        .post_form(
            "/account/password",
            &[
                ("current", RUNNER_PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short
            .text()
            .await
            .expect("body")
            .contains("at least 12 characters")
    );
    let wrong = here
        .post_form(
            "/account/password",
            &[
                ("current", "not my password"),
                ("new", "x".repeat(20).as_str()),
                ("confirm", "x".repeat(20).as_str()),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        elsewhere.get("/models").await.status(),
        StatusCode::OK,
        "nothing changed yet"
    );

    let passphrase = "correct horse battery staple ".repeat(4); // 116 characters
    let changed = here
        .post_form(
            "/account/password",
            &[
                ("current", RUNNER_PASSWORD),
                ("new", &passphrase),
                ("confirm", &passphrase),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(
        changed
            .text()
            .await
            .expect("body")
            .contains("Your other sessions have ended")
    );
    assert_eq!(here.get("/models").await.status(), StatusCode::OK);
    assert_eq!(
        elsewhere.get("/models").await.status(),
        StatusCode::SEE_OTHER
    );
    let old = sign_in(&app.browser(), RUNNER_PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = sign_in(&app.browser(), &passphrase).await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);
}

/// A state-changing request with our session cookie is refused unless it
/// comes from our own pages; the form token serves browsers that send
/// neither `Origin` nor `Sec-Fetch-Site`; bearer-token calls are exempt.
pub async fn cross_site_posts_are_refused(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = submit(&api).await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let cancel = format!("/runs/{id}/cancel");
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![],
        // Behind a proxy with HTTP authentication, the browser adds its
        // credentials to every request, a sibling site's too.
        vec![
            ("origin", "https://evil.example"),
            ("authorization", "Basic YW5uOnB3"),
        ],
        vec![
            ("origin", "https://evil.example"),
            ("authorization", "Negotiate YII="),
        ],
        vec![
            ("origin", "https://evil.example"),
            ("authorization", "Bearer mr_not_a_token"),
        ],
    ] {
        let refused = ann.post_form_with(&cancel, &[], &headers).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{headers:?}");
    }
    let wrong_token = ann.post_form_with(&cancel, &[("_csrf", "0123")], &[]).await;
    assert_eq!(wrong_token.status(), StatusCode::FORBIDDEN);
    let run = app
        .store
        .run(modelrun_core::ids::RunId(id))
        .await
        .expect("q")
        .expect("run");
    assert_eq!(run.status.as_str(), "queued", "nothing was cancelled");
    // Signing out is a POST too: a cross-site one leaves the session alone.
    let logout = ann
        .post_form_with("/logout", &[], &[("origin", "https://evil.example")])
        .await;
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    assert_eq!(ann.get("/models").await.status(), StatusCode::OK);

    let token = hidden(&ann.page(&format!("/runs/{id}")).await, "_csrf");
    let with_token = ann
        .post_form_with(&cancel, &[("_csrf", &token), ("confirmed", "1")], &[])
        .await;
    assert_eq!(
        with_token.status(),
        StatusCode::SEE_OTHER,
        "the fallback token works"
    );
    let same_origin = ann
        .post_form_with("/logout", &[], &[("sec-fetch-site", "same-origin")])
        .await;
    assert_eq!(same_origin.status(), StatusCode::SEE_OTHER);

    // The API is exempt: no cookie rides along with a bearer token.
    let id = submit(&api).await;
    let cancelled = api
        .post(&format!("/api/v1/runs/{id}/cancel"))
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .expect("POST");
    assert_eq!(cancelled.status(), StatusCode::ACCEPTED);
}

/// An administrator resets a lost password from the Users page: the new
/// one is shown once, the person's sessions end, the new password signs in,
/// the audit log says who did it, and nobody resets their own this way.
pub async fn an_admin_resets_a_lost_password(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let runner = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let ann = app
        .store
        .credentials(RUNNER_EMAIL)
        .await
        .expect("query")
        .expect("runner")
        .user;
    let page = admin
        .post_form(
            &format!("/admin/users/{}/password", ann.id),
            &[("confirmed", "1")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.expect("body");
    let password = body
        .split("<code id=\"reset-password\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the new password, shown once")
        .to_owned();
    assert_eq!(password.len(), 24);
    assert_eq!(
        runner.get("/models").await.status(),
        StatusCode::SEE_OTHER,
        "the person's sessions ended"
    );
    assert_eq!(admin.get("/models").await.status(), StatusCode::OK);
    let old = app.browser();
    let refused = old
        .post_form(
            "/login",
            &[("email", RUNNER_EMAIL), ("password", RUNNER_PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    app.signed_in(RUNNER_EMAIL, &password).await;

    let admin_id = app
        .store
        .credentials(ADMIN_EMAIL)
        .await
        .expect("query")
        .expect("admin")
        .user
        .id;
    let own = admin
        .post_form(&format!("/admin/users/{admin_id}/password"), &[])
        .await;
    assert_eq!(own.status(), StatusCode::CONFLICT);
    let runner = app.signed_in(RUNNER_EMAIL, &password).await;
    let forbidden = runner
        .post_form(&format!("/admin/users/{admin_id}/password"), &[])
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let log = admin.page("/admin/audit?action=password_reset").await;
    assert!(
        log.contains(ADMIN_EMAIL) && log.contains(&format!("user {}", ann.id)),
        "{log}"
    );
}

/// Where a sign-in leads stays on this site, whatever `next` says: after
/// the browser's own clean-up (tabs and line breaks dropped, `\` read as
/// `/`) too, and never with a 500.
pub async fn next_never_leaves_the_site(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    for next in [
        "/%09/evil.example/x",
        "/%0d",
        "/%0a/evil.example",
        "/%5Cevil.example",
        "https://evil.example",
    ] {
        let response = ann.get(&format!("/login?next={next}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&response), "/", "{next}");
    }
    let stay = ann.get("/login?next=/runs%3Fstatus%3Dfailed").await;
    assert_eq!(location(&stay), "/runs?status=failed");

    let fresh = app.browser();
    for next in ["/\t/evil.example/x", "/\r", "/\u{7f}"] {
        let signed_in = fresh
            .post_form(
                "/login",
                &[
                    ("email", RUNNER_EMAIL),
                    ("password", RUNNER_PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&signed_in), "/", "{next:?}");
    }
}
