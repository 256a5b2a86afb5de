//! What one run asks for in compute: from the API's `"resources"`, the
//! form's "Advanced: resources" section, or the run it repeats. Checked
//! against the version's bounds (from the global minimums to its
//! `[resources.max]`) and against what the executor's platform takes,
//! before anything is stored.

use modelrun_core::manifest::Resources;
use modelrun_core::model::ModelVersion;
use modelrun_core::resources::ResourceRequest;
use modelrun_core::schema::ValidationErrors;

use crate::error::AppError;
use crate::state::AppState;

/// How the API names the parts of a request (`resources.vcpu`).
pub const API_PREFIX: &str = "resources";

/// The summary of a refusal, as "the inputs are not valid" is for inputs.
pub const SUMMARY: &str = "the resources are not valid";

/// The three parts, as (key, label, unit).
pub const PARTS: [(&str, &str, &str); 3] = [
    ("vcpu", "vCPU", "vCPU"),
    ("memory_mib", "Memory", "MiB"),
    ("timeout_seconds", "Time limit", "seconds"),
];

/// The resources a run gets: `request` over `base` (the version's values,
/// or the repeated run's), within the version's bounds and on the
/// executor's platform. Problems name their field under `prefix`, after
/// `errors` (what reading the request found), so that every part's problem
/// is told at once; the platform is asked only about a request with none.
pub fn resolve(
    state: &AppState,
    version: &ModelVersion,
    request: &ResourceRequest,
    base: Resources,
    prefix: &str,
    mut errors: ValidationErrors,
) -> Result<Resources, ValidationErrors> {
    let asked = request.over(base);
    if let Err(bounds) = version.resource_bounds().check(&asked, prefix) {
        errors.errors.extend(bounds.errors);
    }
    if errors.is_empty()
        && let Err(refusal) = state.executor.check_resources(&asked)
    {
        errors.push(format!("{prefix}.{}", refusal.field), refusal.message);
    }
    if errors.is_empty() {
        Ok(asked)
    } else {
        Err(errors)
    }
}

/// [`resolve`] for the API: a refusal is a 422 naming each field.
pub fn resolve_api(
    state: &AppState,
    version: &ModelVersion,
    request: &ResourceRequest,
    base: Resources,
) -> Result<Resources, AppError> {
    let errors = ValidationErrors::default();
    resolve(state, version, request, base, API_PREFIX, errors).map_err(|errors| AppError::Invalid {
        summary: SUMMARY,
        errors,
    })
}

/// The API's optional `"resources"` over `base`: every part's problem at
/// once, whether it is not a number or passes a bound.
pub fn from_api(
    state: &AppState,
    version: &ModelVersion,
    object: Option<&serde_json::Map<String, serde_json::Value>>,
    base: Resources,
) -> Result<Resources, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let request = object
        .map(|object| ResourceRequest::read_json(object, API_PREFIX, &mut errors))
        .unwrap_or_default();
    resolve(state, version, &request, base, API_PREFIX, errors)
}

/// The summary of a refusal of both a request's inputs and its resources.
pub const BOTH_SUMMARY: &str = "the inputs and resources are not valid";

/// A submission's inputs (or what stands for them, as a sweep's plan) and
/// its resources, checked apart and refused together: one 422 listing every
/// field of both, as `{"fields": [{"field": "growth", ...},
/// {"field": "resources.vcpu", ...}]}`.
pub fn with_inputs<T>(
    inputs: Result<T, AppError>,
    resources: Result<Resources, ValidationErrors>,
) -> Result<(T, Resources), AppError> {
    match (inputs, resources) {
        (Ok(inputs), Ok(resources)) => Ok((inputs, resources)),
        (Ok(_), Err(errors)) => Err(AppError::Invalid {
            summary: SUMMARY,
            errors,
        }),
        (
            Err(AppError::Invalid {
                errors: mut both, ..
            }),
            Err(errors),
        ) => {
            both.errors.extend(errors.errors);
            Err(AppError::Invalid {
                summary: BOTH_SUMMARY,
                errors: both,
            })
        }
        (Err(error), _) => Err(error),
    }
}

