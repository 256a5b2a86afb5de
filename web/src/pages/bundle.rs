//! `GET /runs/{id}/bundle` and `GET /runs/{id}/outputs.zip`: an ended
//! run's reproducibility bundle and the zip of all its outputs, offered on
//! its page. While the worker builds one the page says so and asks again
//! by itself (a meta refresh, no script needed).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use modelrun_core::run::Run;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::bundle::{Fetched, RETRY_AFTER_SECONDS, RunZip, fetch};
use crate::error::AppResult;
use crate::guard::ClientAddr;
use crate::policy::visible_run;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/runs/{id}/bundle",
            get(download).layer(Extension(RunZip::Bundle)),
        )
        .route(
            "/runs/{id}/outputs.zip",
            get(download).layer(Extension(RunZip::Outputs)),
        )
}

/// The page shown while a run's zip is being built.
#[derive(Template, WebTemplate)]
#[template(path = "bundle.html")]
struct PreparingPage {
    nav: Nav,
    run: Run,
    refresh: u64,
    /// What is being made: "the bundle", "the zip of the outputs".
    what: &'static str,
    /// What it holds, as a sentence.
    holds: &'static str,
}

/// The zip, or the page that says it is being made and asks again.
async fn download(
    CurrentUser { user, csrf, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Extension(zip): Extension<RunZip>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    Ok(
        match fetch(&state, &user, &client, &run, zip, &headers).await? {
            Fetched::Ready(response) => response,
            Fetched::Preparing => PreparingPage {
                nav: Nav::new(&user, &csrf, Section::Runs),
                run,
                refresh: RETRY_AFTER_SECONDS,
                what: zip.title(),
                holds: zip.holds(),
            }
            .into_response(),
        },
    )
}
