//! Model secrets: values a model reads from its environment (a database
//! URL, an API key) that must not live in its files. A manifest declares
//! their names (`secrets = ["WAREHOUSE_URL"]`); administrators set a value
//! per model and name. A value is never shown again, never returned by an
//! API, never logged, and masked in a run's log if the model prints it.
//!
//! On one machine values are encrypted at rest in the store; on AWS they
//! live in Secrets Manager and reach the job through its definition, never
//! through modelrun's database. [`SecretVault`] is the one interface.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::secret::Secret;

/// Most secrets one model may declare.
pub const MAX_SECRETS: usize = 50;
/// Longest secret name.
pub const MAX_SECRET_NAME_BYTES: usize = 128;
/// Largest secret value, 32 KiB (Secrets Manager allows 64 KiB).
pub const MAX_SECRET_VALUE_BYTES: usize = 32 * 1024;

/// Variables a run's environment sets itself, on one machine or on AWS
/// Batch: a secret may not replace them.
const RUN_ENVIRONMENT: [&str; 8] = [
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "PYTHONUNBUFFERED",
    "VIRTUAL_ENV",
    "AWS_BATCH_JOB_ID",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// Says why `name` cannot be a secret's name, if it cannot: an environment
/// variable name (`A-Z`, `0-9`, `_`, not starting with a digit) that is
/// none of modelrun's own (`MODELRUN_…`), none the run's environment sets
/// (`PATH`, `HOME`…), and no dynamic loader variable (`LD_…`): the run's
/// environment is also the one its sandbox, or `modelrun exec`, starts in.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let well_formed = matches!(chars.next(), Some('A'..='Z' | '_'))
        && chars.all(|c| matches!(c, 'A'..='Z' | '0'..='9' | '_'))
        && name.len() <= MAX_SECRET_NAME_BYTES;
    if !well_formed {
        return Err(format!(
            "{name:?} is not a secret name: use 1–{MAX_SECRET_NAME_BYTES} capital letters, digits \
             and _, not starting with a digit (such as WAREHOUSE_URL)"
        ));
    }
    let reserved = if name.starts_with("MODELRUN_") {
        "names starting with MODELRUN_ are modelrun's own"
    } else if name.starts_with("LD_") {
        "names starting with LD_ would change how the run's programs are loaded"
    } else if RUN_ENVIRONMENT.contains(&name) {
        "the run's environment sets it"
    } else {
        return Ok(());
    };
    Err(format!(
        "{name} cannot be a secret's name: {reserved}; choose another name"
    ))
}

/// Says why `name` cannot be set for `model`, whose versions read the
/// secrets `declared`: a value reaches a run only under a name that the
/// run's version declares, so a name that no version declares (a typo, or
/// a variable such as `PYTHONPATH` meant to reach the model some other way)
/// is refused.
pub fn check_secret_declared<'a>(
    model: &str,
    name: &str,
    declared: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let mut declared: Vec<&str> = declared.into_iter().collect();
    if declared.contains(&name) {
        return Ok(());
    }
    declared.sort_unstable();
    declared.dedup();
    let reads = match declared.is_empty() {
        true => "it reads none".to_owned(),
        false => format!("it reads {}", declared.join(", ")),
    };
    Err(format!(
        "no version of {model} reads a secret {name}, so no run would see its value ({reads}); \
         to add one, list it in the manifest's `secrets` and register a new version"
    ))
}

/// Says why `value` cannot be stored, if it cannot, completing the
/// sentence "value …".
pub fn check_secret_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if value.trim().is_empty() {
        return Err("must not be only white space".to_owned());
    }
    if value.len() > MAX_SECRET_VALUE_BYTES {
        return Err(format!(
            "must be at most {MAX_SECRET_VALUE_BYTES} bytes (32 KiB); it is {}",
            value.len()
        ));
    }
    if value.contains('\0') {
        return Err("must not contain a NUL character".to_owned());
    }
    Ok(())
}

