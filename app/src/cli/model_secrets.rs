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
use super::installation::Uses;

#[derive(Debug, Subcommand)]
pub(super) enum SecretsCommand {
    /// Set a secret's value, read from standard input (one trailing line
    /// end, `\n` or `\r\n`, is dropped): `printf %s "$URL" | modelrun secrets
    /// set forecast WAREHOUSE_URL`. At most 32 KiB.
    Set {
        /// The model's name.
        model: String,
        /// The secret's name, as the manifest's `secrets` lists it.
        name: String,
    },
    /// Delete a secret's value.
    Delete {
        /// The model's name.
        model: String,
        /// The secret's name, as the manifest's `secrets` lists it.
        name: String,
    },
    /// The secrets a model reads and whether each is set (never a value).
    List {
        /// The model's name.
        model: String,
    },
}

pub(super) async fn run(global: &Global, command: SecretsCommand) -> anyhow::Result<()> {
    let existing = global.existing(Uses::SecretsKey)?;
    let (store, vault) = existing.settings.open_secrets().await?;
    existing.say_which();
    let (SecretsCommand::Set { model, .. }
    | SecretsCommand::Delete { model, .. }
    | SecretsCommand::List { model }) = &command;
    // The one message for a model that is not there, whatever the subcommand.
    let found = store.model(model).await?.with_context(|| {
        format!("there is no model {model}; `modelrun models list` names the models")
    })?;
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
            let value = Secret::new(piped_value(value));
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
            for state in secrets::states(&vault, &model, &found.versions)
                .await
                .map_err(describe)?
            {
                let set = match &state.set {
                    Some(info) => format!(
                        "set {} by {}{}",
                        info.updated_at.format("%Y-%m-%d %H:%M"),
                        info.updated_by,
                        info.unreadable
                            .as_ref()
                            .map(|why| format!(", but the key in use cannot read it: {why}"))
                            .unwrap_or_default()
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

/// A value as it was piped in, less one line end (`\n`, or `\r\n` from
/// Windows tools): the pipe's, not the value's. Anything else is kept.
fn piped_value(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::piped_value;

    #[test]
    fn one_line_end_is_the_pipes() {
        for (piped, value) in [
            ("s3cret\n", "s3cret"),
            ("s3cret\r\n", "s3cret"),
            ("s3cret", "s3cret"),
            ("s3cret\n\n", "s3cret\n"),
            ("s3cret\r", "s3cret\r"),
            (" s3cret \n", " s3cret "),
        ] {
            assert_eq!(piped_value(piped.to_owned()), value, "{piped:?}");
        }
    }
}
