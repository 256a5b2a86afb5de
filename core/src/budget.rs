//! Monthly budgets in US dollars: one for the installation (the team) and
//! one per user, set by admins. A submission whose expected cost would take
//! this month's spending past a budget gets a warning; it is still allowed.
//!
//! Budgets are money, so they count only runs that have a price (AWS Batch,
//! [`crate::estimate::Prices`]); runs on the local executor cost nothing.
//! A month starts at midnight on its first day in the installation's time
//! zone (`--time-zone`), and a run counts in the month it started.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::estimate::{Prices, actual_cost};
use crate::ids::UserId;
use crate::manifest::Resources;

/// The most a budget may be: $100,000,000 a month, in cents.
pub const MAX_CENTS: i64 = 10_000_000_000;

/// Whose spending a budget limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", content = "user_id", rename_all = "lowercase")]
pub enum BudgetScope {
    /// Everyone's runs: the team's budget.
    Installation,
    /// One user's own runs.
    User(UserId),
}

impl BudgetScope {
    /// The key the store keeps: `installation` or `user:<id>`.
    pub fn key(self) -> String {
        match self {
            BudgetScope::Installation => "installation".to_owned(),
            BudgetScope::User(id) => format!("user:{}", id.0),
        }
    }
}

/// A monthly limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub scope: BudgetScope,
    /// The user's email, for a user's budget.
    pub user_email: Option<String>,
    /// The limit, in US cents.
    pub monthly_cents: i64,
    /// Who set it last (an email).
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

/// A budget amount from what a person typed (`250`, `99.50`, `99,50`,
/// `$250`): cents, or why not. Numbers are read as a form's number boxes
/// read them ([`crate::schema::read_typed_number`]): one decimal separator,
/// `.` or `,`, no thousands separators, and `1,000` (which could mean
/// 1000 or 1.000) refused rather than guessed.
pub fn parse_dollars(text: &str) -> Result<i64, String> {
    let amount = crate::schema::read_typed_number(text.trim().trim_start_matches('$'))
        .map_err(|why| format!("{why} (an amount in dollars, such as 250 or 99.50)"))?;
    let cents = (amount * 100.0).round();
    if !amount.is_finite() || cents < 1.0 {
        return Err("must be at least $0.01 a month".to_owned());
    }
    if cents > MAX_CENTS as f64 {
        return Err("must be at most $100,000,000 a month".to_owned());
    }
    Ok(cents as i64)
}

/// The month around `now` in `zone`, as UTC instants: from midnight on its
/// first day (included) to midnight on the next month's first (excluded).
pub fn month_bounds(now: DateTime<Utc>, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let local = now.with_timezone(&zone).date_naive();
    let first = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).unwrap_or(local);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (midnight(first, zone), midnight(next, zone))
}

/// The first instant of `day` in `zone` (a zone that skips midnight starts
/// the day at its first existing minute).
fn midnight(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let mut at = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..180 {
        if let Some(instant) = zone.from_local_datetime(&at).earliest() {
            return instant.with_timezone(&Utc);
        }
        at += chrono::Duration::minutes(1);
    }
    Utc.from_utc_datetime(&at)
}

/// One run as a budget sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUsage {
    pub submitted_by: UserId,
    pub resources: Resources,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The prices recorded with the run's estimate; `None`: no cost.
    pub prices: Option<Prices>,
}

/// Dollars spent by the runs of `usage` that `scope` covers, up to `now`.
pub fn spent(usage: &[RunUsage], scope: BudgetScope, now: DateTime<Utc>) -> f64 {
    usage
        .iter()
        .filter(|run| match scope {
            BudgetScope::Installation => true,
            BudgetScope::User(user) => run.submitted_by == user,
        })
        .filter_map(|run| {
            actual_cost(
                &run.resources,
                run.prices.as_ref(),
                run.started_at,
                run.finished_at,
                now,
            )
        })
        // An empty f64 sum is -0.0, which JSON and pages would show.
        .fold(0.0, |total, cost| total + cost)
}

