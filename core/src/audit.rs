//! The audit log: who did what, when, and from where. Entries are written
//! after the action they record has happened, and are never changed.
//! Nothing secret goes in: no password, token, session id or presigned URL.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::ids::UserId;

/// What happened. The list is closed so that the log can be filtered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignInLimited,
    SignOut,
    PasswordChange,
    /// An administrator (or the server's command line) set someone's password.
    PasswordReset,
    RunSubmit,
    RunCancel,
    Download,
    VersionRegister,
    VersionRetire,
    /// A version became its model's production version (automatically for
    /// a model's first version), with the note that says why.
    VersionPromote,
    UserCreate,
    UserRoleChange,
    /// An administrator disabled an account: it cannot sign in, and its
    /// sessions and tokens stop.
    UserDisable,
    UserEnable,
    TokenCreate,
    TokenRevoke,
    /// A model secret's value was set (never the value itself).
    SecretSet,
    SecretDelete,
    /// An environment's build was asked for again.
    EnvironmentPrepare,
    /// A schedule was created, paused, resumed or deleted.
    ScheduleCreate,
    SchedulePause,
    ScheduleResume,
    ScheduleDelete,
    /// An administrator set or removed a monthly budget (the team's or one
    /// person's), with the amount.
    BudgetSet,
    /// A sweep was submitted (its runs are not logged one by one) or cancelled.
    SweepSubmit,
    SweepCancel,
}

impl AuditAction {
    pub const ALL: [AuditAction; 28] = [
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::SignInLimited,
        AuditAction::SignOut,
        AuditAction::PasswordChange,
        AuditAction::PasswordReset,
        AuditAction::RunSubmit,
        AuditAction::RunCancel,
        AuditAction::Download,
        AuditAction::VersionRegister,
        AuditAction::VersionRetire,
        AuditAction::VersionPromote,
        AuditAction::UserCreate,
        AuditAction::UserRoleChange,
        AuditAction::UserDisable,
        AuditAction::UserEnable,
        AuditAction::TokenCreate,
        AuditAction::TokenRevoke,
        AuditAction::SecretSet,
        AuditAction::SecretDelete,
        AuditAction::EnvironmentPrepare,
        AuditAction::ScheduleCreate,
        AuditAction::SchedulePause,
        AuditAction::ScheduleResume,
        AuditAction::ScheduleDelete,
        AuditAction::BudgetSet,
        AuditAction::SweepSubmit,
        AuditAction::SweepCancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::SignInLimited => "sign_in_limited",
            AuditAction::SignOut => "sign_out",
            AuditAction::PasswordChange => "password_change",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::RunSubmit => "run_submit",
            AuditAction::RunCancel => "run_cancel",
            AuditAction::Download => "download",
            AuditAction::VersionRegister => "version_register",
            AuditAction::VersionRetire => "version_retire",
            AuditAction::VersionPromote => "version_promote",
            AuditAction::UserCreate => "user_create",
            AuditAction::UserRoleChange => "user_role_change",
            AuditAction::UserDisable => "user_disable",
            AuditAction::UserEnable => "user_enable",
            AuditAction::TokenCreate => "token_create",
            AuditAction::TokenRevoke => "token_revoke",
            AuditAction::SecretSet => "secret_set",
            AuditAction::SecretDelete => "secret_delete",
            AuditAction::EnvironmentPrepare => "environment_prepare",
            AuditAction::ScheduleCreate => "schedule_create",
            AuditAction::SchedulePause => "schedule_pause",
            AuditAction::ScheduleResume => "schedule_resume",
            AuditAction::ScheduleDelete => "schedule_delete",
            AuditAction::BudgetSet => "budget_set",
            AuditAction::SweepSubmit => "sweep_submit",
            AuditAction::SweepCancel => "sweep_cancel",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|action| action.as_str() == s)
            .ok_or_else(|| format!("unknown audit action {s:?}"))
    }
}

/// Who acted: a person, or modelrun itself (`system`, with what it was
/// doing, such as an image sync or a command run on the server).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Actor {
    pub user_id: Option<UserId>,
    /// An email address, or `system:<what>`.
    pub name: String,
}

impl Actor {
    pub fn user(id: UserId, email: &str) -> Self {
        Actor {
            user_id: Some(id),
            name: email.to_owned(),
        }
    }

    /// Someone not signed in, known only by the name they gave (a failed
    /// sign-in records the email that was tried).
    pub fn anonymous(name: &str) -> Self {
        Actor {
            user_id: None,
            name: name.to_owned(),
        }
    }

    pub fn system(what: &str) -> Self {
        Actor {
            user_id: None,
            name: format!("system:{what}"),
        }
    }
}

/// An entry to write.
#[derive(Clone, Debug)]
pub struct NewAuditEntry {
    pub actor: Actor,
    pub action: AuditAction,
    /// What it was done to: `run 12`, `user 3`, `token 5`; empty if nothing.
    pub target: String,
    /// Facts worth keeping, as a JSON object.
    pub detail: Value,
    /// The client's address, or empty when there is none (the worker).
    pub address: String,
}

impl NewAuditEntry {
    pub fn new(actor: Actor, action: AuditAction, target: impl Into<String>) -> Self {
        NewAuditEntry {
            actor,
            action,
            target: target.into(),
            detail: Value::Object(Default::default()),
            address: String::new(),
        }
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }

    pub fn from_address(mut self, address: impl Into<String>) -> Self {
        self.address = address.into();
        self
    }
}

/// A written entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: AuditAction,
    pub target: String,
    pub detail: Value,
    pub address: String,
}

/// Which entries to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    /// Entries whose actor name contains this text.
    pub actor: Option<String>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries with a smaller id (the cursor of the previous page).
    pub before: Option<i64>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_names() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
        }
        assert!("delete_everything".parse::<AuditAction>().is_err());
    }
}
