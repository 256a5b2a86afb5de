//! `modelrun schedules create|list|get|pause|resume|delete`: schedules on
//! a modelrun server, through its API.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::ServerArgs;
use super::output::{cell, json as print_json, table};

#[derive(Debug, Subcommand)]
pub enum SchedulesCommand {
    /// Schedule a model's version with fixed inputs on a cron rule.
    Create {
        /// The model's name, as in `models list`.
        model: String,
        /// A name for the schedule, unique among your schedules.
        #[arg(long)]
        name: String,
        /// Five fields: minute hour day-of-month month day-of-week, such as
        /// "0 6 1W * *" (06:00 on the first weekday of the month).
        #[arg(long)]
        cron: String,
        /// An IANA time zone such as Europe/Berlin.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// A version label, or "production" (the default): the model's
        /// production version when it fires.
        #[arg(long)]
        version: Option<String>,
        /// An input as name=value; the value is read as JSON when it is
        /// JSON, else as text. Repeat for several.
        #[arg(long = "input", short = 'i', value_name = "NAME=VALUE")]
        inputs: Vec<String>,
        /// A JSON object of inputs; --input values override it.
        #[arg(long, value_name = "FILE")]
        inputs_file: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List schedules with their next fire time.
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show a schedule, its next fire times and the runs it made.
    Get {
        /// The schedule's number, as `schedules list` shows it.
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Stop a schedule from firing until it is resumed.
    Pause {
        /// The schedule's number, as `schedules list` shows it.
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Let a paused schedule fire again from its next slot.
    Resume {
        /// The schedule's number, as `schedules list` shows it.
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a schedule; the runs it made stay.
    Delete {
        /// The schedule's number, as `schedules list` shows it.
        id: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub async fn run(command: SchedulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        SchedulesCommand::Create {
            model,
            name,
            cron,
            time_zone,
            version,
            inputs,
            inputs_file,
            server,
        } => {
            let client = server.client()?;
            super::inputs::require_model(&client, &model).await?;
            let inputs = super::inputs::gather(
                &client,
                &model,
                version.as_deref().filter(|v| *v != "production"),
                inputs_file.as_deref(),
                &inputs,
            )
            .await?;
            let body = json!({
                "name": name, "model": model, "version": version,
                "inputs": inputs, "cron": cron, "time_zone": time_zone,
            });
            let schedule = client
                .json(
                    client
                        .request(Method::POST, "/api/v1/schedules")
                        .json(&body),
                )
                .await?;
            if server.json {
                print_json(&schedule);
            } else {
                println!("Created schedule {} ({}).", cell(&schedule["id"]), name);
                print_schedule(&schedule);
            }
        }
        SchedulesCommand::List { server } => {
            let client = server.client()?;
            let list = client.get("/api/v1/schedules").await?;
            if server.json {
                print_json(&list);
            } else {
                let rows: Vec<Vec<String>> = list["schedules"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|s| {
                        vec![
                            cell(&s["id"]),
                            cell(&s["name"]),
                            cell(&s["model"]),
                            cell(&s["version"]),
                            format!("{} ({})", cell(&s["cron"]), cell(&s["time_zone"])),
                            cell(&s["state"]),
                            cell(&s["next_fire_times"][0]),
                        ]
                    })
                    .collect();
                table(
                    &["ID", "NAME", "MODEL", "VERSION", "RULE", "STATE", "NEXT"],
                    &rows,
                );
            }
        }
        SchedulesCommand::Get { id, server } => {
            let client = server.client()?;
            let schedule = client.get(&format!("/api/v1/schedules/{id}")).await?;
            if server.json {
                print_json(&schedule);
            } else {
                print_schedule(&schedule);
            }
        }
        SchedulesCommand::Pause { id, server } => change(id, "pause", server).await?,
        SchedulesCommand::Resume { id, server } => change(id, "resume", server).await?,
        SchedulesCommand::Delete { id, server } => {
            let client = server.client()?;
            let path = format!("/api/v1/schedules/{id}");
            client.send(client.request(Method::DELETE, &path)).await?;
            println!("Deleted schedule {id}; its runs stay.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn change(id: i64, action: &str, server: ServerArgs) -> anyhow::Result<()> {
    let client = server.client()?;
    let path = format!("/api/v1/schedules/{id}/{action}");
    let schedule = client.json(client.request(Method::POST, &path)).await?;
    if server.json {
        print_json(&schedule);
    } else {
        println!("Schedule {id} is {}.", cell(&schedule["state"]));
    }
    Ok(())
}

fn print_schedule(schedule: &Value) {
    println!("Name:     {}", cell(&schedule["name"]));
    println!(
        "Runs:     {} version {} as {}",
        cell(&schedule["model"]),
        cell(&schedule["version"]),
        cell(&schedule["owner"])
    );
    println!(
        "Rule:     {} ({})",
        cell(&schedule["cron"]),
        cell(&schedule["time_zone"])
    );
    println!("State:    {}", cell(&schedule["state"]));
    for at in schedule["next_fire_times"].as_array().into_iter().flatten() {
        println!("Next:     {}", cell(at));
    }
    let fires = schedule["fires"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !fires.is_empty() {
        let rows: Vec<Vec<String>> = fires
            .iter()
            .map(|f| {
                vec![
                    cell(&f["fire_at"]),
                    cell(&f["outcome"]),
                    cell(&f["run_id"]),
                    cell(&f["run_status"]),
                    cell(&f["message"]),
                ]
            })
            .collect();
        table(&["FIRED FOR", "OUTCOME", "RUN", "STATUS", "NOTE"], &rows);
    }
}
