//! The run form as a sweep: any number input can take a range (from, to,
//! step) or values one per line, and any choice several options, in its
//! "Vary" section (`_vary.<input>.from|to|step|values`, `_vary.<input>`).
//! A form with something varied submits a sweep instead of a run. Numbers
//! are read as the form reads its boxes (a decimal comma is fine).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use modelrun_core::manifest::Resources;
use modelrun_core::model::ModelVersion;
use modelrun_core::schema::{FieldKind, InputSchema, ValidationErrors};
use modelrun_core::sweep::Variation;
use serde_json::Value;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::forms::FormField;
use crate::guard::ClientAddr;
use crate::state::AppState;
use crate::sweeps::{SweepSubmission, plan, submit_sweep};

/// The prefix of the form's sweep boxes.
pub const PREFIX: &str = "_vary.";

/// Whether a form pair is one of the sweep's boxes.
pub fn is_vary(name: &str) -> bool {
    name.starts_with(PREFIX)
}

/// The texts of `input`'s box `part` (`from`, `to`, `step`, `values`), or
/// of its ticked options when `part` is empty.
fn texts<'a>(pairs: &'a [(String, String)], input: &str, part: &str) -> Vec<&'a str> {
    let name = if part.is_empty() {
        format!("{PREFIX}{input}")
    } else {
        format!("{PREFIX}{input}.{part}")
    };
    pairs
        .iter()
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| value.as_str())
        .filter(|text| !text.trim().is_empty())
        .collect()
}

/// One text read as `input`'s type; the error completes "<input> …".
fn read(schema: &InputSchema, input: &str, what: &str, text: &str) -> Result<Value, String> {
    match schema.read_text(input, text) {
        Some(Ok(Some(value))) => Ok(value),
        Some(Ok(None)) | None => Err(format!("(sweep, {what}) is empty")),
        Some(Err(message)) => Err(format!("(sweep, {what}) {message}")),
    }
}

fn number(schema: &InputSchema, input: &str, what: &str, text: &str) -> Result<f64, String> {
    read(schema, input, what, text)?
        .as_f64()
        .ok_or_else(|| format!("(sweep, {what}) is not a number"))
}

/// How one input is varied, if it is: `Ok(None)` when its boxes are empty.
fn variation(
    schema: &InputSchema,
    input: &str,
    choices: bool,
    pairs: &[(String, String)],
) -> Result<Option<Variation>, String> {
    if choices {
        let ticked = texts(pairs, input, "");
        if ticked.is_empty() {
            return Ok(None);
        }
        let values = ticked
            .iter()
            .map(|text| read(schema, input, "options", text))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Some(Variation::List(values)));
    }
    let [from, to, step] = ["from", "to", "step"].map(|part| texts(pairs, input, part));
    let lines: Vec<&str> = texts(pairs, input, "values")
        .iter()
        .flat_map(|text| text.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let ranged = !(from.is_empty() && to.is_empty() && step.is_empty());
    match (ranged, lines.is_empty()) {
        (false, true) => Ok(None),
        (true, false) => Err("(sweep) takes a range or values, not both: clear one".to_owned()),
        (true, true) => {
            let (Some(from), Some(to), Some(step)) = (from.first(), to.first(), step.first())
            else {
                return Err("(sweep) needs from, to and step for a range".to_owned());
            };
            Ok(Some(Variation::Range {
                from: number(schema, input, "from", from)?,
                to: number(schema, input, "to", to)?,
                step: number(schema, input, "step", step)?,
            }))
        }
        (false, false) => {
            let values = lines
                .iter()
                .enumerate()
                .map(|(i, line)| read(schema, input, &format!("line {}", i + 1), line))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(Variation::List(values)))
        }
    }
}

