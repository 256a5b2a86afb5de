//! A person's own account: their password, their API tokens, and how
//! times and numbers read on their pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::ids::TokenId;
use modelrun_core::user::{ApiToken, Role, User};
use serde::Deserialize;

use super::confirm::{Answer, Question, ask};
use super::{Nav, Section};
use crate::auth::routes::account_limit_key;
use crate::auth::tokens::{default_role, mint};
use crate::auth::{
    CurrentUser, MIN_PASSWORD_CHARS, check_password_rules, hash_password, verify_password,
};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::format;
use crate::guard::{ClientAddr, audit, check_limit};
use crate::locale::{LocalTime, Locale};
use crate::state::AppState;

mod display;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(page))
        .route("/account/password", post(change_password))
        .route("/account/display", post(display::save))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

struct TokenRow {
    id: TokenId,
    name: String,
    prefix: String,
    role: Role,
    created: LocalTime,
    expires: Option<LocalTime>,
    last_used: String,
}

impl TokenRow {
    fn new(token: &ApiToken, locale: &Locale) -> Self {
        let now = Utc::now();
        TokenRow {
            id: token.id,
            name: token.name.clone(),
            prefix: token.prefix.clone(),
            role: token.role,
            created: locale.time(token.created_at),
            expires: token.expires_at.map(|at| locale.time(at)),
            last_used: token
                .last_used_at
                .map_or_else(|| "never".to_owned(), |at| format::ago(at, now)),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    user: User,
    roles: Vec<Role>,
    /// The role the new-token form starts with: see [`default_role`].
    token_role: Role,
    tokens: Vec<TokenRow>,
    min_password: usize,
    /// A token just created, shown this once.
    new_token: Option<(String, String)>,
    password_message: Option<String>,
    password_error: Option<String>,
    token_error: Option<String>,
    token_name: String,
    display: display::DisplayForm,
}

impl AccountPage {
    /// The help under the token's role, for the roles this person may give.
    fn token_role_help(&self) -> &'static str {
        match self.user.role {
            Role::Viewer => {
                "Your account is a viewer's, so its tokens are too: they read models and runs."
            }
            Role::Runner => {
                "A runner submits and cancels runs; choose viewer for a script that only reads."
            }
            Role::Scientist | Role::Admin => {
                "A runner submits and cancels runs; choose more only for a script that needs it."
            }
        }
    }

    async fn load(state: &AppState, current: &CurrentUser) -> AppResult<Self> {
        let user = current.user.clone();
        let (tokens, settings) = tokio::try_join!(
            state.store.list_tokens(user.id),
            state.store.display_settings(user.id),
        )?;
        let locale = Locale::new(settings, current.browser_zone);
        Ok(AccountPage {
            nav: Nav::new(&user, &current.csrf, Section::Account),
            roles: Role::ALL.into_iter().filter(|r| *r <= user.role).collect(),
            token_role: default_role(user.role),
            tokens: tokens.iter().map(|t| TokenRow::new(t, &locale)).collect(),
            display: display::DisplayForm::new(settings, &locale),
            user,
            min_password: MIN_PASSWORD_CHARS,
            new_token: None,
            password_message: None,
            password_error: None,
            token_error: None,
            token_name: String::new(),
        })
    }
}

async fn page(current: CurrentUser, State(state): State<AppState>) -> AppResult<AccountPage> {
    AccountPage::load(&state, &current).await
}

fn actor(user: &User) -> Actor {
    Actor::user(user.id, &user.email)
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

/// Checks the current password (a wrong one counts like a failed sign-in), sets the
/// new one and ends every other session of the person.
async fn change_password(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    PageForm(form): PageForm<PasswordForm>,
) -> AppResult<Response> {
    let user = &current.user;
    let key = account_limit_key(&user.email);
    check_limit(
        &state,
        &key,
        state.config.limits.sign_in_per_account,
        "password checks for this account",
    )
    .await?;
    let stored = state
        .store
        .credentials(&user.email)
        .await?
        .map(|c| c.password_hash);
    let known = verify_password(form.current, stored).await?;
    if known {
        // Only wrong passwords count against the account.
        state.store.forgive(&key).await?;
    }
    let problem = if !known {
        Some("current password: it is not your password".to_owned())
    } else if form.new != form.confirm {
        Some("new password: the two entries differ".to_owned())
    } else {
        check_password_rules(&form.new)
            .err()
            .map(|why| format!("new password: {why}"))
    };
    if let Some(problem) = problem {
        let mut page = AccountPage::load(&state, &current).await?;
        page.password_error = Some(problem);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let hash = hash_password(form.new).await?;
    state
        .store
        .set_password(user.id, &hash, Some(&current.session_hash))
        .await?;
    let entry = NewAuditEntry::new(
        actor(user),
        AuditAction::PasswordChange,
        format!("user {}", user.id),
    )
    .from_address(client.as_str());
    audit(&state, entry).await;
    let mut page = AccountPage::load(&state, &current).await?;
    page.password_message =
        Some("Your password is changed. Your other sessions have ended.".to_owned());
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
    role: String,
    expires_in_days: String,
}

async fn create_token(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    PageForm(form): PageForm<TokenForm>,
) -> AppResult<Response> {
    let user = &current.user;
    let parsed = parse_token_form(&form);
    let minted = match parsed {
        Ok((role, days)) => mint(&state.store, user, &form.name, Some(role), days).await,
        Err(error) => Err(error),
    };
    let (token, secret) = match minted {
        Ok(minted) => minted,
        Err(error @ (AppError::BadRequest(_) | AppError::Forbidden(_))) => {
            let status = error.status();
            let mut page = AccountPage::load(&state, &current).await?;
            page.token_error = Some(error.public_message());
            page.token_name = form.name;
            if let Ok(role) = form.role.parse::<Role>()
                && role <= user.role
            {
                page.token_role = role;
            }
            return Ok((status, page).into_response());
        }
        Err(other) => return Err(other),
    };
    let entry = NewAuditEntry::new(
        actor(user),
        AuditAction::TokenCreate,
        format!("token {}", token.id),
    )
    .detail(serde_json::json!({ "name": token.name, "role": token.role }))
    .from_address(client.as_str());
    audit(&state, entry).await;
    let mut page = AccountPage::load(&state, &current).await?;
    page.new_token = Some((token.name, secret));
    Ok((StatusCode::CREATED, page).into_response())
}

fn parse_token_form(form: &TokenForm) -> AppResult<(Role, Option<u32>)> {
    let role = form
        .role
        .parse::<Role>()
        .map_err(|why| AppError::BadRequest(format!("role: {why}")))?;
    let days = match form.expires_in_days.trim() {
        "" => None,
        text => Some(text.parse::<u32>().map_err(|_| {
            AppError::BadRequest(
                "expires in days: must be a whole number of days, or empty for no expiry"
                    .to_owned(),
            )
        })?),
    };
    Ok((role, days))
}

async fn revoke_token(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    let user = &current.user;
    let id = id.parse::<TokenId>().map_err(|_| AppError::NotFound)?;
    if !answer.given() {
        let tokens = state.store.list_tokens(user.id).await?;
        let token = tokens
            .iter()
            .find(|token| token.id == id)
            .ok_or(AppError::NotFound)?;
        let question = Question {
            text: format!(
                "Revoke the token {}? Scripts using it stop working.",
                token.name
            ),
            yes: "Revoke the token",
            no: "Keep it",
            back: "/account".to_owned(),
        };
        let action = format!("/account/tokens/{id}/revoke");
        return Ok(ask(
            &current,
            Section::Account,
            question,
            action,
            Vec::new(),
        ));
    }
    state.store.revoke_token(user.id, id, Utc::now()).await?;
    let entry = NewAuditEntry::new(actor(user), AuditAction::TokenRevoke, format!("token {id}"))
        .from_address(client.as_str());
    audit(&state, entry).await;
    Ok(Redirect::to("/account").into_response())
}
