//! The HTML pages, one module per feature, each with its own `router()`.

pub mod account;
pub mod admin;
pub mod audit;
pub mod budgets;
pub mod bundle;
pub mod compare;
pub mod confirm;
mod estimate;
pub mod figures;
pub mod input_files;
pub mod model_secrets;
pub mod models;
pub mod new_run;
pub mod preview;
pub mod progress;
pub mod promote;
pub mod run;
pub mod runs;
pub mod schedules;
pub mod sweep_archive;
pub mod sweeps;
pub mod tasks;
mod timeline;
mod typical;
pub mod users;
pub mod versions;

use modelrun_core::user::User;

use crate::policy::Action;
use crate::state::AppState;

/// The part of the app a page belongs to: its link in the header is marked
/// as the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Signed out: no section.
    None,
    Models,
    Runs,
    Schedules,
    Sweeps,
    Users,
    Audit,
    Tasks,
    Outbox,
    Budgets,
    Account,
}

/// What the layout needs: who is signed in, and where they are.
#[derive(Debug, Clone)]
pub struct Nav {
    pub user: Option<User>,
    pub section: Section,
    /// The session's form token, for the forms of the page.
    pub csrf: String,
    /// What administrators must know on their pages: runs that are not
    /// sandboxed on this server.
    pub notice: Option<String>,
}

impl Nav {
    pub fn anonymous() -> Self {
        Nav {
            user: None,
            section: Section::None,
            csrf: String::new(),
            notice: None,
        }
    }

    pub fn new(user: &User, csrf: &str, section: Section) -> Self {
        Nav {
            user: Some(user.clone()),
            section,
            csrf: csrf.to_owned(),
            notice: None,
        }
    }

    /// The navigation of an administrator's page, with what they must know.
    pub fn admin(user: &User, csrf: &str, section: Section, state: &AppState) -> Self {
        let disk = state
            .config
            .disk
            .as_ref()
            .and_then(|watch| crate::disk::space(watch).warning(&watch.dir))
            .map(|disk| format!("{disk}. See docs/operations.md."));
        let containment = state
            .executor
            .containment_warning()
            .map(|containment| format!("{containment}. See docs/security.md."));
        let notice = match (disk, containment) {
            (Some(disk), Some(containment)) => Some(format!("{disk} {containment}")),
            (disk, containment) => disk.or(containment),
        };
        Nav {
            notice,
            ..Nav::new(user, csrf, section)
        }
    }

    /// ` aria-current="page"` on the link to `section` when the page is in it.
    pub fn current(&self, section: Section) -> &'static str {
        if self.section == section {
            " aria-current=\"page\""
        } else {
            ""
        }
    }

    /// Whether the person signed in may do `action`: what a page asks
    /// before it offers a button, as its handler asks before doing it.
    pub fn may(&self, action: Action) -> bool {
        self.user
            .as_ref()
            .is_some_and(|user| crate::policy::may(user.role, action))
    }
}
