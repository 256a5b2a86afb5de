//! Who is asking. Browsers carry a session cookie whose value is a random
//! token; the store keeps only its SHA-256, so a copy of the database hands
//! out no live session. Scripts send `Authorization: Bearer <token>`, kept
//! the same way.

mod passwords;
pub mod routes;
pub mod tokens;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use modelrun_core::config::WebConfig;
use modelrun_core::crypto::{random_hex, sha256_hex};
use modelrun_core::store::Store;
use modelrun_core::user::{Role, User};

pub use passwords::{
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password_rules, generate_password, hash_password,
    reset_password, verify_password,
};

use crate::error::{ApiError, AppError};

impl ApiUser {
    /// The owner as the token lets them act: with the lower of the two roles.
    pub fn acting(&self) -> User {
        User {
            role: self.role,
            ..self.user.clone()
        }
    }
}

/// A signed-in person, from their session cookie.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// The session's form token ([`crate::guard::csrf::token_for`]).
    pub csrf: String,
    /// The SHA-256 of the session token: the session's key in the store.
    pub session_hash: String,
    /// The time zone the browser reported ([`crate::locale::ZONE_COOKIE`]).
    pub browser_zone: Option<chrono_tz::Tz>,
    /// The person's own time zone and number style, read with the session.
    pub display: modelrun_core::display::DisplaySettings,
}

/// A script, from its bearer token. `role` is the lower of the token's and
/// its owner's.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub user: User,
    pub role: Role,
}

/// The name of the session cookie. Over HTTPS it has the `__Host-` prefix,
/// which browsers only accept with `Secure`, `Path=/` and no `Domain`.
pub fn cookie_name(config: &WebConfig) -> &'static str {
    if config.is_https() {
        "__Host-modelrun_session"
    } else {
        "modelrun_session"
    }
}

/// A new session token: what goes in the cookie, and what the store keeps.
pub fn new_session_token() -> (String, String) {
    let token = random_hex(32);
    let hash = sha256_hex(&token);
    (token, hash)
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Lax, Secure unless
/// the app is served over plain HTTP. No expiry: the server ends sessions.
pub fn session_cookie(config: &WebConfig, token: &str) -> HeaderValue {
    let secure = if config.is_https() { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        cookie_name(config)
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(config: &WebConfig) -> HeaderValue {
    let secure = if config.is_https() { "; Secure" } else { "" };
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(config)
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session token in the request's cookies, if any.
pub fn session_token<'a>(headers: &'a HeaderMap, config: &WebConfig) -> Option<&'a str> {
    cookie(headers, cookie_name(config))
}

/// The value of the cookie `name`, if the request has a non-empty one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Sends a browser without a session to the sign-in page, and back after.
#[derive(Debug)]
pub struct SignInFirst {
    next: String,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let next =
            percent_encoding::utf8_percent_encode(&self.next, percent_encoding::NON_ALPHANUMERIC);
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

/// Why a request has no signed-in user.
#[derive(Debug)]
pub enum NoUser {
    SignIn(SignInFirst),
    Failed(AppError),
}

impl IntoResponse for NoUser {
    fn into_response(self) -> Response {
        match self {
            NoUser::SignIn(redirect) => redirect.into_response(),
            NoUser::Failed(error) => error.into_response(),
        }
    }
}

async fn user_from_session<S>(parts: &Parts, state: &S) -> Result<Option<CurrentUser>, AppError>
where
    Arc<dyn Store>: FromRef<S>,
    Arc<WebConfig>: FromRef<S>,
{
    let config = Arc::<WebConfig>::from_ref(state);
    let Some(token) = session_token(&parts.headers, &config) else {
        return Ok(None);
    };
    let store = Arc::<dyn Store>::from_ref(state);
    let idle = chrono::Duration::from_std(config.session_idle).map_err(AppError::internal)?;
    let absolute =
        chrono::Duration::from_std(config.session_absolute).map_err(AppError::internal)?;
    let session_hash = sha256_hex(token);
    let person = store
        .session_person(&session_hash, Utc::now(), idle, absolute)
        .await?;
    let browser_zone =
        cookie(&parts.headers, crate::locale::ZONE_COOKIE).and_then(crate::locale::browser_zone);
    Ok(person.map(|(user, display)| CurrentUser {
        user,
        csrf: crate::guard::csrf::token_for(token),
        session_hash,
        browser_zone,
        display,
    }))
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    Arc<dyn Store>: FromRef<S>,
    Arc<WebConfig>: FromRef<S>,
{
    type Rejection = NoUser;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match user_from_session(parts, state).await {
            Ok(Some(current)) => Ok(current),
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |pq| pq.as_str())
                    .to_owned();
                Err(NoUser::SignIn(SignInFirst { next }))
            }
            Err(error) => Err(NoUser::Failed(error)),
        }
    }
}

impl<S> OptionalFromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    Arc<dyn Store>: FromRef<S>,
    Arc<WebConfig>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        user_from_session(parts, state).await
    }
}

