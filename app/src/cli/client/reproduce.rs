//! `modelrun runs reproduce bundle.zip`: runs a reproducibility bundle
//! again on the version it names, and says which outputs came out
//! byte-identical. The version must still be active with the bundle's
//! digest, unless `--version latest` (or another label) says to use another.
//! The server is the one named as for every command, never the bundle's:
//! a bundle is a shared file, and the token must not follow what it says.
//!
//! Exit codes: 0 when the new run ended as the bundle's did and every
//! output is identical (or, with `--no-wait`, when the run was submitted);
//! 3 when an output differs, is missing or is new, or the run ended
//! otherwise; 1 when the run could not be submitted (a refused version, a
//! file that is not a bundle, the server's refusal).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use modelrun_core::bundle::{BundleManifest, Comparison, compare};
use modelrun_worker::bundle::OpenBundle;
use reqwest::Method;
use serde_json::{Value, json};

use super::follow::wait_for;
use super::output::{cell, json as print_json, table};
use super::upload::upload;
use super::{Client, ServerArgs};

/// The exit code when the new run's outputs are not the bundle's.
pub const DIFFERS: u8 = 3;

/// What `reproduce` was asked.
#[derive(Debug)]
pub struct Reproduce<'a> {
    pub bundle: &'a Path,
    /// `latest`, or a version label; the bundle's own version when `None`.
    pub version: Option<&'a str>,
    pub wait: bool,
    pub server: ServerArgs,
}

