//! The way one person reads times and numbers: the time zone and number
//! style a page uses for them. The zone is the account's choice, else the
//! browser's (a cookie its script sets), else UTC. Pages show local times
//! with the UTC instant one hover away; the JSON API never converts.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use modelrun_core::display::{DisplaySettings, NumberStyle, parse_time_zone};

use crate::auth::CurrentUser;
use crate::format;

/// The cookie in which the browser's script leaves its IANA time zone.
pub const ZONE_COOKIE: &str = "modelrun_tz";

/// Where a page's time zone came from, so its label can say so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneSource {
    Account,
    Browser,
    Default,
}

/// How one person reads times and numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locale {
    pub zone: Tz,
    pub zone_from: ZoneSource,
    pub numbers: NumberStyle,
}

/// One instant as a page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// RFC 3339 in UTC, for `<time datetime>`.
    pub iso: String,
    /// "2026-11-30 00:30 UTC", for the hover.
    pub utc: String,
    /// "2026-11-30 09:30", in the person's zone.
    pub local: String,
}

impl Locale {
    /// The account's settings win; an account without a zone takes the
    /// browser's, and a browser that sent none gets UTC.
    pub fn new(settings: DisplaySettings, browser: Option<Tz>) -> Self {
        let (zone, zone_from) = match (settings.time_zone, browser) {
            (Some(zone), _) => (zone, ZoneSource::Account),
            (None, Some(zone)) => (zone, ZoneSource::Browser),
            (None, None) => (Tz::UTC, ZoneSource::Default),
        };
        Locale {
            zone,
            zone_from,
            numbers: settings.number_style,
        }
    }

    /// The signed-in person's locale, from their account (read with their
    /// session) and browser.
    pub fn of(current: &CurrentUser) -> Self {
        Locale::new(current.display, current.browser_zone)
    }

    /// The zone's IANA name, for labels.
    pub fn zone_name(&self) -> &'static str {
        self.zone.name()
    }

    /// What a hover says of an instant shown as "3 days ago": the time in
    /// the person's zone, named, then in UTC ("2026-11-30 09:30 Asia/Tokyo
    /// · 2026-11-30 00:30 UTC"); only the UTC form for a person in UTC.
    pub fn hover(&self, at: DateTime<Utc>) -> String {
        let utc = format::timestamp(at);
        if self.zone == Tz::UTC {
            return utc;
        }
        let local = at.with_timezone(&self.zone).format("%Y-%m-%d %H:%M");
        format!("{local} {} · {utc}", self.zone.name())
    }

    /// An instant in the person's zone, with its UTC form.
    pub fn time(&self, at: DateTime<Utc>) -> LocalTime {
        LocalTime {
            iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            utc: format::timestamp(at),
            local: at
                .with_timezone(&self.zone)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        }
    }

    /// An instant to the second, as a timeline shows it: "09:30:05" in
    /// the person's zone, the full UTC time for the hover.
    pub fn clock(&self, at: DateTime<Utc>) -> LocalTime {
        LocalTime {
            utc: at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            local: at.with_timezone(&self.zone).format("%H:%M:%S").to_string(),
            ..self.time(at)
        }
    }

    /// A key figure in the person's number style.
    pub fn figure(&self, value: f64) -> String {
        format::figure(value, self.numbers)
    }

    /// The first instant of `day` in the person's zone.
    pub fn start_of_day(&self, day: NaiveDate) -> DateTime<Utc> {
        start_of_day(self.zone, day)
    }
}

/// The browser's zone from its cookie; a name the zone database does not
/// know is ignored, as if the browser had sent none.
pub fn browser_zone(cookie_value: &str) -> Option<Tz> {
    parse_time_zone(cookie_value).ok()
}

/// The first instant of `day` in `zone`. Where a clock change skips
/// midnight, the day starts at the first time that exists; where midnight
/// happens twice, at the earlier one.
pub fn start_of_day(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    (0..=96)
        .map(|quarter| midnight + Duration::minutes(15 * quarter))
        .find_map(|local| zone.from_local_datetime(&local).earliest())
        .map_or_else(
            || Utc.from_utc_datetime(&midnight),
            |at| at.with_timezone(&Utc),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a time")
            .with_timezone(&Utc)
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    /// Whether `instant` falls on `date` in `zone`, as the runs filter asks.
    fn on_day(zone: Tz, date: &str, instant: DateTime<Utc>) -> bool {
        let date = day(date);
        let next = date.succ_opt().expect("a next day");
        start_of_day(zone, date) <= instant && instant < start_of_day(zone, next)
    }

    #[test]
    fn a_day_is_the_persons_day_not_utcs() {
        let run = at("2026-11-30T00:30:00Z");
        assert!(on_day(Tz::Asia__Tokyo, "2026-11-30", run));
        assert!(!on_day(Tz::America__New_York, "2026-11-30", run));
        assert!(on_day(Tz::America__New_York, "2026-11-29", run));
        assert!(on_day(Tz::UTC, "2026-11-30", run));
        assert_eq!(
            start_of_day(Tz::Asia__Tokyo, day("2026-11-30")),
            at("2026-11-29T15:00:00Z")
        );
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_the_clock_resumes() {
        // Chile moved its clocks from 00:00 to 01:00 on 2022-09-11.
        assert_eq!(
            start_of_day(Tz::America__Santiago, day("2022-09-11")),
            at("2022-09-11T04:00:00Z")
        );
    }

    #[test]
    fn times_are_local_with_utc_at_hand() {
        let settings = DisplaySettings {
            time_zone: None,
            number_style: NumberStyle::CommaDecimal,
        };
        let locale = Locale::new(settings, Some(Tz::Asia__Tokyo));
        assert_eq!(locale.zone_from, ZoneSource::Browser);
        assert_eq!(
            locale.time(at("2026-11-30T00:30:00Z")),
            LocalTime {
                iso: "2026-11-30T00:30:00Z".to_owned(),
                utc: "2026-11-30 00:30 UTC".to_owned(),
                local: "2026-11-30 09:30".to_owned(),
            }
        );
        assert_eq!(locale.figure(1234.5), "1.234,5");
        assert_eq!(
            locale.hover(at("2026-11-30T00:30:00Z")),
            "2026-11-30 09:30 Asia/Tokyo · 2026-11-30 00:30 UTC",
            "the hover of \"3 days ago\" is the person's time first"
        );
        let chosen = DisplaySettings {
            time_zone: Some(Tz::Europe__Berlin),
            ..settings
        };
        assert_eq!(
            Locale::new(chosen, Some(Tz::Asia__Tokyo)).zone_name(),
            "Europe/Berlin"
        );
        let none = Locale::new(DisplaySettings::default(), browser_zone("Mars/Olympus"));
        assert_eq!((none.zone, none.zone_from), (Tz::UTC, ZoneSource::Default));
    }
}
