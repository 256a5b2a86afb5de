//! `send_email`: sends one stored message. A message already marked sent
//! is not sent again.

use chrono::Utc;
use modelrun_core::email::EmailStatus;
use modelrun_core::task::EmailPayload;

use super::TaskError;
use crate::{Services, WorkerError};

pub(super) async fn run(services: &Services, payload: EmailPayload) -> Result<(), TaskError> {
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

pub(super) async fn on_dead(
    services: &Services,
    payload: EmailPayload,
    error: &str,
) -> Result<(), WorkerError> {
    services
        .store
        .mark_email_failed(payload.email_id, error)
        .await?;
    Ok(())
}
