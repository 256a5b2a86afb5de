//! Users, sessions and API tokens.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use modelrun_core::ids::{TokenId, UserId};
use modelrun_core::store::{StoreError, StoreResult, UserStore};
use modelrun_core::user::{ApiToken, Credentials, NewApiToken, NewUser, Role, User};

use crate::SqlStore;
use crate::backend::{Tx, on_conn};
use crate::convert::{conflict, touched};
use crate::dialect::{Dialect, Sql, sql};
use crate::recent::{Known, RecentCredentials, session_key, token_key};
use crate::rows::{TokenRow, TokenUserRow, UserRow, convert_all};
use crate::types::Timestamp;
use modelrun_core::display::DisplaySettings;

/// A "last used" time that could not be written (a full disk, a busy
/// writer) is only a stale hint: the request that reads goes on, and the
/// next one tries again.
fn untouched_is_fine(recent: &RecentCredentials, key: &str, touched: StoreResult<()>, what: &str) {
    if let Err(error) = touched {
        recent.unclaim_touch(key);
        tracing::warn!(error = %modelrun_core::error_chain(&error), "could not note when {what} was last used");
    }
}

/// Last-seen and last-used times are refreshed at most this often, so that
/// reading a page does not cost a write every time, and by one request of
/// those that find one due at once
/// ([`crate::recent::RecentCredentials::claim_touch`]).
fn touch_every() -> Duration {
    Duration::seconds(60)
}

/// Every enabled administrator, locked until the transaction ends. In id
/// order, so that two transactions lock them in the same order.
const ENABLED_ADMINS: Sql = sql!(
    "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id",
    for_update
);

/// Fails with a conflict when `user` is the only enabled administrator,
/// who cannot be demoted or disabled. The lock on every enabled
/// administrator makes two such changes at once apply one after the other,
/// so the second sees the first and cannot leave no administrator.
async fn keep_an_admin(tx: &mut Tx, user: UserId, change: &str) -> StoreResult<()> {
    let admins: Vec<i64> = on_conn!(tx, |c| {
        sqlx::query_scalar(c.sql(&ENABLED_ADMINS))
            .fetch_all(c)
            .await
    })?;
    if admins == [user.0] {
        return Err(StoreError::Conflict(format!(
            "the last enabled administrator cannot be {change}: make another user an \
             administrator first"
        )));
    }
    Ok(())
}

impl<B> SqlStore<B> {
    /// What `key` stood for a moment ago, or what `read` finds now (kept
    /// for the next request unless a change overlapped the read).
    async fn remembered(
        &self,
        key: &str,
        read: impl Future<Output = StoreResult<Option<Known>>>,
    ) -> StoreResult<Option<Known>> {
        if let Some(known) = self.recent.get(key) {
            return Ok(Some(known));
        }
        // Requests that come together with one credential share one read
        // of it (`crate::flight`); `read` runs only when awaited.
        self.recent
            .reads
            .read(key.to_owned(), || async {
                let generation = self.recent.generation();
                let found = read.await?;
                if let Some(found) = &found {
                    self.recent.keep(key, generation, found.clone());
                }
                Ok(found)
            })
            .await
    }

    /// A session and its person, as the database has them now.
    async fn read_session(&self, token_hash: &str) -> StoreResult<Option<Known>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            session_created_at: Timestamp,
            last_seen_at: Timestamp,
            time_zone: Option<String>,
            number_style: Option<String>,
        }
        let row = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, Row>(
                "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at, \
                 u.time_zone, u.number_style, \
                 s.created_at AS session_created_at, s.last_seen_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND u.disabled_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(c)
            .await
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(Known::Session {
            display: super::display::settings_of(row.time_zone, row.number_style)?,
            user: row.user.try_into()?,
            created_at: row.session_created_at.0,
            last_seen_at: row.last_seen_at.0,
        }))
    }

    /// A token and its owner, as the database has them now.
    async fn read_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Known>> {
        let row = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, TokenUserRow>(
                "SELECT u.id, u.email, u.role, u.created_at, u.disabled_at, \
                 t.id AS token_id, t.name AS token_name, t.prefix AS token_prefix, \
                 t.role AS token_role, t.created_at AS token_created_at, \
                 t.expires_at AS token_expires_at, t.last_used_at AS token_last_used_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
                 AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.disabled_at IS NULL",
            )
            .bind(token_hash)
            .bind(Timestamp(now))
            .fetch_optional(c)
            .await
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (user, token) = <(User, ApiToken)>::try_from(row)?;
        Ok(Some(Known::Token(user, token)))
    }
}

