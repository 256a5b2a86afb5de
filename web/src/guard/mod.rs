//! What stands between a request and the handlers: security headers on
//! every response, the cross-site request check, the client's address,
//! rate limits, the request timeout and the audit log.

pub mod audit;
pub mod client;
pub mod csrf;
pub mod headers;
pub mod limits;
pub mod timeout;

pub use audit::audit;
pub use client::ClientAddr;
pub use limits::{Refused, check_limit, count_attempt, refusal};
