//! `TestApp::spawn()`: a fresh modelrun on a free port.

use std::sync::Arc;
use std::time::Duration;

use modelrun_app::bootstrap::{create_token, create_user, ensure_admin, register_examples};
use modelrun_app::runtime::{Components, Settings};
use modelrun_core::config::{BatchConfig, DatabaseConfig, WebConfig};
use modelrun_core::store::Store;
use modelrun_core::user::Role;
use modelrun_db::postgres::testing::TempDatabase;
use modelrun_testkit::AwsWorld;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const RUNNER_EMAIL: &str = "ann@example.com";
pub const RUNNER_PASSWORD: &str = "ann-password-for-tests";

/// Which store a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    /// The emulated AWS account, when the app runs on AWS backends.
    pub world: Option<AwsWorld>,
    pub base: String,
    pub store: Arc<dyn Store>,
    /// The database the server uses, for a store opened as another
    /// process opens it.
    pub database: DatabaseConfig,
    pub components: Components,
    pub dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    _database: Option<TempDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    pub async fn spawn(kind: StoreKind) -> Self {
        Self::spawn_with(kind, |_| {}).await
    }

    pub async fn spawn_with(kind: StoreKind, configure: impl FnOnce(&mut WebConfig)) -> Self {
        Self::spawn_full(kind, None, |_| {}, configure).await
    }

    /// With the runtime settings changed (slots, worker timings).
    pub async fn spawn_tuned(kind: StoreKind, tune: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_full(kind, None, tune, |_| {}).await
    }

    /// modelrun on AWS backends (Batch, S3, SES, ECR) in `world`, on SQLite.
    /// No model is registered: versions come from images.
    pub async fn spawn_on_aws(world: AwsWorld) -> Self {
        Self::spawn_full(StoreKind::Sqlite, Some(world), |_| {}, |_| {}).await
    }

    /// With everything chosen: AWS backends, runtime settings, web config.
    pub async fn spawn_full(
        kind: StoreKind,
        world: Option<AwsWorld>,
        tune: impl FnOnce(&mut Settings),
        configure: impl FnOnce(&mut WebConfig),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let base = format!("http://{address}");
        let mut settings = Settings::local(dir.path().join("data"), base.clone());
        let database = match kind {
            StoreKind::Sqlite => None,
            StoreKind::Postgres => {
                let database = TempDatabase::create().await;
                settings.database = DatabaseConfig::Postgres(database.config.clone());
                Some(database)
            }
        };
        if let Some(world) = &world {
            settings.aws = world.aws.clone();
            settings.s3 = Some(world.s3.clone());
            settings.batch = Some(BatchConfig {
                api_url: base.clone(),
                ..world.batch.clone()
            });
            settings.ses = Some(world.ses.clone());
            settings.ecr = Some(world.ecr.clone());
        }
        tune(&mut settings);
        let components = Components::build(&settings).await.expect("components");
        let store = components.store.clone();
        ensure_admin(&store, Some(ADMIN_EMAIL), Some(ADMIN_PASSWORD), "modelrun")
            .await
            .expect("admin");
        create_user(&store, RUNNER_EMAIL, RUNNER_PASSWORD, Role::Runner)
            .await
            .expect("runner");
        // As `modelrun up --executor batch`: on AWS versions come from
        // images, and the first image of a model is its production version.
        if world.is_none() {
            register_examples(&store, &settings.data_dir, &components.environments)
                .await
                .expect("examples");
        }
        let mut web = WebConfig::new(address);
        web.public_url = base.clone();
        configure(&mut web);
        let connections = web.connections;
        let app = modelrun_web::app(components.app_state(web));
        let server = tokio::spawn(modelrun_web::server::serve(
            listener,
            app,
            connections,
            std::future::pending(),
        ));
        TestApp {
            world,
            base,
            store,
            database: settings.database.clone(),
            components,
            dir,
            server,
            _database: database,
        }
    }

    /// The server's database opened anew, as another process (a separate
    /// worker) opens it: its writes reach the server only through the
    /// database.
    pub async fn another_store(&self) -> Arc<dyn Store> {
        modelrun_db::open(&self.database, false)
            .await
            .expect("open the database again")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser: keeps cookies, does not follow redirects.
    pub fn browser(&self) -> Browser {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client");
        Browser {
            client,
            base: self.base.clone(),
        }
    }

    /// A signed-in browser.
    pub async fn signed_in(&self, email: &str, password: &str) -> Browser {
        let browser = self.browser();
        let response = browser
            .post_form(
                "/login",
                &[
                    ("email", email),
                    ("password", password),
                    ("next", "/models"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in failed");
        browser
    }

    /// A fresh API token for the user, with the user's own role (a token
    /// made without a role is a runner's).
    pub async fn token(&self, email: &str) -> String {
        let role = self
            .store
            .credentials(email)
            .await
            .expect("credentials")
            .expect("the token's owner exists")
            .user
            .role;
        create_token(&self.store, email, "tests", Some(role), None)
            .await
            .expect("token")
            .1
    }

    pub fn api(&self, token: &str) -> Api {
        Api {
            client: Client::new(),
            base: self.base.clone(),
            token: token.to_owned(),
        }
    }

    /// Runs the worker until no run is active and no task is due.
    pub async fn drain(&self) {
        self.components
            .worker
            .drain(Duration::from_secs(60))
            .await
            .expect("drain");
    }

    /// Registers a local model from a manifest, in a directory of its own.
    pub async fn register_model(&self, name: &str, manifest: &str) {
        self.register_model_with(name, manifest, &[]).await;
    }

    /// Registers a local model from a manifest and more files.
    pub async fn register_model_with(&self, name: &str, manifest: &str, files: &[(&str, &str)]) {
        let model = self.dir.path().join(name);
        std::fs::create_dir_all(&model).expect("mkdir");
        std::fs::write(model.join("modelrun.toml"), manifest).expect("manifest");
        for (file, content) in files {
            std::fs::write(model.join(file), content).expect("file");
        }
        let registration = modelrun_worker::register::Registration {
            dir: model,
            label: None,
            via: "cli".to_owned(),
            prepare_environment: true,
        };
        modelrun_worker::register::register_local(
            &self.store,
            &self.dir.path().join("data"),
            &self.components.environments,
            registration,
        )
        .await
        .expect("register");
    }

    /// The example model's current version label.
    pub async fn forecast_label(&self) -> String {
        let model = self
            .store
            .model("forecast")
            .await
            .expect("query")
            .expect("forecast");
        model.latest_active().expect("active version").label.clone()
    }
}

pub struct Browser {
    pub client: Client,
    base: String,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// A form post as a browser sends it from one of our pages: with the
    /// page's `Origin`.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_form_with(path, form, &[("origin", &self.base)])
            .await
    }

    /// A form post with exactly these extra headers.
    pub async fn post_form_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("POST")
    }

    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.expect("body")
    }
}