/// The variations the form asks for, in the inputs' order, and what could
/// not be read, under each input's name.
pub fn variations(
    schema: &InputSchema,
    pairs: &[(String, String)],
) -> (Vec<(String, Variation)>, ValidationErrors) {
    let mut found = Vec::new();
    let mut errors = ValidationErrors::default();
    for field in schema.fields() {
        let choices = match field.kind {
            FieldKind::Number { .. } => false,
            FieldKind::Enum { .. } => true,
            _ => continue,
        };
        match variation(schema, &field.name, choices, pairs) {
            Ok(Some(variation)) => found.push((field.name.clone(), variation)),
            Ok(None) => {}
            Err(message) => errors.push(&field.name, message),
        }
    }
    (found, errors)
}

/// Puts what was typed in the sweep's boxes back, for the form shown again.
pub fn refill(fields: &mut [FormField], pairs: &[(String, String)]) {
    for field in fields {
        let name = field.name.clone();
        if let Some(vary) = field.vary.as_mut() {
            let first = |part: &str| {
                texts(pairs, &name, part)
                    .first()
                    .map(|text| (*text).to_owned())
                    .unwrap_or_default()
            };
            vary.from = first("from");
            vary.to = first("to");
            vary.step = first("step");
            vary.values = first("values");
            vary.chosen = texts(pairs, &name, "")
                .into_iter()
                .map(str::to_owned)
                .collect();
        }
    }
}

/// A sweep the form asks for.
pub struct SweepForm<'a> {
    pub version: &'a ModelVersion,
    /// The form's input pairs (no reserved or sweep pairs).
    pub inputs: &'a [(String, String)],
    pub variations: Vec<(String, Variation)>,
    /// What each run asks for; `None` when the form's resources were
    /// refused (the page shows why), so that only the inputs are checked.
    pub resources: Option<Resources>,
    pub key: Option<String>,
}

/// Why the form's sweep was not submitted: field errors, a sentence, or
/// the form's key already made another sweep (the back button, then a
/// change): the form comes back with a new key.
pub enum Refused {
    Fields(ValidationErrors),
    Problem(String),
    KeyUsed,
}

/// Checks and submits the form's sweep; a redirect to its page.
pub async fn submit(
    state: &AppState,
    user: &CurrentUser,
    client: &ClientAddr,
    form: SweepForm<'_>,
) -> AppResult<Result<Response, Refused>> {
    let schema = &form.version.inputs;
    let varied: Vec<&str> = form
        .variations
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    // A varied input's own box is not read: the sweep gives its values.
    let fixed: Vec<(String, String)> = form
        .inputs
        .iter()
        .filter(|(name, _)| !varied.contains(&name.as_str()))
        .cloned()
        .collect();
    let uploads = crate::uploads::lookup(state, schema.form_named_uploads(&fixed)).await?;
    let (mut typed, unreadable) = schema.read_form(&fixed);
    for name in &varied {
        typed.remove(*name);
    }
    if !unreadable.is_empty() {
        return Ok(Err(Refused::Fields(unreadable)));
    }
    let plan = match plan(state, form.version, &typed, &form.variations, &uploads) {
        Ok(plan) => plan,
        Err(errors) => return Ok(Err(Refused::Fields(errors))),
    };
    let Some(resources) = form.resources else {
        return Ok(Err(Refused::Fields(ValidationErrors::default())));
    };
    let submission = SweepSubmission {
        version: form.version,
        plan,
        resources,
        key: form.key,
        // The form names a version by its label.
        production_only: false,
    };
    match submit_sweep(state, &user.user, client, submission).await {
        Ok(submitted) => Ok(Ok(Redirect::to(&format!(
            "/sweeps/{}",
            submitted.sweep().id
        ))
        .into_response())),
        Err(AppError::TooLarge(message)) => Ok(Err(Refused::Problem(format!(
            "The sweep was not submitted: {message}."
        )))),
        Err(AppError::Rejected(status, _)) if status == StatusCode::UNPROCESSABLE_ENTITY => {
            Ok(Err(Refused::KeyUsed))
        }
        Err(other) => Err(other),
    }
}
