//! The inputs of `modelrun runs submit`: `--inputs-file`, then each
//! `--input name=value`. A value is a file to upload when it is `@path`;
//! for an input of the version's schema it is JSON when it is JSON of the
//! input's kind, else read as the run form reads its box (`0,05`,
//! `2027-03`); an empty value means what the form's empty box means; and
//! every `--input` of a list input is one more item. A value for a name
//! the schema does not have is JSON when it is JSON, else text.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use modelrun_core::schema::{Field, FieldKind, InputSchema};
use serde_json::{Map, Value};

use super::http::Client;
use super::upload::FILE_PREFIX;

/// Every input of a submission, with its files uploaded.
pub async fn gather(
    client: &Client,
    model: &str,
    version: Option<&str>,
    file: Option<&Path>,
    pairs: &[String],
) -> anyhow::Result<Map<String, Value>> {
    let pairs = split_pairs(pairs)?;
    let from_file = read_inputs_file(file)?;
    let schema = if needs_schema(&from_file, &pairs) {
        Some(input_schema(client, model, version).await?)
    } else {
        None
    };
    let base = file.and_then(Path::parent).unwrap_or(Path::new(""));
    let (mut inputs, files) = resolve(schema.as_ref(), from_file, base, &pairs)?;
    // Every file is read before the first upload: one that cannot be read
    // stops the submission before anything is sent.
    for (name, path) in &files {
        std::fs::File::open(path)
            .with_context(|| format!("input {name}: cannot read {}", path.display()))?;
    }
    for (name, path) in files {
        eprintln!("Uploading {} for {name}…", path.display());
        let id = super::upload::upload(client, &path).await?;
        inputs.insert(name, Value::String(id));
    }
    Ok(inputs)
}

