//! `modelrun.toml`: what a model's repository says about the model.
//!
//! ```toml
//! name = "forecast"
//! title = "Revenue forecast"
//! description = "Monthly revenue with a low–high band."
//! owner = "Data Science"
//! command = ["python3", "forecast.py"]   # how the local executor runs it
//! secrets = ["WAREHOUSE_URL"]             # values set by an administrator
//! network = true                          # false: runs reach no network
//!
//! [environment]                           # what the model needs installed
//! requirements = "requirements.txt"       # pip's format, in this directory
//! python = "3.11"                         # optional
//!
//! [resources]                             # defaults for every run
//! vcpu = 0.5
//! memory_mib = 1024
//! timeout_seconds = 600
//!
//! [resources.max]                         # optional: the most one run may ask for
//! vcpu = 2
//! memory_mib = 4096
//!
//! [inputs]                                # a JSON Schema (see docs/models.md)
//! type = "object"
//! ...
//!
//! [[outputs.charts]]                      # optional: see crate::outputs
//! file = "forecast.csv"
//! x = "month"
//! series = ["revenue"]
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::DefinitionError;
use crate::blob::check_relative_path;
use crate::model_secrets::{MAX_SECRETS, check_secret_name};
use crate::outputs::Outputs;
use crate::resources::manifest_max;
use crate::schema::InputSchema;
use crate::toml_fields::check_shown;

/// The largest input schema a version may have, as compact JSON: the form,
/// the version's page and `GET /api/v1/models` carry it whole, and a
/// response on Lambda may carry at most 6 MB. A hundred fields with a
/// paragraph of description each take about 40 KiB.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;

/// Compute a run asks for. The version's values are the defaults for its
/// runs; a run may ask for less, down to the `MIN_*` here, or for more, up
/// to the version's `[resources.max]` (see [`crate::resources`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    pub vcpu: f64,
    pub memory_mib: i64,
    pub timeout_seconds: i64,
}

impl Resources {
    pub const MIN_VCPU: f64 = 0.25;
    pub const MAX_VCPU: f64 = 16.0;
    pub const MIN_MEMORY_MIB: i64 = 128;
    pub const MAX_MEMORY_MIB: i64 = 122_880;
    pub const MIN_TIMEOUT_SECONDS: i64 = 1;
    pub const MAX_TIMEOUT_SECONDS: i64 = 14 * 24 * 3600;
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            vcpu: 1.0,
            memory_mib: 2048,
            timeout_seconds: 3600,
        }
    }
}

/// A parsed and checked manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub title: String,
    pub description: String,
    pub owner: String,
    /// The command the local executor runs, relative to the model directory.
    pub command: Option<Vec<String>>,
    pub resources: Resources,
    /// The most one run may ask for: `[resources.max]`, each part left out
    /// being the version's own value.
    pub max_resources: Resources,
    pub inputs: InputSchema,
    /// What the model needs installed, if anything.
    pub environment: Option<EnvironmentDecl>,
    /// Names of the secrets the model reads from its environment.
    pub secrets: Vec<String>,
    /// Whether its runs may use the network (they read databases by default).
    pub network: bool,
    /// The charts and key figures it declares (`[outputs]`); empty when none.
    pub outputs: Outputs,
}

/// The manifest's `[environment]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentDecl {
    /// The requirements file, relative to the model directory.
    pub requirements: String,
    /// The Python version to build with (`3.11`), if one is asked for.
    pub python: Option<String>,
}

/// What a model name may be: it appears in URLs, S3 keys and ECR names.
pub fn valid_model_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '0'..='9'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
        && name.len() <= 63
}

/// What a version label may be: a git short sha, a tag, a content digest.
pub fn valid_version_label(label: &str) -> bool {
    let mut chars = label.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && label.len() <= 64
}