#[async_trait]
impl<B> UserStore for SqlStore<B> {
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        let row = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query_as::<_, UserRow>(
                "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING id, email, role, created_at, disabled_at",
            )
            .bind(&user.email)
            .bind(&user.password_hash)
            .bind(user.role.as_str())
            .bind(Timestamp(Utc::now()))
            .fetch_one(c)
            .await
        })
        .map_err(conflict(|| {
            format!("a user with the email {} already exists", user.email)
        }))?;
        row.try_into()
    }

    async fn count_users(&self) -> StoreResult<i64> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_scalar("SELECT count(*) FROM users")
                .fetch_one(c)
                .await
        })
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, UserRow>(
                "SELECT id, email, role, created_at, disabled_at FROM users ORDER BY email",
            )
            .fetch_all(c)
            .await
        })?;
        convert_all(rows)
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, UserRow>(
                "SELECT id, email, role, created_at, disabled_at FROM users WHERE id = $1",
            )
            .bind(id.0)
            .fetch_optional(c)
            .await
        })?
        .map(User::try_from)
        .transpose()
    }

    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let row = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, Row>(
                "SELECT id, email, role, created_at, disabled_at, password_hash FROM users \
                 WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(c)
            .await
        })?;
        row.map(|row| {
            Ok(Credentials {
                user: row.user.try_into()?,
                password_hash: row.password_hash,
            })
        })
        .transpose()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $3)",
            )
            .bind(token_hash)
            .bind(user.0)
            .bind(Timestamp(now))
            .execute(c)
            .await
            .map(|_| ())
        })
    }

    async fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
        absolute: Duration,
    ) -> StoreResult<Option<(User, DisplaySettings)>> {
        let key = session_key(token_hash);
        let Some(Known::Session {
            user,
            display,
            created_at,
            last_seen_at,
        }) = self.remembered(&key, self.read_session(token_hash)).await?
        else {
            return Ok(None);
        };
        let last_seen = now - last_seen_at;
        if last_seen > idle || now - created_at > absolute {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        if last_seen > touch_every() && self.recent.claim_touch(&key, now, touch_every()) {
            let token_hash = token_hash.to_owned();
            let touched = self.db.write(move |db| async move {
                on_conn!(&mut db.writer().await?, |c| {
                    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                        .bind(Timestamp(now))
                        .bind(&token_hash)
                        .execute(c)
                        .await
                        .map(|_| ())
                })
            });
            untouched_is_fine(&self.recent, &key, touched.await, "a session");
            // What is kept says when it was last seen: seen now.
            self.recent.forget(&key);
        }
        Ok(Some((user, display)))
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(c)
                .await
                .map(|_| ())
        })?;
        self.recent.forget_all();
        Ok(())
    }

    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let updated = on_conn!(&mut tx, |c| {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user.0)
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        })?;
        touched(updated)?;
        on_conn!(&mut tx, |c| {
            sqlx::query(
                "DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2",
            )
            .bind(user.0)
            .bind(keep)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        tx.commit().await?;
        self.recent.forget_all();
        Ok(())
    }

    async fn set_role(&self, user: UserId, role: Role) -> StoreResult<User> {
        let mut tx = self.db.begin().await?;
        if role != Role::Admin {
            keep_an_admin(&mut tx, user, "demoted").await?;
        }
        let row = on_conn!(&mut tx, |c| {
            sqlx::query_as::<_, UserRow>(
                "UPDATE users SET role = $1 WHERE id = $2 \
                 RETURNING id, email, role, created_at, disabled_at",
            )
            .bind(role.as_str())
            .bind(user.0)
            .fetch_optional(c)
            .await
        })?
        .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        self.recent.forget_all();
        row.try_into()
    }

    async fn set_disabled(
        &self,
        user: UserId,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        let mut tx = self.db.begin().await?;
        if disabled {
            keep_an_admin(&mut tx, user, "disabled").await?;
        }
        let row = on_conn!(&mut tx, |c| {
            sqlx::query_as::<_, UserRow>(
                "UPDATE users SET disabled_at = CASE WHEN $1 THEN COALESCE(disabled_at, $2) END \
                 WHERE id = $3 RETURNING id, email, role, created_at, disabled_at",
            )
            .bind(disabled)
            .bind(Timestamp(now))
            .bind(user.0)
            .fetch_optional(c)
            .await
        })?
        .ok_or(StoreError::NotFound)?;
        if disabled {
            on_conn!(&mut tx, |c| {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user.0)
                    .execute(c)
                    .await
                    .map(|_| ())
            })?;
        }
        tx.commit().await?;
        self.recent.forget_all();
        row.try_into()
    }

    async fn create_token(&self, token: NewApiToken) -> StoreResult<ApiToken> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query_as::<_, TokenRow>(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, role, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 RETURNING id, user_id, name, prefix, role, created_at, expires_at, last_used_at",
            )
            .bind(token.user_id.0)
            .bind(&token.name)
            .bind(&token.token_hash)
            .bind(&token.prefix)
            .bind(token.role.as_str())
            .bind(Timestamp(Utc::now()))
            .bind(token.expires_at.map(Timestamp))
            .fetch_one(c)
            .await
        })?
        .try_into()
    }

    async fn token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(User, ApiToken)>> {
        // One query for the token and its owner, or none when it was
        // read a moment ago: every API request asks.
        let key = token_key(token_hash);
        let Some(Known::Token(user, token)) = self
            .remembered(&key, self.read_token(token_hash, now))
            .await?
        else {
            return Ok(None);
        };
        if token.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
        if token.last_used_at.is_none_or(|at| now - at > touch_every())
            && self.recent.claim_touch(&key, now, touch_every())
        {
            let id = token.id.0;
            // On SQLite's write lane, as it comes in the middle of a burst.
            let touched = self.db.write(move |db| async move {
                on_conn!(&mut db.writer().await?, |c| {
                    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                        .bind(Timestamp(now))
                        .bind(id)
                        .execute(c)
                        .await
                        .map(|_| ())
                })
            });
            untouched_is_fine(&self.recent, &key, touched.await, "an API token");
            // What is kept says when it was last used: used now.
            self.recent.forget(&key);
        }
        Ok(Some((user, token)))
    }

    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, TokenRow>(
                "SELECT id, user_id, name, prefix, role, created_at, expires_at, last_used_at \
                 FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC",
            )
            .bind(user.0)
            .fetch_all(c)
            .await
        })?;
        convert_all(rows)
    }

    async fn revoke_token(
        &self,
        user: UserId,
        token: TokenId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let revoked = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 \
                 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(Timestamp(now))
            .bind(token.0)
            .bind(user.0)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        self.recent.forget_all();
        touched(revoked)
    }
}
