//! What a model needs before it runs, through the pages, the API and the
//! command line: its secrets, set by administrators and never shown again,
//! and its environment, built offline from a wheel the test makes.

use modelrun_core::environment::EnvironmentStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const READS_A_SECRET: &str = "name = \"warehouse\"\n\
    command = [\"sh\", \"-c\", \"echo using $WAREHOUSE_URL\"]\n\
    secrets = [\"WAREHOUSE_URL\"]\n[inputs]\ntype = \"object\"\n";

const VALUE: &str = "postgres://analyst:Very-Secret-9@warehouse/sales";

/// Secrets through the API: admins set and delete them, nobody reads them
/// back, a run is refused until they are set, and its log masks them.
pub async fn secrets_are_set_by_admins_and_never_read_back(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("warehouse", READS_A_SECRET).await;
    let admin = app.api(&app.token(ADMIN_EMAIL).await);
    let runner = app.api(&app.token(RUNNER_EMAIL).await);

    let refused = runner
        .post("/api/v1/models/warehouse/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("submit");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not set: WAREHOUSE_URL"), "{message}");

    let put = |api: &Api, value: Value| {
        api.put("/api/v1/models/warehouse/secrets/WAREHOUSE_URL")
            .json(&value)
            .send()
    };
    assert_eq!(
        put(&runner, json!({"value": VALUE}))
            .await
            .expect("put")
            .status(),
        StatusCode::FORBIDDEN
    );
    // A bad value is 422 naming the field, as a missing one is, and as
    // bad inputs of a run are.
    let long = "x".repeat(32 * 1024 + 1);
    for (body, why) in [
        (json!({"value": ""}), "must not be empty"),
        (json!({"value": "   "}), "must not be only white space"),
        (json!({"value": "\r\n\t"}), "must not be only white space"),
        (
            json!({"value": long}),
            "must be at most 32768 bytes (32 KiB)",
        ),
    ] {
        let refused = put(&admin, body.clone()).await.expect("put");
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        let error: Value = refused.json().await.expect("json");
        assert_eq!(error["error"]["fields"][0]["field"], "value", "{error}");
        let message = error["error"]["fields"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.starts_with(why), "{message}");
    }
    assert_eq!(
        put(&admin, json!({"valeu": VALUE}))
            .await
            .expect("put")
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // A name that cannot be one is a bad request; a name no version reads
    // conflicts with the versions registered so far.
    for (name, status, why) in [
        (
            "lower-case",
            StatusCode::BAD_REQUEST,
            "is not a secret name",
        ),
        (
            "LD_PRELOAD",
            StatusCode::BAD_REQUEST,
            "LD_PRELOAD cannot be a secret's name",
        ),
        (
            "PYTHONPATH",
            StatusCode::CONFLICT,
            "no version of warehouse reads a secret PYTHONPATH",
        ),
    ] {
        let bad_name = admin
            .put(&format!("/api/v1/models/warehouse/secrets/{name}"))
            .json(&json!({"value": VALUE}))
            .send()
            .await
            .expect("put");
        assert_eq!(bad_name.status(), status, "{name}");
        let error: Value = bad_name.json().await.expect("json");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{message}");
    }
    assert_eq!(
        put(&admin, json!({"value": VALUE}))
            .await
            .expect("put")
            .status(),
        StatusCode::NO_CONTENT
    );

    let listed = runner
        .get("/api/v1/models/warehouse/secrets")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.status(), StatusCode::OK);
    let text = listed.text().await.expect("body");
    assert!(!text.contains("Very-Secret"), "{text}");
    let listed: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(listed["secrets"][0]["name"], "WAREHOUSE_URL");
    assert_eq!(listed["secrets"][0]["set"], true);
    assert_eq!(listed["secrets"][0]["readable"], true);
    assert_eq!(listed["secrets"][0]["updated_by"], ADMIN_EMAIL);
    let models = runner
        .get("/api/v1/models")
        .send()
        .await
        .expect("models")
        .text()
        .await
        .expect("body");
    assert!(
        !models.contains("Very-Secret") && models.contains("\"secrets\":[\"WAREHOUSE_URL\"]"),
        "{models}"
    );

    let run: Value = runner
        .post("/api/v1/models/warehouse/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    app.drain().await;
    let id = run["id"].as_i64().expect("id");
    let log = runner
        .get(&format!("/api/v1/runs/{id}/log"))
        .send()
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    assert_eq!(log.trim(), "using [secret WAREHOUSE_URL]");

    let audit = app
        .signed_in(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .page("/admin/audit?action=secret_set")
        .await;
    assert!(
        audit.contains("model warehouse") && audit.contains("WAREHOUSE_URL"),
        "{audit}"
    );
    assert!(!audit.contains("Very-Secret"));

    let delete = |api: &Api| {
        api.delete("/api/v1/models/warehouse/secrets/WAREHOUSE_URL")
            .send()
    };
    assert_eq!(
        delete(&runner).await.expect("delete").status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&admin).await.expect("delete").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&admin).await.expect("delete").status(),
        StatusCode::NOT_FOUND
    );
}

