//! `send_email`: sends one stored message. A message already marked sent
//! is not sent again.

use async_trait::async_trait;
use chrono::Utc;
use modelrun_core::email::EmailStatus;
use modelrun_core::task::SendEmail;

use super::{Handler, TaskError};
use crate::{Services, WorkerError};

#[async_trait]
impl Handler for SendEmail {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        let payload = self;
        let Some(email) = services.store.email(payload.email_id).await? else {
            return Err(TaskError::Fatal(format!(
                "email {} does not exist",
                payload.email_id
            )));
        };
        if email.status == EmailStatus::Sent {
            return Ok(());
        }
        let provider_id = services.mailer.send(&email).await?;
        services
            .store
            .mark_email_sent(email.id, &provider_id, Utc::now())
            .await?;
        Ok(())
    }

    async fn on_dead(self, services: &Services, error: &str) -> Result<(), WorkerError> {
        let payload = self;
        services
            .store
            .mark_email_failed(payload.email_id, error)
            .await?;
        Ok(())
    }
}
