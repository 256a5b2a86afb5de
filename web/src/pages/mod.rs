//! The HTML pages, one module per feature, each with its own `router()`.

pub mod admin;
pub mod models;
pub mod new_run;
pub mod run;
pub mod runs;

use modelrun_core::user::{Role, User};

/// What the layout needs: who is signed in, and where they are.
#[derive(Debug, Clone)]
pub struct Nav {
    pub user: Option<User>,
    pub section: &'static str,
}

impl Nav {
    pub fn anonymous() -> Self {
        Nav {
            user: None,
            section: "",
        }
    }

    pub fn new(user: &User, section: &'static str) -> Self {
        Nav {
            user: Some(user.clone()),
            section,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|user| user.role == Role::Admin)
    }
}
