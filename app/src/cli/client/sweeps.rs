//! `modelrun sweeps submit|list|get|cancel|download`: sweeps on a modelrun
//! server, through its API. A sweep runs a version once per combination
//! of the inputs it varies (`--vary`, read by [`super::vary`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::output::{cell, json as print_json, table, text};
use super::{Client, ServerArgs};

/// How often `--wait` asks the server.
const POLL: Duration = Duration::from_secs(1);

/// The statuses a sweep ends in.
const ENDED: [&str; 3] = ["succeeded", "failed", "cancelled"];

#[derive(Debug, Subcommand)]
pub enum SweepsCommand {
    /// Submit a sweep: one run per combination of the varied inputs.
    Submit {
        /// The model's name, as in `models list`.
        model: String,
        /// A varied input: name=from:to:step for a range of numbers (both
        /// ends included, such as growth_rate=0.02:0.06:0.01), or
        /// name=a,b,c for a list (such as seasonality=retail,b2b; separate
        /// with ; when a value holds a comma: growth_rate=0,02;0,03).
        /// Repeat for several: the sweep runs every combination.
        #[arg(long, value_name = "NAME=VALUES", required = true)]
        vary: Vec<String>,
        /// An input every run shares, as name=value (read as `runs submit
        /// --input` reads it). Repeat for several.
        #[arg(long = "input", short = 'i', value_name = "NAME=VALUE")]
        inputs: Vec<String>,
        /// A JSON object of shared inputs; --input values override it.
        #[arg(long, value_name = "FILE")]
        inputs_file: Option<PathBuf>,
        /// A version label, `production` (the default) or `latest`.
        #[arg(long)]
        version: Option<String>,
        /// Wait until every run has ended, showing how many have; exit 0
        /// when all succeeded, 1 otherwise.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List sweeps, newest first, with how many of their runs have ended.
    List {
        /// How many (1–200).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show a sweep: its runs in grid order, with their varied values and status.
    Get {
        /// The sweep's number, as `sweeps list` shows it.
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Cancel every run of a sweep that has not ended.
    Cancel {
        /// The sweep's number, as `sweeps list` shows it.
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Download every output of an ended sweep as one zip, with index.csv.
    Download {
        /// The sweep's number, as `sweeps list` shows it.
        id: i64,
        /// Where to write the zip (default: modelrun-sweep-<id>.zip here;
        /// in a directory, under that name).
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub async fn run(command: SweepsCommand) -> anyhow::Result<ExitCode> {
    match command {
        SweepsCommand::Submit {
            model,
            vary,
            inputs,
            inputs_file,
            version,
            wait,
            server,
        } => {
            let client = server.client()?;
            super::inputs::require_model(&client, &model).await?;
            let schema = super::inputs::input_schema(&client, &model, version.as_deref()).await?;
            let vary = super::vary::read(Some(&schema), &vary)?;
            let inputs = super::inputs::gather(
                &client,
                &model,
                version.as_deref(),
                inputs_file.as_deref(),
                &inputs,
            )
            .await?;
            let mut body = json!({ "inputs": inputs, "vary": vary });
            if let Some(version) = version {
                body["version"] = json!(version);
            }
            let path = format!("/api/v1/models/{}/sweeps", super::runs::encode_path(&model));
            // One key per command: a request the client sends again (a
            // lost answer) gives back the sweep the first one made.
            let key = modelrun_core::crypto::random_hex(16);
            let request = client
                .request(Method::POST, &path)
                .header("Idempotency-Key", key)
                .json(&body);
            let sweep = client.json(request).await?;
            let id = sweep["id"]
                .as_i64()
                .context("the server's answer has no sweep id")?;
            let line = format!(
                "Submitted sweep {id} of {model} (version {}): {} runs, {}{}",
                cell(&sweep["version"]),
                cell(&sweep["run_count"]),
                client.base(),
                cell(&sweep["url"])
            );
            if !wait {
                if server.json {
                    print_json(&sweep);
                } else {
                    println!("{line}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("{line}; waiting for every run to end.");
            let sweep = wait_for(&client, id).await?;
            if server.json {
                print_json(&sweep);
            } else {
                print_sweep(&sweep);
            }
            let tally = &sweep["tally"];
            eprintln!(
                "Sweep {id} {}: {} succeeded, {} failed, {} cancelled.",
                cell(&sweep["status"]),
                cell(&tally["succeeded"]),
                cell(&tally["failed"]),
                cell(&tally["cancelled"])
            );
            Ok(if sweep["status"] == "succeeded" {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        SweepsCommand::List { limit, server } => {
            let client = server.client()?;
            let query = [("limit", limit.to_string())];
            let list = client
                .json(client.request(Method::GET, "/api/v1/sweeps").query(&query))
                .await?;
            if server.json {
                print_json(&list);
            } else {
                print_list(&list);
            }
            Ok(ExitCode::SUCCESS)
        }
        SweepsCommand::Get { id, server } => {
            let client = server.client()?;
            let sweep = client.get(&format!("/api/v1/sweeps/{id}")).await?;
            if server.json {
                print_json(&sweep);
            } else {
                print_sweep(&sweep);
            }
            Ok(ExitCode::SUCCESS)
        }
        SweepsCommand::Cancel { id, server } => cancel(id, &server).await,
        SweepsCommand::Download {
            id,
            output,
            force,
            server,
        } => {
            let client = server.client()?;
            // An existing directory takes the archive under its own name.
            let name = format!("modelrun-sweep-{id}.zip");
            let target = match output {
                Some(dir) if dir.is_dir() => dir.join(name),
                Some(file) => file,
                None => PathBuf::from(name),
            };
            super::archive::download(&client, id, &target, force).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Polls until every run of the sweep has ended, showing on stderr how
/// many have whenever that changes.
async fn wait_for(client: &Client, id: i64) -> anyhow::Result<Value> {
    let started = Instant::now();
    let mut shown = String::new();
    loop {
        let sweep = client.get(&format!("/api/v1/sweeps/{id}")).await?;
        let tally = &sweep["tally"];
        let line = format!(
            "{} of {} runs ended ({} running, {} waiting)",
            text(&tally["succeeded"]).parse::<i64>().unwrap_or(0)
                + text(&tally["failed"]).parse::<i64>().unwrap_or(0)
                + text(&tally["cancelled"]).parse::<i64>().unwrap_or(0),
            cell(&sweep["run_count"]),
            cell(&tally["running"]),
            cell(&tally["waiting"])
        );
        if line != shown {
            eprintln!("  {:>6.1} s  {line}", started.elapsed().as_secs_f64());
            shown = line;
        }
        if ENDED.contains(&text(&sweep["status"]).as_str()) {
            return Ok(sweep);
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn cancel(id: i64, server: &ServerArgs) -> anyhow::Result<ExitCode> {
    let client = server.client()?;
    let before = client.get(&format!("/api/v1/sweeps/{id}")).await?;
    let status = text(&before["status"]);
    if ENDED.contains(&status.as_str()) {
        if server.json {
            print_json(&before);
        }
        eprintln!("Sweep {id} already ended ({status}); nothing to cancel.");
        return Ok(if status == "cancelled" {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let path = format!("/api/v1/sweeps/{id}/cancel");
    let sweep = client.json(client.request(Method::POST, &path)).await?;
    if server.json {
        print_json(&sweep);
    } else {
        let tally = &sweep["tally"];
        println!(
            "Cancelled sweep {id}: {} runs cancelled, {} stopping.",
            cell(&tally["cancelled"]),
            text(&tally["running"]).parse::<i64>().unwrap_or(0)
                + text(&tally["waiting"]).parse::<i64>().unwrap_or(0)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The varied inputs' names, as the sweep's axes list them.
fn axes(sweep: &Value) -> Vec<String> {
    sweep["axes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|axis| cell(&axis["field"]))
        .collect()
}

fn print_list(list: &Value) {
    let rows: Vec<Vec<String>> = list["sweeps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|sweep| {
            let tally = &sweep["tally"];
            let ended = ["succeeded", "failed", "cancelled"]
                .iter()
                .map(|bucket| tally[*bucket].as_i64().unwrap_or(0))
                .sum::<i64>();
            vec![
                cell(&sweep["id"]),
                cell(&sweep["model"]),
                cell(&sweep["version"]),
                cell(&sweep["status"]),
                format!("{ended}/{}", cell(&sweep["run_count"])),
                axes(sweep).join(", "),
                cell(&sweep["submitted_by"]),
                cell(&sweep["created_at"]),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "MODEL",
            "VERSION",
            "STATUS",
            "ENDED",
            "VARIES",
            "SUBMITTED BY",
            "CREATED",
        ],
        &rows,
    );
}

fn print_sweep(sweep: &Value) {
    println!(
        "Sweep {} of {} (version {}): {}, {} runs",
        cell(&sweep["id"]),
        cell(&sweep["model"]),
        cell(&sweep["version"]),
        cell(&sweep["status"]),
        cell(&sweep["run_count"])
    );
    println!(
        "  submitted {} by {}",
        cell(&sweep["created_at"]),
        cell(&sweep["submitted_by"])
    );
    let axes = axes(sweep);
    let mut header: Vec<&str> = vec!["POSITION", "RUN"];
    header.extend(axes.iter().map(String::as_str));
    header.push("STATUS");
    let rows: Vec<Vec<String>> = sweep["runs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|run| {
            let mut row = vec![cell(&run["position"]), cell(&run["id"])];
            row.extend(axes.iter().map(|axis| cell(&run["values"][axis])));
            row.push(cell(&run["status"]));
            row
        })
        .collect();
    table(&header, &rows);
}
