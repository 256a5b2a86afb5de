//! Mailers and the messages modelrun sends.

mod messages;
mod outbox;
mod ses;
mod smtp;
mod sweep_messages;

pub use messages::{run_finished, run_stuck};
pub use outbox::OutboxMailer;
pub use ses::SesMailer;
pub use smtp::SmtpMailer;
pub use sweep_messages::sweep_finished;
