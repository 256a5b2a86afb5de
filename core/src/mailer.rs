//! Mailers deliver stored messages: to an outbox directory on one machine,
//! through SES on AWS.

use std::fmt;

use async_trait::async_trait;

use crate::email::Email;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Worth retrying.
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
    /// The message can never be sent as it is.
    #[error("mail refused: {0}")]
    Refused(String),
}

#[async_trait]
pub trait Mailer: Send + Sync + fmt::Debug {
    /// Sends the message and returns the provider's id for it. Sending the
    /// same stored message twice must not be worse than a duplicate email.
    async fn send(&self, email: &Email) -> Result<String, MailError>;
}
