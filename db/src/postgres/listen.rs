//! Waking workers in other processes: every committed task insert sends
//! `NOTIFY modelrun_tasks`, and each worker process keeps one connection
//! that `LISTEN`s for it. Notifications are only a shortcut: one that is
//! lost (a dropped connection, a proxy that cannot LISTEN) delays work until
//! the worker's next poll, nothing more.

use std::sync::Arc;
use std::time::Duration;

use modelrun_core::config::PostgresConfig;
use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

use super::TASKS_CHANNEL;

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Listens for new tasks on a dedicated connection (not one of the pool's)
/// and calls `wake` for each, and once after every reconnection, since
/// notifications sent meanwhile are lost. Returns `None` behind a proxy,
/// where LISTEN would pin a connection for good.
pub fn spawn_listener(
    config: &PostgresConfig,
    wake: Arc<dyn Fn() + Send + Sync>,
) -> Option<JoinHandle<()>> {
    if config.behind_proxy {
        return None;
    }
    let url = config.url.clone();
    Some(tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        loop {
            match listen(url.expose(), wake.as_ref()).await {
                Ok(()) => backoff = Duration::from_secs(1),
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?backoff, "cannot listen for new tasks; relying on the poll");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            // Whatever was announced while we were not listening.
            wake();
        }
    }))
}

/// Listens until the connection drops (`Ok`) or cannot be made (`Err`).
async fn listen(url: &str, wake: &(dyn Fn() + Send + Sync)) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(TASKS_CHANNEL).await?;
    tracing::debug!("listening for new tasks");
    while listener.try_recv().await?.is_some() {
        wake();
    }
    Ok(())
}
