//! `GET /runs/{id}/bundle` and `GET /runs/{id}/outputs.zip`: an ended
//! run's reproducibility bundle and the zip of all its outputs, offered on
//! its page. While the worker builds one the page says so and asks again
//! by itself (a meta refresh, no script needed).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use modelrun_core::run::Run;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::bundle::{Fetched, RETRY_AFTER_SECONDS, fetch, fetch_outputs};
use crate::error::AppResult;
use crate::guard::ClientAddr;
use crate::policy::visible_run;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/runs/{id}/bundle", get(download))
        .route("/runs/{id}/outputs.zip", get(download_outputs))
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

async fn download(
    CurrentUser { user, csrf, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    Ok(match fetch(&state, &user, &client, &run, &headers).await? {
        Fetched::Ready(response) => response,
        Fetched::Preparing => PreparingPage {
            nav: Nav::new(&user, &csrf, Section::Runs),
            run,
            refresh: RETRY_AFTER_SECONDS,
            what: "the bundle",
            holds: "The bundle holds every input file and output of the run, so a large \
                    run's takes a moment to make.",
        }
        .into_response(),
    })
}

async fn download_outputs(
    CurrentUser { user, csrf, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    Ok(
        match fetch_outputs(&state, &user, &client, &run, &headers).await? {
            Fetched::Ready(response) => response,
            Fetched::Preparing => PreparingPage {
                nav: Nav::new(&user, &csrf, Section::Runs),
                run,
                refresh: RETRY_AFTER_SECONDS,
                what: "the zip of the outputs",
                holds: "The zip holds every output of the run, so a large run's takes a \
                        moment to make.",
            }
            .into_response(),
        },
    )
}