/// Where a budget stands this month, with a submission's expected cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetStatus {
    pub scope: BudgetScope,
    /// The limit, in dollars.
    pub monthly_usd: f64,
    /// Spent this month so far, in dollars.
    pub spent_usd: f64,
    /// Spent plus the submission's expected cost.
    pub after_usd: f64,
    /// Whether the submission would take spending past the limit.
    pub would_cross: bool,
}

impl BudgetStatus {
    /// The status of `budget` given this month's spending and a submission
    /// expected to cost `expected` dollars.
    pub fn new(budget: &Budget, spent_usd: f64, expected: f64) -> BudgetStatus {
        let monthly_usd = budget.monthly_cents as f64 / 100.0;
        let after_usd = spent_usd + expected;
        BudgetStatus {
            scope: budget.scope,
            monthly_usd,
            spent_usd,
            after_usd,
            would_cross: after_usd > monthly_usd,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_at_local_midnight() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 3, 0, 0).unwrap();
        let (from, to) = month_bounds(now, chrono_tz::UTC);
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap());
        // 03:00 UTC on 1 March is still February in New York (UTC-5).
        let (from, to) = month_bounds(now, chrono_tz::America::New_York);
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 2, 1, 5, 0, 0).unwrap());
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 3, 1, 5, 0, 0).unwrap());
        let december = Utc.with_ymd_and_hms(2026, 12, 31, 12, 0, 0).unwrap();
        let (_, to) = month_bounds(december, chrono_tz::UTC);
        assert_eq!(to, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    }

    #[test]
    fn amounts_parse_to_cents_or_say_why_not() {
        assert_eq!(parse_dollars("250"), Ok(25_000));
        assert_eq!(parse_dollars(" $1000.5 "), Ok(100_050));
        assert_eq!(parse_dollars("99,50"), Ok(9_950));
        // Read as the run form reads numbers: never guessed.
        assert!(
            parse_dollars("1,000")
                .expect_err("ambiguous")
                .contains("could mean 1000 or 1.000")
        );
        assert!(parse_dollars("1.000,50").is_err());
        assert!(parse_dollars("1,5").is_ok_and(|cents| cents == 150));
        assert!(parse_dollars("0").expect_err("zero").contains("at least"));
        assert!(parse_dollars("-3").is_err());
        assert!(
            parse_dollars("lots")
                .expect_err("text")
                .contains("not a number")
        );
        assert!(
            parse_dollars("1e12")
                .expect_err("too much")
                .contains("at most")
        );
        assert!(parse_dollars("NaN").is_err());
    }

    #[test]
    fn nothing_spent_is_zero_not_minus_zero() {
        let nothing = spent(&[], BudgetScope::Installation, Utc::now());
        assert!(nothing == 0.0 && nothing.is_sign_positive(), "{nothing}");
        assert_eq!(serde_json::json!(nothing).to_string(), "0.0");
    }

    #[test]
    fn spending_counts_priced_runs_of_the_scope() {
        let prices = Prices::default_for(crate::config::BatchPlatform::Fargate);
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let hour = start + chrono::Duration::hours(1);
        let run = |user, prices: Option<Prices>| RunUsage {
            submitted_by: UserId(user),
            resources: Resources {
                vcpu: 1.0,
                memory_mib: 1024,
                timeout_seconds: 3600,
            },
            started_at: Some(start),
            finished_at: Some(hour),
            prices,
        };
        let usage = vec![
            run(1, Some(prices.clone())),
            run(2, Some(prices.clone())),
            run(1, None),
        ];
        let one = prices.vcpu_hour + prices.gib_hour;
        assert!((spent(&usage, BudgetScope::Installation, hour) - 2.0 * one).abs() < 1e-12);
        assert!((spent(&usage, BudgetScope::User(UserId(1)), hour) - one).abs() < 1e-12);
        let budget = Budget {
            scope: BudgetScope::Installation,
            user_email: None,
            monthly_cents: 10,
            set_by: "a@example.com".to_owned(),
            set_at: start,
        };
        assert!(!BudgetStatus::new(&budget, 0.05, 0.04).would_cross);
        assert!(BudgetStatus::new(&budget, 0.05, 0.06).would_cross);
    }
}
