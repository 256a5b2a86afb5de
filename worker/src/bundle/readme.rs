//! The bundle's README.md: what ran, what the bundle holds, and the exact
//! commands that run it again, with the command line and with curl.

use std::fmt::Write;

use modelrun_core::bundle::{BundleFile, BundleManifest, LOG, MANIFEST, file_name};
use serde_json::Value;

/// The README of the bundle that `manifest` describes.
pub fn readme(manifest: &BundleManifest) -> String {
    let mut text = String::new();
    identity(&mut text, manifest);
    contents(&mut text, manifest);
    commands(&mut text, manifest);
    text
}

fn identity(text: &mut String, m: &BundleManifest) {
    let v = &m.version;
    let _ = writeln!(
        text,
        "# Run {} of {}, version {}\n\nA reproducibility bundle made by modelrun on {}.\n",
        m.run.id,
        m.model,
        v.label,
        m.created_at.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(text, "| | |\n|---|---|");
    let _ = writeln!(text, "| Server | {} |", m.server_url);
    let _ = writeln!(text, "| Model | `{}` |", m.model);
    let _ = writeln!(text, "| Version | `{}` ({}) |", v.label, v.runtime);
    let _ = writeln!(text, "| Digest | `{}` |", v.digest);
    if let Some(uri) = &v.image_uri {
        let _ = writeln!(text, "| Image | `{uri}` |");
        let digest = v.image_digest.as_deref().unwrap_or("not recorded");
        let _ = writeln!(text, "| Image digest | `{digest}` |");
    }
    let _ = writeln!(text, "| Source commit | {} |", v.source_commit);
    let status = match &m.run.status_reason {
        Some(reason) => format!("{} ({reason})", m.run.status),
        None => m.run.status.to_string(),
    };
    let _ = writeln!(text, "| Status | {status} |");
    let _ = writeln!(text, "| Submitted by | {} |", m.run.submitted_by);
    let _ = writeln!(
        text,
        "| Submitted | {} |",
        m.run.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    if let Some(at) = m.run.finished_at {
        let _ = writeln!(
            text,
            "| Finished | {} |",
            at.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    let r = &m.run.resources;
    let _ = writeln!(
        text,
        "| Resources | {} vCPU, {} MiB, at most {} s |\n",
        r.vcpu, r.memory_mib, r.timeout_seconds
    );
}

fn contents(text: &mut String, m: &BundleManifest) {
    let _ = writeln!(text, "## What is in this bundle\n");
    let _ = writeln!(
        text,
        "- `{MANIFEST}`: all of the above, machine readable; `modelrun runs reproduce` reads it.\n\
         - `inputs.json`: the run's inputs.\n\
         - `{LOG}`: the run's log (standard output and error).\n"
    );
    files(text, "Input files", &m.input_files);
    files(text, "Outputs", &m.outputs);
}

fn files(text: &mut String, title: &str, files: &[BundleFile]) {
    if files.is_empty() {
        return;
    }
    let _ = writeln!(
        text,
        "### {title}\n\n| name | file | bytes | SHA-256 |\n|---|---|---|---|"
    );
    for file in files {
        let path = file
            .path
            .as_deref()
            .map_or_else(|| "missing from the store".to_owned(), |p| format!("`{p}`"));
        let _ = writeln!(
            text,
            "| `{}` | {path} | {} | `{}` |",
            file.name, file.size, file.sha256
        );
    }
    let _ = writeln!(text);
}

fn commands(text: &mut String, m: &BundleManifest) {
    let server = &m.server_url;
    let zip = file_name(m.run.id);
    let _ = writeln!(
        text,
        "## Run it again\n\n\
         With the modelrun command line, which uploads the input files again, submits a run \
         of the same version, waits for it to end and says which outputs are identical to \
         this bundle's and which differ (an API token from your Account page, in \
         `MODELRUN_TOKEN` or `--token`):\n\n\
         ```sh\nexport MODELRUN_TOKEN=…\nmodelrun runs reproduce {zip} --url {server}\n```\n\n\
         It refuses when version `{label}` has been retired or no longer has digest \
         `{digest}`; `--version latest` runs the model's latest version instead.\n",
        label = m.version.label,
        digest = m.version.digest,
    );
    let _ = writeln!(text, "With curl:\n\n```sh\nexport MODELRUN_TOKEN=…");
    let mut inputs = m.inputs.clone();
    for file in &m.input_files {
        let local = file.path.as_deref().unwrap_or(&file.file_name);
        let announce = serde_json::json!({
            "name": file.file_name,
            "bytes": file.size,
            "sha256": file.sha256,
        });
        let _ = writeln!(
            text,
            "# {input}: announce {local}, then send it where the answer's \"send\" says\n\
             # (its method, url and headers); its \"upload\" is the input's value below.\n\
             curl -sS -X POST -H \"Authorization: Bearer $MODELRUN_TOKEN\" \
             -H 'Content-Type: application/json' \\\n  -d {body} {server}/api/v1/uploads",
            input = file.name,
            body = quote(&announce.to_string()),
        );
        if let Value::Object(map) = &mut inputs {
            map.insert(
                file.name.clone(),
                Value::String(format!("<upload id of {}>", file.file_name)),
            );
        }
    }
    let body = serde_json::json!({ "version": m.version.label, "inputs": inputs });
    let _ = writeln!(
        text,
        "curl -sS -X POST -H \"Authorization: Bearer $MODELRUN_TOKEN\" \
         -H 'Content-Type: application/json' \\\n  -d {body} {server}/api/v1/models/{model}/runs\n```\n\n\
         The answer's `id` is the new run's; `GET {server}/api/v1/runs/<id>` lists its outputs \
         with their SHA-256, to compare with the table above.",
        body = quote(&body.to_string()),
        model = m.model,
    );
}

/// `value` as one shell word, in single quotes.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}
