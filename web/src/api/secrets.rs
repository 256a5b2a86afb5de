//! `/api/v1/models/{model}/secrets`: which secrets a model reads and which
//! are set (never a value), and, for admins, setting and deleting them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use modelrun_core::audit::Actor;
use modelrun_core::secret::Secret;
use serde::{Deserialize, Serialize};

use super::openapi as paths;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult, AppError};
use crate::extract::{ApiJson, ApiPath};
use crate::guard::ClientAddr;
use crate::policy::{Action, require};
use crate::secrets::{self, Change};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::MODEL_SECRETS, get(list))
        .route(paths::MODEL_SECRET, put(set).delete(delete))
}

#[derive(Serialize)]
struct SecretJson {
    name: String,
    /// Whether the model's latest version reads it.
    declared: bool,
    set: bool,
    /// Whether this server can read the value that is set (`false`: it was
    /// sealed with another key, and must be set again).
    readable: bool,
    updated_at: Option<DateTime<Utc>>,
    updated_by: Option<String>,
}

#[derive(Serialize)]
struct SecretsJson {
    secrets: Vec<SecretJson>,
}

async fn list(
    _: ApiUser,
    State(state): State<AppState>,
    ApiPath(model): ApiPath<String>,
) -> ApiResult<Json<SecretsJson>> {
    let found = state.store.model(&model).await?.ok_or(AppError::NotFound)?;
    let states = secrets::states(&state.vault, &model, &found.versions).await?;
    Ok(Json(SecretsJson {
        secrets: states
            .into_iter()
            .map(|s| SecretJson {
                set: s.set.is_some(),
                readable: s.set.as_ref().is_some_and(|i| i.unreadable.is_none()),
                updated_at: s.set.as_ref().map(|i| i.updated_at),
                updated_by: s.set.map(|i| i.updated_by),
                declared: s.declared,
                name: s.name,
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetRequest {
    value: String,
}

async fn set(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath((model, name)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<SetRequest>,
) -> ApiResult<Response> {
    require(api.role, Action::ManageSecrets)?;
    let change = Change {
        actor: Actor::user(api.user.id, &api.user.email),
        address: client.as_str(),
    };
    let value = Secret::new(request.value);
    secrets::set(&state.store, &state.vault, change, &model, &name, &value).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath((model, name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    require(api.role, Action::ManageSecrets)?;
    let change = Change {
        actor: Actor::user(api.user.id, &api.user.email),
        address: client.as_str(),
    };
    match secrets::delete(&state.store, &state.vault, change, &model, &name).await? {
        true => Ok(StatusCode::NO_CONTENT.into_response()),
        false => Err(ApiError(AppError::NotFound)),
    }
}
