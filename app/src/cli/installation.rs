//! Which installation a one-shot command acts on. Only the commands that
//! start a server (`up`, `serve`, `worker`) and `migrate` may begin a new
//! one; every other command uses what a server already made, and says which
//! (on stderr), so that a command typed in the wrong directory fails instead
//! of quietly making a second installation that no server reads.
//!
//! With Postgres the database is the server's wherever the command runs,
//! but the data directory still holds what is not in the database: the
//! versions' files and environments, and the secrets key (unless
//! `MODELRUN_SECRETS_KEY` gives it). A command that needs those needs the
//! server's data directory on either store.

use modelrun_core::config::DatabaseConfig;

use super::Global;
use crate::runtime::{Settings, describe};

/// What a one-shot command uses besides the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Uses {
    /// The database alone: users, tokens, the local models list.
    Database,
    /// The versions' files and environments in the data directory.
    VersionFiles,
    /// The secrets key: `MODELRUN_SECRETS_KEY`, or the data directory's file.
    SecretsKey,
}

/// An installation that is there, and the line that names it.
#[derive(Debug)]
pub(super) struct Existing {
    pub(super) settings: Settings,
    using: String,
}

impl Existing {
    /// Says on stderr which installation the command used, once it could
    /// open it (stdout stays the command's own output).
    pub(super) fn say_which(&self) {
        eprintln!("{}", self.using);
    }
}

impl Global {
    /// The settings of the existing installation that a one-shot command
    /// uses, or an error naming what is missing and how to name the
    /// server's installation instead.
    pub(super) fn existing(&self, uses: Uses) -> anyhow::Result<Existing> {
        let settings = self.settings(String::new())?;
        let sqlite = match &settings.database {
            DatabaseConfig::Sqlite { path } => Some(path.clone()),
            DatabaseConfig::Postgres(_) => None,
        };
        let needs_dir = sqlite.is_some()
            || uses == Uses::VersionFiles
            || (uses == Uses::SecretsKey && settings.secrets_key.is_none());
        let missing = match &sqlite {
            _ if needs_dir && !self.data_dir.is_dir() => Some(format!(
                "there is no data directory {}",
                self.data_dir.display()
            )),
            Some(file) if !file.is_file() => Some(format!(
                "{} is not a modelrun data directory (it has no {})",
                self.data_dir.display(),
                file.file_name().unwrap_or_default().to_string_lossy()
            )),
            _ => None,
        };
        if let Some(missing) = missing {
            anyhow::bail!("{missing}: {}", self.way_out(sqlite.is_some(), uses));
        }
        let using = self.using(&settings, needs_dir && sqlite.is_none(), uses);
        Ok(Existing { settings, using })
    }

    /// What to do about a data directory that is not there.
    fn way_out(&self, sqlite: bool, uses: Uses) -> String {
        let holds = match (uses, sqlite) {
            (Uses::Database, _) => "the database",
            (Uses::VersionFiles, true) => "the database and the versions' files",
            (Uses::VersionFiles, false) => "the versions' files",
            (Uses::SecretsKey, true) => "the database and the secrets key",
            (Uses::SecretsKey, false) => "the secrets key",
        };
        let postgres = match sqlite {
            true => " (and DATABASE_URL, when the server uses Postgres)",
            false => "",
        };
        let cli = &self.invoked_as;
        let new = match sqlite {
            true => format!(
                "To begin a new installation here, run `{cli} migrate` or `{cli} up` first."
            ),
            false => {
                "To begin a new data directory, start the server with it once first.".to_owned()
            }
        };
        format!(
            "this command uses the server's data directory, which holds {holds}, and never \
             creates one. Run it from the directory where the server (`{cli} up`) runs, or \
             name the server's data directory with --data-dir or MODELRUN_DATA_DIR{postgres}. \
             {new}"
        )
    }

    /// The line that says which installation a command used.
    fn using(&self, settings: &Settings, with_dir: bool, uses: Uses) -> String {
        let mut used = match &settings.database {
            DatabaseConfig::Sqlite { .. } => {
                format!("the data directory {}", self.data_dir.display())
            }
            DatabaseConfig::Postgres(_) => describe(&settings.database),
        };
        if with_dir {
            used.push_str(&format!(
                " and the data directory {}",
                self.data_dir.display()
            ));
        }
        if uses == Uses::SecretsKey {
            match settings.secrets_key {
                Some(_) => used.push_str(", with the secrets key of MODELRUN_SECRETS_KEY"),
                None => used.push_str(&format!(
                    ", with the secrets key {}",
                    settings.secrets_key_file().display()
                )),
            }
        }
        format!("Using {used}.")
    }
}

/// How the person started this program, to repeat in hints: `cargo run
/// --release --` from a source checkout (cargo names the package it runs),
/// else the program as they typed it. Read once, at start-up.
pub(super) fn invoked_as() -> String {
    let from_cargo = std::env::var_os("CARGO").is_some()
        && std::env::var("CARGO_PKG_NAME").is_ok_and(|name| name == env!("CARGO_PKG_NAME"));
    if from_cargo {
        let profile = if cfg!(debug_assertions) {
            ""
        } else {
            " --release"
        };
        return format!("cargo run{profile} --");
    }
    std::env::args_os()
        .next()
        .and_then(|program| program.into_string().ok())
        .filter(|program| !program.is_empty() && !program.contains(char::is_whitespace))
        .unwrap_or_else(|| "modelrun".to_owned())
}