/// A secret that is set, without its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretInfo {
    pub name: String,
    pub updated_at: DateTime<Utc>,
    /// Who set it last.
    pub updated_by: String,
    /// Why this server cannot read the value (sealed with another key),
    /// when it cannot.
    pub unreadable: Option<String>,
}

/// Why a vault call failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Worth retrying: the store or service was unreachable.
    #[error("the secret store is unavailable: {0}")]
    Unavailable(String),
    /// The value cannot be decrypted with this server's key.
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Backend(String),
}

/// The values of one model's secrets, by name. Never printed.
#[derive(Clone, Default)]
pub struct SecretValues(pub BTreeMap<String, Secret<String>>);

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// Where secret values live.
#[async_trait]
pub trait SecretVault: Send + Sync + fmt::Debug {
    /// `local` (encrypted in the store) or `secretsmanager`.
    fn kind(&self) -> &'static str;
    /// Sets a value, replacing the one before.
    async fn put(
        &self,
        model: &str,
        name: &str,
        value: &Secret<String>,
        by: &str,
    ) -> Result<(), VaultError>;
    /// Deletes a value; `false` when none was set.
    async fn delete(&self, model: &str, name: &str) -> Result<bool, VaultError>;
    /// The secrets of a model that are set, by name, without values.
    async fn list(&self, model: &str) -> Result<Vec<SecretInfo>, VaultError>;
    /// The values of `names` for a run; a name without a value is left out.
    async fn values(&self, model: &str, names: &[String]) -> Result<SecretValues, VaultError>;
}

/// Shortest value that is masked: shorter ones would garble a log and
/// protect nothing.
const MIN_MASKED_BYTES: usize = 4;

