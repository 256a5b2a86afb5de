//! One-shot commands: migrate, models, users, tokens. All but `migrate`
//! act on an existing installation (see [`super::installation`]).

use std::io::BufRead;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use modelrun_core::audit::Actor;
use modelrun_core::model::Registered;
use modelrun_core::store::Store;
use modelrun_core::user::{Role, normalize_email};
use modelrun_worker::environments::LocalEnvironments;
use modelrun_worker::register::{Registration, register_local};

use super::installation::Uses;
use super::{Global, ModelsCommand, parse_role};
use modelrun_web::auth::generate_password;

use crate::bootstrap::{create_token, create_user_via, reset_password_of, set_disabled_of};
use crate::runtime::{Settings, describe};

#[derive(Debug, Subcommand)]
pub(super) enum UsersCommand {
    /// Create a user. Prints a random password unless one is given on stdin.
    Create {
        /// Their email address, which they sign in with.
        #[arg(long)]
        email: String,
        /// What they may do: viewer, runner (submits runs of production
        /// versions), scientist (also candidates) or admin.
        #[arg(long, default_value = "runner", value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for a user and end their sessions (their API
    /// tokens stay valid). Prints a random password unless one is given on stdin.
    SetPassword {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account: it cannot sign in, and its sessions and API
    /// tokens stop (a running server notices within 2 s). The last enabled
    /// administrator cannot be disabled.
    Disable {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again; its API tokens work again.
    Enable {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum TokensCommand {
    /// Create an API token. The token is printed once, alone on the last line.
    Create {
        /// Email of the token's owner.
        #[arg(long)]
        user: String,
        /// A name to tell the token apart.
        #[arg(long, default_value = "cli")]
        name: String,
        /// The token's role, no higher than its owner's (default: runner, which
        /// submits and cancels runs, or the owner's role when that is lower).
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        /// Days until the token expires (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
}

/// What `models register` did, in words that name the model; `asked` is
/// the `--label` given, if any.
fn registered_message(registered: &Registered, asked: Option<&str>) -> String {
    match registered {
        Registered::Created(version) => {
            let mut message = format!("{}: registered version {}.", version.model, version.label);
            if version.environment.is_some() {
                message.push_str(
                    "\nIts environment is being built from its requirements; the version's \
                     page shows the installer's output, and runs wait until it is ready.",
                );
            }
            message
        }
        Registered::Unchanged(version) => {
            let mut message = format!(
                "{}: unchanged; version {} is already registered with these files.",
                version.model, version.label
            );
            if let Some(asked) = asked.filter(|asked| *asked != version.label) {
                message.push_str(&format!(
                    " The label {asked} was not used: a new version needs changed files."
                ));
            }
            if !version.is_active() {
                message.push_str(
                    " It is retired: register the files under another --label to run them again.",
                );
            }
            message
        }
    }
}

/// The store of the existing installation that a command uses.
async fn open(global: &Global, uses: Uses) -> anyhow::Result<(Settings, Arc<dyn Store>)> {
    let existing = global.existing(uses)?;
    let settings = &existing.settings;
    let store = modelrun_db::open(&settings.database, settings.migrate)
        .await
        .with_context(|| format!("cannot open {}", describe(&settings.database)))?;
    existing.say_which();
    Ok((existing.settings, store))
}

/// Applies migrations; with SQLite this begins a new installation when
/// there is none.
pub(super) async fn migrate(global: &Global) -> anyhow::Result<()> {
    let settings = global.settings(String::new())?;
    modelrun_db::open(&settings.database, true)
        .await
        .context("migrating the database")?;
    println!(
        "The database is up to date: {}.",
        describe(&settings.database)
    );
    Ok(())
}

pub(super) async fn models(global: &Global, command: ModelsCommand) -> anyhow::Result<()> {
    if let ModelsCommand::List { server } = &command
        && server.names_a_server()?
    {
        return super::client::runs::list_models(server).await;
    }
    if let ModelsCommand::Promote {
        model,
        label,
        note,
        server,
    } = &command
        && server.names_a_server()?
    {
        return super::client::lifecycle::promote(server, model, label, note).await;
    }
    let uses = match &command {
        ModelsCommand::Register { .. } => Uses::VersionFiles,
        ModelsCommand::List { .. } | ModelsCommand::Promote { .. } => Uses::Database,
    };
    let (settings, store) = open(global, uses).await?;
    match command {
        ModelsCommand::Register { dir, label } => {
            let registration = Registration {
                dir,
                label: label.clone(),
                via: "cli".to_owned(),
                prepare_environment: true,
            };
            let environments = LocalEnvironments::new(settings.local.environments.clone());
            let registered =
                register_local(&store, &global.data_dir, &environments, registration).await?;
            println!("{}", registered_message(&registered, label.as_deref()));
        }
        ModelsCommand::Promote {
            model, label, note, ..
        } => super::lifecycle::promote_here(store.as_ref(), &model, &label, &note).await?,
        ModelsCommand::List { server: _ } => {
            for model in store.models().await? {
                println!("{} — {}", model.model.name, model.model.title);
                for version in &model.versions {
                    let state = if version.is_active() {
                        format!(" ({})", version.alias)
                    } else {
                        " (retired)".to_owned()
                    };
                    println!(
                        "  {}  registered {} via {}{state}",
                        version.label,
                        version.registered_at.format("%Y-%m-%d %H:%M"),
                        version.registered_via
                    );
                }
            }
        }
    }
    Ok(())
}

pub(super) async fn users(global: &Global, command: UsersCommand) -> anyhow::Result<()> {
    let (_, store) = open(global, Uses::Database).await?;
    match command {
        UsersCommand::Create {
            email,
            role,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            let user = create_user_via(&store, "cli", &email, &password, role).await?;
            println!("Created {} ({}).", user.email, user.role);
            if generated {
                println!("Password, shown only this once:\n{password}");
            }
        }
        UsersCommand::SetPassword {
            email,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            let user = reset_password_of(&store, Actor::system("cli"), &email, &password).await?;
            println!(
                "The password of {} is set; their sessions have ended.",
                user.email
            );
            if generated {
                println!("Password, shown only this once:\n{password}");
            }
        }
        UsersCommand::Disable { email } => {
            let user = set_disabled_of(&store, Actor::system("cli"), &email, true).await?;
            println!(
                "{} is disabled: they cannot sign in, and their sessions and tokens stop working within 2 s.",
                user.email
            );
        }
        UsersCommand::Enable { email } => {
            let user = set_disabled_of(&store, Actor::system("cli"), &email, false).await?;
            println!("{} is enabled again.", user.email);
        }
    }
    Ok(())
}

/// The first line of standard input, or a generated password (`true`).
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((generate_password(), true));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
}

pub(super) async fn tokens(global: &Global, command: TokensCommand) -> anyhow::Result<()> {
    let TokensCommand::Create {
        user,
        name,
        role,
        expires_in_days,
    } = command;
    let (_, store) = open(global, Uses::Database).await?;
    let (created, token) = create_token(&store, &user, &name, role, expires_in_days).await?;
    let expiry = created.expires_at.map_or_else(
        || "never expires".to_owned(),
        |at| format!("expires {}", at.format("%Y-%m-%d")),
    );
    println!(
        "Created the token {:?} of {} with the {} role; it {expiry}.",
        created.name,
        normalize_email(&user).unwrap_or_else(|_| user.clone()),
        created.role
    );
    println!("It is shown only this once:");
    println!("{token}");
    Ok(())
}
