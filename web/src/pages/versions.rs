//! Administrators retire versions: a retired version stays visible with
//! its runs, and takes no new runs.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use chrono::Utc;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::user::Role;

use crate::auth::{CurrentUser, require};
use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, audit};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/models/{name}/versions/{label}/retire", post(retire))
}

async fn retire(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path((name, label)): Path<(String, String)>,
) -> AppResult<Response> {
    require(user.role, Role::Admin, "retire versions")?;
    let model = state.store.model(&name).await?.ok_or(AppError::NotFound)?;
    let version = model
        .versions
        .iter()
        .find(|v| v.label == label)
        .ok_or(AppError::NotFound)?;
    if version.is_active() {
        state.store.retire_version(version.id, Utc::now()).await?;
        let entry = NewAuditEntry::new(
            Actor::user(user.id, &user.email),
            AuditAction::VersionRetire,
            format!("version {}", version.id),
        )
        .detail(serde_json::json!({ "model": name, "label": label }))
        .from_address(client.as_str());
        audit(&state, entry).await;
    }
    Ok(Redirect::to(&format!("/models/{name}")).into_response())
}
