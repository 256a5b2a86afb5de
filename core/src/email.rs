//! The outbox: every message modelrun sends, kept as the record of what was sent.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ids::{EmailId, RunId};

/// A message to store and send.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub run_id: Option<RunId>,
}

/// Whether a message has gone out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailStatus {
    Queued,
    Sent,
    Failed,
}

impl EmailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Queued => "queued",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [EmailStatus::Queued, EmailStatus::Sent, EmailStatus::Failed]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Email {
    pub id: EmailId,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub run_id: Option<RunId>,
    pub status: EmailStatus,
    /// The mailer's id for the message (an SES message id, an outbox file name).
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}
