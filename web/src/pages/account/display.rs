//! The account's display settings: the time zone pages show times in (or
//! the browser's) and how numbers are written.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono_tz::TZ_VARIANTS;
use modelrun_core::display::{DisplaySettings, NumberStyle, parse_time_zone};
use serde::Deserialize;

use super::AccountPage;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::locale::{Locale, ZoneSource};
use crate::state::AppState;

/// The display section of the account page.
pub(super) struct DisplayForm {
    /// The account's zone, empty for "the browser's".
    pub time_zone: String,
    pub number_style: NumberStyle,
    pub styles: [NumberStyle; 2],
    /// Every IANA name, for the zone box's suggestions.
    pub zones: Vec<&'static str>,
    /// What pages use now, and why: "Asia/Tokyo, from your browser".
    pub in_use: String,
    pub message: Option<String>,
    pub error: Option<String>,
}

impl DisplayForm {
    pub fn new(settings: DisplaySettings, locale: &Locale) -> Self {
        let from = match locale.zone_from {
            ZoneSource::Account => "your choice",
            ZoneSource::Browser => "your browser",
            ZoneSource::Default => "the default, as your browser sent none",
        };
        DisplayForm {
            time_zone: settings
                .time_zone
                .map(|zone| zone.name().to_owned())
                .unwrap_or_default(),
            number_style: settings.number_style,
            styles: NumberStyle::ALL,
            zones: TZ_VARIANTS.iter().map(|zone| zone.name()).collect(),
            in_use: format!("{}, from {from}", locale.zone_name()),
            message: None,
            error: None,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Form {
    time_zone: String,
    number_style: String,
}

/// Reads the form; an error names the field it is about.
fn parse(form: &Form) -> Result<DisplaySettings, String> {
    let time_zone = match form.time_zone.trim() {
        "" => None,
        name => Some(parse_time_zone(name).map_err(|why| format!("time zone: {why}"))?),
    };
    let number_style = form
        .number_style
        .parse()
        .map_err(|why| format!("number style: {why}"))?;
    Ok(DisplaySettings {
        time_zone,
        number_style,
    })
}

pub(super) async fn save(
    current: CurrentUser,
    State(state): State<AppState>,
    PageForm(form): PageForm<Form>,
) -> AppResult<Response> {
    let settings = match parse(&form) {
        Ok(settings) => settings,
        Err(problem) => {
            let mut page = AccountPage::load(&state, &current).await?;
            page.display.time_zone = form.time_zone;
            page.display.error = Some(problem);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    state
        .store
        .set_display_settings(current.user.id, settings)
        .await?;
    let mut page = AccountPage::load(&state, &current).await?;
    page.display.message = Some("Your pages now show times and numbers this way.".to_owned());
    Ok(page.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(time_zone: &str, number_style: &str) -> Form {
        Form {
            time_zone: time_zone.to_owned(),
            number_style: number_style.to_owned(),
        }
    }

    #[test]
    fn the_form_names_the_field_it_refuses() {
        let chosen = parse(&form(" Asia/Tokyo ", "1.234,5")).expect("valid");
        assert_eq!(chosen.time_zone.map(|zone| zone.name()), Some("Asia/Tokyo"));
        assert_eq!(chosen.number_style, NumberStyle::CommaDecimal);
        assert_eq!(parse(&form("", "1,234.5")).expect("valid").time_zone, None);
        let zone = parse(&form("Mars/Olympus", "1,234.5")).expect_err("no such zone");
        assert!(
            zone.starts_with("time zone: ") && zone.contains("Mars/Olympus"),
            "{zone}"
        );
        let style = parse(&form("", "1 234,5")).expect_err("no such style");
        assert!(style.starts_with("number style: "), "{style}");
    }
}