/// The model page: everyone sees which secrets are set, admins set them
/// with a form, and the value never comes back in a page.
pub async fn secrets_are_set_on_the_model_page(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("warehouse", READS_A_SECRET).await;
    let runner = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = runner.page("/models/warehouse").await;
    assert!(
        page.contains("WAREHOUSE_URL") && page.contains("not set"),
        "{page}"
    );
    assert!(!page.contains("name=\"value\""), "runners get no form");
    let form = runner.page("/models/warehouse/runs/new").await;
    assert!(
        form.contains("This model reads secrets that are not set: WAREHOUSE_URL"),
        "the form says why a run would be refused: {form}"
    );
    let forbidden = runner
        .post_form(
            "/models/warehouse/secrets/WAREHOUSE_URL",
            &[("value", VALUE)],
        )
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let set = admin
        .post_form(
            "/models/warehouse/secrets/WAREHOUSE_URL",
            &[("value", VALUE)],
        )
        .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let page = admin.page("/models/warehouse").await;
    assert!(page.contains(&format!("by {ADMIN_EMAIL}")), "{page}");
    assert!(!page.contains("Very-Secret"));
    let form = runner.page("/models/warehouse/runs/new").await;
    assert!(!form.contains("id=\"readiness\""), "{form}");
    let deleted = admin
        .post_form(
            "/models/warehouse/secrets/WAREHOUSE_URL/delete",
            &[("confirmed", "1")],
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert!(admin.page("/models/warehouse").await.contains("not set"));
}

const NEEDS_A_PACKAGE: &str = "name = \"probe\"\ncommand = [\"python3\", \"probe.py\"]\n\
    [environment]\nrequirements = \"requirements.txt\"\n[inputs]\ntype = \"object\"\n";
const PROBE: &str = "import modelrun_probe\nprint('probe says', modelrun_probe.VALUE)\n";

/// An environment through the pages and the API: preparing, then ready,
/// its installer's output on the version's page; a failed one refuses runs
/// until an administrator builds it again.
pub async fn an_environment_is_followed_and_built_again(store: StoreKind) {
    let sources = tempfile::tempdir().expect("dir");
    let wheels = modelrun_testkit::wheelhouse(sources.path());
    let app = TestApp::spawn_tuned(store, |settings| {
        let environments = &mut settings.local.environments;
        environments.search_path = std::env::var("PATH").unwrap_or_default();
        environments.index.find_links = vec![wheels.display().to_string()];
        environments.index.no_index = true;
    })
    .await;
    let files = [
        ("requirements.txt", "modelrun-probe==2.0\n"),
        ("probe.py", PROBE),
    ];
    app.register_model_with("probe", NEEDS_A_PACKAGE, &files)
        .await;
    let runner = app.api(&app.token(RUNNER_EMAIL).await);
    let models: Value = runner
        .get("/api/v1/models")
        .send()
        .await
        .expect("models")
        .json()
        .await
        .expect("json");
    let probe = models["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["name"] == "probe")
        .expect("probe")
        .clone();
    assert_eq!(probe["versions"][0]["environment"]["status"], "preparing");
    let label = probe["versions"][0]["label"]
        .as_str()
        .expect("label")
        .to_owned();

    app.drain().await;
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.page(&format!("/models/probe/versions/{label}")).await;
    assert!(
        page.contains("env-failed") && page.contains("modelrun-probe==2.0"),
        "{page}"
    );
    assert!(page.contains("Build the environment again"), "{page}");
    let refused = runner
        .post("/api/v1/models/probe/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("submit");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let message: Value = refused.json().await.expect("json");
    assert!(
        message["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("could not be built"),
        "{message}"
    );

    // The wheelhouse gets the version the requirements ask for; an
    // administrator builds the environment again.
    modelrun_testkit::probe_wheel(&wheels, "2.0");
    let version = app
        .store
        .model("probe")
        .await
        .expect("query")
        .expect("model")
        .versions[0]
        .clone();
    let digest = version.environment.clone().expect("digest");
    let again = admin
        .post_form(
            &format!("/models/probe/versions/{label}/environment"),
            &[("confirmed", "1")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let environment = app
        .store
        .environment(&digest)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(environment.status, EnvironmentStatus::Preparing);
    let run: Value = runner
        .post("/api/v1/models/probe/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    app.drain().await;
    let id = run["id"].as_i64().expect("id");
    let run: Value = runner
        .get(&format!("/api/v1/runs/{id}"))
        .send()
        .await
        .expect("run")
        .json()
        .await
        .expect("json");
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let page = admin.page(&format!("/models/probe/versions/{label}")).await;
    assert!(page.contains("env-ready"), "{page}");
    let audit = admin.page("/admin/audit?action=environment_prepare").await;
    assert!(
        audit.contains(&format!("version {}", version.id)),
        "{audit}"
    );
}
