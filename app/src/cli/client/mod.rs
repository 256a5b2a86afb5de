//! The command line as a client of a modelrun server, through the JSON API:
//! `runs submit|list|get|cancel|logs` and `models list --url …`. The server
//! and the token come from flags, the environment (`MODELRUN_URL`,
//! `MODELRUN_TOKEN`), or a config file (`~/.config/modelrun/config.toml`, or
//! `MODELRUN_CONFIG`), in that order.

mod archive;
pub mod costs;
mod follow;
mod http;
mod inputs;
pub mod lifecycle;
mod output;
mod reproduce;
pub mod runs;
pub mod schedules;
pub mod sweeps;
mod terminal;
mod upload;
mod vary;
mod waiting;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

pub use http::Client;

/// Where the server is and how to prove who we are.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The modelrun server, such as https://models.example.com.
    #[arg(long, env = "MODELRUN_URL")]
    pub url: Option<String>,
    /// An API token (create one on your Account page).
    #[arg(long, env = "MODELRUN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A TOML file with `url` and `token` (default: ~/.config/modelrun/config.toml).
    #[arg(long, env = "MODELRUN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    url: Option<String>,
    token: Option<String>,
}

impl ServerArgs {
    fn config_path(&self) -> Option<PathBuf> {
        self.config.clone().or_else(|| {
            let home = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
            Some(home.join("modelrun").join("config.toml"))
        })
    }

    /// The file's settings; a missing default file is no error, a missing
    /// named one is.
    fn file(&self) -> anyhow::Result<ConfigFile> {
        let Some(path) = self.config_path() else {
            return Ok(ConfigFile::default());
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).with_context(|| {
                format!("{} is not a valid config file (url, token)", path.display())
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && self.config.is_none() => {
                Ok(ConfigFile::default())
            }
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Whether a server is named anywhere: flag, environment or file.
    pub fn names_a_server(&self) -> anyhow::Result<bool> {
        Ok(self.url.is_some() || self.file()?.url.is_some())
    }

    /// A client for the server, or an error saying what is missing.
    pub fn client(&self) -> anyhow::Result<Client> {
        let file = if self.url.is_some() && self.token.is_some() {
            ConfigFile::default()
        } else {
            self.file()?
        };
        let url = self.url.clone().or(file.url).context(
            "no server: pass --url, set MODELRUN_URL, or put url = \"…\" in ~/.config/modelrun/config.toml",
        )?;
        let token = self.token.clone().or(file.token).context(
            "no API token: pass --token, set MODELRUN_TOKEN, or put token = \"…\" in the config file; \
             create one on your Account page",
        )?;
        Client::new(&url, &token)
    }
}
