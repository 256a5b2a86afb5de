//! Cross-site request forgery. A state-changing request that carries our
//! session cookie is refused (403) unless the browser says it comes from
//! this site: `Sec-Fetch-Site: same-origin`, or an `Origin` that is ours.
//! A browser that sends neither must send the session's token in the form
//! (`_csrf`), which every form of ours carries. A call that authenticates
//! with a bearer token and carries no session cookie is exempt: browsers do
//! not attach bearer tokens by themselves. Any other `Authorization` header
//! (Basic, Negotiate, NTLM: browsers do attach those, in front of intranet
//! apps) exempts nothing, and a request with our session cookie is always
//! checked.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use modelrun_core::config::WebConfig;
use modelrun_core::crypto::sha256_hex;

use crate::auth::{bearer_token, session_token};
use crate::error::AppError;
use crate::state::AppState;

/// The name of the token field in forms.
pub const FIELD: &str = "_csrf";

/// The form token of a session: derived from its secret cookie value, so
/// that it needs no storage and dies with the session.
pub fn token_for(session_token: &str) -> String {
    sha256_hex(format!("csrf\u{0}{session_token}"))
}

/// What the request's headers say of where it comes from.
#[derive(Debug, PartialEq, Eq)]
enum Provenance {
    SameOrigin,
    CrossSite(String),
    /// Neither `Sec-Fetch-Site` nor `Origin`: an old browser, or not a browser.
    Unknown,
}

fn provenance(headers: &HeaderMap, config: &WebConfig) -> Provenance {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site == Some("same-origin") {
        return Provenance::SameOrigin;
    }
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    if let Some(origin) = origin {
        if is_our_origin(origin, headers, config) {
            return Provenance::SameOrigin;
        }
        return Provenance::CrossSite(format!("Origin {origin}"));
    }
    match fetch_site {
        Some(site) => Provenance::CrossSite(format!("Sec-Fetch-Site {site}")),
        None => Provenance::Unknown,
    }
}

/// The configured public origin, or the host the request was sent to.
fn is_our_origin(origin: &str, headers: &HeaderMap, config: &WebConfig) -> bool {
    let origin = origin.trim_end_matches('/');
    if origin == public_origin(&config.public_url) {
        return true;
    }
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((host, authority), (Some(host), Some(authority)) if host.eq_ignore_ascii_case(authority))
}

/// `https://models.example.com` of `https://models.example.com/base/`.
fn public_origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// A bearer token and no session cookie: a script, never a browser's own.
fn is_api_call(headers: &HeaderMap, config: &WebConfig) -> bool {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_token)
        .is_some();
    bearer && session_token(headers, config).is_none()
}

/// 403, as a page or as JSON under `/api/`, where a script reads it.
fn refused(why: &str, path: &str) -> Response {
    tracing::warn!(why, "cross-site request refused");
    AppError::Forbidden(
        "This request did not come from a page of this site, so it was refused. Reload the \
         page and try again."
            .to_owned(),
    )
    .respond_to(path)
}

pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if !changes_state(request.method()) || is_api_call(headers, &state.config) {
        return next.run(request).await;
    }
    match provenance(headers, &state.config) {
        Provenance::SameOrigin => next.run(request).await,
        Provenance::CrossSite(why) => refused(&why, request.uri().path()),
        Provenance::Unknown => {
            let Some(session) = session_token(headers, &state.config).map(str::to_owned) else {
                // No session to ride on: signing in is all that is left.
                return next.run(request).await;
            };
            let is_form = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if !is_form {
                return refused(
                    "no Origin, no Sec-Fetch-Site and not a form",
                    request.uri().path(),
                );
            }
            let (parts, body) = request.into_parts();
            let Ok(bytes) = to_bytes(body, state.config.max_body_bytes).await else {
                return AppError::TooLarge(format!(
                    "the request body is larger than the limit of {} bytes",
                    state.config.max_body_bytes
                ))
                .respond_to(parts.uri.path());
            };
            let expected = token_for(&session);
            let sent = form_urlencoded::parse(&bytes)
                .find(|(key, _)| key == FIELD)
                .map(|(_, value)| value.into_owned());
            match sent {
                Some(sent) if constant_time_eq(sent.as_bytes(), expected.as_bytes()) => {
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                Some(_) => refused("wrong form token", parts.uri.path()),
                None => refused("no form token", parts.uri.path()),
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::headers;

    fn config() -> WebConfig {
        let mut config = WebConfig::new("127.0.0.1:8080".parse().expect("addr"));
        config.public_url = "https://models.example.com/".to_owned();
        config
    }

    #[test]
    fn our_origin_is_the_public_url_or_the_host() {
        let config = config();
        let ok = |pairs| provenance(&headers(pairs), &config) == Provenance::SameOrigin;
        assert!(ok(&[("origin", "https://models.example.com")]));
        assert!(ok(&[
            ("origin", "http://localhost:8080"),
            ("host", "localhost:8080")
        ]));
        assert!(ok(&[("sec-fetch-site", "same-origin")]));
        assert!(!ok(&[
            ("origin", "https://evil.example"),
            ("host", "models.example.com")
        ]));
        assert!(!ok(&[("origin", "null")]));
        assert!(!ok(&[("sec-fetch-site", "cross-site")]));
        assert!(!ok(&[("sec-fetch-site", "same-site")]));
        assert_eq!(provenance(&headers(&[]), &config), Provenance::Unknown);
    }

    #[test]
    fn only_a_bearer_token_without_a_session_is_exempt() {
        let config = config();
        let exempt = |pairs| is_api_call(&headers(pairs), &config);
        assert!(exempt(&[("authorization", "Bearer mr_x")]));
        assert!(exempt(&[("authorization", "BEARER mr_x")]));
        assert!(
            !exempt(&[("authorization", "Basic dXNlcjpwYXNz")]),
            "a browser sends Basic by itself"
        );
        assert!(!exempt(&[("authorization", "Negotiate YII=")]));
        assert!(
            !exempt(&[
                ("authorization", "Bearer mr_x"),
                ("cookie", "__Host-modelrun_session=abc")
            ]),
            "a request with our session cookie is checked"
        );
        assert!(!exempt(&[]));
    }

    #[test]
    fn tokens_are_per_session() {
        assert_ne!(token_for("a"), token_for("b"));
        assert_eq!(token_for("a"), token_for("a"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn public_origins_drop_the_path() {
        assert_eq!(
            public_origin("https://a.example/base/"),
            "https://a.example"
        );
        assert_eq!(
            public_origin("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