impl Manifest {
    /// Parses `modelrun.toml` text. Every problem is reported, with its path.
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|error| DefinitionError::one("modelrun.toml", syntax_error(text, &error)))?;
        let mut problems = Vec::new();
        let raw = read_raw(table, &mut problems);
        let mut problem = |path: &str, message: String| problems.push((path.to_owned(), message));
        if let Some(name) = &raw.name
            && !valid_model_name(name)
        {
            problem(
                "name",
                "must be 1–63 lowercase letters, digits or -, starting with a letter or digit"
                    .into(),
            );
        }
        // Left out, the title is the name, whose problem is reported above.
        if let Some(title) = &raw.title
            && title.trim().is_empty()
        {
            problem("title", "is blank; it must be 1–200 characters".into());
        }
        for (key, text, max) in [
            ("title", raw.title.as_deref().unwrap_or_default(), 200),
            ("description", raw.description.as_str(), 20_000),
            ("owner", raw.owner.as_str(), 200),
        ] {
            let length = text.chars().count();
            if length > max {
                problem(key, format!("is {length} characters; at most {max}"));
            }
        }
        let name = raw.name.clone().unwrap_or_default();
        let title = raw.title.clone().unwrap_or_else(|| name.clone());
        if let Some(command) = &raw.command
            && (command.is_empty()
                || command
                    .iter()
                    .any(|part| part.is_empty() || part.contains('\0')))
        {
            problem(
                "command",
                "must be a non-empty list of non-empty strings".into(),
            );
        }
        let defaults = Resources::default();
        let resources = Resources {
            vcpu: raw.resources.vcpu.unwrap_or(defaults.vcpu),
            memory_mib: raw.resources.memory_mib.unwrap_or(defaults.memory_mib),
            timeout_seconds: raw
                .resources
                .timeout_seconds
                .unwrap_or(defaults.timeout_seconds),
        };
        if !(Resources::MIN_VCPU..=Resources::MAX_VCPU).contains(&resources.vcpu) {
            problem(
                "resources.vcpu",
                format!(
                    "must be from {} to {}",
                    Resources::MIN_VCPU,
                    Resources::MAX_VCPU
                ),
            );
        }
        if !(Resources::MIN_MEMORY_MIB..=Resources::MAX_MEMORY_MIB).contains(&resources.memory_mib)
        {
            problem(
                "resources.memory_mib",
                format!(
                    "must be from {} to {}",
                    Resources::MIN_MEMORY_MIB,
                    Resources::MAX_MEMORY_MIB
                ),
            );
        }
        if !(Resources::MIN_TIMEOUT_SECONDS..=Resources::MAX_TIMEOUT_SECONDS)
            .contains(&resources.timeout_seconds)
        {
            problem(
                "resources.timeout_seconds",
                format!(
                    "must be from {} to {}",
                    Resources::MIN_TIMEOUT_SECONDS,
                    Resources::MAX_TIMEOUT_SECONDS
                ),
            );
        }
        check_shown(
            raw.title.as_deref().unwrap_or_default(),
            "title",
            false,
            &mut problems,
        );
        check_shown(&raw.description, "description", true, &mut problems);
        check_shown(&raw.owner, "owner", false, &mut problems);
        let max_resources = manifest_max(raw.resources.max, &resources, &mut problems);
        let mut problem = |path: &str, message: String| problems.push((path.to_owned(), message));
        if let Some(environment) = &raw.environment {
            if let Some(requirements) = &environment.requirements
                && let Err(why) = check_relative_path(requirements, 255)
            {
                problem(
                    "environment.requirements",
                    format!("must be a file of the model directory: the path {why}"),
                );
            }
            if let Some(python) = &environment.python
                && !valid_python_version(python)
            {
                problem(
                    "environment.python",
                    format!(
                        "{python:?} is not a Python 3 version such as 3.11 or 3.12.4 \
                         (environments are virtual environments of Python 3)"
                    ),
                );
            }
        }
        if raw.secrets.len() > MAX_SECRETS {
            problem("secrets", format!("at most {MAX_SECRETS} are allowed"));
        }
        for (index, name) in raw.secrets.iter().enumerate() {
            if let Err(why) = check_secret_name(name) {
                problem(&format!("secrets[{index}]"), why);
            } else if raw.secrets[..index].contains(name) {
                problem(
                    &format!("secrets[{index}]"),
                    format!("{name} is named twice"),
                );
            }
        }
        let outputs = raw
            .outputs
            .map(|outputs| crate::outputs::parse(outputs, &mut problems))
            .unwrap_or_default();
        let document = raw.inputs.map(toml_to_json);
        let size = serde_json::to_vec(&document).map_or(0, |json| json.len());
        let inputs = if let Some(document) = document
            && size <= MAX_SCHEMA_BYTES
        {
            match InputSchema::parse(&document, "inputs") {
                Ok(inputs) => Some(inputs),
                Err(error) => {
                    problems.extend(error.problems);
                    None
                }
            }
        } else if size > MAX_SCHEMA_BYTES {
            problems.push((
                "inputs".to_owned(),
                format!(
                    "is {size} bytes as JSON; at most {MAX_SCHEMA_BYTES} are allowed (every \
                     page and API response that shows the version carries it)"
                ),
            ));
            None
        } else {
            None
        };
        match inputs {
            Some(inputs) if problems.is_empty() => Ok(Manifest {
                name,
                title,
                description: raw.description,
                owner: raw.owner,
                command: raw.command,
                resources,
                max_resources,
                inputs,
                environment: raw.environment.map(|environment| EnvironmentDecl {
                    requirements: environment.requirements.unwrap_or_default(),
                    python: environment.python,
                }),
                secrets: raw.secrets,
                network: raw.network.unwrap_or(true),
                outputs,
            }),
            _ => Err(DefinitionError { problems }),
        }
    }
}

/// A TOML mistake as a person finds it in their editor: "line 12, column
/// 1: duplicate key `pct`", lines and columns counted from 1 in characters,
/// the key named where the parser's message leaves it out.
fn syntax_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().trim_end_matches('.');
    let Some(span) = error.span() else {
        return message.to_owned();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    let key = text.get(span).map(str::trim).unwrap_or_default();
    if message == "duplicate key" && !key.is_empty() {
        format!("line {line}, column {column}: duplicate key `{key}`")
    } else {
        format!("line {line}, column {column}: {message}")
    }
}

/// `3`, `3.11` or `3.11.7`: Python 3, the only one `venv` and the model
/// contract support.
fn valid_python_version(text: &str) -> bool {
    let parts: Vec<_> = text.split('.').collect();
    parts.len() <= 3
        && parts[0] == "3"
        && parts.iter().all(|part| {
            !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit())
        })
}

/// TOML has dates and times where JSON has none; they become text.
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

#[path = "manifest_read.rs"]
mod read;

use read::read_raw;

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
