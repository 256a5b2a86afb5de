//! `modelrun secrets`: set, delete and list model secrets on the server
//! this configuration names (its store and, on AWS, Secrets Manager).
//! A value is read from standard input, never from an argument, so that it
//! stays out of shell histories and process lists.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use modelrun_core::audit::Actor;
use modelrun_core::secret::Secret;
use modelrun_web::secrets::{self, Change};

use super::Global;

#[derive(Debug, Subcommand)]
pub(super) enum SecretsCommand {
    /// Set a secret's value, read from standard input (a trailing newline
    /// is dropped): `printf %s "$URL" | modelrun secrets set forecast WAREHOUSE_URL`.
    Set {
        /// The model's name.
        model: String,
        /// The secret's name, as the manifest's `secrets` lists it.
        name: String,
    },
    /// Delete a secret's value.
    Delete { model: String, name: String },
    /// The secrets a model reads and whether each is set (never a value).
    List { model: String },
}

pub(super) async fn run(global: &Global, command: SecretsCommand) -> anyhow::Result<()> {
    let settings = global.settings(String::new())?;
    let (store, vault) = settings.open_secrets().await?;
    let change = || Change {
        actor: Actor::system("cli"),
        address: "",
    };
    let describe = |error: modelrun_web::error::AppError| anyhow::anyhow!(error.public_message());
    match command {
        SecretsCommand::Set { model, name } => {
            let mut value = String::new();
            std::io::stdin()
                .read_to_string(&mut value)
                .context("reading the value from standard input")?;
            let value = Secret::new(value.strip_suffix('\n').unwrap_or(&value).to_owned());
            secrets::set(&store, &vault, change(), &model, &name, &value)
                .await
                .map_err(describe)?;
            println!("The secret {name} of {model} is set.");
        }
        SecretsCommand::Delete { model, name } => {
            match secrets::delete(&store, &vault, change(), &model, &name)
                .await
                .map_err(describe)?
            {
                true => println!("The secret {name} of {model} is deleted."),
                false => println!("The secret {name} of {model} was not set."),
            }
        }
        SecretsCommand::List { model } => {
            let found = store
                .model(&model)
                .await?
                .with_context(|| format!("there is no model {model}"))?;
            for state in secrets::states(&vault, &model, &found.versions)
                .await
                .map_err(describe)?
            {
                let set = match &state.set {
                    Some(info) => format!(
                        "set {} by {}",
                        info.updated_at.format("%Y-%m-%d %H:%M"),
                        info.updated_by
                    ),
                    None => "not set".to_owned(),
                };
                let declared = if state.declared {
                    ""
                } else {
                    " (not read by the latest version)"
                };
                println!("{}  {set}{declared}", state.name);
            }
        }
    }
    Ok(())
}
