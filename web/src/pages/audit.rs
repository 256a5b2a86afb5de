//! The audit log, for administrators: filter by action, actor and date.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use modelrun_core::audit::{AuditAction, AuditEntry, AuditFilter};
use serde::Deserialize;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::format;
use crate::locale::{LocalTime, Locale};
use crate::policy::{Action, require};
use crate::state::AppState;

const PAGE: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(list))
}

struct EntryRow {
    id: i64,
    at: LocalTime,
    actor: String,
    action: &'static str,
    target: String,
    detail: String,
    address: String,
}

impl EntryRow {
    fn new(entry: &AuditEntry, locale: &Locale) -> Self {
        let detail = entry
            .detail
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| format!("{k}: {}", format::value(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        EntryRow {
            id: entry.id,
            at: locale.time(entry.at),
            actor: entry.actor.name.clone(),
            action: entry.action.as_str(),
            target: entry.target.clone(),
            detail,
            address: entry.address.clone(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    entries: Vec<EntryRow>,
    actions: Vec<&'static str>,
    action: String,
    actor: String,
    since: String,
    /// The zone of the times and of the "since" day.
    zone: &'static str,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    before: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Reads the filter; "since" is a day in the person's zone.
fn parse(query: &AuditQuery, locale: &Locale) -> AppResult<AuditFilter> {
    let action = given(&query.action)
        .map(|a| {
            a.parse::<AuditAction>()
                .map_err(|why| AppError::BadRequest(format!("action: {why}")))
        })
        .transpose()?;
    let since = given(&query.since)
        .map(|d| crate::policy::parse_day("since", d).map(|date| locale.start_of_day(date)))
        .transpose()?;
    let before = given(&query.before)
        .map(|b| {
            b.parse::<i64>()
                .map_err(|_| AppError::BadRequest("before: must be an entry number".to_owned()))
        })
        .transpose()?;
    Ok(AuditFilter {
        action,
        actor: given(&query.actor).map(str::to_owned),
        since,
        before,
        limit: PAGE,
    })
}

async fn list(
    current: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> AppResult<AuditPage> {
    require(current.user.role, Action::ReadAuditLog)?;
    let locale = Locale::of(&current);
    let filter = parse(&query, &locale)?;
    let entries = state.store.audit_entries(&filter).await?;
    let next = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten()
        .map(|before| {
            let mut link = format!("/admin/audit?before={before}");
            for (key, value) in [
                ("action", &query.action),
                ("actor", &query.actor),
                ("since", &query.since),
            ] {
                if let Some(value) = given(value) {
                    let value = percent_encoding::utf8_percent_encode(
                        value,
                        percent_encoding::NON_ALPHANUMERIC,
                    );
                    link.push_str(&format!("&{key}={value}"));
                }
            }
            link
        });
    Ok(AuditPage {
        nav: Nav::admin(&current.user, &current.csrf, Section::Audit, &state),
        entries: entries
            .iter()
            .map(|entry| EntryRow::new(entry, &locale))
            .collect(),
        actions: AuditAction::ALL.iter().map(|a| a.as_str()).collect(),
        action: given(&query.action).unwrap_or_default().to_owned(),
        actor: given(&query.actor).unwrap_or_default().to_owned(),
        since: given(&query.since).unwrap_or_default().to_owned(),
        zone: locale.zone_name(),
        next,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use chrono_tz::Tz;
    use modelrun_core::display::DisplaySettings;

    use super::*;

    #[test]
    fn since_is_a_day_in_the_persons_zone() {
        let query = AuditQuery {
            since: Some("2026-11-30".to_owned()),
            ..AuditQuery::default()
        };
        let tokyo = Locale::new(DisplaySettings::default(), Some(Tz::Asia__Tokyo));
        let filter = parse(&query, &tokyo).expect("a filter");
        assert_eq!(
            filter.since,
            Utc.with_ymd_and_hms(2026, 11, 29, 15, 0, 0).single()
        );
    }
}
