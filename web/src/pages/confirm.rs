//! Asking before what cannot be undone, with or without JavaScript. A
//! destructive form (every one with `data-confirm`: cancel a run or a sweep,
//! retire a version, build its environment again, revoke a token, reset a
//! password, disable an account, delete a secret or a schedule, remove a
//! budget) posts to its action;
//! without `confirmed=1` in the body the handler answers with a small page
//! that asks the form's question and re-posts it with `confirmed=1`. With
//! JavaScript, app.js asks the same question in a dialog and adds the field
//! when the person agrees, so the page is never seen. The API is unaffected.
//! The question page lives on the action's URL; opening that URL again
//! (reload, history, a copied link) is a GET, sent to the thing's page.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::state::AppState;

/// Each confirm-able form's action and the page the form is on, a `{part}`
/// of the page being the same part of the action.
const PAGES: [(&str, &str); 10] = [
    ("/runs/{id}/cancel", "/runs/{id}"),
    ("/sweeps/{id}/cancel", "/sweeps/{id}"),
    (
        "/models/{name}/versions/{label}/retire",
        "/models/{name}/versions/{label}",
    ),
    (
        "/models/{name}/versions/{label}/environment",
        "/models/{name}/versions/{label}#environment",
    ),
    (
        "/models/{name}/secrets/{secret}/delete",
        "/models/{name}#secrets",
    ),
    ("/account/tokens/{id}/revoke", "/account"),
    ("/admin/users/{id}/password", "/admin/users"),
    ("/admin/users/{id}/disable", "/admin/users"),
    ("/schedules/{id}/delete", "/schedules/{id}"),
    ("/admin/budgets/remove", "/admin/budgets"),
];

/// A GET of each confirm-able action: a 303 to the page its form is on,
/// never a bare 405.
pub fn router() -> Router<AppState> {
    PAGES.iter().fold(Router::new(), |router, &(action, page)| {
        router.route(
            action,
            get(
                move |Path(parts): Path<HashMap<String, String>>| async move {
                    Redirect::to(&fill(page, &parts))
                },
            ),
        )
    })
}

/// `page` with each `{part}` replaced by its value, encoded for a path.
fn fill(page: &str, parts: &HashMap<String, String>) -> String {
    parts.iter().fold(page.to_owned(), |page, (name, value)| {
        let value = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
        page.replace(&format!("{{{name}}}"), &value)
    })
}

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
    fn each_action_leads_to_its_page_with_the_same_parts() {
        let parts = HashMap::from([
            ("name".to_owned(), "q2 plan".to_owned()),
            ("label".to_owned(), "3".to_owned()),
        ]);
        assert_eq!(
            fill("/models/{name}/versions/{label}#environment", &parts),
            "/models/q2%20plan/versions/3#environment"
        );
        for (action, page) in PAGES {
            for part in page.split('{').skip(1) {
                let name = &part[..part.find('}').expect("closed")];
                assert!(
                    action.contains(&format!("{{{name}}}")),
                    "{action} gives {name}"
                );
            }
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