/// The `--input name=value` pairs, split: the name trimmed, the value as given.
fn split_pairs(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| {
            let Some((name, value)) = pair.split_once('=') else {
                bail!("--input {pair:?}: write it as name=value");
            };
            let name = name.trim();
            if name.is_empty() {
                bail!("--input {pair:?}: the name is empty");
            }
            Ok((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The JSON object of `--inputs-file`, or nothing.
fn read_inputs_file(file: Option<&Path>) -> anyhow::Result<Map<String, Value>> {
    let Some(path) = file else {
        return Ok(Map::new());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match serde_json::from_str::<Value>(&text)
        .with_context(|| format!("{} is not JSON", path.display()))?
    {
        Value::Object(map) => Ok(map),
        _ => bail!("{} must hold a JSON object of inputs", path.display()),
    }
}

/// Whether reading the inputs takes the version's schema: a value to read
/// by its input's kind, or an `@path` of the inputs file that may name a
/// file to upload. Files given as `--input name=@path` need none.
fn needs_schema(from_file: &Map<String, Value>, pairs: &[(String, String)]) -> bool {
    pairs
        .iter()
        .any(|(_, value)| !value.starts_with(FILE_PREFIX))
        || from_file
            .values()
            .any(|value| value.as_str().is_some_and(|s| s.starts_with(FILE_PREFIX)))
}

/// Stops a command naming a model the server does not have (or that the
/// token may not see), naming it and the ones there are, before any file
/// is read or uploaded.
pub(super) async fn require_model(client: &Client, model: &str) -> anyhow::Result<()> {
    let models = client.get("/api/v1/models").await?;
    let names: Vec<&str> = models["models"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    if names.contains(&model) {
        return Ok(());
    }
    match names.is_empty() {
        true => bail!("no model {model}: the server has no model yet"),
        false => bail!("no model {model}: the models are {}", names.join(", ")),
    }
}

/// The input schema of the version a submission will run: the one named,
/// production when none is, or the newest active one for `latest`.
pub(super) async fn input_schema(
    client: &Client,
    model: &str,
    version: Option<&str>,
) -> anyhow::Result<modelrun_core::schema::InputSchema> {
    let models = client.get("/api/v1/models").await?;
    let found = models["models"]
        .as_array()
        .and_then(|models| models.iter().find(|m| m["name"] == model))
        .with_context(|| format!("the server has no model {model:?}"))?;
    let versions = found["versions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    // As the server's `pick_version` picks it.
    let chosen = match version {
        None | Some("production") => versions
            .iter()
            .find(|v| v["label"] == found["production_version"]),
        Some("latest") => versions
            .iter()
            .filter(|v| v["active"] == true)
            .max_by_key(|v| v["registered_at"].as_str().unwrap_or_default().to_owned()),
        Some(label) => versions.iter().find(|v| v["label"] == label),
    }
    .with_context(|| format!("{model} has no version to run"))?;
    modelrun_core::schema::InputSchema::stored(&chosen["input_schema"], "inputs")
        .map_err(|error| anyhow::anyhow!("the version's input schema cannot be read: {error}"))
}

/// Files to upload: the input each is for, and its path.
type Files = Vec<(String, PathBuf)>;

/// The inputs of a submission, from the inputs file's object and the
/// `--input` pairs (which replace the file's values), and the files to
/// upload for them. `base` is the inputs file's directory, where its
/// `"@name.csv"` values are.
fn resolve(
    schema: Option<&InputSchema>,
    from_file: Map<String, Value>,
    base: &Path,
    pairs: &[(String, String)],
) -> anyhow::Result<(Map<String, Value>, Files)> {
    let mut inputs = from_file;
    let mut files: Files = Vec::new();
    if let Some(schema) = schema {
        for field in schema.fields() {
            if !matches!(field.kind, FieldKind::File { .. }) {
                continue;
            }
            let path = inputs
                .get(&field.name)
                .and_then(Value::as_str)
                .and_then(|text| text.strip_prefix(FILE_PREFIX))
                .map(|path| base.join(path));
            if let Some(path) = path {
                inputs.remove(&field.name);
                files.push((field.name.clone(), path));
            }
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in pairs {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    for name in names {
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
            .collect();
        files.retain(|(earlier, _)| earlier != name);
        let field = schema.and_then(|schema| schema.field(name).map(|field| (schema, field)));
        if let Some((schema, field)) = field
            && matches!(field.kind, FieldKind::List { .. })
        {
            inputs.insert(name.to_owned(), read_list(schema, field, &values)?);
            continue;
        }
        // Anything else takes the last value given.
        let Some(&value) = values.last() else {
            continue;
        };
        if let Some(path) = value.strip_prefix(FILE_PREFIX) {
            inputs.remove(name);
            files.push((name.to_owned(), PathBuf::from(path)));
            continue;
        }
        let read = match field {
            Some((schema, field)) => read_one(schema, field, value)?,
            None => Some(
                serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned())),
            ),
        };
        match read {
            Some(read) => inputs.insert(name.to_owned(), read),
            None => inputs.remove(name),
        };
    }
    Ok((inputs, files))
}

/// One value of an input that is not a list: its JSON when that is of the
/// input's kind, else its text read as the form reads its box. `None`
/// leaves the input out, as an optional box left empty does.
fn read_one(schema: &InputSchema, field: &Field, value: &str) -> anyhow::Result<Option<Value>> {
    let name = &field.name;
    if let Ok(json) = serde_json::from_str::<Value>(value)
        && is_of_kind(field, &json)
    {
        return Ok(Some(json));
    }
    match schema.read_text(name, value) {
        None => Ok(Some(Value::String(value.to_owned()))),
        Some(Ok(Some(read))) => Ok(Some(read)),
        Some(Ok(None)) => field
            .left_empty()
            .map_err(|message| anyhow::anyhow!("--input {name}={value}: {name} {message}")),
        Some(Err(message)) => bail!("--input {name}={value}: {name} {message}"),
    }
}

/// Whether a JSON value is of the kind of value its input takes: a
/// number for a number, text for text, dates and text choices, and so on;
/// `null` for an input that allows it.
fn is_of_kind(field: &Field, value: &Value) -> bool {
    if value.is_null() {
        return field.nullable;
    }
    match &field.kind {
        FieldKind::Number { .. } => value.is_number(),
        FieldKind::String { .. } | FieldKind::Date | FieldKind::DateTime => value.is_string(),
        FieldKind::Enum { options } => options.iter().any(|option| {
            (option.value.is_string() && value.is_string())
                || (option.value.is_number() && value.is_number())
        }),
        FieldKind::Boolean => value.is_boolean(),
        FieldKind::List { .. } => value.is_array(),
        FieldKind::File { .. } => value.is_string() || value.is_object(),
    }
}

/// A list input: one JSON list given once, or one item per `--input`,
/// each read as the form reads one line. Checked here, so that a refusal
/// can say how a list is written.
fn read_list(schema: &InputSchema, field: &Field, values: &[&str]) -> anyhow::Result<Value> {
    let name = &field.name;
    let hint = || {
        format!(
            "A list takes one item per --input (-i {name}=a -i {name}=b), \
             or a JSON list (-i '{name}=[\"a\",\"b\"]')."
        )
    };
    let json = match values {
        [value] => serde_json::from_str::<Value>(value)
            .ok()
            .filter(|json| is_of_kind(field, json)),
        _ => None,
    };
    let list = match json {
        Some(json) => json,
        None => {
            let mut items = Vec::new();
            for value in values.iter().filter(|value| !value.trim().is_empty()) {
                match schema.read_text(name, value) {
                    Some(Ok(Some(Value::Array(read)))) => items.extend(read),
                    Some(Ok(_)) | None => {}
                    Some(Err(message)) => {
                        let message = renumber(&message, items.len());
                        bail!("--input {name}={value}: {name} {message}. {}", hint());
                    }
                }
            }
            if items.is_empty() {
                match schema.read_text(name, "") {
                    Some(Ok(Some(nothing))) => nothing,
                    Some(Ok(None)) | None => Value::Array(Vec::new()),
                    Some(Err(message)) => bail!("--input {name}=: {name} {message}"),
                }
            } else {
                Value::Array(items)
            }
        }
    };
    field.check(&list).map_err(|message| {
        let given = values.join(", ");
        anyhow::anyhow!("--input {name}={given}: {name} {message}. {}", hint())
    })
}

/// The form's "(line 2) …" of one value, as the item of the whole list it
/// is when `before` items came before it.
fn renumber(message: &str, before: usize) -> String {
    let numbered = message
        .strip_prefix("(line ")
        .and_then(|rest| rest.split_once(") "))
        .and_then(|(line, rest)| Some((line.parse::<usize>().ok()?, rest)));
    match numbered {
        Some((line, rest)) => format!("(item {}) {rest}", before + line),
        None => message.to_owned(),
    }
}

#[cfg(test)]
#[path = "inputs_tests.rs"]
mod tests;