/// Replaces every occurrence of a secret's value in `text` with
/// `[secret NAME]`.
pub fn mask(text: &str, secrets: &SecretValues) -> String {
    let mut masker = Masker::new(secrets);
    let mut bytes = masker.push(text.as_bytes());
    bytes.extend(masker.finish());
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Masks secret values in a stream of bytes (a run's log as it is written),
/// however the stream is cut into chunks: it holds back the last bytes of
/// each chunk that could begin a value, until the next chunk tells.
#[derive(Default)]
pub struct Masker {
    /// `(value, replacement)`, longest value first, so that a value that
    /// contains another is masked whole.
    patterns: Vec<(Vec<u8>, Vec<u8>)>,
    held: Vec<u8>,
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("values", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl Masker {
    pub fn new(secrets: &SecretValues) -> Self {
        let mut patterns: Vec<_> = secrets
            .0
            .iter()
            .filter(|(_, value)| value.expose().len() >= MIN_MASKED_BYTES)
            .map(|(name, value)| {
                (
                    value.expose().as_bytes().to_vec(),
                    format!("[secret {name}]").into_bytes(),
                )
            })
            .collect();
        patterns.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        Masker {
            patterns,
            held: Vec::new(),
        }
    }

    /// The bytes of `chunk` (after what was held back) that can be written now.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let Some(longest) = self.patterns.first().map(|(value, _)| value.len()) else {
            return chunk.to_vec();
        };
        self.held.extend_from_slice(chunk);
        let mut text = std::mem::take(&mut self.held);
        for (value, replacement) in &self.patterns {
            text = replace_all(&text, value, replacement);
        }
        // A value that starts in the last `longest - 1` bytes may continue
        // in the next chunk; anything before is complete.
        let keep = (longest - 1).min(text.len());
        self.held = text.split_off(text.len() - keep);
        text
    }

    /// What is still held back, at the end of the stream.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }
}

fn replace_all(haystack: &[u8], needle: &[u8], replacement: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest
        .windows(needle.len())
        .position(|window| window == needle)
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(replacement);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> SecretValues {
        SecretValues(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), Secret::new((*value).to_owned())))
                .collect(),
        )
    }

    #[test]
    fn names_are_environment_variables_of_the_model() {
        for good in ["WAREHOUSE_URL", "FX_API_KEY", "_X", "DB2", "PYTHONPATH"] {
            assert!(check_secret_name(good).is_ok(), "{good}");
        }
        for bad in ["", "lower", "2FAST", "A-B"] {
            assert!(check_secret_name(bad).is_err(), "{bad}");
        }
        assert!(check_secret_name(&"A".repeat(MAX_SECRET_NAME_BYTES + 1)).is_err());
        let reserved = |name: &str| check_secret_name(name).expect_err(name);
        assert!(reserved("MODELRUN_X").contains("MODELRUN_ are modelrun's own"));
        assert!(!reserved("MODELRUN_X").contains("for every run"));
        assert!(reserved("LD_PRELOAD").contains("how the run's programs are loaded"));
        assert!(reserved("LD_LIBRARY_PATH").contains("LD_"));
        assert!(reserved("PATH").contains("the run's environment sets it"));
        assert!(reserved("HOME").contains("choose another name"));
    }

    #[test]
    fn only_declared_names_can_be_set() {
        let declared = ["WAREHOUSE_URL", "FX_API_KEY", "WAREHOUSE_URL"];
        assert!(check_secret_declared("forecast", "FX_API_KEY", declared).is_ok());
        let why =
            check_secret_declared("forecast", "PYTHONPATH", declared).expect_err("undeclared");
        assert!(
            why.starts_with("no version of forecast reads a secret PYTHONPATH")
                && why.contains("it reads FX_API_KEY, WAREHOUSE_URL)")
                && why.contains("register a new version"),
            "{why}"
        );
        let why = check_secret_declared("plain", "LD_PRELOAD", []).expect_err("none");
        assert!(why.contains("it reads none"), "{why}");
    }

    #[test]
    fn values_are_refused_with_the_limit_they_break() {
        assert_eq!(check_secret_value(""), Err("must not be empty".to_owned()));
        for blank in ["   ", "\n", " \t\r\n "] {
            assert_eq!(
                check_secret_value(blank),
                Err("must not be only white space".to_owned()),
                "{blank:?}"
            );
        }
        let long = check_secret_value(&"x".repeat(MAX_SECRET_VALUE_BYTES + 1)).expect_err("long");
        assert!(long.contains("at most 32768 bytes (32 KiB)"), "{long}");
        assert!(check_secret_value("a\0b").is_err());
        assert!(check_secret_value(" p@ss word ").is_ok());
        assert!(check_secret_value("postgres://u:p@h/db").is_ok());
    }

    #[test]
    fn values_are_masked_in_text_and_never_printed() {
        let secrets = values(&[
            ("DB", "postgres://u:hunter22@h/db"),
            ("PW", "hunter22"),
            ("X", "ab"),
        ]);
        let text = "connecting to postgres://u:hunter22@h/db as hunter22 (ab)";
        assert_eq!(
            mask(text, &secrets),
            "connecting to [secret DB] as [secret PW] (ab)"
        );
        assert_eq!(format!("{secrets:?}"), r#"["DB", "PW", "X"]"#);
    }

    #[test]
    fn a_value_cut_between_chunks_is_masked_too() {
        let secrets = values(&[("KEY", "sk-0123456789")]);
        let log = b"start sk-0123456789 middle sk-0123456789 end sk-012";
        for size in 1..log.len() {
            let mut masker = Masker::new(&secrets);
            let mut out = Vec::new();
            for chunk in log.chunks(size) {
                out.extend(masker.push(chunk));
            }
            out.extend(masker.finish());
            assert_eq!(
                String::from_utf8_lossy(&out),
                "start [secret KEY] middle [secret KEY] end sk-012",
                "chunks of {size}"
            );
        }
        let mut none = Masker::new(&values(&[]));
        assert_eq!(none.push(b"as is"), b"as is");
    }
}
