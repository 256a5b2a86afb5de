//! Per-run resources. A version's `[resources]` are what its runs get
//! unasked; a run may ask for less, down to the global minimums
//! ([`Resources::MIN_VCPU`], …), or for more, up to the version's
//! `[resources.max]`. The rules live here, for the manifest, the form and
//! the API alike; whether the executor's platform takes a combination is
//! the executor's to say (`Executor::check_resources`).

use serde_json::{Map, Value};

use crate::manifest::Resources;
use crate::schema::ValidationErrors;

/// What a submission asks for; each part left out is the version's value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceRequest {
    pub vcpu: Option<f64>,
    pub memory_mib: Option<i64>,
    pub timeout_seconds: Option<i64>,
}

impl ResourceRequest {
    /// The API's `"resources"` object: the parts that are numbers, each
    /// other part's problem added to `errors` under `prefix`
    /// (`resources.vcpu`); unknown keys are refused.
    pub fn read_json(
        object: &Map<String, Value>,
        prefix: &str,
        errors: &mut ValidationErrors,
    ) -> Self {
        let mut request = ResourceRequest::default();
        for (key, value) in object {
            let field = format!("{prefix}.{key}");
            match key.as_str() {
                "vcpu" => match value {
                    Value::Null => {}
                    Value::Number(n) => request.vcpu = n.as_f64(),
                    _ => errors.push(field, "must be a number of vCPUs, such as 0.5 or 2"),
                },
                "memory_mib" | "timeout_seconds" => {
                    let whole = match value {
                        Value::Null => continue,
                        Value::Number(n) => n.as_i64(),
                        _ => None,
                    };
                    match whole {
                        Some(whole) if key == "memory_mib" => request.memory_mib = Some(whole),
                        Some(whole) => request.timeout_seconds = Some(whole),
                        None => errors.push(field, format!("must be {}", whole_of(key))),
                    }
                }
                _ => errors.push(
                    field,
                    "is not a resource: ask for vcpu, memory_mib or timeout_seconds",
                ),
            }
        }
        request
    }

    /// The values a form or query sent (empty: not asked): the parts that
    /// are numbers, each other part's problem added to `errors` under
    /// `prefix`.
    pub fn read_text(
        vcpu: &str,
        memory_mib: &str,
        timeout_seconds: &str,
        prefix: &str,
        errors: &mut ValidationErrors,
    ) -> Self {
        ResourceRequest {
            vcpu: parse(
                vcpu,
                "vcpu",
                "a number of vCPUs, such as 0.5 or 2",
                prefix,
                errors,
            ),
            memory_mib: parse(
                memory_mib,
                "memory_mib",
                whole_of("memory_mib"),
                prefix,
                errors,
            ),
            timeout_seconds: parse(
                timeout_seconds,
                "timeout_seconds",
                whole_of("timeout_seconds"),
                prefix,
                errors,
            ),
        }
    }

    /// What is asked, the rest taken from `base`.
    pub fn over(&self, base: Resources) -> Resources {
        Resources {
            vcpu: self.vcpu.unwrap_or(base.vcpu),
            memory_mib: self.memory_mib.unwrap_or(base.memory_mib),
            timeout_seconds: self.timeout_seconds.unwrap_or(base.timeout_seconds),
        }
    }
}

/// What a whole-number part must be: "a whole number of MiB".
fn whole_of(key: &str) -> &'static str {
    if key == "memory_mib" {
        "a whole number of MiB"
    } else {
        "a whole number of seconds"
    }
}

/// Where a part is named: `prefix.key`, or `key` alone without a prefix
/// (a query's parameters).
fn field_name(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn parse<T: std::str::FromStr>(
    text: &str,
    key: &str,
    what: &str,
    prefix: &str,
    errors: &mut ValidationErrors,
) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = text.parse().ok();
    if parsed.is_none() {
        errors.push(field_name(prefix, key), format!("must be {what}"));
    }
    parsed
}

/// Why an executor's platform cannot give a run what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRefusal {
    /// The part to change: `vcpu`, `memory_mib` or `timeout_seconds`.
    pub field: &'static str,
    /// What the platform takes, as a sentence.
    pub message: String,
}

