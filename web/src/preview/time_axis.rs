//! A chart's x axis over time: months (`2027-01`), dates (`2027-01-31`)
//! and date-times (`2027-01-31T10:00:00Z`, `2027-01-31 10:00`) placed by
//! their real time, so that runs over 2027 and 2030 keep the years between
//! them, and monthly, daily and hourly lines line up. Ticks fall where a
//! person would put them for the span: on minutes, hours, days, Mondays,
//! months, quarters, half-years, or every 1, 2, 5, 10… years; never finer
//! than the values (monthly values get no day ticks).

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Weekday};

/// How precise a time value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    /// A date-time.
    Time,
    Day,
    Month,
}

/// A month (as its first day's start), a date (its start) or a date-time,
/// from `2027-01`, `2027-01-31` or [`parse_date_time`]'s forms.
pub fn parse(text: &str) -> Option<(NaiveDateTime, Precision)> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some((date.and_time(chrono::NaiveTime::MIN), Precision::Day));
    }
    if let Some(time) = parse_date_time(text) {
        return Some((time, Precision::Time));
    }
    let bytes = text.as_bytes();
    if bytes.len() == 7
        && bytes[4] == b'-'
        && bytes.iter().filter(|b| b.is_ascii_digit()).count() == 6
    {
        let date = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()?;
        return Some((date.and_time(chrono::NaiveTime::MIN), Precision::Month));
    }
    None
}

/// A date-time as ISO 8601 writes it: `2027-01-31T10:00:00Z` (an offset is
/// turned to UTC), `2027-01-31T10:00:00.5`, `2027-01-31 10:00`, to the
/// minute at least.
pub fn parse_date_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.naive_utc());
    }
    let text = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

/// A time as a number of days (with a fraction for the time of day), for
/// placing it.
pub fn days(time: NaiveDateTime) -> f64 {
    let seconds = f64::from(time.num_seconds_from_midnight());
    f64::from(time.date().num_days_from_ce()) + seconds / 86_400.0
}

/// The distance between two ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Minutes that divide a day (1, 5, 15, 30, 60, 120, 180, 360, 720).
    Minutes(u32),
    Days(u32),
    /// Mondays.
    Week,
    Months(u32),
    Years(i32),
}

const STEPS: [Step; 29] = [
    Step::Minutes(1),
    Step::Minutes(5),
    Step::Minutes(15),
    Step::Minutes(30),
    Step::Minutes(60),
    Step::Minutes(120),
    Step::Minutes(180),
    Step::Minutes(360),
    Step::Minutes(720),
    Step::Days(1),
    Step::Days(2),
    Step::Week,
    Step::Months(1),
    Step::Months(3),
    Step::Months(6),
    Step::Years(1),
    Step::Years(2),
    Step::Years(5),
    Step::Years(10),
    Step::Years(20),
    Step::Years(50),
    Step::Years(100),
    Step::Years(200),
    Step::Years(500),
    Step::Years(1000),
    Step::Years(2000),
    Step::Years(5000),
    Step::Years(10000),
    Step::Years(20000),
];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Step {
    /// About how many days it spans.
    fn approx_days(self) -> f64 {
        match self {
            Step::Minutes(n) => f64::from(n) / 1440.0,
            Step::Days(n) => f64::from(n),
            Step::Week => 7.0,
            Step::Months(n) => 30.4 * f64::from(n),
            Step::Years(n) => 365.25 * f64::from(n),
        }
    }

    /// How long its labels are, in characters: `2027`, `Jan 2027`,
    /// `31 Jan 2027`, `31 Jan 10:00`.
    pub fn label_chars(self) -> usize {
        match self {
            Step::Years(_) => 4,
            Step::Months(_) => 8,
            Step::Days(_) | Step::Week => 11,
            Step::Minutes(_) => 12,
        }
    }

    /// A tick's label: distinct for distinct ticks of one step.
    pub fn label(self, time: NaiveDateTime) -> String {
        let date = time.date();
        let month = MONTHS[date.month0() as usize];
        match self {
            Step::Minutes(_) => format!("{} {month} {}", date.day(), time.format("%H:%M")),
            Step::Years(_) => date.year().to_string(),
            Step::Months(_) => format!("{month} {}", date.year()),
            Step::Days(_) | Step::Week => format!("{} {month} {}", date.day(), date.year()),
        }
    }

    /// Whether `time` is a tick of this step.
    fn is_tick(self, time: NaiveDateTime) -> bool {
        let date = time.date();
        let seconds = time.num_seconds_from_midnight();
        let whole_minute = seconds.is_multiple_of(60) && time.nanosecond() == 0;
        match self {
            Step::Minutes(n) => whole_minute && (seconds / 60).is_multiple_of(n),
            _ if !whole_minute || seconds != 0 => false,
            Step::Days(n) => (date.day() - 1).is_multiple_of(n),
            Step::Week => date.weekday() == Weekday::Mon,
            Step::Months(n) => date.day() == 1 && date.month0().is_multiple_of(n),
            Step::Years(n) => date.ordinal() == 1 && date.year().rem_euclid(n) == 0,
        }
    }

    /// The ticks of this step from `from` to `to`, both included.
    fn ticks(self, from: NaiveDateTime, to: NaiveDateTime) -> Vec<NaiveDateTime> {
        let mut out = Vec::new();
        let day = from.date();
        let start = match self {
            Step::Minutes(_) | Step::Days(_) | Step::Week => day,
            Step::Months(_) => day.with_day(1).unwrap_or(day),
            Step::Years(_) => day.with_ordinal(1).unwrap_or(day),
        };
        let mut date = start.and_time(chrono::NaiveTime::MIN);
        while date <= to {
            if date >= from && self.is_tick(date) {
                out.push(date);
            }
            let next = match self {
                Step::Minutes(n) => date.checked_add_signed(TimeDelta::minutes(i64::from(n))),
                Step::Days(_) | Step::Week => date.checked_add_signed(TimeDelta::days(1)),
                Step::Months(_) => date.checked_add_months(Months::new(1)),
                Step::Years(_) => date.checked_add_months(Months::new(12)),
            };
            match next {
                Some(next) => date = next,
                None => break,
            }
        }
        out
    }
}

