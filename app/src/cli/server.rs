//! `up`, `serve` and `worker`: the long-running commands.

use std::net::SocketAddr;

use anyhow::Context;
use modelrun_core::config::{DiskWatch, WebConfig};
use modelrun_web::server::serve as serve_http;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{CommonArgs, Global, HttpArgs, ServeArgs, UpArgs, WorkerArgs};
use crate::bootstrap;
use crate::runtime::{Components, Settings};

fn public_url(common: &CommonArgs, bind: SocketAddr) -> String {
    common
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bind}"))
        .trim_end_matches('/')
        .to_owned()
}

async fn listen(http: &HttpArgs) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(http.bind)
        .await
        .with_context(|| format!("cannot listen on {} (MODELRUN_BIND)", http.bind))?;
    let address = listener.local_addr()?;
    Ok((listener, address))
}

/// Says at start-up, where the person starting the server reads it, that
/// runs here are not sandboxed and what a model can then reach.
fn warn_if_unconfined(components: &Components) {
    if let Some(warning) = components.executor.containment_warning() {
        eprintln!("Warning: {warning}. See docs/security.md.");
    }
}

/// How often the data directory's free space is checked for the log.
const DISK_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Watches the free space of the data directory's disk, logging when it
/// runs low; returns what the web app reports on /healthz and admin pages.
fn watch_disk(global: &Global, common: &CommonArgs) -> DiskWatch {
    // With Postgres and S3 nothing else may have made it yet; its disk is
    // the one to watch all the same.
    if let Err(error) = std::fs::create_dir_all(&global.data_dir) {
        tracing::warn!(dir = %global.data_dir.display(), %error, "cannot create the data directory");
    }
    let watch = DiskWatch {
        dir: global.data_dir.clone(),
        min_free_bytes: common.min_free_mib.saturating_mul(1024 * 1024),
    };
    tokio::spawn(modelrun_web::disk::watch(watch.clone(), DISK_CHECK_EVERY));
    watch
}

/// Resolves on Ctrl-C or SIGTERM, and cancels `token`.
async fn stop_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminate = async {
        match term.as_mut() {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        () = terminate => {}
        () = token.cancelled() => {}
    }
    tracing::info!("stopping");
    token.cancel();
}

async fn start(
    global: &Global,
    http: &HttpArgs,
    common: &CommonArgs,
    settings_for: impl FnOnce(&mut Settings),
) -> anyhow::Result<(Components, Settings, TcpListener, WebConfig)> {
    let (listener, address) = listen(http).await?;
    let url = public_url(common, address);
    let mut settings = global.settings(url.clone())?;
    common.apply(&mut settings)?;
    settings_for(&mut settings);
    // Every setting is read before anything is made: a refusal after the
    // first administrator was created would lose its printed password.
    let costs = common
        .costs
        .settings(settings.batch.as_ref().map(|batch| batch.platform))?;
    settings.check_aws().await?;
    let components = Components::build(&settings).await?;
    let password = http
        .admin_password
        .as_ref()
        .map(|secret| secret.expose().as_str());
    bootstrap::ensure_admin(
        &components.store,
        http.admin_email.as_deref(),
        password,
        &global.invoked_as,
    )
    .await?;
    let mut web = WebConfig::new(address);
    web.public_url = url;
    web.run_visibility = common.run_visibility;
    web.max_sweep_runs = usize::from(common.max_sweep_runs);
    web.disk = Some(watch_disk(global, common));
    web.max_upload_bytes = common.max_upload_mib.saturating_mul(1024 * 1024);
    web.costs = costs;
    Ok((components, settings, listener, web))
}

pub(super) async fn up(global: &Global, args: UpArgs) -> anyhow::Result<()> {
    let tuning = args.tuning.config();
    let (components, settings, listener, web) =
        start(global, &args.http, &args.common, |settings| {
            settings.worker = tuning
        })
        .await?;
    components.listen_for_tasks(&settings);
    if settings.batch.is_some() && !args.no_example {
        println!(
            "The example model runs on this machine only, so it is not registered with \
             --executor batch: versions come from images (docs/aws.md)."
        );
    } else if !args.no_example {
        bootstrap::register_examples(
            &components.store,
            &global.data_dir,
            &components.environments,
        )
        .await
        .context("registering the example models")?;
    }
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(
        components
            .worker
            .clone()
            .run(components.kicker.clone(), shutdown.clone()),
    );
    println!(
        "modelrun is running at {} (data in {})",
        web.public_url,
        global.data_dir.display()
    );
    warn_if_unconfined(&components);
    let connections = web.connections;
    let app = modelrun_web::app(components.app_state(web));
    serve_http(listener, app, connections, stop_signal(shutdown.clone())).await;
    shutdown.cancel();
    worker.await.context("the worker stopped abnormally")?;
    components.shutdown().await;
    Ok(())
}

pub(super) async fn serve(global: &Global, args: ServeArgs) -> anyhow::Result<()> {
    let (components, _, listener, web) = start(global, &args.http, &args.common, |_| {}).await?;
    println!(
        "modelrun web is serving at {} (run `modelrun worker` too)",
        web.public_url
    );
    let connections = web.connections;
    let app = modelrun_web::app(components.app_state(web));
    serve_http(
        listener,
        app,
        connections,
        stop_signal(CancellationToken::new()),
    )
    .await;
    Ok(())
}

pub(super) async fn worker(global: &Global, args: WorkerArgs) -> anyhow::Result<()> {
    let url = args
        .common
        .public_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let mut settings = global.settings(url)?;
    args.common.apply(&mut settings)?;
    settings.worker = args.tuning.config();
    settings.check_aws().await?;
    let components = Components::build(&settings).await?;
    components.listen_for_tasks(&settings);
    warn_if_unconfined(&components);
    watch_disk(global, &args.common);
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(
        components
            .worker
            .clone()
            .run(components.kicker.clone(), shutdown.clone()),
    );
    stop_signal(shutdown).await;
    worker.await.context("the worker stopped abnormally")?;
    components.shutdown().await;
    Ok(())
}
