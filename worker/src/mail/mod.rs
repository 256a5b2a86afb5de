//! Mailers and the messages modelrun sends.

mod messages;
mod outbox;

pub use messages::run_finished;
pub use outbox::OutboxMailer;
