//! What administrators see: the outbox of every message modelrun sent.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use modelrun_core::email::Email;
use modelrun_core::ids::EmailId;
use modelrun_core::user::User;
use serde::Deserialize;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::format;
use crate::locale::{LocalTime, Locale};
use crate::policy::{Action, require};
use crate::state::AppState;

const PAGE: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(outbox))
        .route("/admin/outbox/{id}", get(message))
        .route("/admin/outbox/{id}/html", get(message_html))
}

fn admin(user: &User) -> AppResult<()> {
    require(user.role, Action::ReadOutbox)
}

struct EmailRow {
    id: EmailId,
    to: String,
    subject: String,
    status: &'static str,
    created: String,
    created_ago: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "outbox.html")]
struct OutboxPage {
    nav: Nav,
    emails: Vec<EmailRow>,
    next: Option<EmailId>,
}

#[derive(Debug, Deserialize)]
struct OutboxQuery {
    before: Option<i64>,
}

async fn outbox(
    current: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<OutboxQuery>,
) -> AppResult<OutboxPage> {
    let locale = Locale::of(&current);
    let CurrentUser { user, csrf, .. } = current;
    admin(&user)?;
    let emails = state
        .store
        .list_emails(query.before.map(EmailId), PAGE)
        .await?;
    let now = Utc::now();
    let next = (emails.len() == PAGE as usize)
        .then(|| emails.last().map(|e| e.id))
        .flatten();
    Ok(OutboxPage {
        nav: Nav::admin(&user, &csrf, Section::Outbox, &state),
        emails: emails
            .into_iter()
            .map(|email| EmailRow {
                id: email.id,
                to: email.to,
                subject: email.subject,
                status: email.status.as_str(),
                created: locale.hover(email.created_at),
                created_ago: format::ago(email.created_at, now),
            })
            .collect(),
        next,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "email.html")]
struct EmailPage {
    nav: Nav,
    email: Email,
    created: LocalTime,
    sent: Option<LocalTime>,
    /// The zone of the times shown.
    zone: &'static str,
}

async fn load(state: &AppState, id: &str) -> AppResult<Email> {
    let id = id.parse::<EmailId>().map_err(|_| AppError::NotFound)?;
    state.store.email(id).await?.ok_or(AppError::NotFound)
}

async fn message(
    current: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<EmailPage> {
    admin(&current.user)?;
    let email = load(&state, &id).await?;
    let locale = Locale::of(&current);
    Ok(EmailPage {
        nav: Nav::admin(&current.user, &current.csrf, Section::Outbox, &state),
        created: locale.time(email.created_at),
        sent: email.sent_at.map(|at| locale.time(at)),
        zone: locale.zone_name(),
        email,
    })
}

/// The HTML body, served in a sandbox: no script runs, nothing loads.
async fn message_html(
    CurrentUser { user, .. }: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    admin(&user)?;
    let email = load(&state, &id).await?;
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'; style-src 'unsafe-inline'"),
            ),
        ],
        email.html,
    )
        .into_response())
}
