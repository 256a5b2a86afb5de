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
use modelrun_core::crypto::sha256_hex;
use modelrun_core::user::normalize_email;
use serde::Deserialize;

use super::{
    CurrentUser, clear_cookie, new_session_token, session_cookie, session_token, verify_password,
};
use crate::error::AppResult;
use crate::extract::PageForm;
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

/// Only paths on this site: `/runs/3`, never `//evil.example` or `https://…`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
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
    PageForm(form): PageForm<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let email = normalize_email(&form.email).unwrap_or_default();
    let credentials = if email.is_empty() {
        None
    } else {
        state.store.credentials(&email).await?
    };
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let valid = verify_password(form.password, hash).await?;
    let Some(credentials) = credentials.filter(|_| valid) else {
        tracing::info!("sign-in refused");
        let page = LoginPage {
            nav: Nav::anonymous(),
            email: form.email,
            next,
            error: Some("The email or the password is wrong.".to_owned()),
        };
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    let (token, hash) = new_session_token();
    state
        .store
        .create_session(&hash, credentials.user.id, Utc::now())
        .await?;
    tracing::info!(user_id = %credentials.user.id, "signed in");
    Ok((
        [(SET_COOKIE, session_cookie(&state.config, &token))],
        Redirect::to(&next),
    )
        .into_response())
}

async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    if let Some(token) = session_token(&headers, &state.config) {
        state.store.delete_session(&sha256_hex(token)).await?;
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
        ] {
            assert_eq!(safe_next(Some(outside)), "/");
        }
        assert_eq!(safe_next(None), "/");
    }
}
