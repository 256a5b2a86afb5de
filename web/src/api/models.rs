//! `GET /api/v1/models`: models, their versions and input schemas.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use modelrun_core::alias::Alias;
use modelrun_core::environment::EnvironmentStatus;
use modelrun_core::manifest::Resources;
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::outputs::Outputs;
use modelrun_core::task::{Job, SyncImages};
use serde::Serialize;

use super::openapi as paths;
use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::policy::{Action, require};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::MODELS, get(list))
        .route(paths::IMAGES_SYNC, post(sync_images))
}

#[derive(Serialize)]
struct VersionJson {
    label: String,
    /// What was registered (snapshot or image digest): bundles name it.
    digest: String,
    active: bool,
    /// `production` (the one version planners run) or `candidate`. A
    /// retired version (`active: false`) is never production and reads
    /// `candidate`: runs cannot use it and it cannot be promoted.
    alias: Alias,
    registered_at: DateTime<Utc>,
    registered_via: String,
    source_commit: Option<String>,
    resources: Resources,
    /// The most one run may ask for.
    max_resources: Resources,
    input_schema: serde_json::Value,
    /// Its environment, if it declares one: how the build went.
    environment: Option<EnvironmentJson>,
    /// The secrets it reads.
    secrets: Vec<String>,
    /// The charts and key figures it declares.
    outputs: Outputs,
}

#[derive(Serialize)]
struct EnvironmentJson {
    digest: String,
    status: EnvironmentStatus,
}

impl VersionJson {
    fn new(version: &ModelVersion, environment: Option<EnvironmentStatus>) -> Self {
        VersionJson {
            label: version.label.clone(),
            digest: version.digest.clone(),
            active: version.is_active(),
            alias: version.alias,
            registered_at: version.registered_at,
            registered_via: version.registered_via.clone(),
            source_commit: version.source_commit.clone(),
            resources: version.resources,
            max_resources: version.max_resources,
            input_schema: version.inputs.as_json().clone(),
            environment: version
                .environment
                .clone()
                .zip(environment)
                .map(|(digest, status)| EnvironmentJson { digest, status }),
            secrets: version.secrets.clone(),
            outputs: version.outputs.clone(),
        }
    }
}

#[derive(Serialize)]
struct ModelJson {
    name: String,
    title: String,
    description: String,
    owner: String,
    /// The newest active version, production or not.
    latest_version: Option<String>,
    /// The version planners run, and a run without a version runs.
    production_version: Option<String>,
    versions: Vec<VersionJson>,
}

impl ModelJson {
    fn new(model: &ModelWithVersions, environments: &HashMap<String, EnvironmentStatus>) -> Self {
        ModelJson {
            name: model.model.name.clone(),
            title: model.model.title.clone(),
            description: model.model.description.clone(),
            owner: model.model.owner.clone(),
            latest_version: model.latest_active().map(|v| v.label.clone()),
            production_version: model.production().map(|v| v.label.clone()),
            versions: model
                .versions
                .iter()
                .map(|v| {
                    let status = v
                        .environment
                        .as_ref()
                        .and_then(|d| environments.get(d))
                        .copied();
                    VersionJson::new(v, status)
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct ModelsJson {
    models: Vec<ModelJson>,
}

async fn list(_: ApiUser, State(state): State<AppState>) -> ApiResult<Json<ModelsJson>> {
    let models = state.store.models().await?;
    let mut environments = HashMap::new();
    for digest in models
        .iter()
        .flat_map(|m| &m.versions)
        .filter_map(|v| v.environment.as_ref())
    {
        if !environments.contains_key(digest)
            && let Some(environment) = state.store.environment(digest).await?
        {
            environments.insert(digest.clone(), environment.status);
        }
    }
    Ok(Json(ModelsJson {
        models: models
            .iter()
            .map(|m| ModelJson::new(m, &environments))
            .collect(),
    }))
}

/// Registers versions from newly pushed images now, rather than at the
/// next ECR push event or scheduled sync: the fallback for a build that
/// cannot rely on EventBridge. Admins only.
async fn sync_images(api: ApiUser, State(state): State<AppState>) -> ApiResult<Response> {
    require(api.role, Action::SyncImages)?;
    let task = state.store.enqueue(SyncImages {}.task()).await?;
    state.kicker.kick(&[task.id]).await;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "queued": true, "task": task.id })),
    )
        .into_response())
}