/// The ticks from `from` to `to` with labels: of the steps no finer than
/// `precision` that give at most `most(step)` ticks, the coarsest that
/// still gives [`FEW`], else the finest.
pub fn ticks(
    from: NaiveDateTime,
    to: NaiveDateTime,
    precision: Precision,
    most: impl Fn(Step) -> usize,
) -> Vec<(NaiveDateTime, String)> {
    let span = days(to) - days(from);
    let mut chosen: Option<(Step, Vec<NaiveDateTime>)> = None;
    for step in STEPS {
        let finer = match step {
            Step::Minutes(_) => Precision::Time,
            Step::Days(_) | Step::Week => Precision::Day,
            Step::Months(_) | Step::Years(_) => Precision::Month,
        };
        if finer < precision {
            continue;
        }
        let most = most(step).max(1) as f64;
        // Counting would walk every day of a long span: estimate first.
        let estimate = span / step.approx_days();
        if estimate > most * 2.0 + 2.0 || estimate > 400.0 {
            continue;
        }
        let dates = step.ticks(from, to);
        let fits = dates.len() as f64 <= most;
        if !fits {
            continue;
        }
        let enough = dates.len() >= FEW;
        if enough || chosen.is_none() {
            chosen = Some((step, dates));
        }
        if !enough {
            break;
        }
    }
    chosen.map_or_else(Vec::new, |(step, dates)| {
        dates.into_iter().map(|d| (d, step.label(d))).collect()
    })
}

/// The fewest ticks that still show a trend's pace, when the span has them.
pub const FEW: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDateTime {
        parse(text).expect("a date").0
    }

    fn labels(from: &str, to: &str, precision: Precision) -> Vec<String> {
        ticks(date(from), date(to), precision, |_| 7)
            .into_iter()
            .map(|(_, label)| label)
            .collect()
    }

    #[test]
    fn months_and_dates_are_read() {
        assert_eq!(
            parse("2027-03"),
            Some((date("2027-03-01"), Precision::Month))
        );
        assert_eq!(parse(" 2027-03-31 ").map(|p| p.1), Some(Precision::Day));
        assert_eq!(parse("2027-13"), None);
        assert_eq!(parse("2027-1x"), None);
        assert_eq!(parse("revenue"), None);
        assert!(days(date("2030-01")) - days(date("2027-01")) > 1000.0);
    }

    #[test]
    fn date_times_are_read_and_ticked_by_the_hour() {
        let ten = date("2026-01-01T10:00:00Z");
        assert_eq!(
            parse("2026-01-01T10:00:00Z").map(|p| p.1),
            Some(Precision::Time)
        );
        assert_eq!(date("2026-01-01 10:00"), ten);
        assert_eq!(date("2026-01-01T12:00:00+02:00"), ten, "in UTC");
        assert_eq!(date("2026-01-01T10:00:00.000"), ten);
        assert_eq!(parse("2026-01-01T25:00"), None);
        assert!((days(date("2026-01-01 12:00")) - days(date("2026-01-01")) - 0.5).abs() < 1e-9);
        assert_eq!(
            labels("2026-01-01 10:00", "2026-01-01 16:00", Precision::Time),
            ["1 Jan 10:00", "1 Jan 12:00", "1 Jan 14:00", "1 Jan 16:00"]
        );
        assert_eq!(
            labels("2026-01-01 10:00", "2026-01-05 10:00", Precision::Time),
            ["2 Jan 2026", "3 Jan 2026", "4 Jan 2026", "5 Jan 2026"],
            "days for days"
        );
    }

    #[test]
    fn ticks_follow_the_span() {
        let month = Precision::Month;
        assert_eq!(
            labels("2027-01", "2030-12", month),
            ["2027", "2028", "2029", "2030"]
        );
        assert_eq!(
            labels("2027-01", "2027-12", month),
            ["Jan 2027", "Apr 2027", "Jul 2027", "Oct 2027"]
        );
        assert_eq!(
            labels("2027-01", "2027-05", month),
            ["Jan 2027", "Feb 2027", "Mar 2027", "Apr 2027", "May 2027"]
        );
        assert_eq!(labels("2000-01", "2060-01", month)[0], "2000");
        assert_eq!(labels("2000-01", "2060-01", month)[1], "2020");
        let day = Precision::Day;
        assert_eq!(
            labels("2027-01-01", "2027-01-05", day),
            [
                "1 Jan 2027",
                "2 Jan 2027",
                "3 Jan 2027",
                "4 Jan 2027",
                "5 Jan 2027"
            ]
        );
        assert_eq!(
            labels("2027-01-01", "2027-01-31", day),
            ["4 Jan 2027", "11 Jan 2027", "18 Jan 2027", "25 Jan 2027"],
            "Mondays"
        );
        assert_eq!(labels("2027-01-01", "2027-04-30", day).len(), 4);
    }

    #[test]
    fn monthly_values_get_no_day_ticks_and_labels_are_distinct() {
        let month = labels("2027-01", "2027-02", Precision::Month);
        assert_eq!(month, ["Jan 2027", "Feb 2027"]);
        let long = labels("1990-01", "2027-06", Precision::Month);
        let mut distinct = long.clone();
        distinct.dedup();
        assert_eq!(distinct, long);
        assert!(long.len() <= 7 && long.len() >= 3, "{long:?}");
    }
}
