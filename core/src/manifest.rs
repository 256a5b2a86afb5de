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
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::DefinitionError;
use crate::blob::check_relative_path;
use crate::model_secrets::{MAX_SECRETS, check_secret_name};
use crate::resources::{RawMax, manifest_max};
use crate::schema::InputSchema;

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: String,
    title: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner: String,
    command: Option<Vec<String>>,
    #[serde(default)]
    resources: RawResources,
    inputs: toml::Value,
    environment: Option<RawEnvironment>,
    #[serde(default)]
    secrets: Vec<String>,
    network: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    requirements: String,
    python: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResources {
    vcpu: Option<f64>,
    memory_mib: Option<i64>,
    timeout_seconds: Option<i64>,
    max: Option<RawMax>,
}

impl Manifest {
    /// Parses `modelrun.toml` text. Every problem is reported, with its path.
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let raw: RawManifest = toml::from_str(text)
            .map_err(|error| DefinitionError::one("modelrun.toml", error.message().to_owned()))?;
        let mut problems = Vec::new();
        let mut problem = |path: &str, message: String| problems.push((path.to_owned(), message));
        if !valid_model_name(&raw.name) {
            problem(
                "name",
                "must be 1–63 lowercase letters, digits or -, starting with a letter or digit"
                    .into(),
            );
        }
        let title = raw.title.unwrap_or_else(|| raw.name.clone());
        if title.trim().is_empty() || title.chars().count() > 200 {
            problem("title", "must be 1–200 characters".into());
        }
        if raw.description.chars().count() > 20_000 {
            problem("description", "must be at most 20000 characters".into());
        }
        if raw.owner.chars().count() > 200 {
            problem("owner", "must be at most 200 characters".into());
        }
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
        let max_resources = manifest_max(raw.resources.max, &resources, &mut problems);
        let mut problem = |path: &str, message: String| problems.push((path.to_owned(), message));
        if let Some(environment) = &raw.environment {
            if let Err(why) = check_relative_path(&environment.requirements, 255) {
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
        let document = toml_to_json(raw.inputs);
        let size = serde_json::to_vec(&document).map_or(0, |json| json.len());
        let inputs = if size > MAX_SCHEMA_BYTES {
            problems.push((
                "inputs".to_owned(),
                format!(
                    "is {size} bytes as JSON; at most {MAX_SCHEMA_BYTES} are allowed (every \
                     page and API response that shows the version carries it)"
                ),
            ));
            None
        } else {
            match InputSchema::parse(&document, "inputs") {
                Ok(inputs) => Some(inputs),
                Err(error) => {
                    problems.extend(error.problems);
                    None
                }
            }
        };
        match inputs {
            Some(inputs) if problems.is_empty() => Ok(Manifest {
                name: raw.name,
                title,
                description: raw.description,
                owner: raw.owner,
                command: raw.command,
                resources,
                max_resources,
                inputs,
                environment: raw.environment.map(|environment| EnvironmentDecl {
                    requirements: environment.requirements,
                    python: environment.python,
                }),
                secrets: raw.secrets,
                network: raw.network.unwrap_or(true),
            }),
            _ => Err(DefinitionError { problems }),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "forecast"
title = "Revenue forecast"
command = ["python3", "forecast.py"]

[resources]
vcpu = 0.5
memory_mib = 1024

[inputs]
type = "object"
required = ["growth"]

[inputs.properties.growth]
type = "number"
maximum = 0.5

[inputs.properties.start]
type = "string"
format = "date"
default = 2027-01-01
"#;

    #[test]
    fn parses_a_manifest_with_defaults_filled_in() {
        let manifest = Manifest::parse(GOOD).expect("valid");
        assert_eq!(manifest.name, "forecast");
        assert_eq!(manifest.resources.vcpu, 0.5);
        assert_eq!(manifest.resources.timeout_seconds, 3600);
        assert_eq!(
            manifest.command.as_deref(),
            Some(&["python3".to_owned(), "forecast.py".to_owned()][..])
        );
        let start = manifest.inputs.field("start").expect("start");
        assert_eq!(start.default, Some(Value::from("2027-01-01")));
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let bad = GOOD
            .replace("name = \"forecast\"", "name = \"Forecast!\"")
            .replace("vcpu = 0.5", "vcpu = 64.0")
            .replace("maximum = 0.5", "maximum = \"high\"");
        let error = Manifest::parse(&bad).expect_err("invalid");
        let paths: Vec<_> = error.problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            ["name", "resources.vcpu", "inputs.properties.growth.maximum"]
        );
    }

    #[test]
    fn a_schema_larger_than_the_limit_is_refused_naming_it() {
        let options: Vec<String> = (0..20_000).map(|i| format!("\"option {i}\"")).collect();
        let huge = format!(
            "{GOOD}\n[inputs.properties.region]\ntype = \"string\"\nenum = [{}]\n",
            options.join(",")
        );
        let error = Manifest::parse(&huge).expect_err("too large");
        assert_eq!(error.problems.len(), 1, "{:?}", error.problems);
        assert_eq!(error.problems[0].0, "inputs");
        assert!(
            error.problems[0].1.contains("at most 65536 are allowed"),
            "{}",
            error.problems[0].1
        );
    }

    #[test]
    fn resources_max_raises_what_one_run_may_ask_for() {
        let manifest = Manifest::parse(GOOD).expect("valid");
        assert_eq!(
            manifest.max_resources, manifest.resources,
            "no raising unasked"
        );
        let raised = GOOD.replace(
            "memory_mib = 1024\n",
            "memory_mib = 1024\n\n[resources.max]\nvcpu = 2.0\ntimeout_seconds = 7200\n",
        );
        let manifest = Manifest::parse(&raised).expect("valid");
        assert_eq!(
            manifest.max_resources,
            Resources {
                vcpu: 2.0,
                memory_mib: 1024,
                timeout_seconds: 7200
            }
        );
        let lowered = raised.replace("vcpu = 2.0", "vcpu = 0.25");
        let error = Manifest::parse(&lowered).expect_err("below the version's value");
        assert_eq!(error.problems.len(), 1, "{:?}", error.problems);
        assert_eq!(error.problems[0].0, "resources.max.vcpu");
        assert!(
            error.problems[0]
                .1
                .contains("at least resources.vcpu (0.5)")
        );
        let unknown = raised.replace("vcpu = 2.0", "gpus = 1");
        assert!(Manifest::parse(&unknown).is_err());
    }

    #[test]
    fn unknown_keys_and_broken_toml_are_refused() {
        let error = Manifest::parse(&format!("colour = \"red\"\n{GOOD}")).expect_err("unknown key");
        assert!(error.to_string().contains("colour"), "{error}");
        let error = Manifest::parse("name = ").expect_err("broken");
        assert_eq!(error.problems[0].0, "modelrun.toml");
    }

    #[test]
    fn environment_and_secrets_are_read_and_checked() {
        let manifest = Manifest::parse(&GOOD.replace(
            "command = [\"python3\", \"forecast.py\"]",
            "command = [\"python3\", \"forecast.py\"]\nsecrets = [\"WAREHOUSE_URL\"]\n\
             [environment]\nrequirements = \"requirements.txt\"\npython = \"3.11\"\n",
        ))
        .expect("valid");
        assert_eq!(
            manifest.environment,
            Some(EnvironmentDecl {
                requirements: "requirements.txt".to_owned(),
                python: Some("3.11".to_owned()),
            })
        );
        assert_eq!(manifest.secrets, ["WAREHOUSE_URL"]);
        assert!(manifest.network, "the network is there by default");
        let offline = Manifest::parse(&format!("network = false\n{GOOD}")).expect("valid");
        assert!(!offline.network);
        assert_eq!(Manifest::parse(GOOD).expect("valid").environment, None);

        let bad = GOOD.replace(
            "command = [\"python3\", \"forecast.py\"]",
            "secrets = [\"lower\", \"PATH\", \"A\", \"A\"]\n\
             [environment]\nrequirements = \"../outside.txt\"\npython = \"latest\"\n",
        );
        let error = Manifest::parse(&bad).expect_err("invalid");
        let paths: Vec<_> = error.problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "environment.requirements",
                "environment.python",
                "secrets[0]",
                "secrets[1]",
                "secrets[3]"
            ]
        );
        for python in ["2.7", "2.1", "4", "3.11.7.1", "3.x", ""] {
            let manifest = format!(
                "{GOOD}[environment]\nrequirements = \"requirements.txt\"\npython = {python:?}\n"
            );
            let error = Manifest::parse(&manifest).expect_err(python);
            assert_eq!(error.problems[0].0, "environment.python", "{python}");
        }
        for python in ["3", "3.11", "3.11.7"] {
            let manifest = format!(
                "{GOOD}[environment]\nrequirements = \"requirements.txt\"\npython = {python:?}\n"
            );
            Manifest::parse(&manifest).expect(python);
        }
    }

    #[test]
    fn names_and_labels_follow_their_rules() {
        assert!(valid_model_name("revenue-forecast"));
        assert!(!valid_model_name("-x") && !valid_model_name("A") && !valid_model_name(""));
        assert!(valid_version_label("a1b2c3d") && valid_version_label("v1.2.0"));
        assert!(
            !valid_version_label("../x") && !valid_version_label("") && !valid_version_label("a b")
        );
    }
}
