//! Administrators manage people: create accounts, change roles, reset
//! passwords, disable and enable accounts.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::ids::UserId;
use modelrun_core::store::StoreError;
use modelrun_core::user::{NewUser, Role, User, normalize_email};
use serde::Deserialize;

use super::confirm::{Answer, Question, ask};
use super::{Nav, Section};
use crate::auth;
use crate::auth::{CurrentUser, check_password_rules, generate_password, hash_password};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::guard::{ClientAddr, audit};
use crate::locale::{LocalTime, Locale};
use crate::policy::{Action, require};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(create))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/users/{id}/disable", post(disable))
        .route("/admin/users/{id}/enable", post(enable))
}

struct UserRow {
    user: User,
    created: LocalTime,
    /// When the account was disabled; `None` while enabled.
    disabled: Option<LocalTime>,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Nav,
    me: UserId,
    users: Vec<UserRow>,
    roles: [Role; 4],
    /// The zone of the times shown.
    zone: &'static str,
    error: Option<String>,
    email: String,
    /// The account just created and its generated password, shown once.
    created: Option<(String, String)>,
    /// The account whose password was just reset, and the new password, shown once.
    reset: Option<(String, String)>,
}

impl UsersPage {
    async fn load(state: &AppState, current: &CurrentUser) -> AppResult<Self> {
        require(current.user.role, Action::ManageUsers)?;
        let users = state.store.list_users().await?;
        let locale = Locale::of(current);
        Ok(UsersPage {
            nav: Nav::admin(&current.user, &current.csrf, Section::Users, state),
            me: current.user.id,
            users: users
                .into_iter()
                .map(|user| UserRow {
                    created: locale.time(user.created_at),
                    disabled: user.disabled_at.map(|at| locale.time(at)),
                    user,
                })
                .collect(),
            roles: Role::ALL,
            zone: locale.zone_name(),
            error: None,
            email: String::new(),
            created: None,
            reset: None,
        })
    }
}

async fn list(current: CurrentUser, State(state): State<AppState>) -> AppResult<UsersPage> {
    UsersPage::load(&state, &current).await
}

#[derive(Deserialize)]
struct NewUserForm {
    email: String,
    role: String,
    /// Empty: a password is generated and shown once.
    #[serde(default)]
    password: String,
}

