//! How model environments are built on this machine: the installer, the
//! package index (read from pip's own variables, so a server configured for
//! a private index or a wheelhouse needs nothing more), proxies and a time
//! limit. Read once at start-up, like every option.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use modelrun_core::config::{EnvironmentsConfig, PackageIndex};
use modelrun_core::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Installer {
    /// uv when it is on PATH, else python -m venv and pip.
    Auto,
    /// uv (fails at start-up when it is not on PATH).
    Uv,
    /// python -m venv and pip.
    Pip,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Model environments")]
pub(super) struct EnvironmentArgs {
    /// What builds model environments.
    #[arg(long, env = "MODELRUN_ENVIRONMENT_INSTALLER", value_enum, default_value_t = Installer::Auto, global = true)]
    environment_installer: Installer,
    /// Minutes an environment may take to build.
    #[arg(long, env = "MODELRUN_ENVIRONMENT_TIMEOUT_MINS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1440), global = true)]
    environment_timeout_mins: u64,
    /// The package index (pip's PIP_INDEX_URL); it may carry a token.
    #[arg(long, env = "PIP_INDEX_URL", hide_env_values = true, global = true)]
    pip_index_url: Option<String>,
    /// More indexes, separated by spaces (pip's PIP_EXTRA_INDEX_URL).
    #[arg(
        long,
        env = "PIP_EXTRA_INDEX_URL",
        hide_env_values = true,
        global = true
    )]
    pip_extra_index_url: Option<String>,
    /// Directories or pages of wheels, separated by spaces (pip's PIP_FIND_LINKS).
    #[arg(long, env = "PIP_FIND_LINKS", global = true)]
    pip_find_links: Option<String>,
    /// Install only from --pip-find-links (pip's PIP_NO_INDEX): a machine
    /// without internet, with a wheelhouse.
    #[arg(long, env = "PIP_NO_INDEX", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pip_no_index: bool,
}

/// Variables the installer gets as the server got them, besides every
/// `PIP_*` and `UV_*` one: proxies and certificate bundles.
const INSTALLER_VARIABLES: [&str; 12] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
];

/// The server's installer settings from `vars` (its environment): the
/// variables above, every `PIP_*` and `UV_*`, and, since a build has a
/// `HOME` of its own, the server user's pip and uv configuration files as
/// `PIP_CONFIG_FILE` and `UV_CONFIG_FILE` unless those are set.
fn installer_env(vars: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut passed: Vec<(String, String)> = vars
        .filter(|(name, _)| {
            INSTALLER_VARIABLES.contains(&name.as_str())
                || name.starts_with("PIP_")
                || name.starts_with("UV_")
        })
        .collect();
    let config_home = passed_or_env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| passed_or_env("HOME").map(|home| Path::new(&home).join(".config")));
    if let Some(config_home) = config_home {
        for (variable, file) in [
            ("PIP_CONFIG_FILE", config_home.join("pip/pip.conf")),
            ("UV_CONFIG_FILE", config_home.join("uv/uv.toml")),
        ] {
            if file.is_file() && !passed.iter().any(|(name, _)| name == variable) {
                passed.push((variable.to_owned(), file.display().to_string()));
            }
        }
    }
    passed.sort();
    passed
}

fn passed_or_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

impl EnvironmentArgs {
    /// Environments under `root`, with this machine's `PATH`.
    pub(super) fn config(
        &self,
        root: PathBuf,
        search_path: &str,
    ) -> anyhow::Result<EnvironmentsConfig> {
        let uv = find("uv", search_path);
        let uv = match self.environment_installer {
            Installer::Auto => uv,
            Installer::Pip => None,
            Installer::Uv => Some(uv.ok_or_else(|| {
                anyhow::anyhow!("--environment-installer uv: uv is not on PATH ({search_path})")
            })?),
        };
        let words = |text: &Option<String>| -> Vec<String> {
            text.as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        Ok(EnvironmentsConfig {
            root,
            uv,
            search_path: search_path.to_owned(),
            index: PackageIndex {
                index_url: self
                    .pip_index_url
                    .clone()
                    .filter(|url| !url.is_empty())
                    .map(Secret::new),
                extra_index_urls: words(&self.pip_extra_index_url)
                    .into_iter()
                    .map(Secret::new)
                    .collect(),
                find_links: words(&self.pip_find_links),
                no_index: self.pip_no_index,
            },
            installer_env: installer_env(std::env::vars())
                .into_iter()
                .map(|(name, value)| (name, Secret::new(value)))
                .collect(),
            timeout: Duration::from_secs(self.environment_timeout_mins * 60),
        })
    }
}

/// The first `program` on `search_path` that is an executable file.
fn find(program: &str, search_path: &str) -> Option<PathBuf> {
    search_path
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(program))
        .find(|path| is_executable(path))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_get_the_installer_settings_and_nothing_of_modelruns() {
        let vars = [
            ("PIP_INDEX_URL", "https://pypi.example.com/simple"),
            ("PIP_CERT", "/etc/ssl/corp.pem"),
            ("UV_NATIVE_TLS", "1"),
            ("https_proxy", "http://proxy:3128"),
            ("SSL_CERT_FILE", "/etc/ssl/corp.pem"),
            ("MODELRUN_ADMIN_PASSWORD", "secret"),
            ("DATABASE_URL", "postgres://u:p@db/x"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("PIPE", "not pip's"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        let passed = installer_env(vars.into_iter());
        let names: Vec<&str> = passed.iter().map(|(name, _)| name.as_str()).collect();
        for name in [
            "PIP_INDEX_URL",
            "PIP_CERT",
            "UV_NATIVE_TLS",
            "https_proxy",
            "SSL_CERT_FILE",
        ] {
            assert!(names.contains(&name), "{name} missing: {names:?}");
        }
        for name in [
            "MODELRUN_ADMIN_PASSWORD",
            "DATABASE_URL",
            "AWS_SECRET_ACCESS_KEY",
            "PIPE",
        ] {
            assert!(!names.contains(&name), "{name} passed: {names:?}");
        }
    }
}
