//! `modelrun models promote` against a server: a version becomes its
//! model's production version, with a note, through the API.

use reqwest::Method;
use serde_json::json;

use super::ServerArgs;
use super::output::json as print_json;
use super::runs::encode_path;

/// Promotes `label` of `model` on the server; prints what changed.
pub async fn promote(
    server: &ServerArgs,
    model: &str,
    label: &str,
    note: &str,
) -> anyhow::Result<()> {
    let client = server.client()?;
    let path = format!(
        "/api/v1/models/{}/versions/{}/promote",
        encode_path(model),
        encode_path(label)
    );
    let request = client
        .request(Method::POST, &path)
        .json(&json!({ "note": note }));
    let answer = client.json(request).await?;
    if server.json {
        print_json(&answer);
        return Ok(());
    }
    println!("{}", promoted_text(&answer));
    Ok(())
}

/// What a promotion's answer says, in one line.
fn promoted_text(answer: &serde_json::Value) -> String {
    let model = answer["model"].as_str().unwrap_or("?");
    let version = answer["version"].as_str().unwrap_or("?");
    if answer["changed"] == json!(false) {
        return format!("Version {version} of {model} already is production; nothing changed.");
    }
    match answer["previous"].as_str() {
        Some(previous) => {
            format!("Version {version} of {model} is production; {previous} is a candidate again.")
        }
        None => format!("Version {version} of {model} is production."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_reads_as_one_line() {
        let moved = json!({"model": "m", "version": "v2", "previous": "v1", "changed": true});
        assert_eq!(
            promoted_text(&moved),
            "Version v2 of m is production; v1 is a candidate again."
        );
        let same = json!({"model": "m", "version": "v1", "previous": "v1", "changed": false});
        assert!(promoted_text(&same).contains("nothing changed"));
    }
}
