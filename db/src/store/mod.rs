//! The store traits of `modelrun-core` on [`crate::SqlStore`], one module
//! per concern. Each query is written once for both backends.

mod aliases;
mod costs;
mod display;
mod environments;
mod job_tokens;
mod listing;
mod models;
mod outbox;
mod progress;
mod queue;
mod runs;
mod schedules;
mod secrets;
mod security;
mod submits;
mod sweeps;
mod transitions;
mod users;

pub(crate) use submits::SubmitQueue;
