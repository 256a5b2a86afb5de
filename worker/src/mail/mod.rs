//! Mailers and the messages modelrun sends.

mod messages;
mod outbox;
mod ses;
mod smtp;

pub use messages::{run_finished, run_stuck};
pub use outbox::OutboxMailer;
pub use ses::SesMailer;
pub use smtp::SmtpMailer;
