//! Users, sessions and API tokens on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use modelrun_core::ids::{TokenId, UserId};
use modelrun_core::store::{StoreError, StoreResult, UserStore};
use modelrun_core::user::{ApiToken, Credentials, NewApiToken, NewUser, Role, User};

use super::SqliteStore;
use super::rows::{TokenRow, UserRow, convert_all};
use crate::convert::{db_error, is_unique_violation, to_ms};

/// Last-seen and last-used times are refreshed at most this often, so that
/// reading a page does not cost a write every time.
const TOUCH_EVERY_MS: i64 = 60_000;

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        let row = sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (email, password_hash, role, created_at) VALUES (?, ?, ?, ?) \
             RETURNING id, email, role, created_at",
        )
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(to_ms(Utc::now()))
        .fetch_one(&self.writer)
        .await
        .map_err(|error| {
            if is_unique_violation(&error) {
                StoreError::Conflict(format!(
                    "a user with the email {} already exists",
                    user.email
                ))
            } else {
                db_error(error)
            }
        })?;
        row.try_into()
    }

    async fn count_users(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.reader)
            .await
            .map_err(db_error)
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query_as::<_, UserRow>(
            "SELECT id, email, role, created_at FROM users ORDER BY email",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query_as::<_, UserRow>("SELECT id, email, role, created_at FROM users WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?
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
        let row = sqlx::query_as::<_, Row>(
            "SELECT id, email, role, created_at, password_hash FROM users WHERE email = ?",
        )
        .bind(email)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?;
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
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(to_ms(now))
        .bind(to_ms(now))
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
        absolute: Duration,
    ) -> StoreResult<Option<User>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            session_created_at: i64,
            last_seen_at: i64,
        }
        let Some(row) = sqlx::query_as::<_, Row>(
            "SELECT u.id, u.email, u.role, u.created_at, s.created_at AS session_created_at, \
             s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        else {
            return Ok(None);
        };
        let now_ms = to_ms(now);
        let expired = now_ms - row.last_seen_at > idle.num_milliseconds()
            || now_ms - row.session_created_at > absolute.num_milliseconds();
        if expired {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        if now_ms - row.last_seen_at > TOUCH_EVERY_MS {
            sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
                .bind(now_ms)
                .bind(token_hash)
                .execute(&self.writer)
                .await
                .map_err(db_error)?;
        }
        row.user.try_into().map(Some)
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?")
            .bind(user.0)
            .bind(keep)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn set_role(&self, user: UserId, role: Role) -> StoreResult<User> {
        sqlx::query_as::<_, UserRow>(
            "UPDATE users SET role = ? WHERE id = ? RETURNING id, email, role, created_at",
        )
        .bind(role.as_str())
        .bind(user.0)
        .fetch_optional(&self.writer)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound)?
        .try_into()
    }

    async fn create_token(&self, token: NewApiToken) -> StoreResult<ApiToken> {
        sqlx::query_as::<_, TokenRow>(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, role, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             RETURNING id, user_id, name, prefix, role, created_at, expires_at, last_used_at",
        )
        .bind(token.user_id.0)
        .bind(&token.name)
        .bind(&token.token_hash)
        .bind(&token.prefix)
        .bind(token.role.as_str())
        .bind(to_ms(Utc::now()))
        .bind(token.expires_at.map(to_ms))
        .fetch_one(&self.writer)
        .await
        .map_err(db_error)?
        .try_into()
    }

    async fn token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(User, ApiToken)>> {
        let now_ms = to_ms(now);
        let Some(row) = sqlx::query_as::<_, TokenRow>(
            "SELECT id, user_id, name, prefix, role, created_at, expires_at, last_used_at \
             FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        else {
            return Ok(None);
        };
        let token = ApiToken::try_from(row)?;
        let Some(user) = self.user(token.user_id).await? else {
            return Ok(None);
        };
        let stale = token
            .last_used_at
            .is_none_or(|at| now_ms - to_ms(at) > TOUCH_EVERY_MS);
        if stale {
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(now_ms)
                .bind(token.id.0)
                .execute(&self.writer)
                .await
                .map_err(db_error)?;
        }
        Ok(Some((user, token)))
    }

    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query_as::<_, TokenRow>(
            "SELECT id, user_id, name, prefix, role, created_at, expires_at, last_used_at \
             FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY id DESC",
        )
        .bind(user.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn revoke_token(
        &self,
        user: UserId,
        token: TokenId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(token.0)
        .bind(user.0)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
