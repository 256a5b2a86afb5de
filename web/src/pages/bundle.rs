//! `GET /runs/{id}/bundle`: an ended run's reproducibility bundle, offered
//! on its page. While the worker builds it the page says so and asks again
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
use crate::bundle::{Fetched, RETRY_AFTER_SECONDS, fetch};
use crate::error::AppResult;
use crate::guard::ClientAddr;
use crate::policy::visible_run;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/runs/{id}/bundle", get(download))
}

/// The page shown while a bundle is being built.
#[derive(Template, WebTemplate)]
#[template(path = "bundle.html")]
struct PreparingPage {
    nav: Nav,
    run: Run,
    refresh: u64,
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
        }
        .into_response(),
    })
}
