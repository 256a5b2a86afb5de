//! The grid of a sweep: each varied input's values (a range or a list),
//! and every combination of them as one run's inputs.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::schema::{FieldKind, InputSchema, Inputs, Uploads, ValidationErrors};

/// One varied input and its values, in the order its runs are made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub field: String,
    pub values: Vec<Value>,
}

/// How a sweep varies one input: `{"from": 0.02, "to": 0.06, "step": 0.01}`
/// (numbers only, both ends included) or a list of values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Variation {
    Range { from: f64, to: f64, step: f64 },
    List(Vec<Value>),
}

/// Decimal places of `x` as it is written shortest (`0.01` → 2), at most 12.
fn decimals(x: f64) -> i32 {
    let text = format!("{x}");
    let places = text
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len());
    i32::try_from(places.min(12)).unwrap_or(12)
}

/// The values from `from` to `to` (both included when the steps land on
/// it) in steps of `step`, rounded to the places `from` and `step` are
/// written with, so that 0.02 + 4 × 0.01 is 0.06 and not
/// 0.060000000000000005. At most `max` values.
///
/// # Errors
/// What is wrong, completing "<input> …": a step that is not positive, an
/// end before the start, more than `max` values.
pub fn range_values(from: f64, to: f64, step: f64, max: usize) -> Result<Vec<f64>, String> {
    if !(from.is_finite() && to.is_finite() && step.is_finite()) {
        return Err("needs numbers for from, to and step".to_owned());
    }
    if step <= 0.0 {
        return Err(format!("has step {step}: a step must be more than 0"));
    }
    if to < from {
        return Err(format!(
            "goes from {from} to {to}: to must not be less than from"
        ));
    }
    let scale = 10f64.powi(decimals(from).max(decimals(step)));
    let steps = ((to - from) / step + 1e-9).floor();
    // Counted before anything is made: a step of 1e-9 must not allocate.
    #[allow(clippy::cast_precision_loss)]
    if steps + 1.0 > max as f64 {
        return Err(format!(
            "from {from} to {to} in steps of {step} makes more than {max} values"
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let count = steps as usize + 1;
    #[allow(clippy::cast_precision_loss)]
    Ok((0..count)
        .map(|k| ((from + k as f64 * step) * scale).round() / scale)
        .collect())
}

/// A number as JSON: whole numbers as integers, so that an integer input
/// gets `3` and not `3.0`.
fn number(value: f64, integer: bool) -> Option<Value> {
    #[allow(clippy::cast_possible_truncation)]
    if integer && value.fract() == 0.0 && value.abs() < 9.0e15 {
        return Some(Value::from(value as i64));
    }
    Number::from_f64(value).map(Value::Number)
}

/// Turns one input's variation into its axis, checking each value against
/// the input on its own. `max` bounds the values of a range or a list.
///
/// # Errors
/// The message completes "<input> …".
pub fn axis(
    schema: &InputSchema,
    name: &str,
    variation: &Variation,
    max: usize,
) -> Result<Axis, String> {
    let field = schema
        .field(name)
        .ok_or_else(|| "is not an input of this version".to_owned())?;
    let values = match (variation, &field.kind) {
        (Variation::Range { from, to, step }, FieldKind::Number { integer, .. }) => {
            range_values(*from, *to, *step, max)?
                .into_iter()
                .map(|v| number(v, *integer).ok_or_else(|| format!("cannot take {v}")))
                .collect::<Result<Vec<_>, _>>()?
        }
        (Variation::Range { .. }, _) => {
            return Err("is not a number, so it takes a list of values, not a range".to_owned());
        }
        (Variation::List(_), FieldKind::File { .. }) => {
            return Err("is a file: a sweep varies numbers, choices and other values".to_owned());
        }
        (Variation::List(values), _) => values.clone(),
    };
    if values.is_empty() {
        return Err("lists no values to run with".to_owned());
    }
    // Counted before each value is checked against the others.
    if values.len() > max {
        return Err(format!(
            "lists {} values; a sweep makes at most {max} runs",
            values.len()
        ));
    }
    let mut checked: Vec<Value> = Vec::with_capacity(values.len());
    for value in &values {
        let value = field
            .check(value)
            .map_err(|message| format!("{} in the sweep {message}", named(value)))?;
        if checked.contains(&value) {
            return Err(format!("lists {} twice", named(&value)));
        }
        checked.push(value);
    }
    Ok(Axis {
        field: name.to_owned(),
        values: checked,
    })
}

/// A value as a message names it: as [`shown`], and an empty text as such.
fn named(value: &Value) -> String {
    match value {
        Value::String(text) if text.is_empty() => "an empty text".to_owned(),
        other => shown(other),
    }
}

/// A value as a person reads it in a message or a table cell.
pub fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// How many runs `axes` make: the product of their lengths (saturating).
pub fn grid_size(axes: &[Axis]) -> u64 {
    axes.iter().fold(1u64, |size, axis| {
        size.saturating_mul(u64::try_from(axis.values.len()).unwrap_or(u64::MAX))
    })
}

/// The values of run `index` of the grid, one per axis: the first axis
/// changes slowest, the last fastest.
pub fn point(axes: &[Axis], index: usize) -> Vec<&Value> {
    let mut rest = index;
    let mut picked: Vec<&Value> = axes
        .iter()
        .rev()
        .map(|axis| {
            let len = axis.values.len().max(1);
            let value = &axis.values[rest % len];
            rest /= len;
            value
        })
        .collect();
    picked.reverse();
    picked
}

/// "growth = 0.02, segment = retail": a run's place in the grid.
pub fn label(axes: &[Axis], values: &[&Value]) -> String {
    axes.iter()
        .zip(values)
        .map(|(axis, value)| format!("{} = {}", axis.field, shown(value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every run's inputs: `base` (the inputs that stay fixed) with each
/// combination of the axes, each validated against `schema` whole.
/// The grid holds from 2 to `max` runs.
///
/// # Errors
/// Field errors: an input varied twice, a grid too small or too large
/// (under `vary`), or the first combination the schema refuses, named.
pub fn expand(
    schema: &InputSchema,
    base: &Inputs,
    axes: &[Axis],
    max: usize,
    uploads: &Uploads,
) -> Result<Vec<Inputs>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for (i, axis) in axes.iter().enumerate() {
        if axes[..i].iter().any(|other| other.field == axis.field) {
            errors.push(&axis.field, "is varied twice");
            return Err(errors);
        }
    }
    let size = grid_size(axes);
    if size < 2 {
        errors.push(
            "vary",
            "makes one run: vary an input over two or more values, or submit a single run",
        );
        return Err(errors);
    }
    if size > u64::try_from(max).unwrap_or(u64::MAX) {
        errors.push(
            "vary",
            format!("makes {size} runs; a sweep makes at most {max}"),
        );
        return Err(errors);
    }
    let size = usize::try_from(size).unwrap_or(max);
    let mut runs = Vec::with_capacity(size);
    for index in 0..size {
        let values = point(axes, index);
        let mut inputs = base.clone();
        for (axis, value) in axes.iter().zip(&values) {
            inputs.insert(axis.field.clone(), (*value).clone());
        }
        match schema.validate_with(&inputs, uploads) {
            Ok(valid) => runs.push(valid),
            Err(refused) => {
                let at = label(axes, &values);
                for error in refused.errors {
                    errors.push(&error.field, format!("(with {at}) {}", error.message));
                }
                return Err(errors);
            }
        }
    }
    Ok(runs)
}

#[cfg(test)]
#[path = "grid_tests.rs"]
mod tests;
