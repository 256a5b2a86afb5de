//! `modelrun runs estimate` (what runs of a version are likely to take and
//! cost) and `modelrun budgets list|set|remove` (monthly budgets, admin
//! role), through the API.

use std::process::ExitCode;

use clap::Subcommand;
use modelrun_core::estimate::range_text;
use reqwest::Method;
use serde_json::{Value, json};

use super::ServerArgs;
use super::http::Client;
use super::output::{cell, json as print_json, table};

/// `$0.0042`, `$1.25`: what the pages show.
fn dollars(value: &Value) -> String {
    value
        .as_f64()
        .map(modelrun_core::estimate::dollars)
        .unwrap_or_default()
}

fn duration(value: &Value) -> String {
    value
        .as_i64()
        .map(modelrun_core::estimate::duration_text)
        .unwrap_or_default()
}

/// "1 run", "5 runs": a count with its noun, singular for one.
fn runs_text(count: u64, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// Asks the server for an estimate; `query` holds the resources asked for.
pub(super) async fn fetch(
    client: &Client,
    model: &str,
    version: Option<&str>,
    query: Vec<(&'static str, String)>,
    count: u32,
) -> anyhow::Result<Value> {
    let mut query = query;
    query.extend(version.map(|v| ("version", v.to_owned())));
    if count != 1 {
        query.push(("count", count.to_string()));
    }
    let path = format!(
        "/api/v1/models/{}/estimate",
        super::runs::encode_path(model)
    );
    client
        .json(client.request(Method::GET, &path).query(&query))
        .await
}

/// The estimate in a few lines, for a person.
pub(super) fn describe(estimate: &Value) -> Vec<String> {
    let count = estimate["count"].as_u64().unwrap_or(1);
    let mut lines = Vec::new();
    let history = &estimate["history"];
    if history.is_null() {
        lines.push("Duration: no history yet (no succeeded run of this version).".to_owned());
    } else {
        let median = history["median_seconds"].as_i64().unwrap_or_default();
        let p90 = history["p90_seconds"].as_i64().unwrap_or_default();
        let per_run = range_text(&duration(&json!(median)), &duration(&json!(p90)));
        let runs = history["runs"].as_u64().unwrap_or_default();
        let from = format!("from {}", runs_text(runs, "succeeded run"));
        lines.push(if count == 1 {
            format!("Duration: {per_run} (median and 90th percentile), {from}.")
        } else {
            // The totals multiply as the cost's do: the time of every run
            // added up, not how long the batch takes side by side.
            let times = i64::try_from(count).unwrap_or(i64::MAX);
            format!(
                "Duration: {per_run} each (median and 90th percentile); {} {} in all, {from}.",
                runs_text(count, "run"),
                range_text(
                    &duration(&json!(median.saturating_mul(times))),
                    &duration(&json!(p90.saturating_mul(times)))
                )
            )
        });
    }
    let cost = &estimate["cost"];
    if !cost.is_null() {
        let per_run = format!(
            "{} a run",
            range_text(
                &dollars(&cost["median_per_run"]),
                &dollars(&cost["p90_per_run"])
            )
        );
        lines.push(if count == 1 {
            format!("Cost: {per_run}.")
        } else {
            format!(
                "Cost: {per_run}; {} {}.",
                runs_text(count, "run"),
                range_text(
                    &dollars(&cost["median_total"]),
                    &dollars(&cost["p90_total"])
                )
            )
        });
    }
    let prices = &estimate["prices"];
    if prices.is_null() {
        lines.push("Runs on this server have no price: durations only.".to_owned());
    } else {
        lines.push(format!(
            "Prices: {} per vCPU-hour, {} per GiB-hour ({}, {}, from {}, read {}); an approximation.",
            dollars(&prices["vcpu_hour"]),
            dollars(&prices["gib_hour"]),
            cell(&prices["platform"]),
            cell(&prices["region"]),
            cell(&prices["source"]),
            cell(&prices["as_of"])
        ));
    }
    for warning in estimate["warnings"].as_array().into_iter().flatten() {
        lines.push(format!("Warning: {}", cell(warning)));
    }
    lines
}

/// `runs estimate`.
pub(super) async fn estimate(
    server: &ServerArgs,
    model: &str,
    version: Option<&str>,
    query: Vec<(&'static str, String)>,
    count: u32,
) -> anyhow::Result<ExitCode> {
    let client = server.client()?;
    super::inputs::require_model(&client, model).await?;
    let estimate = fetch(&client, model, version, query, count).await?;
    if server.json {
        print_json(&estimate);
    } else {
        println!(
            "{} version {}, {}:",
            cell(&estimate["model"]),
            cell(&estimate["version"]),
            runs_text(u64::from(count), "run")
        );
        for line in describe(&estimate) {
            println!("  {line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Subcommand)]
pub enum BudgetsCommand {
    /// The monthly budgets with this month's spending.
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Set the team's monthly budget, or a user's with --user.
    Set {
        /// US dollars a month, such as 250.
        monthly_usd: f64,
        /// A user's email; without it, the team's budget.
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Remove the team's budget, or a user's with --user.
    Remove {
        /// A user's email; without it, the team's budget.
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub async fn budgets(command: BudgetsCommand) -> anyhow::Result<ExitCode> {
    let (server, body) = match command {
        BudgetsCommand::List { server } => {
            let client = server.client()?;
            let list = client.get("/api/v1/budgets").await?;
            print_budgets(&server, &list);
            return Ok(ExitCode::SUCCESS);
        }
        BudgetsCommand::Set {
            monthly_usd,
            user,
            server,
        } => (server, json!({ "user": user, "monthly_usd": monthly_usd })),
        BudgetsCommand::Remove { user, server } => {
            (server, json!({ "user": user, "monthly_usd": null }))
        }
    };
    let client = server.client()?;
    let list = client
        .json(client.request(Method::PUT, "/api/v1/budgets").json(&body))
        .await?;
    print_budgets(&server, &list);
    Ok(ExitCode::SUCCESS)
}

fn print_budgets(server: &ServerArgs, list: &Value) {
    if server.json {
        print_json(list);
        return;
    }
    let rows: Vec<Vec<String>> = list["budgets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|budget| {
            vec![
                budget["user"]
                    .as_str()
                    .map_or_else(|| "team".to_owned(), |email| cell(&json!(email))),
                dollars(&budget["monthly_usd"]),
                dollars(&budget["spent_usd"]),
                cell(&budget["set_by"]),
            ]
        })
        .collect();
    println!(
        "Month from {} ({}).",
        cell(&list["month_start"]),
        cell(&list["time_zone"])
    );
    if list["priced"] == json!(false) {
        println!("Runs on this server have no price, so budgets count nothing here.");
    }
    table(&["FOR", "MONTHLY", "SPENT", "SET BY"], &rows);
}
