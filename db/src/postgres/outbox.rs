//! The outbox on Postgres.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::email::{Email, NewEmail};
use modelrun_core::ids::EmailId;
use modelrun_core::store::{Outbox, StoreError, StoreResult};
use modelrun_core::task::{NewTask, Queued};
use sqlx::PgConnection;

use super::PgStore;
use super::queue::insert_task;
use super::rows::{EmailRow, convert_all};
use crate::convert::db_error;

macro_rules! email_columns {
    () => {
        "id, to_address, subject, text_body, html_body, run_id, status, provider_id, last_error, \
         created_at, sent_at"
    };
}

/// Stores a message and the task that sends it, inside the caller's transaction.
pub(super) async fn insert_email(
    conn: &mut PgConnection,
    email: &NewEmail,
    now: DateTime<Utc>,
    notify: bool,
) -> StoreResult<Queued<Email>> {
    let email: Email = sqlx::query_as::<_, EmailRow>(concat!(
        "INSERT INTO emails (to_address, subject, text_body, html_body, run_id, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', $6) RETURNING ",
        email_columns!()
    ))
    .bind(&email.to)
    .bind(&email.subject)
    .bind(&email.text)
    .bind(&email.html)
    .bind(email.run_id.map(|id| id.0))
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?
    .try_into()?;
    let task = insert_task(conn, &NewTask::send_email(email.id), now, notify).await?;
    Ok(Queued {
        item: email,
        task: task.id,
    })
}

#[async_trait]
impl Outbox for PgStore {
    async fn enqueue_email(&self, email: NewEmail) -> StoreResult<Queued<Email>> {
        let mut tx = self.write().await?;
        let queued = insert_email(&mut tx, &email, Utc::now(), self.notify).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(queued)
    }

    async fn email(&self, id: EmailId) -> StoreResult<Option<Email>> {
        sqlx::query_as::<_, EmailRow>(concat!(
            "SELECT ",
            email_columns!(),
            " FROM emails WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .map(Email::try_from)
        .transpose()
    }

    async fn mark_email_sent(
        &self,
        id: EmailId,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE emails SET status = 'sent', provider_id = $1, sent_at = $2, last_error = NULL \
             WHERE id = $3",
        )
        .bind(provider_id)
        .bind(now)
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn mark_email_failed(&self, id: EmailId, error: &str) -> StoreResult<()> {
        sqlx::query("UPDATE emails SET status = 'failed', last_error = $1 WHERE id = $2 AND status <> 'sent'")
            .bind(error)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn list_emails(&self, before: Option<EmailId>, limit: u32) -> StoreResult<Vec<Email>> {
        let rows = sqlx::query_as::<_, EmailRow>(concat!(
            "SELECT ",
            email_columns!(),
            " FROM emails WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(before.map(|id| id.0))
        .bind(i64::from(limit.clamp(1, 200)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }
}
