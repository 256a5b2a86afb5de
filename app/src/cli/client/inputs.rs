//! The inputs of `modelrun runs submit`: `--inputs-file`, then each
//! `--input name=value`, whose value is JSON when it is JSON, read as the
//! run form reads its box when it is not (by the version's schema), or a
//! file to upload when it is `@path`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use super::http::Client;

/// Every input of a submission, with its files uploaded.
pub async fn gather(
    client: &Client,
    model: &str,
    version: Option<&str>,
    file: Option<&Path>,
    pairs: &[String],
) -> anyhow::Result<Map<String, Value>> {
    let files = files_to_upload(pairs);
    let texts = texts_to_read(pairs);
    let mut inputs = read_inputs(file, pairs)?;
    if !texts.is_empty() {
        let schema = input_schema(client, model, version).await?;
        read_as_the_form_does(&schema, &texts, &mut inputs)?;
    }
    for (name, path) in files {
        eprintln!("Uploading {} for {name}…", path.display());
        let id = super::upload::upload(client, &path).await?;
        inputs.insert(name, Value::String(id));
    }
    Ok(inputs)
}

/// The files `--input name=@path` names, to upload: the last one given
/// for each input. (Text that starts with @ is written as JSON: `name="@x"`.)
fn files_to_upload(pairs: &[String]) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (name, value) in pairs.iter().filter_map(|pair| pair.split_once('=')) {
        let name = name.trim().to_owned();
        files.retain(|(earlier, _)| earlier != &name);
        if let Some(path) = value.strip_prefix(super::upload::FILE_PREFIX) {
            files.push((name, PathBuf::from(path)));
        }
    }
    files
}

/// The `--input name=value` pairs whose value is not JSON (`growth=0,05`,
/// `month=2027-03`): read as the form reads its boxes, by the input's type.
fn texts_to_read(pairs: &[String]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter_map(|pair| pair.split_once('='))
        .filter(|(_, value)| {
            !value.starts_with(super::upload::FILE_PREFIX)
                && serde_json::from_str::<Value>(value).is_err()
        })
        .map(|(name, value)| (name.trim().to_owned(), value.to_owned()))
        .collect()
}

/// The input schema of the version a submission will run: the one named,
/// else the latest active one.
async fn input_schema(
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
    let chosen = match version {
        Some(label) => versions.iter().find(|v| v["label"] == label),
        None => versions
            .iter()
            .filter(|v| v["active"] == true)
            .max_by_key(|v| v["registered_at"].as_str().unwrap_or_default().to_owned()),
    }
    .with_context(|| format!("{model} has no version to run"))?;
    modelrun_core::schema::InputSchema::stored(&chosen["input_schema"], "inputs")
        .map_err(|error| anyhow::anyhow!("the version's input schema cannot be read: {error}"))
}

/// Reads each text value by its input's type, as the run form does: a
/// decimal comma is read (`0,05`), an ambiguous number refused with the
/// form's words, a list one item per line. Inputs the schema does not
/// name stay text, for the server to refuse.
fn read_as_the_form_does(
    schema: &modelrun_core::schema::InputSchema,
    texts: &[(String, String)],
    inputs: &mut Map<String, Value>,
) -> anyhow::Result<()> {
    for (name, text) in texts {
        match schema.read_text(name, text) {
            None | Some(Ok(None)) => {}
            Some(Ok(Some(value))) => {
                inputs.insert(name.clone(), value);
            }
            Some(Err(message)) => bail!("--input {name}={text}: {name} {message}"),
        }
    }
    Ok(())
}

/// The inputs of `--inputs-file` and `--input name=value`.
pub fn read_inputs(file: Option<&Path>, pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut inputs = match file {
        None => Map::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            match serde_json::from_str::<Value>(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?
            {
                Value::Object(map) => map,
                _ => bail!("{} must hold a JSON object of inputs", path.display()),
            }
        }
    };
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--input {pair:?}: write it as name=value");
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("--input {pair:?}: the name is empty");
        }
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        inputs.insert(name.to_owned(), value);
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn inputs_are_json_when_they_can_be() {
        let inputs = read_inputs(
            None,
            &[
                "growth=0.05".into(),
                "name=north".into(),
                "ok=true".into(),
                "q=\"0.1\"".into(),
            ],
        )
        .expect("inputs");
        assert_eq!(inputs["growth"], json!(0.05));
        assert_eq!(inputs["name"], json!("north"));
        assert_eq!(inputs["ok"], json!(true));
        assert_eq!(inputs["q"], json!("0.1"));
        assert!(read_inputs(None, &["nothing".into()]).is_err());
        assert_eq!(
            files_to_upload(&[
                "overrides=@plan.csv".into(),
                "note=\"@team\"".into(),
                "other=@a.csv".into(),
                "other=1".into(),
            ]),
            [("overrides".to_owned(), PathBuf::from("plan.csv"))],
            "a later value replaces an earlier file; JSON text is text"
        );
        assert!(read_inputs(None, &["=1".into()]).is_err());
    }
}