impl std::fmt::Display for ResourceRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "resources.{}: {}", self.field, self.message)
    }
}

/// The range a version's runs may ask for: from the global minimums to the
/// version's `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceBounds {
    /// What a run gets unasked: the version's `[resources]`.
    pub default: Resources,
    /// The most a run may ask for: the version's `[resources.max]`.
    pub max: Resources,
}

impl ResourceBounds {
    /// Checks what a run asks for. Each problem names its field under
    /// `prefix` (`resources.vcpu`) and the limit it passes.
    pub fn check(&self, asked: &Resources, prefix: &str) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut within = |key: &str, ok: bool, low: String, high: String, unit: &str| {
            let message = if low == high {
                format!("must be {low}{unit}, the only value the version allows")
            } else {
                format!("must be from {low} to {high}{unit} (the version allows at most {high})")
            };
            if !ok {
                errors.push(field_name(prefix, key), message);
            }
        };
        within(
            "vcpu",
            (Resources::MIN_VCPU..=self.max.vcpu).contains(&asked.vcpu),
            Resources::MIN_VCPU.to_string(),
            self.max.vcpu.to_string(),
            " vCPU",
        );
        within(
            "memory_mib",
            (Resources::MIN_MEMORY_MIB..=self.max.memory_mib).contains(&asked.memory_mib),
            Resources::MIN_MEMORY_MIB.to_string(),
            self.max.memory_mib.to_string(),
            " MiB",
        );
        within(
            "timeout_seconds",
            (Resources::MIN_TIMEOUT_SECONDS..=self.max.timeout_seconds)
                .contains(&asked.timeout_seconds),
            Resources::MIN_TIMEOUT_SECONDS.to_string(),
            self.max.timeout_seconds.to_string(),
            " seconds",
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// The manifest's `[resources.max]`: each part left out is the version's
/// own value, so nothing is raised unless it says so.
#[derive(Debug, Default)]
pub(crate) struct RawMax {
    pub(crate) vcpu: Option<f64>,
    pub(crate) memory_mib: Option<i64>,
    pub(crate) timeout_seconds: Option<i64>,
}

/// The most a version's runs may ask for: each part at least the version's
/// value and at most the global maximum. Problems name their path
/// (`resources.max.vcpu`) and the limit.
pub(crate) fn manifest_max(
    raw: Option<RawMax>,
    resources: &Resources,
    problems: &mut Vec<(String, String)>,
) -> Resources {
    let raw = raw.unwrap_or_default();
    let mut bound = |key: &str, given: bool, ok: bool, low: String, high: String| {
        // A part left out is the version's own value, checked as that.
        if given && !ok {
            problems.push((
                format!("resources.max.{key}"),
                format!(
                    "must be at least resources.{key} ({low}) and at most {high}; \
                     leave it out to allow no more than resources.{key}"
                ),
            ));
        }
    };
    let max = ResourceRequest {
        vcpu: raw.vcpu,
        memory_mib: raw.memory_mib,
        timeout_seconds: raw.timeout_seconds,
    }
    .over(*resources);
    bound(
        "vcpu",
        raw.vcpu.is_some(),
        (resources.vcpu..=Resources::MAX_VCPU).contains(&max.vcpu),
        resources.vcpu.to_string(),
        Resources::MAX_VCPU.to_string(),
    );
    bound(
        "memory_mib",
        raw.memory_mib.is_some(),
        (resources.memory_mib..=Resources::MAX_MEMORY_MIB).contains(&max.memory_mib),
        resources.memory_mib.to_string(),
        Resources::MAX_MEMORY_MIB.to_string(),
    );
    bound(
        "timeout_seconds",
        raw.timeout_seconds.is_some(),
        (resources.timeout_seconds..=Resources::MAX_TIMEOUT_SECONDS).contains(&max.timeout_seconds),
        resources.timeout_seconds.to_string(),
        Resources::MAX_TIMEOUT_SECONDS.to_string(),
    );
    max
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
