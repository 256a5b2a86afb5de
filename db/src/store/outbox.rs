//! The outbox: every message, stored with the task that sends it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::email::{Email, NewEmail};
use modelrun_core::ids::EmailId;
use modelrun_core::store::{Outbox, StoreResult};
use modelrun_core::task::{Job, Queued, SendEmail};

use super::queue::insert_task;
use crate::SqlStore;
use crate::backend::{Tx, on_conn};
use crate::convert::touched;
use crate::rows::{EmailRow, convert_all};
use crate::types::Timestamp;

macro_rules! email_columns {
    () => {
        "id, to_address, subject, text_body, html_body, run_id, status, provider_id, last_error, \
         created_at, sent_at"
    };
}

/// Stores a message and the task that sends it, inside the caller's transaction.
pub(crate) async fn insert_email(
    tx: &mut Tx,
    email: &NewEmail,
    now: DateTime<Utc>,
) -> StoreResult<Queued<Email>> {
    let email: Email = on_conn!(tx, |c| {
        sqlx::query_as::<_, EmailRow>(concat!(
            "INSERT INTO emails (to_address, subject, text_body, html_body, run_id, status, \
             created_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6) RETURNING ",
            email_columns!()
        ))
        .bind(&email.to)
        .bind(&email.subject)
        .bind(&email.text)
        .bind(&email.html)
        .bind(email.run_id.map(|id| id.0))
        .bind(Timestamp(now))
        .fetch_one(c)
        .await
    })?
    .try_into()?;
    let task = insert_task(tx, &SendEmail { email_id: email.id }.task(), now).await?;
    Ok(Queued {
        item: email,
        task: task.id,
    })
}

#[async_trait]
impl<B> Outbox for SqlStore<B> {
    async fn enqueue_email(&self, email: NewEmail) -> StoreResult<Queued<Email>> {
        let mut tx = self.db.begin().await?;
        let queued = insert_email(&mut tx, &email, Utc::now()).await?;
        tx.commit().await?;
        Ok(queued)
    }

    async fn email(&self, id: EmailId) -> StoreResult<Option<Email>> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, EmailRow>(concat!(
                "SELECT ",
                email_columns!(),
                " FROM emails WHERE id = $1"
            ))
            .bind(id.0)
            .fetch_optional(c)
            .await
        })?
        .map(Email::try_from)
        .transpose()
    }

    async fn mark_email_sent(
        &self,
        id: EmailId,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let sent = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE emails SET status = 'sent', provider_id = $1, sent_at = $2, \
                 last_error = NULL WHERE id = $3",
            )
            .bind(provider_id)
            .bind(Timestamp(now))
            .bind(id.0)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        touched(sent)
    }

    async fn mark_email_failed(&self, id: EmailId, error: &str) -> StoreResult<()> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE emails SET status = 'failed', last_error = $1 \
                 WHERE id = $2 AND status <> 'sent'",
            )
            .bind(error)
            .bind(id.0)
            .execute(c)
            .await
            .map(|_| ())
        })
    }

    async fn list_emails(&self, before: Option<EmailId>, limit: u32) -> StoreResult<Vec<Email>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            let sql = format!(
                "{}{}",
                concat!(
                    "SELECT ",
                    email_columns!(),
                    " FROM emails WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC"
                ),
                crate::dialect::limit(limit.clamp(1, 200))
            );
            sqlx::query_as::<_, EmailRow>(sqlx::AssertSqlSafe(sql))
                .bind(before.map(|id| id.0))
                .fetch_all(c)
                .await
        })?;
        convert_all(rows)
    }
}
