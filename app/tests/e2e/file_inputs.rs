//! Files and lists as inputs: a file uploaded (through the API's two steps,
//! or with a form that has no script), read by its model from the path in
//! `inputs.json`, kept with the run, downloaded, previewed and offered
//! again; lists from a text area, from ticked options and from the API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::security::hidden;
use crate::support::*;

/// A model with a required CSV file of at most 2 KiB, a list of rates and
/// a list of regions; it writes what it read of each.
pub const PLANFILE: &str = r#"name = "planfile"
command = ["python3", "plan.py"]
[inputs]
type = "object"
required = ["plan"]
[inputs.properties.plan]
type = "string"
format = "file"
contentMediaType = "text/csv"
x-max-bytes = 2048
title = "Plan"
[inputs.properties.rates]
type = "array"
title = "Rates"
maxItems = 4
items = { type = "number", maximum = 0.5 }
[inputs.properties.regions]
type = "array"
title = "Regions"
uniqueItems = true
items = { type = "string", oneOf = [{ const = "n", title = "North" }, { const = "s", title = "South" }] }
"#;

pub const PLAN_PY: &str = r#"import json, os
inputs = json.load(open(os.environ["MODELRUN_INPUTS"]))
path = inputs["plan"]
assert os.path.isabs(path), path
text = open(path, encoding="utf-8").read()
out = os.environ["MODELRUN_OUTPUT_DIR"]
json.dump({"file": os.path.basename(path), "lines": len(text.splitlines()),
           "rates": inputs["rates"], "regions": inputs["regions"]},
          open(os.path.join(out, "read.json"), "w"))
"#;

pub const PLAN_CSV: &str = "month,revenue\n2027-01,101.5\n2027-02,99.25\n";

pub fn sha256(bytes: &[u8]) -> String {
    modelrun_core::crypto::sha256_hex(bytes)
}

