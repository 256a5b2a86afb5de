//! A chart's x axis over time: months (`2027-01`) and dates (`2027-01-31`)
//! placed by their real time, so that runs over 2027 and 2030 keep the
//! years between them, and monthly and daily lines line up. Ticks fall
//! where a person would put them for the span: on days, Mondays, months,
//! quarters, half-years, or every 1, 2, 5, 10… years; never finer than the
//! values (monthly values get no day ticks).

use chrono::{Datelike, Months, NaiveDate, Weekday};

/// How precise a time value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    Day,
    Month,
}

/// A month (as its first day) or a date, from `2027-01` or `2027-01-31`.
pub fn parse(text: &str) -> Option<(NaiveDate, Precision)> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some((date, Precision::Day));
    }
    let bytes = text.as_bytes();
    if bytes.len() == 7
        && bytes[4] == b'-'
        && bytes.iter().filter(|b| b.is_ascii_digit()).count() == 6
    {
        let date = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()?;
        return Some((date, Precision::Month));
    }
    None
}

/// A date as a number of days, for placing it.
pub fn days(date: NaiveDate) -> f64 {
    f64::from(date.num_days_from_ce())
}

/// The distance between two ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Days(u32),
    /// Mondays.
    Week,
    Months(u32),
    Years(i32),
}

const STEPS: [Step; 20] = [
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
            Step::Days(n) => f64::from(n),
            Step::Week => 7.0,
            Step::Months(n) => 30.4 * f64::from(n),
            Step::Years(n) => 365.25 * f64::from(n),
        }
    }

    /// How long its labels are, in characters: `2027`, `Jan 2027`,
    /// `31 Jan 2027`.
    pub fn label_chars(self) -> usize {
        match self {
            Step::Years(_) => 4,
            Step::Months(_) => 8,
            Step::Days(_) | Step::Week => 11,
        }
    }

    /// A tick's label: distinct for distinct ticks of one step.
    pub fn label(self, date: NaiveDate) -> String {
        let month = MONTHS[date.month0() as usize];
        match self {
            Step::Years(_) => date.year().to_string(),
            Step::Months(_) => format!("{month} {}", date.year()),
            Step::Days(_) | Step::Week => format!("{} {month} {}", date.day(), date.year()),
        }
    }

    /// Whether `date` is a tick of this step.
    fn is_tick(self, date: NaiveDate) -> bool {
        match self {
            Step::Days(n) => (date.day() - 1).is_multiple_of(n),
            Step::Week => date.weekday() == Weekday::Mon,
            Step::Months(n) => date.day() == 1 && date.month0().is_multiple_of(n),
            Step::Years(n) => date.ordinal() == 1 && date.year().rem_euclid(n) == 0,
        }
    }

    /// The ticks of this step from `from` to `to`, both included.
    fn ticks(self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut date = match self {
            Step::Days(_) | Step::Week => from,
            Step::Months(_) => from.with_day(1).unwrap_or(from),
            Step::Years(_) => from.with_ordinal(1).unwrap_or(from),
        };
        while date <= to {
            if date >= from && self.is_tick(date) {
                out.push(date);
            }
            let next = match self {
                Step::Days(_) | Step::Week => date.succ_opt(),
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
    from: NaiveDate,
    to: NaiveDate,
    precision: Precision,
    most: impl Fn(Step) -> usize,
) -> Vec<(NaiveDate, String)> {
    let span = days(to) - days(from);
    let mut chosen: Option<(Step, Vec<NaiveDate>)> = None;
    for step in STEPS {
        if precision == Precision::Month && matches!(step, Step::Days(_) | Step::Week) {
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

    fn date(text: &str) -> NaiveDate {
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