/// 401 with a JSON body and a `WWW-Authenticate` challenge.
#[derive(Debug)]
pub enum NoToken {
    Missing,
    Invalid,
    Failed(AppError),
}

impl IntoResponse for NoToken {
    fn into_response(self) -> Response {
        let message = match self {
            NoToken::Failed(error) => return ApiError(error).into_response(),
            NoToken::Missing => "send an API token as `Authorization: Bearer <token>`",
            NoToken::Invalid => "the API token is not valid: it may be wrong, revoked or expired",
        };
        let body = serde_json::json!({ "error": { "status": 401, "message": message } });
        let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"modelrun\""),
        );
        response
    }
}

impl<S> FromRequestParts<S> for ApiUser
where
    S: Send + Sync,
    Arc<dyn Store>: FromRef<S>,
{
    type Rejection = NoToken;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(NoToken::Missing)?;
        let token = bearer_token(header).ok_or(NoToken::Invalid)?;
        let store = Arc::<dyn Store>::from_ref(state);
        match store.token_user(&sha256_hex(token), Utc::now()).await {
            Ok(Some((user, token))) => Ok(ApiUser {
                role: user.role.min(token.role),
                user,
            }),
            Ok(None) => Err(NoToken::Invalid),
            Err(error) => Err(NoToken::Failed(error.into())),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header. The scheme's
/// name is case-insensitive (RFC 9110, section 11.1), the token is not.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for header in [
            "Bearer mr_abc",
            "bearer mr_abc",
            "BEARER mr_abc",
            "BeArEr  mr_abc ",
        ] {
            assert_eq!(bearer_token(header), Some("mr_abc"), "{header}");
        }
        for header in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer   ",
            "mr_abc",
            "Negotiate abc",
        ] {
            assert_eq!(bearer_token(header), None, "{header}");
        }
    }

    #[test]
    fn finds_the_session_among_other_cookies() {
        let config = WebConfig::new("127.0.0.1:8080".parse().expect("addr"));
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; modelrun_session=abc; b=2"),
        );
        assert_eq!(session_token(&headers, &config), Some("abc"));
        headers.insert(COOKIE, HeaderValue::from_static("modelrun_session="));
        assert_eq!(session_token(&headers, &config), None);
    }

    #[test]
    fn cookies_are_secure_over_https_only() {
        let mut config = WebConfig::new("127.0.0.1:8080".parse().expect("addr"));
        let plain = session_cookie(&config, "t");
        assert_eq!(plain, "modelrun_session=t; Path=/; HttpOnly; SameSite=Lax");
        config.public_url = "https://models.example.com".to_owned();
        let secure = session_cookie(&config, "t");
        assert_eq!(
            secure,
            "__Host-modelrun_session=t; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
    }
}