pub async fn reproduce(asked: Reproduce<'_>) -> anyhow::Result<ExitCode> {
    let path = asked.bundle.to_owned();
    let mut bundle = tokio::task::spawn_blocking(move || OpenBundle::open(&path))
        .await
        .context("reading the bundle stopped")??;
    let server = asked.server;
    let client = connect(&server, &bundle.manifest)?;
    let label = pick_version(&client, &bundle.manifest, asked.version).await?;
    let inputs = upload_files(&client, &mut bundle).await?;
    let manifest = &bundle.manifest;
    let mut body = json!({ "version": label, "inputs": inputs });
    if label == manifest.version.label {
        body["resources"] = serde_json::to_value(manifest.run.resources)?;
    }
    let path = format!("/api/v1/models/{}/runs", encode(&manifest.model));
    let run = client
        .json(client.request(Method::POST, &path).json(&body))
        .await?;
    let id = run["id"]
        .as_i64()
        .context("the server's answer has no run id")?;
    // The server's answer names the version it resolved an alias to.
    let label = run["version"].as_str().unwrap_or(&label);
    if !asked.wait {
        if server.json {
            print_json(&json!({
                "run": id,
                "status": run["status"],
                "version": label,
                "bundle_run": manifest.run.id,
                "bundle_status": manifest.run.status,
            }));
        } else {
            println!(
                "Submitted run {id} of {} (version {label}), reproducing run {}.",
                manifest.model, manifest.run.id
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "Submitted run {id} of {} (version {label}), reproducing run {}; waiting for it to end.",
        manifest.model, manifest.run.id
    );
    let run = wait_for(&client, id).await?;
    Ok(report(manifest, &run, server.json))
}

/// A client for the server named by `--url`, `MODELRUN_URL` or the config
/// file, never the bundle's `server_url`: a bundle is a shared file, and
/// whoever edits it must not be able to collect the token.
fn connect(server: &ServerArgs, manifest: &BundleManifest) -> anyhow::Result<Client> {
    let made_on = &manifest.server_url;
    if !server.names_a_server()? {
        bail!(
            "no server named: this bundle was made on {made_on}; to run it there, pass \
             --url {made_on} (or set MODELRUN_URL) once you trust that server with your token"
        );
    }
    let client = server.client()?;
    if client.base() != made_on.trim_end_matches('/') {
        eprintln!(
            "Running on {}; the bundle was made on {made_on}.",
            client.base()
        );
    }
    Ok(client)
}

/// The version label to submit: the bundle's, checked to be active with
/// the same digest, or the one `asked` names (`latest`: the model's latest).
async fn pick_version(
    client: &Client,
    manifest: &BundleManifest,
    asked: Option<&str>,
) -> anyhow::Result<String> {
    let models = client.get("/api/v1/models").await?;
    let model = models["models"]
        .as_array()
        .and_then(|models| models.iter().find(|m| m["name"] == manifest.model.as_str()))
        .with_context(|| format!("the server has no model {:?}", manifest.model))?;
    let wanted = manifest.version.label.as_str();
    match asked {
        Some("latest") => {
            let latest = model["latest_version"]
                .as_str()
                .with_context(|| format!("model {:?} has no active version", manifest.model))?;
            if latest != wanted {
                eprintln!(
                    "Running version {latest}, the latest, instead of the bundle's {wanted}."
                );
            }
            Ok(latest.to_owned())
        }
        Some("production") => model["production_version"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("model {:?} has no production version", manifest.model)),
        Some(label) => Ok(label.to_owned()),
        None => {
            let version = model["versions"]
                .as_array()
                .and_then(|versions| versions.iter().find(|v| v["label"] == wanted))
                .with_context(|| {
                    format!(
                        "version {wanted} of {} no longer exists; --version latest runs the latest",
                        manifest.model
                    )
                })?;
            check_same(manifest, version)?;
            Ok(wanted.to_owned())
        }
    }
}

/// Refuses a version that was retired, or whose digest is not the bundle's.
fn check_same(manifest: &BundleManifest, version: &Value) -> anyhow::Result<()> {
    let label = &manifest.version.label;
    if version["active"] != true {
        bail!(
            "version {label} of {} is retired, so it cannot run this bundle again; \
             --version latest runs the latest version instead",
            manifest.model
        );
    }
    let digest = version["digest"].as_str().unwrap_or_default();
    if digest != manifest.version.digest {
        bail!(
            "version {label} of {} has changed: its digest is {digest}, the bundle's is {}; \
             --version latest runs the latest version instead",
            manifest.model,
            manifest.version.digest
        );
    }
    Ok(())
}

/// Uploads each input file of the bundle again; the inputs with each file
/// input naming its new upload.
async fn upload_files(client: &Client, bundle: &mut OpenBundle) -> anyhow::Result<Value> {
    let mut inputs = bundle.manifest.inputs.clone();
    let files = bundle.manifest.input_files.clone();
    if files.is_empty() {
        return Ok(inputs);
    }
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    for (n, file) in files.iter().enumerate() {
        modelrun_core::schema::check_file_name(&file.file_name)
            .map_err(|why| anyhow::anyhow!("input {}: file name {why}", file.name))?;
        let folder = dir.path().join(n.to_string());
        std::fs::create_dir(&folder)?;
        let to = folder.join(&file.file_name);
        bundle
            .extract(file, &to)
            .with_context(|| format!("cannot take input {}'s file out of the bundle", file.name))?;
        let id = upload(client, &to).await?;
        if let Value::Object(map) = &mut inputs {
            map.insert(file.name.clone(), Value::String(id));
        }
    }
    Ok(inputs)
}

/// Prints how each output compares, and the exit code that says it.
fn report(manifest: &BundleManifest, run: &Value, as_json: bool) -> ExitCode {
    let after: Vec<(String, String)> = run["outputs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|o| {
            (
                cell(&o["name"]),
                o["sha256"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let compared = compare(&manifest.outputs, &after);
    let status = cell(&run["status"]);
    let same_end = status == manifest.run.status.to_string();
    let identical = same_end && compared.iter().all(|(_, c)| *c == Comparison::Identical);
    if as_json {
        print_json(&json!({
            "run": run["id"],
            "status": status,
            "bundle_run": manifest.run.id,
            "bundle_status": manifest.run.status,
            "identical": identical,
            "outputs": compared.iter().map(|(name, c)| json!({ "name": name, "result": c })).collect::<Vec<_>>(),
        }));
    } else {
        let rows: Vec<Vec<String>> = compared
            .iter()
            .map(|(name, c)| vec![name.clone(), c.as_str().to_owned()])
            .collect();
        table(&["OUTPUT", "RESULT"], &rows);
        if !same_end {
            println!(
                "Run {} {status}; run {} had {}.",
                cell(&run["id"]),
                manifest.run.id,
                manifest.run.status
            );
        }
        let count = |kind| compared.iter().filter(|(_, c)| *c == kind).count();
        println!(
            "{} identical, {} differ, {} missing, {} new.",
            count(Comparison::Identical),
            count(Comparison::Differs),
            count(Comparison::Missing),
            count(Comparison::New)
        );
    }
    if identical {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DIFFERS)
    }
}

fn encode(part: &str) -> String {
    percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC).to_string()
}