/// `1 vCPU, 2048 MiB, 600 s limit`.
pub fn text(resources: &Resources) -> String {
    format!(
        "{} vCPU, {} MiB, {} s limit",
        resources.vcpu, resources.memory_mib, resources.timeout_seconds
    )
}

/// What the run page says beside a run's resources when they are not its
/// version's defaults: they were asked for this run.
pub fn asked_note(run: &Resources, version: Option<&ModelVersion>) -> Option<String> {
    let version = version.filter(|version| version.resources != *run)?;
    Some(format!(
        "asked for this run (version default: {})",
        text(&version.resources)
    ))
}

/// The form's names of the parts, in [`PARTS`]' order: not inputs' names.
pub const FORM_NAMES: [&str; 3] = [
    "_resources.vcpu",
    "_resources.memory_mib",
    "_resources.timeout_seconds",
];

/// One number box of the form's "Advanced: resources" section.
#[derive(Debug, Clone)]
pub struct ResourceField {
    /// `vcpu`, `memory_mib` or `timeout_seconds`.
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    /// The form's name of the box.
    pub name: &'static str,
    pub value: String,
    pub min: String,
    pub max: String,
    /// The browser's step: any fraction of a vCPU (a version's own value
    /// may be 0.3 on one machine), whole MiB and seconds.
    pub step: &'static str,
    pub default: String,
    pub error: Option<String>,
}

/// The form's "Advanced: resources" section.
#[derive(Debug, Clone)]
pub struct ResourceForm {
    pub fields: Vec<ResourceField>,
    /// Open when something in it differs from the version's defaults or
    /// needs correcting.
    pub open: bool,
}

impl ResourceForm {
    /// The section for `version`, filled with `values` (the version's, or
    /// the run that is repeated): as numbers.
    pub fn new(version: &ModelVersion, values: &Resources) -> Self {
        Self::with_texts(version, &numbers(values), &ValidationErrors::default())
    }

    /// The section as it was sent, with a message at each refused part
    /// (`errors` named as `resources.<key>`).
    pub fn with_texts(
        version: &ModelVersion,
        texts: &[String; 3],
        errors: &ValidationErrors,
    ) -> Self {
        let (low, high, default) = (
            [
                Resources::MIN_VCPU.to_string(),
                Resources::MIN_MEMORY_MIB.to_string(),
                Resources::MIN_TIMEOUT_SECONDS.to_string(),
            ],
            numbers(&version.max_resources),
            numbers(&version.resources),
        );
        let fields: Vec<ResourceField> = PARTS
            .iter()
            .enumerate()
            .map(|(i, &(key, label, unit))| ResourceField {
                key,
                label,
                unit,
                name: FORM_NAMES[i],
                value: texts[i].clone(),
                min: low[i].clone(),
                max: high[i].clone(),
                step: if i == 0 { "any" } else { "1" },
                default: default[i].clone(),
                error: errors
                    .message(&format!("{API_PREFIX}.{key}"))
                    .map(str::to_owned),
            })
            .collect();
        let open = fields
            .iter()
            .any(|f| f.error.is_some() || f.value.trim() != f.default);
        ResourceForm { fields, open }
    }

    /// How many parts need correcting.
    pub fn invalid_count(&self) -> usize {
        self.fields.iter().filter(|f| f.error.is_some()).count()
    }
}

fn numbers(resources: &Resources) -> [String; 3] {
    [
        resources.vcpu.to_string(),
        resources.memory_mib.to_string(),
        resources.timeout_seconds.to_string(),
    ]
}

/// The section's three values as the form sent them (absent: empty).
pub fn form_texts(pairs: &[(String, String)]) -> [String; 3] {
    FORM_NAMES.map(|name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    })
}

/// The resources a form asks for, or every refused part (named
/// `resources.<key>`). An empty box is the version's value.
pub fn from_form(
    state: &AppState,
    version: &ModelVersion,
    texts: &[String; 3],
) -> Result<Resources, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let request =
        ResourceRequest::read_text(&texts[0], &texts[1], &texts[2], API_PREFIX, &mut errors);
    resolve(
        state,
        version,
        &request,
        version.resources,
        API_PREFIX,
        errors,
    )
}
