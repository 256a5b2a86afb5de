//! `modelrun runs …` and `modelrun models list --url …`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

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
        /// The version: a label, `production` (the default: what planners
        /// run) or `latest` (the newest active version, production or not;
        /// a candidate needs the scientist or admin role).
        #[arg(long)]
        version: Option<String>,
        #[command(flatten)]
        resources: ResourceArgs,
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
        /// Only runs of this model.
        #[arg(long)]
        model: Option<String>,
        /// Only runs in this status (queued, running, succeeded, failed,
        /// cancelled, …).
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
        /// The run's number, as `runs list` shows it.
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Ask an active run to stop.
    Cancel {
        /// The run's number, as `runs list` shows it.
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Run a reproducibility bundle (a run page's "Download the
    /// reproducibility bundle") again on its version, and say which outputs
    /// are byte-identical. Exit 0 when all are, 3 when any differs.
    Reproduce {
        /// The bundle, a .zip.
        bundle: PathBuf,
        /// `latest` to run the model's latest version (or another label),
        /// where the bundle's is retired or has changed.
        #[arg(long)]
        version: Option<String>,
        /// Wait for the run and compare its outputs (the default).
        #[arg(long, overrides_with = "no_wait")]
        wait: bool,
        /// Submit only: do not wait or compare.
        #[arg(long)]
        no_wait: bool,
        /// The server (default: the bundle's).
        #[command(flatten)]
        server: ServerArgs,
    },
    /// What runs of a version are likely to take and cost (duration from
    /// its succeeded runs; cost on AWS Batch), and the budgets they would cross.
    Estimate {
        /// The model's name, as in `models list`.
        model: String,
        /// A version label, `production` (the default) or `latest`.
        #[arg(long)]
        version: Option<String>,
        #[command(flatten)]
        resources: ResourceArgs,
        /// How many runs (a sweep's size): the totals multiply.
        #[arg(long, default_value_t = 1)]
        count: u32,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print a run's log.
    Logs {
        /// The run's number, as `runs list` shows it.
        id: i64,
        /// Keep printing what the model writes until the run ends.
        #[arg(long, short = 'f')]
        follow: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Compute for one run, each left out being the version's value; the
/// server checks them against the version's `[resources.max]`.
#[derive(Debug, clap::Args)]
pub struct ResourceArgs {
    /// vCPUs for this run (such as 0.5 or 2).
    #[arg(long)]
    vcpu: Option<f64>,
    /// Memory for this run, in MiB.
    #[arg(long, value_name = "MIB")]
    memory_mib: Option<i64>,
    /// Time limit for this run, in seconds.
    #[arg(long, value_name = "SECONDS")]
    timeout_seconds: Option<i64>,
}

impl ResourceArgs {
    /// The estimate's query parameters, for what was asked for.
    pub(super) fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        query.extend(self.vcpu.map(|vcpu| ("vcpu", vcpu.to_string())));
        query.extend(self.memory_mib.map(|mib| ("memory_mib", mib.to_string())));
        query.extend(
            self.timeout_seconds
                .map(|s| ("timeout_seconds", s.to_string())),
        );
        query
    }

    /// The body's `"resources"`, when any was asked for.
    fn body(&self) -> Option<Value> {
        let mut asked = serde_json::Map::new();
        if let Some(vcpu) = self.vcpu {
            asked.insert("vcpu".to_owned(), json!(vcpu));
        }
        if let Some(memory_mib) = self.memory_mib {
            asked.insert("memory_mib".to_owned(), json!(memory_mib));
        }
        if let Some(timeout_seconds) = self.timeout_seconds {
            asked.insert("timeout_seconds".to_owned(), json!(timeout_seconds));
        }
        (!asked.is_empty()).then_some(Value::Object(asked))
    }
}

pub async fn run(command: RunsCommand) -> anyhow::Result<ExitCode> {
    match command {
        RunsCommand::Estimate {
            model,
            version,
            resources,
            count,
            server,
        } => {
            super::costs::estimate(
                &server,
                &model,
                version.as_deref(),
                resources.query(),
                count,
            )
            .await
        }
        RunsCommand::Submit {
            model,
            inputs,
            inputs_file,
            version,
            resources,
            wait,
            download,
            server,
        } => {
            let client = server.client()?;
            super::inputs::require_model(&client, &model).await?;
            let inputs = super::inputs::gather(
                &client,
                &model,
                version.as_deref(),
                inputs_file.as_deref(),
                &inputs,
            )
            .await?;
            if !server.json {
                // What to expect, before it is submitted; no estimate is no reason to stop.
                let query = resources.query();
                if let Ok(estimate) =
                    super::costs::fetch(&client, &model, version.as_deref(), query, 1).await
                {
                    for line in super::costs::describe(&estimate) {
                        eprintln!("{line}");
                    }
                }
            }
            let mut body = json!({ "inputs": inputs });
            if let Some(version) = version {
                body["version"] = json!(version);
            }
            if let Some(asked) = resources.body() {
                body["resources"] = asked;
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
        RunsCommand::Reproduce {
            bundle,
            version,
            wait,
            no_wait,
            server,
        } => {
            super::reproduce::reproduce(super::reproduce::Reproduce {
                bundle: &bundle,
                version: version.as_deref(),
                wait: wait || !no_wait,
                server,
            })
            .await
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
                    cell(&version["alias"])
                },
                cell(&version["registered_at"]),
            ]);
        }
    }
    table(&["MODEL", "TITLE", "VERSION", "STATE", "REGISTERED"], &rows);
    Ok(())
}

fn print_run(run: &Value) {
    println!(
        "Run {} of {} (version {})",
        cell(&run["id"]),
        cell(&run["model"]),
        cell(&run["version"])
    );
    if run["alias"].is_string() {
        println!("  alias      {}", cell(&run["alias"]));
    }
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
    let resources = &run["resources"];
    if resources.is_object() {
        println!(
            "  resources  {} vCPU, {} MiB, {} s limit",
            cell(&resources["vcpu"]),
            cell(&resources["memory_mib"]),
            cell(&resources["timeout_seconds"])
        );
    }
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

/// The end of `runs submit --wait`: how the run ended, last, on stderr
/// (as "waiting for it to end" began it), and the exit code that says it.
fn exit_for(run: &Value) -> ExitCode {
    eprintln!("Run {} {}.", cell(&run["id"]), cell(&run["status"]));
    if run["status"] == "succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn encode(part: &str) -> String {
    percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(super) fn encode_path(name: &str) -> String {
    name.split('/').map(encode).collect::<Vec<_>>().join("/")
}
