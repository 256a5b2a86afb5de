//! The built-in HTTP server of `modelrun up` and `modelrun serve`: HTTP/1.1
//! by hyper, held to [`ConnectionLimits`]. A client that sends half a
//! request, or keeps a connection open and says nothing, loses it after the
//! header read timeout; a slow body gets `408` after the request timeout (a
//! layer of [`crate::app`]); and at most `max_connections` are served at
//! once, so that slow clients cannot use up the server's file descriptors.
//! On AWS Lambda, API Gateway is the server and this module is not used.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use modelrun_core::config::ConnectionLimits;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` resolves, then lets the
/// requests in flight finish. Each request knows its peer's address
/// (`ConnectInfo<SocketAddr>`).
///
/// Errors: none once listening; a failed accept (such as `EMFILE`) is
/// logged and retried after a pause.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.map_err(|never: Infallible| never)),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    // Requests in flight finish; none takes longer than the request timeout.
    let drained = tokio::time::timeout(limits.request_timeout, graceful.shutdown()).await;
    if drained.is_err() {
        tracing::warn!("connections still open at shutdown were closed");
    }
}
