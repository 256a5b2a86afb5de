//! Signing in and out.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::user::normalize_email;
use serde::Deserialize;

use super::{CurrentUser, clear_cookie, new_session_token, session_cookie, verify_password};
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::guard::{ClientAddr, Refused, audit, count_attempt};
use crate::pages::Nav;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Longest `next` accepted.
const MAX_NEXT_CHARS: usize = 2048;

/// Only paths on this site: `/runs/3`, never `//evil.example`, `https://…`
/// or anything a browser would turn into one. Browsers drop tabs and line
/// breaks from a URL and read `\` as `/` (the URL standard), so `/\t/evil`
/// is `//evil`: a `next` with a control character or a backslash anywhere
/// is refused, and what is left must be a path of this site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.len() <= MAX_NEXT_CHARS
                && path.starts_with('/')
                && !path.starts_with("//")
                && !path.chars().any(|c| c.is_control() || c == '\\') =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

async fn login_page(user: Option<CurrentUser>, Query(query): Query<NextQuery>) -> Response {
    let next = safe_next(query.next.as_deref());
    if user.is_some() {
        return Redirect::to(&next).into_response();
    }
    LoginPage {
        nav: Nav::anonymous(),
        email: String::new(),
        next,
        error: None,
    }
    .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    PageForm(form): PageForm<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let email = normalize_email(&form.email).unwrap_or_default();
    let tried = if email.is_empty() {
        "(not an email)"
    } else {
        &email
    };
    if let Err(refused) = check_sign_in_limits(&state, &email, &client).await? {
        // One row per limit and window: a flood of refusals is not a flood of rows.
        if refused.first {
            let entry = NewAuditEntry::new(Actor::anonymous(tried), AuditAction::SignInLimited, "")
                .from_address(client.as_str());
            audit(&state, entry).await;
        }
        return Err(refused.error);
    }
    let credentials = if email.is_empty() {
        None
    } else {
        state.store.credentials(&email).await?
    };
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let valid = verify_password(form.password, hash).await?;
    let credentials = match credentials {
        Some(known) if valid && !known.user.is_disabled() => known,
        known => {
            tracing::info!("sign-in refused");
            // Only the right password learns that the account is disabled.
            let disabled = valid && known.as_ref().is_some_and(|k| k.user.is_disabled());
            let (status, message) = if disabled {
                (
                    StatusCode::FORBIDDEN,
                    "This account is disabled. An administrator can enable it again.",
                )
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    "The email or the password is wrong.",
                )
            };
            let actor = match &known {
                Some(known) => Actor::user(known.user.id, &known.user.email),
                None => Actor::anonymous(tried),
            };
            let detail =
                serde_json::json!({ "known_account": known.is_some(), "disabled": disabled });
            let entry = NewAuditEntry::new(actor, AuditAction::SignInFailed, "")
                .detail(detail)
                .from_address(client.as_str());
            audit(&state, entry).await;
            let page = LoginPage {
                nav: Nav::anonymous(),
                email: form.email,
                next,
                error: Some(message.to_owned()),
            };
            return Ok((status, page).into_response());
        }
    };
    // Only failed sign-ins count against the account: this one is taken back.
    if !email.is_empty() {
        state.store.forgive(&account_limit_key(&email)).await?;
    }
    let (token, hash) = new_session_token();
    state
        .store
        .create_session(&hash, credentials.user.id, Utc::now())
        .await?;
    tracing::info!(user_id = %credentials.user.id, "signed in");
    let user = &credentials.user;
    let entry = NewAuditEntry::new(Actor::user(user.id, &user.email), AuditAction::SignIn, "")
        .from_address(client.as_str());
    audit(&state, entry).await;
    Ok((
        [(SET_COOKIE, session_cookie(&state.config, &token))],
        Redirect::to(&next),
    )
        .into_response())
}

/// The rate-limit key of sign-ins to one account.
pub(crate) fn account_limit_key(email: &str) -> String {
    format!("sign-in:account:{email}")
}

/// Counts the attempt against the client's address, then against the
/// account. The account's count is taken back when the sign-in succeeds, so
/// that only failures count there; every attempt counts against the
/// address. An address over its limit does not reach the account count, so
/// that it cannot fill the store with the counters of made-up emails.
async fn check_sign_in_limits(
    state: &AppState,
    email: &str,
    client: &ClientAddr,
) -> AppResult<Result<(), Refused>> {
    let limits = state.config.limits;
    if !client.as_str().is_empty() {
        let key = format!("sign-in:address:{}", client.as_str());
        let counted = count_attempt(
            state,
            &key,
            limits.sign_in_per_address,
            "sign-in attempts from your address",
        )
        .await?;
        if counted.is_err() {
            return Ok(counted);
        }
    }
    if email.is_empty() {
        return Ok(Ok(()));
    }
    count_attempt(
        state,
        &account_limit_key(email),
        limits.sign_in_per_account,
        "sign-in attempts for this account",
    )
    .await
}

async fn logout(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    client: ClientAddr,
) -> AppResult<Response> {
    if let Some(current) = user {
        state.store.delete_session(&current.session_hash).await?;
        let user = &current.user;
        let entry = NewAuditEntry::new(Actor::user(user.id, &user.email), AuditAction::SignOut, "")
            .from_address(client.as_str());
        audit(&state, entry).await;
    }
    Ok((
        [(SET_COOKIE, clear_cookie(&state.config))],
        Redirect::to("/login"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/runs/3?x=1")), "/runs/3?x=1");
        for outside in [
            "//evil.example",
            "https://evil.example",
            "evil",
            "/\\evil.example",
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/\r",
            "\t//evil.example",
            "/runs/3\u{7f}",
        ] {
            assert_eq!(safe_next(Some(outside)), "/");
        }
        assert_eq!(safe_next(None), "/");
    }
}
