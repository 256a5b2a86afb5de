//! Headers on every response: a strict Content-Security-Policy (scripts and
//! styles only from this site, no inline script, no framing), no MIME
//! sniffing, no referrer to other sites, no caching of anything but static
//! assets, and HSTS when served over HTTPS.

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The policy of every page. A response that sets its own (the sandboxed
/// email preview) keeps it.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

const HSTS: &str = "max-age=31536000; includeSubDomains";

pub async fn secure_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // Pages send uploads straight to the bucket where the store signs them.
    if let Some(origins) = state.blob.upload_origins()
        && !headers.contains_key(CONTENT_SECURITY_POLICY)
    {
        let policy = CSP.replace(
            "connect-src 'self'",
            &format!("connect-src 'self' {origins}"),
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(CONTENT_SECURITY_POLICY, value);
        }
    }
    let mut set_default = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set_default(CONTENT_SECURITY_POLICY, CSP);
    set_default(CACHE_CONTROL, "no-store");
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if state.config.is_https() {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}
