//! `POST /api/v1/models/{model}/versions/{label}/promote`: a version
//! becomes its model's production version.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::openapi as paths;
use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::guard::ClientAddr;
use crate::lifecycle::{find_version, promote};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(paths::VERSION_PROMOTE, post(promote_version))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromoteRequest {
    /// Missing reads as empty, so that it is refused with the same words
    /// as a blank note (`modelrun_core::alias::check_note`).
    #[serde(default)]
    note: String,
}

#[derive(Serialize)]
struct PromotionJson {
    model: String,
    version: String,
    alias: &'static str,
    previous: Option<String>,
    changed: bool,
}

async fn promote_version(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath((model, label)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<PromoteRequest>,
) -> ApiResult<Json<PromotionJson>> {
    let (model, version) = find_version(&state, &model, &label).await?;
    let promoted = promote(
        &state,
        &api.acting(),
        &client,
        &model,
        &version,
        &request.note,
    )
    .await?;
    Ok(Json(PromotionJson {
        model: model.model.name,
        version: version.label,
        alias: "production",
        previous: promoted.previous,
        changed: promoted.changed,
    }))
}
