//! `modelrun runs …` and `modelrun models list --url …`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::ServerArgs;
use super::follow::{download_outputs, logs, wait_for};
use super::output::{cell, json as print_json, seconds, table, text};

/// The statuses a run ends in.
pub(super) const TERMINAL: [&str; 3] = ["succeeded", "failed", "cancelled"];

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Submit a run of a model.
    Submit {
        /// The model's name, as in `models list`.
        model: String,
        /// An input as name=value; the value is read as JSON when it is JSON
        /// (0.05, true, "text", [0.01, 0.02]), else as text; name=@path
        /// uploads the file at path for a file input. Repeat for several.
        #[arg(long = "input", short = 'i', value_name = "NAME=VALUE")]
        inputs: Vec<String>,
        /// A JSON object of inputs; --input values override it.
        #[arg(long, value_name = "FILE")]
        inputs_file: Option<PathBuf>,
        /// The version label (default: the latest active one).
        #[arg(long)]
        version: Option<String>,
        /// Wait for the run to end, showing its progress; exit non-zero unless it succeeds.
        #[arg(long)]
        wait: bool,
        /// With --wait: download the outputs into this directory.
        #[arg(long, value_name = "DIR", requires = "wait")]
        download: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List runs, newest first.
    List {
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        status: Option<String>,
        /// How many (1–200).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show one run with its outputs.
    Get {
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Ask an active run to stop.
    Cancel {
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print a run's log.
    Logs {
        id: i64,
        /// Keep printing what the model writes until the run ends.
        #[arg(long, short = 'f')]
        follow: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub async fn run(command: RunsCommand) -> anyhow::Result<ExitCode> {
    match command {
        RunsCommand::Submit {
            model,
            inputs,
            inputs_file,
            version,
            wait,
            download,
            server,
        } => {
            let client = server.client()?;
            let files = files_to_upload(&inputs);
            let texts = texts_to_read(&inputs);
            let mut inputs = read_inputs(inputs_file.as_deref(), &inputs)?;
            if !texts.is_empty() {
                let schema = input_schema(&client, &model, version.as_deref()).await?;
                read_as_the_form_does(&schema, &texts, &mut inputs)?;
            }
            for (name, path) in files {
                eprintln!("Uploading {} for {name}…", path.display());
                let id = super::upload::upload(&client, &path).await?;
                inputs.insert(name, Value::String(id));
            }
            let mut body = json!({ "inputs": inputs });
            if let Some(version) = version {
                body["version"] = json!(version);
            }
            let path = format!("/api/v1/models/{}/runs", encode(&model));
            let run = client
                .json(client.request(Method::POST, &path).json(&body))
                .await?;
            let id = run["id"]
                .as_i64()
                .context("the server's answer has no run id")?;
            if !wait {
                if server.json {
                    print_json(&run);
                } else {
                    println!(
                        "Submitted run {id} of {model} (version {}).",
                        cell(&run["version"])
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("Submitted run {id} of {model}; waiting for it to end.");
            let run = wait_for(&client, id).await?;
            if let Some(dir) = download {
                download_outputs(&client, &run, &dir).await?;
            }
            if server.json {
                print_json(&run);
            } else {
                print_run(&run);
            }
            Ok(exit_for(&run))
        }
        RunsCommand::List {
            model,
            status,
            limit,
            server,
        } => {
            let client = server.client()?;
            let mut query: Vec<(&str, String)> = vec![("limit", limit.to_string())];
            query.extend(model.map(|m| ("model", m)));
            query.extend(status.map(|s| ("status", s)));
            let list = client
                .json(client.request(Method::GET, "/api/v1/runs").query(&query))
                .await?;
            if server.json {
                print_json(&list);
            } else {
                let rows: Vec<Vec<String>> = list["runs"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|run| {
                        vec![
                            cell(&run["id"]),
                            cell(&run["model"]),
                            cell(&run["version"]),
                            cell(&run["status"]),
                            cell(&run["submitted_by"]),
                            cell(&run["created_at"]),
                            seconds(&run["duration_seconds"]),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "ID",
                        "MODEL",
                        "VERSION",
                        "STATUS",
                        "SUBMITTED BY",
                        "CREATED",
                        "DURATION",
                    ],
                    &rows,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Get { id, server } => {
            let client = server.client()?;
            let run = client.get(&format!("/api/v1/runs/{id}")).await?;
            if server.json {
                print_json(&run);
            } else {
                print_run(&run);
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Cancel { id, server } => {
            let client = server.client()?;
            let before = client.get(&format!("/api/v1/runs/{id}")).await?;
            let status = text(&before["status"]);
            if TERMINAL.contains(&status.as_str()) {
                if server.json {
                    print_json(&before);
                }
                // Cancelled already is what was asked; any other end is not.
                if status == "cancelled" {
                    eprintln!("Run {id} was already cancelled; nothing to cancel.");
                    return Ok(ExitCode::SUCCESS);
                }
                eprintln!("Run {id} already finished ({status}); nothing to cancel.");
                return Ok(ExitCode::FAILURE);
            }
            let path = format!("/api/v1/runs/{id}/cancel");
            let run = client.json(client.request(Method::POST, &path)).await?;
            if server.json {
                print_json(&run);
            } else {
                println!("Run {id} is {}.", cell(&run["status"]));
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Logs { id, follow, server } => {
            let client = server.client()?;
            logs(&client, id, follow).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `models list` against a server.
pub async fn list_models(server: &ServerArgs) -> anyhow::Result<()> {
    let client = server.client()?;
    let models = client.get("/api/v1/models").await?;
    if server.json {
        print_json(&models);
        return Ok(());
    }
    let mut rows = Vec::new();
    for model in models["models"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        for version in model["versions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            rows.push(vec![
                cell(&model["name"]),
                cell(&model["title"]),
                cell(&version["label"]),
                if version["active"] == json!(false) {
                    "retired".to_owned()
                } else {
                    "active".to_owned()
                },
                cell(&version["registered_at"]),
            ]);
        }
    }
    table(&["MODEL", "TITLE", "VERSION", "STATE", "REGISTERED"], &rows);
    Ok(())
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
    client: &super::http::Client,
    model: &str,
    version: Option<&str>,
) -> anyhow::Result<modelrun_core::schema::InputSchema> {
    let models = client.get("/api/v1/models").await?;
    let found = models["models"]
        .as_array()
        .and_then(|models| models.iter().find(|m| m["name"] == model))
        .with_context(|| format!("the server has no model {model:?}"))?;
    let versions = found["versions"].as_array().map(Vec::as_slice).unwrap_or_default();
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

fn print_run(run: &Value) {
    println!(
        "Run {} of {} (version {})",
        cell(&run["id"]),
        cell(&run["model"]),
        cell(&run["version"])
    );
    println!("  status     {}", cell(&run["status"]));
    if run["status_reason"].is_string() {
        println!("  reason     {}", cell(&run["status_reason"]));
    }
    println!(
        "  submitted  {} by {}",
        cell(&run["created_at"]),
        cell(&run["submitted_by"])
    );
    println!("  duration   {}", seconds(&run["duration_seconds"]));
    if let Some(origin) = run["rerun_of"].as_i64() {
        println!("  run again from run {origin}");
    }
    let outputs = run["outputs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !outputs.is_empty() {
        println!("  outputs");
        for output in outputs {
            println!(
                "    {}  {} bytes",
                cell(&output["name"]),
                cell(&output["size"])
            );
        }
    }
}

fn exit_for(run: &Value) -> ExitCode {
    if run["status"] == "succeeded" {
        ExitCode::SUCCESS
    } else {
        eprintln!("Run {} {}.", cell(&run["id"]), cell(&run["status"]));
        ExitCode::FAILURE
    }
}

fn encode(part: &str) -> String {
    percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(super) fn encode_path(name: &str) -> String {
    name.split('/').map(encode).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
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
