//! Helpers for this crate's unit tests.

use axum::http::{HeaderMap, HeaderValue};

/// A request's headers from `(name, value)` pairs.
pub(crate) fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_static(value));
    }
    map
}
