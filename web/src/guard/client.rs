//! The client's address, for the audit log and the per-address limits.
//! Behind API Gateway it is the source address API Gateway saw; on a local
//! server, the peer of the TCP connection. `X-Forwarded-For` is never
//! trusted: anyone can send it.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

/// The client's IP address, or empty when it is not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    pub fn from_parts(parts: &Parts) -> Self {
        if let Some(RequestContext::ApiGatewayV2(context)) =
            parts.extensions.get::<RequestContext>()
            && let Some(ip) = &context.http.source_ip
        {
            return ClientAddr(ip.clone());
        }
        if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return ClientAddr(peer.ip().to_string());
        }
        ClientAddr::default()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr::from_parts(parts))
    }
}
