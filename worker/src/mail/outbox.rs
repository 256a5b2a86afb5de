//! The outbox mailer: on one machine, "sending" a message writes it as an
//! `.eml` file that any mail client opens. The message is also in the
//! store's outbox, which admins read in the UI.

use std::path::PathBuf;

use async_trait::async_trait;
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use modelrun_core::email::Email;
use modelrun_core::mailer::{MailError, Mailer};
use tokio::fs;

/// The sender shown on local messages.
const FROM: &str = "modelrun <modelrun@localhost>";

#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        OutboxMailer { dir: dir.into() }
    }
}

/// A MIME message with text and HTML alternatives. Subjects are
/// RFC 2047-encoded when they are not plain ASCII; bodies are sent as 8-bit
/// UTF-8.
fn to_eml(email: &Email) -> String {
    let boundary = format!("modelrun-{}", email.id);
    let subject = if email.subject.is_ascii() {
        email.subject.clone()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            BASE64_STANDARD.encode(email.subject.as_bytes())
        )
    };
    format!(
        "From: {FROM}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n\
         Message-ID: <email-{id}@modelrun.localhost>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         {text}\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         {html}\r\n--{boundary}--\r\n",
        to = email.to,
        date = email.created_at.to_rfc2822(),
        id = email.id,
        text = email.text,
        html = email.html,
    )
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let name = format!("{:06}.eml", email.id.0);
        let io = |error: std::io::Error| {
            MailError::Unavailable(format!("cannot write to the outbox: {error}"))
        };
        fs::create_dir_all(&self.dir).await.map_err(io)?;
        fs::write(self.dir.join(&name), to_eml(email))
            .await
            .map_err(io)?;
        Ok(format!("outbox/{name}"))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use modelrun_core::email::EmailStatus;
    use modelrun_core::ids::EmailId;

    use super::*;

    #[tokio::test]
    async fn writes_a_mime_message_per_email() {
        let dir = tempfile::tempdir().expect("dir");
        let mailer = OutboxMailer::new(dir.path().join("outbox"));
        let email = Email {
            id: EmailId(7),
            to: "ann@example.com".to_owned(),
            subject: "Run 3 succeeded — forecast".to_owned(),
            text: "See it".to_owned(),
            html: "<p>See it</p>".to_owned(),
            run_id: None,
            status: EmailStatus::Queued,
            provider_id: None,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
        };
        let id = mailer.send(&email).await.expect("send");
        assert_eq!(id, "outbox/000007.eml");
        let eml = std::fs::read_to_string(dir.path().join(&id)).expect("written");
        assert!(eml.contains("To: ann@example.com\r\n"));
        assert!(eml.contains("Subject: =?UTF-8?B?"));
        assert!(eml.contains("<p>See it</p>"));
        assert!(eml.ends_with("--\r\n"));
    }
}
