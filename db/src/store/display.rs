//! Each person's time zone and number style, kept on their user row.

use async_trait::async_trait;
use modelrun_core::display::{DisplaySettings, parse_time_zone};
use modelrun_core::ids::UserId;
use modelrun_core::store::{DisplayStore, StoreError, StoreResult};

use crate::SqlStore;
use crate::backend::on_conn;

/// The settings kept in a user row's `time_zone` and `number_style`.
pub(crate) fn settings_of(
    zone: Option<String>,
    style: Option<String>,
) -> StoreResult<DisplaySettings> {
    // A zone name a newer time zone database dropped falls back to the
    // browser's rather than locking the person out of every page.
    let time_zone = zone.and_then(|name| parse_time_zone(&name).ok());
    let number_style = style
        .map(|style| style.parse().map_err(StoreError::Corrupt))
        .transpose()?
        .unwrap_or_default();
    Ok(DisplaySettings {
        time_zone,
        number_style,
    })
}

#[async_trait]
impl<B> DisplayStore for SqlStore<B> {
    async fn display_settings(&self, user: UserId) -> StoreResult<DisplaySettings> {
        let row: Option<(Option<String>, Option<String>)> =
            on_conn!(&mut self.db.reader().await?, |c| {
                sqlx::query_as("SELECT time_zone, number_style FROM users WHERE id = $1")
                    .bind(user.0)
                    .fetch_optional(c)
                    .await
            })?;
        let (zone, style) = row.ok_or(StoreError::NotFound)?;
        settings_of(zone, style)
    }

    async fn set_display_settings(
        &self,
        user: UserId,
        settings: DisplaySettings,
    ) -> StoreResult<()> {
        let changed = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query("UPDATE users SET time_zone = $1, number_style = $2 WHERE id = $3")
                .bind(settings.time_zone.map(|zone| zone.name()))
                .bind(settings.number_style.as_str())
                .bind(user.0)
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        })?;
        self.recent.forget_all();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
