//! `GET /sweeps/{id}/archive`: "Download all" of an ended sweep, every
//! run's outputs in one zip with `index.csv`. While the worker builds it
//! the page says so and asks again by itself (a meta refresh, no script
//! needed), as a run's bundle page does.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use modelrun_core::ids::SweepId;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::bundle::{Fetched, RETRY_AFTER_SECONDS};
use crate::error::AppResult;
use crate::guard::ClientAddr;
use crate::state::AppState;
use crate::sweep_archive::fetch;
use crate::sweeps::visible_sweep;

pub fn router() -> Router<AppState> {
    Router::new().route("/sweeps/{id}/archive", get(download))
}

/// The page shown while an archive is being built.
#[derive(Template, WebTemplate)]
#[template(path = "sweep_archive.html")]
struct PreparingPage {
    nav: Nav,
    id: SweepId,
    runs: i64,
    refresh: u64,
}

async fn download(
    CurrentUser { user, csrf, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let sweep = visible_sweep(&state, &user, &id).await?;
    Ok(
        match fetch(&state, &user, &client, &sweep, &headers).await? {
            Fetched::Ready(response) => response,
            Fetched::Preparing => PreparingPage {
                nav: Nav::new(&user, &csrf, Section::Runs),
                id: sweep.id,
                runs: sweep.run_count,
                refresh: RETRY_AFTER_SECONDS,
            }
            .into_response(),
        },
    )
}
