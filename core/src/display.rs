//! How a person reads times and numbers: their time zone and the way they
//! write numbers. Kept per account; pages convert with these, while the API
//! and stored data stay in UTC and plain JSON numbers.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;

/// How a person writes a number with thousands and a fraction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NumberStyle {
    /// `1,234.5`: English and most of Asia.
    #[default]
    PointDecimal,
    /// `1.234,5`: German and most of continental Europe and South America.
    CommaDecimal,
}

impl NumberStyle {
    pub const ALL: [NumberStyle; 2] = [NumberStyle::PointDecimal, NumberStyle::CommaDecimal];

    /// The name kept in the store and sent by the account form.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberStyle::PointDecimal => "1,234.5",
            NumberStyle::CommaDecimal => "1.234,5",
        }
    }

    /// The character between the whole part and the fraction.
    pub fn decimal_separator(self) -> char {
        match self {
            NumberStyle::PointDecimal => '.',
            NumberStyle::CommaDecimal => ',',
        }
    }

    /// The character between groups of three digits.
    pub fn group_separator(self) -> char {
        match self {
            NumberStyle::PointDecimal => ',',
            NumberStyle::CommaDecimal => '.',
        }
    }
}

impl fmt::Display for NumberStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NumberStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NumberStyle::ALL
            .into_iter()
            .find(|style| style.as_str() == s.trim())
            .ok_or_else(|| format!("unknown number style {s:?}: use 1,234.5 or 1.234,5"))
    }
}

/// Reads an IANA time zone name such as `Europe/Berlin`.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    let name = name.trim();
    // `utc` and `europe/berlin` are what a person means by the IANA names.
    name.parse::<Tz>()
        .or_else(|_| {
            chrono_tz::TZ_VARIANTS
                .iter()
                .copied()
                .find(|zone| zone.name().eq_ignore_ascii_case(name))
                .ok_or(())
        })
        .map_err(|_| {
            format!("unknown time zone {name:?}: use an IANA name such as Europe/Berlin or UTC")
        })
}

/// A person's display settings. `None` for the time zone means "the
/// browser's", which only the request knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DisplaySettings {
    pub time_zone: Option<Tz>,
    pub number_style: NumberStyle,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_and_zones_read_back_what_they_write() {
        for style in NumberStyle::ALL {
            assert_eq!(style.as_str().parse::<NumberStyle>(), Ok(style));
        }
        assert!("1 234,5".parse::<NumberStyle>().is_err());
        assert_eq!(parse_time_zone("Asia/Tokyo"), Ok(Tz::Asia__Tokyo));
        assert_eq!(
            parse_time_zone(" utc "),
            Ok(Tz::UTC),
            "as a person writes it"
        );
        assert_eq!(parse_time_zone("europe/berlin"), Ok(Tz::Europe__Berlin));
        let refused = parse_time_zone("Mars/Olympus").expect_err("not a zone");
        assert!(refused.contains("Mars/Olympus"), "{refused}");
    }
}
