//! What a fresh install needs before anyone signs in: an administrator, and
//! the example model.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use modelrun_core::alias::Alias;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::model::Registered;
use modelrun_core::store::{Store, StoreError};
use modelrun_core::user::{ApiToken, NewUser, Role, User, normalize_email};
use modelrun_worker::environments::LocalEnvironments;
use modelrun_worker::register::{Registration, register_local};

use modelrun_web::auth::{check_password_rules, generate_password, hash_password};

/// The example models, built into the binary so that `up` works from any
/// directory: the forecast with Python's standard library only, and a
/// Holt-Winters forecast with packages from PyPI.
const EXAMPLES: [(&str, &[(&str, &str)]); 2] = [
    (
        "forecast",
        &[
            (
                "modelrun.toml",
                include_str!("../../examples/models/forecast/modelrun.toml"),
            ),
            (
                "forecast.py",
                include_str!("../../examples/models/forecast/forecast.py"),
            ),
            (
                "Dockerfile",
                include_str!("../../examples/models/forecast/Dockerfile"),
            ),
            (
                "README.md",
                include_str!("../../examples/models/forecast/README.md"),
            ),
        ],
    ),
    (
        "holt-winters",
        &[
            (
                "modelrun.toml",
                include_str!("../../examples/models/holt-winters/modelrun.toml"),
            ),
            (
                "requirements.txt",
                include_str!("../../examples/models/holt-winters/requirements.txt"),
            ),
            (
                "holt_winters.py",
                include_str!("../../examples/models/holt-winters/holt_winters.py"),
            ),
            (
                "history.csv",
                include_str!("../../examples/models/holt-winters/history.csv"),
            ),
            (
                "Dockerfile",
                include_str!("../../examples/models/holt-winters/Dockerfile"),
            ),
            (
                "README.md",
                include_str!("../../examples/models/holt-winters/README.md"),
            ),
        ],
    ),
];

/// Default email of the first administrator.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@localhost";

/// Creates a user, hashing the password, and records it in the audit log
/// as done by modelrun itself (`via`: `cli`, `bootstrap`).
pub async fn create_user_via(
    store: &Arc<dyn Store>,
    via: &str,
    email: &str,
    password: &str,
    role: Role,
) -> anyhow::Result<User> {
    let user = create_user(store, email, password, role).await?;
    let entry = NewAuditEntry::new(
        Actor::system(via),
        AuditAction::UserCreate,
        format!("user {}", user.id),
    )
    .detail(serde_json::json!({ "email": user.email, "role": user.role }));
    store.record_audit(entry).await?;
    Ok(user)
}

/// Creates a user, hashing the password.
pub async fn create_user(
    store: &Arc<dyn Store>,
    email: &str,
    password: &str,
    role: Role,
) -> anyhow::Result<User> {
    let email =
        normalize_email(email).map_err(|why| anyhow::anyhow!("the email {email:?} {why}"))?;
    check_password_rules(password).map_err(|why| anyhow::anyhow!("{why}"))?;
    let password_hash = hash_password(password.to_owned()).await?;
    match store
        .create_user(NewUser {
            email,
            password_hash,
            role,
        })
        .await
    {
        Ok(user) => Ok(user),
        Err(StoreError::Conflict(message)) => Err(anyhow::anyhow!(message)),
        Err(error) => Err(error.into()),
    }
}

/// Creates an API token for the user with this email. Returns the stored
/// token and the token itself, which is never stored and must be shown once.
pub async fn create_token(
    store: &Arc<dyn Store>,
    owner_email: &str,
    name: &str,
    role: Option<Role>,
    expires_in_days: Option<u32>,
) -> anyhow::Result<(ApiToken, String)> {
    let email =
        normalize_email(owner_email).map_err(|why| anyhow::anyhow!("the owner's email {why}"))?;
    let Some(owner) = store.credentials(&email).await?.map(|c| c.user) else {
        anyhow::bail!(
            "there is no user {email}; create one with `modelrun users create --email {email}`"
        );
    };
    let minted = modelrun_web::auth::tokens::mint(store, &owner, name, role, expires_in_days)
        .await
        .map_err(|error| anyhow::anyhow!(error.public_message()))?;
    let entry = NewAuditEntry::new(
        Actor::system("cli"),
        AuditAction::TokenCreate,
        format!("token {}", minted.0.id),
    )
    .detail(serde_json::json!({
        "owner": owner.email,
        "name": minted.0.name,
        "role": minted.0.role,
    }));
    store.record_audit(entry).await?;
    Ok(minted)
}

/// Creates the first administrator when there is no user at all. With no
/// password given, a random one is printed once. `cli` is how the person
/// runs modelrun's commands (`modelrun`, `cargo run --release --`), for the
/// hint they may need.
pub async fn ensure_admin(
    store: &Arc<dyn Store>,
    email: Option<&str>,
    password: Option<&str>,
    cli: &str,
) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        if email.is_some() || password.is_some() {
            let notice = ignored_admin_settings(store, email, password.is_some(), cli).await?;
            println!("{notice}");
        }
        return Ok(());
    }
    let email = email.unwrap_or(DEFAULT_ADMIN_EMAIL);
    match password {
        Some(password) => {
            let user = create_user_via(store, "bootstrap", email, password, Role::Admin)
                .await
                .context("the first administrator (MODELRUN_ADMIN_EMAIL, MODELRUN_ADMIN_PASSWORD or its secret)")?;
            println!(
                "Created the administrator {} with the configured password.",
                user.email
            );
        }
        None => {
            let password = generate_password();
            let user = create_user_via(store, "bootstrap", email, &password, Role::Admin)
                .await
                .context("MODELRUN_ADMIN_EMAIL")?;
            println!(
                "Created the administrator {} with the password {password}\n\
                 It is shown only this once: sign in and keep it somewhere safe.",
                user.email
            );
        }
    }
    Ok(())
}

