//! `--mailer smtp`: the SMTP server and how to reach it.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use modelrun_core::config::{SmtpConfig, SmtpSecurity};
use modelrun_core::secret::Secret;

/// The variable that may hold the SMTP password (not a flag: a flag would
/// show in the process list).
const PASSWORD_VARIABLE: &str = "MODELRUN_SMTP_PASSWORD";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Security {
    /// Plain text, then STARTTLS, which must succeed (default port 587).
    Starttls,
    /// TLS from the start (default port 465).
    Tls,
    /// No encryption: a relay on this machine or a trusted network (default port 25).
    None,
}

#[derive(Debug, Args)]
pub(super) struct SmtpArgs {
    /// SMTP server for --mailer smtp.
    #[arg(long, env = "MODELRUN_SMTP_HOST")]
    smtp_host: Option<String>,
    /// Its port (default: 587 with starttls, 465 with tls, 25 with none).
    #[arg(long, env = "MODELRUN_SMTP_PORT")]
    smtp_port: Option<u16>,
    /// How the connection is secured.
    #[arg(long, env = "MODELRUN_SMTP_SECURITY", value_enum, default_value_t = Security::Starttls)]
    smtp_security: Security,
    /// User for SMTP AUTH; the password comes from --smtp-password-file or MODELRUN_SMTP_PASSWORD.
    #[arg(long, env = "MODELRUN_SMTP_USER")]
    smtp_user: Option<String>,
    /// A file whose first line is the SMTP password.
    #[arg(long, env = "MODELRUN_SMTP_PASSWORD_FILE")]
    smtp_password_file: Option<PathBuf>,
    /// Sender of the email: `modelrun <modelrun@example.com>`.
    #[arg(long, env = "MODELRUN_SMTP_FROM")]
    smtp_from: Option<String>,
    /// PEM file of certificate authorities to trust besides the system's.
    #[arg(long, env = "MODELRUN_SMTP_CA_FILE")]
    smtp_ca_file: Option<PathBuf>,
}

impl SmtpArgs {
    /// The SMTP settings, or what is missing or unsafe.
    pub(super) fn config(&self) -> anyhow::Result<SmtpConfig> {
        let host = present(&self.smtp_host)
            .context("--mailer smtp needs --smtp-host (MODELRUN_SMTP_HOST)")?;
        let from = present(&self.smtp_from)
            .context("--mailer smtp needs --smtp-from (MODELRUN_SMTP_FROM)")?;
        let security = match self.smtp_security {
            Security::Starttls => SmtpSecurity::StartTls,
            Security::Tls => SmtpSecurity::Tls,
            Security::None => SmtpSecurity::None,
        };
        let password = self.password()?;
        let credentials = match (present(&self.smtp_user), password) {
            (Some(user), Some(password)) => Some((user, password)),
            (None, None) => None,
            (Some(_), None) => {
                bail!("--smtp-user needs a password: --smtp-password-file or {PASSWORD_VARIABLE}")
            }
            (None, Some(_)) => bail!("an SMTP password was given without --smtp-user"),
        };
        if security == SmtpSecurity::None && credentials.is_some() && !is_loopback(&host) {
            bail!(
                "--smtp-security none would send the SMTP password to {host} unencrypted: \
                 use starttls or tls, or a relay on this machine"
            );
        }
        Ok(SmtpConfig {
            port: self.smtp_port.unwrap_or(security.default_port()),
            host,
            security,
            credentials,
            from,
            ca_file: self.smtp_ca_file.clone(),
        })
    }

    fn password(&self) -> anyhow::Result<Option<Secret<String>>> {
        if let Some(path) = &self.smtp_password_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --smtp-password-file {}", path.display()))?;
            let password = text.lines().next().unwrap_or_default().to_owned();
            if password.is_empty() {
                bail!("--smtp-password-file {} is empty", path.display());
            }
            return Ok(Some(Secret::new(password)));
        }
        Ok(std::env::var(PASSWORD_VARIABLE)
            .ok()
            .filter(|p| !p.is_empty())
            .map(Secret::new))
    }
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        smtp: SmtpArgs,
    }

    fn config(args: &[&str]) -> anyhow::Result<SmtpConfig> {
        let line = Line::try_parse_from(std::iter::once("modelrun").chain(args.iter().copied()))
            .expect("parses");
        line.smtp.config()
    }

    fn error(args: &[&str]) -> String {
        config(args).expect_err("refused").to_string()
    }

    #[test]
    fn settings_are_checked_and_ports_follow_the_security() {
        let dir = tempfile::tempdir().expect("dir");
        let password = dir.path().join("password");
        std::fs::write(&password, "s3cret\nthe rest is not the password\n").expect("write");
        let password = password.to_str().expect("utf-8");
        let from = ["--smtp-from", "modelrun <modelrun@example.com>"];

        assert!(error(&from).contains("--smtp-host"));
        assert!(error(&["--smtp-host", "mail.example.com"]).contains("--smtp-from"));

        let host = ["--smtp-host", "mail.example.com"];
        let plain = config(&[&host[..], &from[..]].concat()).expect("ok");
        assert_eq!((plain.port, plain.security), (587, SmtpSecurity::StartTls));
        assert!(plain.credentials.is_none());
        let tls =
            config(&[&host[..], &from[..], &["--smtp-security", "tls"]].concat()).expect("ok");
        assert_eq!(tls.port, 465);

        let user = ["--smtp-user", "modelrun"];
        assert!(error(&[&host[..], &from[..], &user[..]].concat()).contains("needs a password"),);
        let with_password = config(
            &[
                &host[..],
                &from[..],
                &user[..],
                &["--smtp-password-file", password],
            ]
            .concat(),
        )
        .expect("ok");
        let (name, secret) = with_password.credentials.expect("credentials");
        assert_eq!(
            (name.as_str(), secret.expose().as_str()),
            ("modelrun", "s3cret")
        );

        let clear = ["--smtp-security", "none", "--smtp-password-file", password];
        assert!(
            error(&[&host[..], &from[..], &user[..], &clear[..]].concat()).contains("unencrypted")
        );
        let local = config(
            &[
                &["--smtp-host", "127.0.0.1"][..],
                &from[..],
                &user[..],
                &clear[..],
            ]
            .concat(),
        )
        .expect("a relay on this machine");
        assert_eq!(local.port, 25);
    }
}
