//! End-to-end tests: the real server on a free port of 127.0.0.1, a real
//! SQLite file, real model processes. The worker is drained by the tests,
//! so every step is deterministic.

mod api;
mod browser;
mod cli;
mod limits;
mod support;