/// What to tell a person who set `MODELRUN_ADMIN_EMAIL` or
/// `MODELRUN_ADMIN_PASSWORD` for a data directory that already has users:
/// both only shape the first administrator, on the first start.
async fn ignored_admin_settings(
    store: &Arc<dyn Store>,
    email: Option<&str>,
    password_given: bool,
    cli: &str,
) -> anyhow::Result<String> {
    let admins: Vec<String> = store
        .list_users()
        .await?
        .into_iter()
        .filter(|user| user.role == Role::Admin)
        .map(|user| user.email)
        .collect();
    let wanted = normalize_email(email.unwrap_or(DEFAULT_ADMIN_EMAIL)).ok();
    let (whom, example) = match wanted {
        Some(email) if admins.contains(&email) => {
            (format!("The administrator {email} already exists"), email)
        }
        _ => (
            format!(
                "This data directory already has its administrators ({})",
                admins.join(", ")
            ),
            admins
                .first()
                .cloned()
                .unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_owned()),
        ),
    };
    let ignored = match (email.is_some(), password_given) {
        (true, true) => "MODELRUN_ADMIN_EMAIL and MODELRUN_ADMIN_PASSWORD were ignored",
        (true, false) => "MODELRUN_ADMIN_EMAIL was ignored",
        _ => "MODELRUN_ADMIN_PASSWORD was ignored",
    };
    Ok(format!(
        "{whom}: {ignored}; they only create the first administrator, on the first start.\n\
         To set a new password: {cli} users set-password --email {example}"
    ))
}

/// Sets a new password for the user with this email and ends their
/// sessions, recorded in the audit log as done by `actor`.
pub async fn reset_password_of(
    store: &Arc<dyn Store>,
    actor: Actor,
    email: &str,
    password: &str,
) -> anyhow::Result<User> {
    let email = normalize_email(email).map_err(|why| anyhow::anyhow!("the email {why}"))?;
    check_password_rules(password).map_err(|why| anyhow::anyhow!("{why}"))?;
    let Some(user) = store.credentials(&email).await?.map(|c| c.user) else {
        anyhow::bail!("there is no user {email}");
    };
    modelrun_web::auth::reset_password(store, &user, password, actor, "").await?;
    Ok(user)
}

/// Disables or enables the account of `email`, with an audit entry. Fails
/// when there is no such user, or when it would disable the last enabled
/// administrator.
pub async fn set_disabled_of(
    store: &Arc<dyn Store>,
    actor: Actor,
    email: &str,
    disabled: bool,
) -> anyhow::Result<User> {
    let email = normalize_email(email).map_err(|why| anyhow::anyhow!("the email {why}"))?;
    let Some(user) = store.credentials(&email).await?.map(|c| c.user) else {
        anyhow::bail!("there is no user {email}");
    };
    let user = match store.set_disabled(user.id, disabled, Utc::now()).await {
        Err(StoreError::Conflict(why)) => anyhow::bail!("{email}: {why}"),
        other => other?,
    };
    let action = if disabled {
        AuditAction::UserDisable
    } else {
        AuditAction::UserEnable
    };
    let entry = NewAuditEntry::new(actor, action, format!("user {}", user.id))
        .detail(serde_json::json!({ "email": user.email }));
    store.record_audit(entry).await?;
    Ok(user)
}

/// Registers the built-in example models (a new version of one only if its
/// files changed). Their environments are built when a run first asks,
/// so that a fresh install starts at once.
/// A new release's example version becomes production while production is
/// an earlier example version: the example ships with modelrun, and
/// nobody chose another. A version someone promoted stays production.
async fn follow_example(store: &Arc<dyn Store>, example: &Registered) -> anyhow::Result<()> {
    let Registered::Created(version) = example else {
        return Ok(());
    };
    if version.alias == Alias::Production {
        return Ok(());
    }
    let Some(model) = store.model(&version.model).await? else {
        return Ok(());
    };
    let production = model.production();
    if production.is_some_and(|p| p.registered_via != "example") {
        return Ok(());
    }
    let promotion = store.promote_version(version.id).await?;
    let previous = promotion
        .previous
        .and_then(|id| model.versions.iter().find(|v| v.id == id))
        .map(|v| v.label.clone());
    let entry = NewAuditEntry::new(
        Actor::system("example"),
        AuditAction::VersionPromote,
        format!("version {}", version.id),
    )
    .detail(serde_json::json!({
        "model": version.model,
        "label": version.label,
        "alias": Alias::Production,
        "previous": previous,
        "note": "this release of modelrun brings a new version of its built-in example",
    }));
    store.record_audit(entry).await?;
    Ok(())
}

pub async fn register_examples(
    store: &Arc<dyn Store>,
    data_dir: &Path,
    environments: &LocalEnvironments,
) -> anyhow::Result<Vec<Registered>> {
    let mut registered = Vec::new();
    for (name, files) in EXAMPLES {
        let dir = data_dir.join("examples").join(name);
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for (file, content) in files {
            tokio::fs::write(dir.join(file), content)
                .await
                .with_context(|| format!("cannot write {}", dir.join(file).display()))?;
        }
        let registration = Registration {
            dir,
            label: None,
            via: "example".to_owned(),
            prepare_environment: false,
        };
        let example = register_local(store, data_dir, environments, registration)
            .await
            .with_context(|| format!("the example model {name}"))?;
        follow_example(store, &example).await?;
        registered.push(example);
    }
    Ok(registered)
}