async fn create(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    PageForm(form): PageForm<NewUserForm>,
) -> AppResult<Response> {
    let mut page = UsersPage::load(&state, &current).await?;
    let checked = check_new_user(&form);
    let (email, role) = match checked {
        Ok(checked) => checked,
        Err(message) => {
            page.error = Some(message);
            page.email = form.email;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let generated = form.password.is_empty();
    let password = if generated {
        generate_password()
    } else {
        form.password
    };
    let password_hash = hash_password(password.clone()).await?;
    let created = state
        .store
        .create_user(NewUser {
            email: email.clone(),
            password_hash,
            role,
        })
        .await;
    let user = match created {
        Ok(user) => user,
        Err(StoreError::Conflict(message)) => {
            page.error = Some(format!("email: {message}"));
            page.email = email;
            return Ok((StatusCode::CONFLICT, page).into_response());
        }
        Err(other) => return Err(other.into()),
    };
    let admin = &current.user;
    let entry = NewAuditEntry::new(
        Actor::user(admin.id, &admin.email),
        AuditAction::UserCreate,
        format!("user {}", user.id),
    )
    .detail(serde_json::json!({ "email": user.email, "role": user.role }))
    .from_address(client.as_str());
    audit(&state, entry).await;
    let mut page = UsersPage::load(&state, &current).await?;
    page.created = Some((user.email, if generated { password } else { String::new() }));
    Ok((StatusCode::CREATED, page).into_response())
}

fn check_new_user(form: &NewUserForm) -> Result<(String, Role), String> {
    let email = normalize_email(&form.email).map_err(|why| format!("email: {why}"))?;
    let role = form
        .role
        .parse::<Role>()
        .map_err(|why| format!("role: {why}"))?;
    if !form.password.is_empty() {
        check_password_rules(&form.password).map_err(|why| format!("password: {why}"))?;
    }
    Ok((email, role))
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

async fn change_role(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(form): PageForm<RoleForm>,
) -> AppResult<Response> {
    require(current.user.role, Action::ManageUsers)?;
    let id = id.parse::<UserId>().map_err(|_| AppError::NotFound)?;
    if id == current.user.id {
        return Err(AppError::Conflict(
            "You cannot change your own role: ask another administrator, so that there is \
             always one left."
                .to_owned(),
        ));
    }
    let role = form
        .role
        .parse::<Role>()
        .map_err(|why| AppError::BadRequest(format!("role: {why}")))?;
    let before = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    let user = state.store.set_role(id, role).await?;
    let admin = &current.user;
    let entry = NewAuditEntry::new(
        Actor::user(admin.id, &admin.email),
        AuditAction::UserRoleChange,
        format!("user {}", user.id),
    )
    .detail(serde_json::json!({ "email": user.email, "from": before.role, "to": user.role }))
    .from_address(client.as_str());
    audit(&state, entry).await;
    Ok(Redirect::to("/admin/users").into_response())
}

/// Gives another user a new random password, shown once to the
/// administrator to pass on, and ends that user's sessions.
async fn reset_password(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    require(current.user.role, Action::ManageUsers)?;
    let id = id.parse::<UserId>().map_err(|_| AppError::NotFound)?;
    if id == current.user.id {
        return Err(AppError::Conflict(
            "Change your own password on your Account page.".to_owned(),
        ));
    }
    let user = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    if !answer.given() {
        let question = Question {
            text: format!(
                "Reset the password of {}? Their password stops working and their sessions end.",
                user.email
            ),
            yes: "Reset the password",
            no: "Keep it",
            back: "/admin/users".to_owned(),
        };
        let action = format!("/admin/users/{id}/password");
        return Ok(ask(&current, Section::Users, question, action, Vec::new()));
    }
    let password = generate_password();
    let admin = &current.user;
    let actor = Actor::user(admin.id, &admin.email);
    auth::reset_password(&state.store, &user, &password, actor, client.as_str()).await?;
    let mut page = UsersPage::load(&state, &current).await?;
    page.reset = Some((user.email, password));
    Ok(page.into_response())
}

/// Disables another user's account once the administrator has said yes.
async fn disable(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    require(current.user.role, Action::ManageUsers)?;
    let user_id = id.parse::<UserId>().map_err(|_| AppError::NotFound)?;
    if !answer.given() && user_id != current.user.id {
        let user = state.store.user(user_id).await?.ok_or(AppError::NotFound)?;
        let question = Question {
            text: format!(
                "Disable the account of {}? They cannot sign in, and their sessions and API \
                 tokens stop at once.",
                user.email
            ),
            yes: "Disable the account",
            no: "Keep it enabled",
            back: "/admin/users".to_owned(),
        };
        let action = format!("/admin/users/{user_id}/disable");
        return Ok(ask(&current, Section::Users, question, action, Vec::new()));
    }
    set_disabled(current, client, state, id, true).await
}

async fn enable(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_disabled(current, client, state, id, false).await
}

/// Disables or enables another user's account. The store refuses to
/// disable the last enabled administrator (409).
async fn set_disabled(
    current: CurrentUser,
    client: ClientAddr,
    state: AppState,
    id: String,
    disabled: bool,
) -> AppResult<Response> {
    require(current.user.role, Action::ManageUsers)?;
    let id = id.parse::<UserId>().map_err(|_| AppError::NotFound)?;
    if id == current.user.id && disabled {
        return Err(AppError::Conflict(
            "You cannot disable your own account: ask another administrator.".to_owned(),
        ));
    }
    let user = state.store.set_disabled(id, disabled, Utc::now()).await?;
    let admin = &current.user;
    let action = if disabled {
        AuditAction::UserDisable
    } else {
        AuditAction::UserEnable
    };
    let entry = NewAuditEntry::new(
        Actor::user(admin.id, &admin.email),
        action,
        format!("user {}", user.id),
    )
    .detail(serde_json::json!({ "email": user.email }))
    .from_address(client.as_str());
    audit(&state, entry).await;
    Ok(Redirect::to("/admin/users").into_response())
}