pub struct Api {
    pub client: Client,
    base: String,
    token: String,
}

impl Api {
    /// Submits a run of `model` with no inputs of our own (its defaults),
    /// and returns the run as the API answers it.
    pub async fn submit_defaults(&self, model: &str) -> serde_json::Value {
        self.post(&format!("/api/v1/models/{model}/runs"))
            .json(&serde_json::json!({"inputs": {}}))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("run")
    }

    /// A GET whose answer is JSON, read whole.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    /// The bearer token this client sends.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .delete(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }
}

/// Where a redirect points.
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The forecast's first month: base × (1 + growth) × (1 − churn), no seasonality.
pub fn first_month(base: f64, growth: f64, churn: f64) -> String {
    format!("{:.2}", base * (1.0 + growth) * (1.0 - churn))
}

/// A GET with the path exactly as given, past any client normalisation.
/// `headers` are extra header lines, each ending in CRLF.
pub async fn raw_get(base: &str, path: &str, headers: &str) -> String {
    raw_request(base, &format!("GET {path} HTTP/1.1\r\n{headers}"), &[]).await
}

/// A POST that announces its body with `Expect: 100-continue` (in
/// `headers`) and sends it only if the server asks for it, as curl does.
pub async fn raw_post(base: &str, path: &str, headers: &str, body: &[u8]) -> String {
    let head = format!(
        "POST {path} HTTP/1.1\r\n{headers}Content-Length: {}\r\n",
        body.len()
    );
    raw_request(base, &head, body).await
}

async fn raw_request(base: &str, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("{head}Host: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = stream.read(&mut buffer).await.expect("read");
        if read == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..read]);
        if !body.is_empty() && response.starts_with(b"HTTP/1.1 100") {
            response.clear();
            stream.write_all(body).await.expect("write body");
        }
    }
    String::from_utf8_lossy(&response).into_owned()
}
