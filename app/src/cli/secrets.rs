//! Secrets read from AWS Secrets Manager at start-up, so that a deployment's
//! environment names them (by ARN) but never holds them: the database
//! credentials RDS generated, and the first administrator's password.

use anyhow::{Context, bail};
use aws_config::SdkConfig;
use modelrun_core::secret::Secret;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

/// The JSON RDS writes for a generated database secret (extra keys ignored).
#[derive(Deserialize)]
struct DatabaseSecret {
    username: String,
    password: String,
    host: String,
    port: Option<u16>,
    dbname: Option<String>,
    /// Not written by RDS; `require` when absent.
    sslmode: Option<String>,
}

impl std::fmt::Debug for DatabaseSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSecret")
            .field("username", &self.username)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// The secret's text, by ARN or name.
pub(super) async fn read(sdk: &SdkConfig, id: &str) -> anyhow::Result<Secret<String>> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let value = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot read the secret {id} from Secrets Manager: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&error)
            )
        })?;
    match value.secret_string() {
        Some(text) if !text.is_empty() => Ok(Secret::new(text.to_owned())),
        _ => bail!("the secret {id} holds no text"),
    }
}

/// A Postgres URL from an RDS database secret; `host` (RDS Proxy's
/// endpoint) replaces the secret's host when given.
pub(super) fn database_url(
    secret: &Secret<String>,
    host: Option<&str>,
) -> anyhow::Result<Secret<String>> {
    let parsed: DatabaseSecret = serde_json::from_str(secret.expose()).context(
        "the database secret must be JSON with username, password and host (as RDS writes it)",
    )?;
    let sslmode = parsed.sslmode.as_deref().unwrap_or("require");
    if !SSL_MODES.contains(&sslmode) {
        bail!(
            "the database secret's sslmode must be one of {}",
            SSL_MODES.join(", ")
        );
    }
    let host = host.unwrap_or(&parsed.host);
    if host.is_empty() || host.contains(['/', '@', '?', '#', ' ']) {
        bail!("the database host {host:?} is not a host name");
    }
    let user = utf8_percent_encode(&parsed.username, NON_ALPHANUMERIC);
    let password = utf8_percent_encode(&parsed.password, NON_ALPHANUMERIC);
    let database = utf8_percent_encode(
        parsed.dbname.as_deref().unwrap_or("postgres"),
        NON_ALPHANUMERIC,
    );
    let port = parsed.port.unwrap_or(5432);
    Ok(Secret::new(format!(
        "postgres://{user}:{password}@{host}:{port}/{database}?sslmode={sslmode}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(json: &str, host: Option<&str>) -> anyhow::Result<String> {
        database_url(&Secret::new(json.to_owned()), host).map(|url| url.expose().clone())
    }

    #[test]
    fn builds_the_url_from_what_rds_writes() {
        let rds = r#"{"username":"modelrun","password":"p@ss/w:rd?","engine":"postgres","host":"db.abc.eu-west-1.rds.amazonaws.com","port":5432,"dbname":"modelrun","dbInstanceIdentifier":"x"}"#;
        assert_eq!(
            url(rds, None).expect("url"),
            "postgres://modelrun:p%40ss%2Fw%3Ard%3F@db.abc.eu-west-1.rds.amazonaws.com:5432/modelrun?sslmode=require"
        );
        assert_eq!(
            url(rds, Some("proxy.eu-west-1.rds.amazonaws.com")).expect("url"),
            "postgres://modelrun:p%40ss%2Fw%3Ard%3F@proxy.eu-west-1.rds.amazonaws.com:5432/modelrun?sslmode=require"
        );
    }

    #[test]
    fn refuses_what_is_not_a_database_secret() {
        let error = url(r#"{"password":"x"}"#, None).expect_err("no user");
        assert!(format!("{error:#}").contains("username, password and host"));
        assert!(url("hunter2", None).is_err());
        let error = url(
            r#"{"username":"u","password":"p","host":"h","sslmode":"maybe"}"#,
            None,
        )
        .expect_err("sslmode");
        assert!(error.to_string().contains("sslmode must be one of"));
        let error = url(r#"{"username":"u","password":"p","host":"h/x"}"#, None).expect_err("host");
        assert!(error.to_string().contains("not a host name"));
    }

    #[test]
    fn the_secret_never_prints() {
        let secret: DatabaseSecret =
            serde_json::from_str(r#"{"username":"u","password":"hunter2","host":"h"}"#)
                .expect("json");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
