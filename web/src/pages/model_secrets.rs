//! Administrators set and delete model secrets from the model's page. The
//! value travels once, in the form's body, and is never shown again.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use modelrun_core::audit::Actor;
use modelrun_core::secret::Secret;
use serde::Deserialize;

use super::Section;
use super::confirm::{Answer, Question, ask};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::guard::ClientAddr;
use crate::policy::{Action, require};
use crate::secrets::{self, Change};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/models/{name}/secrets/{secret}", post(set))
        .route("/models/{name}/secrets/{secret}/delete", post(delete))
}

#[derive(Deserialize)]
struct ValueForm {
    value: String,
}

async fn set(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path((name, secret)): Path<(String, String)>,
    PageForm(form): PageForm<ValueForm>,
) -> AppResult<Response> {
    require(user.role, Action::ManageSecrets)?;
    let change = Change {
        actor: Actor::user(user.id, &user.email),
        address: client.as_str(),
    };
    let value = Secret::new(form.value);
    secrets::set(&state.store, &state.vault, change, &name, &secret, &value).await?;
    Ok(Redirect::to(&format!("/models/{name}#secrets")).into_response())
}

async fn delete(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path((name, secret)): Path<(String, String)>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    let user = &current.user;
    require(user.role, Action::ManageSecrets)?;
    if !answer.given() {
        let question = Question {
            text: format!(
                "Delete the value of {secret}? Runs that read it will be refused until it is \
                 set again."
            ),
            yes: "Delete the value",
            no: "Keep it",
            back: format!("/models/{name}#secrets"),
        };
        let action = format!("/models/{name}/secrets/{secret}/delete");
        return Ok(ask(&current, Section::Models, question, action, Vec::new()));
    }
    let change = Change {
        actor: Actor::user(user.id, &user.email),
        address: client.as_str(),
    };
    secrets::delete(&state.store, &state.vault, change, &name, &secret).await?;
    Ok(Redirect::to(&format!("/models/{name}#secrets")).into_response())
}