/// Uploads `content` as `name` through the API; returns the upload's id.
async fn upload(app: &TestApp, api: &Api, name: &str, content: &[u8]) -> String {
    let announced: Value = api
        .post("/api/v1/uploads")
        .json(&json!({"name": name, "bytes": content.len(), "sha256": sha256(content)}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("announced");
    let send = &announced["send"];
    assert_eq!(send["method"], "PUT", "{announced}");
    let url = send["url"].as_str().expect("url");
    assert!(
        url.starts_with("/api/v1/uploads/"),
        "one machine: to the app"
    );
    let mut request = api.client.put(app.url(url)).bearer_auth(api.token());
    for (header, value) in send["headers"].as_object().expect("headers") {
        request = request.header(header, value.as_str().expect("text"));
    }
    let stored = request.body(content.to_vec()).send().await.expect("PUT");
    assert_eq!(stored.status(), StatusCode::OK);
    announced["upload"].as_str().expect("id").to_owned()
}

/// A run as the API has it.
async fn run(api: &Api, id: &Value) -> Value {
    api.get_json(&format!("/api/v1/runs/{id}")).await
}

/// A multipart body as a browser sends a form: text fields, then files,
/// each with the type its name's extension gives, as browsers declare it.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----modelrun-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, content) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {}\r\n\r\n",
                modelrun_core::schema::media_type_of(file_name)
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn a_file_is_read_by_its_model_kept_previewed_and_offered_again(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model_with("planfile", PLANFILE, &[("plan.py", PLAN_PY)])
        .await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = upload(&app, &api, "plan.csv", PLAN_CSV.as_bytes()).await;
    let created = api
        .post("/api/v1/models/planfile/runs")
        .json(&json!({"inputs": {"plan": id, "rates": [0.1, "0.2"], "regions": ["s", "n"]}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(
        created.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "\"0.2\" is text"
    );
    let created: Value = api
        .post("/api/v1/models/planfile/runs")
        .json(&json!({"inputs": {"plan": id, "rates": [0.1, 0.2], "regions": ["s", "n"]}}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    assert_eq!(
        created["inputs"]["plan"],
        json!({"upload": id, "name": "plan.csv", "bytes": PLAN_CSV.len(), "media_type": "text/csv"})
    );
    app.drain().await;
    let finished = run(&api, &created["id"]).await;
    assert_eq!(finished["status"], "succeeded", "{finished}");
    let read: Value = api
        .get_json(&format!("/api/v1/runs/{}/outputs/read.json", created["id"]))
        .await;
    assert_eq!(
        read,
        json!({"file": "plan.csv", "lines": 3, "rates": [0.1, 0.2], "regions": ["s", "n"]}),
        "the model read its own copy of the file, and the lists"
    );

    // Kept with the run: downloaded and previewed, from the page and the API.
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let run_id = created["id"].as_i64().expect("id");
    let page = browser.page(&format!("/runs/{run_id}")).await;
    assert!(
        page.contains(&format!(
            "href=\"/runs/{run_id}/files/plan\" download>plan.csv</a>"
        )),
        "{page}"
    );
    assert!(page.contains("South, North"), "lists read as their labels");
    let download = browser.get(&format!("/runs/{run_id}/files/plan")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.text().await.expect("body"), PLAN_CSV);
    let preview = browser
        .page(&format!("/runs/{run_id}/files/plan/preview"))
        .await;
    assert!(
        preview.contains("The file of input Plan of run"),
        "{preview}"
    );
    assert!(preview.contains("2027-02"), "shown as a table");
    let through_api = api
        .get(&format!("/api/v1/runs/{run_id}/files/plan"))
        .send()
        .await
        .expect("GET");
    assert_eq!(through_api.text().await.expect("body"), PLAN_CSV);
    assert_eq!(
        browser
            .get(&format!("/runs/{run_id}/files/rates"))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "only a file input has a file"
    );

    // Run again: the form keeps the file unless another is chosen.
    let form = browser
        .page(&format!("/models/planfile/runs/new?from={run_id}"))
        .await;
    assert!(form.contains("Keeping <strong>plan.csv</strong>"), "{form}");
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert_eq!(hidden(&form, "plan"), id);
    assert!(form.contains(">0.1\n0.2</textarea>"), "one rate per line");
    let again = browser
        .post_form(
            "/models/planfile/runs/new",
            &[
                ("version", &hidden(&form, "version")),
                ("_key", &hidden(&form, "_key")),
                ("_from", &run_id.to_string()),
                ("plan", &id),
                ("rates", "0,3"),
                ("regions", "n"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let rerun: Value = api.get_json(&format!("/api/v1{}", location(&again))).await;
    assert_eq!(rerun["inputs"]["plan"], created["inputs"]["plan"]);
    assert_eq!(rerun["inputs"]["rates"], json!([0.3]));
    assert_eq!(rerun["inputs"]["regions"], json!(["n"]));
    // The API's run again sends the file back as the run holds it.
    let rerun: Value = api
        .post(&format!("/api/v1/runs/{run_id}/rerun"))
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    assert_eq!(
        rerun["inputs"]["plan"], created["inputs"]["plan"],
        "{rerun}"
    );
}

pub async fn a_form_without_script_sends_its_file_and_refusals_name_the_limit(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model_with("planfile", PLANFILE, &[("plan.py", PLAN_PY)])
        .await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let post = |fields: Vec<(&'static str, String)>,
                files: Vec<(&'static str, &'static str, Vec<u8>)>| {
        let browser = &browser;
        let app = &app;
        async move {
            let page = browser.page("/models/planfile/runs/new").await;
            let (version, key) = (hidden(&page, "version"), hidden(&page, "_key"));
            let mut all: Vec<(&str, &str)> = vec![("version", &version), ("_key", &key)];
            all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
            let files: Vec<(&str, &str, &[u8])> = files
                .iter()
                .map(|(n, f, c)| (*n, *f, c.as_slice()))
                .collect();
            let (content_type, body) = multipart(&all, &files);
            browser
                .client
                .post(app.url("/models/planfile/runs/new"))
                .header("origin", app.url(""))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("POST")
        }
    };
    // An empty file input next to the kept-file field, as a browser sends it.
    let created = post(
        vec![("plan", String::new()), ("rates", "0.1\r\n0,2".to_owned())],
        vec![(
            "plan",
            "C:\\Users\\ana\\plan.csv",
            PLAN_CSV.as_bytes().to_vec(),
        )],
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let made: Value = api
        .get_json(&format!("/api/v1{}", location(&created)))
        .await;
    assert_eq!(made["inputs"]["plan"]["name"], "plan.csv", "{made}");
    assert_eq!(made["inputs"]["rates"], json!([0.1, 0.2]));
    assert_eq!(made["inputs"]["regions"], json!([]), "nothing ticked");

    let too_big = post(vec![], vec![("plan", "big.csv", vec![b'1'; 3072])]).await;
    assert_eq!(too_big.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = too_big.text().await.expect("body");
    assert!(
        page.contains("Plan must be at most 2 KiB; big.csv is 3 KiB."),
        "{page}"
    );
    let sheet = post(vec![], vec![("plan", "plan.xlsx", b"PK".to_vec())]).await;
    let page = sheet.text().await.expect("body");
    assert!(
        page.contains("Plan must be a .csv file (text/csv); plan.xlsx is not."),
        "{page}"
    );
    let missing = post(vec![("plan", String::new())], vec![]).await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing
            .text()
            .await
            .expect("body")
            .contains("Plan is required.")
    );
    let wrong_rate = post(
        vec![("rates", "0.1\n0.9".to_owned())],
        vec![("plan", "p.csv", PLAN_CSV.as_bytes().to_vec())],
    )
    .await;
    let page = wrong_rate.text().await.expect("body");
    assert!(
        page.contains("Rates (item 2) must be at most 0.5."),
        "{page}"
    );
    assert!(
        page.contains("Keeping <strong>p.csv</strong>"),
        "the file sent is kept for the next try"
    );

    // The API names what is wrong with an upload or its use.
    let unknown = api
        .post("/api/v1/models/planfile/runs")
        .json(&json!({"inputs": {"plan": "0123456789abcdef0123456789abcdef"}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = unknown.json().await.expect("json");
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not exist")),
        "{body}"
    );
    let over_cap = api
        .post("/api/v1/uploads")
        .json(&json!({"name": "a.csv", "bytes": 101u64 << 20, "sha256": sha256(b"")}))
        .send()
        .await
        .expect("POST");
    assert_eq!(over_cap.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = over_cap.json().await.expect("json");
    assert_eq!(
        body["error"]["fields"][0],
        json!({"field": "bytes", "message": "must be at most 104857600 bytes (100 MiB), this server's limit for a file; the file has 105906176 bytes"})
    );
    let announced: Value = api
        .post("/api/v1/uploads")
        .json(&json!({"name": "a.csv", "bytes": 3, "sha256": sha256(b"abc")}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    let url = announced["send"]["url"].as_str().expect("url");
    let damaged = api
        .client
        .put(app.url(url))
        .bearer_auth(api.token())
        .header("x-modelrun-sha256", sha256(b"abc"))
        .body("abd")
        .send()
        .await
        .expect("PUT");
    assert_eq!(damaged.status(), StatusCode::BAD_REQUEST);
    let named = api
        .post("/api/v1/models/planfile/runs")
        .json(&json!({"inputs": {"plan": announced["upload"]}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(
        named.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a damaged upload stores nothing"
    );
    let bad_name = api
        .post("/api/v1/uploads")
        .json(&json!({"name": "../a.csv", "bytes": 3, "sha256": sha256(b"abc")}))
        .send()
        .await
        .expect("POST");
    assert_eq!(bad_name.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
