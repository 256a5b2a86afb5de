//! Asking before what cannot be undone, with or without JavaScript. A
//! destructive form (every one with `data-confirm`: cancel a run or a sweep,
//! retire a version, build its environment again, revoke a token, reset a
//! password, disable an account, delete a secret or a schedule, remove a
//! budget) posts to its action;
//! without `confirmed=1` in the body the handler answers with a small page
//! that asks the form's question and re-posts it with `confirmed=1`. With
//! JavaScript, app.js asks the same question in a dialog and adds the field
//! when the person agrees, so the page is never seen. The API is unaffected.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Nav, Section};
use crate::auth::CurrentUser;

/// The field a confirmed form carries, `confirmed=1`.
pub const FIELD: &str = "confirmed";

/// What a destructive form's body says about its confirmation; its other
/// fields (the form token, the form's own) are read by their handlers.
#[derive(Debug, Default, Deserialize)]
pub struct Answer {
    #[serde(default)]
    confirmed: Option<String>,
}

impl Answer {
    /// Whether the person agreed: the body carries `confirmed=1`.
    pub fn given(&self) -> bool {
        self.confirmed.as_deref() == Some("1")
    }
}

/// A question before an action: the words of the form's `data-confirm`,
/// the labels of its two buttons and where "no" leads.
#[derive(Debug)]
pub struct Question {
    /// Such as "Cancel run #7? Work in progress is lost."
    pub text: String,
    /// The button that does it, such as "Cancel the run".
    pub yes: &'static str,
    /// The link that leaves things as they are, such as "Keep it running".
    pub no: &'static str,
    /// Where "no" leads: the page the form was on.
    pub back: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    nav: Nav,
    question: Question,
    action: String,
    /// The form's own fields besides the form token, posted again as they came.
    fields: Vec<(String, String)>,
    field: &'static str,
}

/// The page that asks `question` and, on "yes", posts `fields` to `action`
/// again with `confirmed=1` (and the session's form token).
pub fn ask(
    user: &CurrentUser,
    section: Section,
    question: Question,
    action: String,
    fields: Vec<(String, String)>,
) -> Response {
    ConfirmPage {
        nav: Nav::new(&user.user, &user.csrf, section),
        question,
        action,
        fields,
        field: FIELD,
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(confirmed: Option<&str>) -> Answer {
        Answer {
            confirmed: confirmed.map(str::to_owned),
        }
    }

    #[test]
    fn only_confirmed_1_is_an_agreement() {
        assert!(answer(Some("1")).given());
        assert!(!answer(None).given());
        assert!(!answer(Some("0")).given());
        assert!(!answer(Some("")).given());
    }
}
