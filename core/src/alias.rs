//! A version's place in its model's lifecycle. Versions arrive without a
//! person looking at them (every push registers one), so a new version is a
//! **candidate**: data scientists run it and compare it with production.
//! An administrator or the model's owner **promotes** it: it becomes the
//! model's one **production** version, the one planners run and the form
//! offers first. Rolling back is promoting an earlier version.
//!
//! The store keeps one production version per model (a column of the model,
//! so two can never exist) and records on each run the alias its version
//! had when the run was created.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::audit::{Actor, AuditAction, NewAuditEntry};
use crate::ids::VersionId;
use crate::model::{Model, ModelVersion, ModelWithVersions, Registered};
use crate::user::{Role, User};

/// What a version is to its model, and what a run ran under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alias {
    /// The model's one version that planners run.
    Production,
    /// Any other version: run by data scientists until it is promoted.
    Candidate,
}

impl Alias {
    pub const ALL: [Alias; 2] = [Alias::Production, Alias::Candidate];

    pub fn as_str(self) -> &'static str {
        match self {
            Alias::Production => "production",
            Alias::Candidate => "candidate",
        }
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alias {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Alias::ALL
            .into_iter()
            .find(|alias| alias.as_str() == s)
            .ok_or_else(|| format!("unknown alias {s:?}: use production or candidate"))
    }
}

/// The least role that runs candidate versions.
pub const RUNS_CANDIDATES: Role = Role::Scientist;

/// Whether `role` runs only production versions (below [`RUNS_CANDIDATES`]);
/// such a person's runs are written with
/// [`NewRun::production_only`](crate::run::NewRun::production_only).
pub fn runs_only_production(role: Role) -> bool {
    role < RUNS_CANDIDATES
}

/// Whether `role` may run `version`: production needs a runner, a
/// candidate a data scientist. `Err` says why not, for a person.
pub fn may_run(role: Role, version: &ModelVersion) -> Result<(), String> {
    if version.alias == Alias::Candidate && runs_only_production(role) {
        return Err(format!(
            "version {} of {} is a candidate: only data scientists and administrators \
             run it until it is promoted to production",
            version.label, version.model
        ));
    }
    Ok(())
}

/// Whether `user` may promote versions of `model`: an administrator, or
/// the model's owner (its manifest's `owner` is their email address) with
/// at least the data-science role.
pub fn may_promote(user: &User, model: &Model) -> bool {
    user.role == Role::Admin
        || (user.role >= RUNS_CANDIDATES && model.owner.trim().eq_ignore_ascii_case(&user.email))
}

/// The longest promotion note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;

/// Checks a promotion's note: required (it is what the audit log says
/// about why), trimmed, at most [`MAX_NOTE_CHARS`].
pub fn check_note(note: &str) -> Result<String, String> {
    let note = note.trim();
    if note.is_empty() {
        return Err("note: say why this version goes to production".to_owned());
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(format!(
            "note: at most {MAX_NOTE_CHARS} characters, got {}",
            note.chars().count()
        ));
    }
    Ok(note.to_owned())
}

/// What a promotion did.
#[derive(Clone, Debug, PartialEq)]
pub struct Promotion {
    /// The version production had before, if any (the same version when it
    /// already was production).
    pub previous: Option<VersionId>,
}

impl ModelWithVersions {
    /// The production version, if the model has one.
    pub fn production(&self) -> Option<&ModelVersion> {
        self.versions
            .iter()
            .find(|version| version.alias == Alias::Production)
    }

    /// Why retiring `version` would be refused, for a person, or `None`
    /// when it may be retired: the production version stays while another
    /// version is active (the store refuses it with 409), so pages offer
    /// no Retire button that can only fail.
    pub fn retire_refusal(&self, version: &ModelVersion) -> Option<String> {
        let others = self
            .versions
            .iter()
            .any(|other| other.id != version.id && other.is_active());
        (version.is_active() && version.alias == Alias::Production && others).then(|| {
            format!(
                "Version {} is production: promote another version first, then retire this one.",
                version.label
            )
        })
    }
}

/// The audit entry of a registration that made its version production on
/// its own (the model had none, as at its first version), or `None`.
/// `actor` is who registered it.
pub fn adopted_entry(actor: Actor, registered: &Registered) -> Option<NewAuditEntry> {
    let Registered::Created(version) = registered else {
        return None;
    };
    (version.alias == Alias::Production).then(|| {
        NewAuditEntry::new(
            actor,
            AuditAction::VersionPromote,
            format!("version {}", version.id),
        )
        .detail(serde_json::json!({
            "model": version.model,
            "label": version.label,
            "alias": Alias::Production,
            "previous": null,
            "note": "the model had no production version: its new version became production on its own",
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_round_trip_through_their_names() {
        for alias in Alias::ALL {
            assert_eq!(alias.as_str().parse::<Alias>(), Ok(alias));
        }
        assert!("latest".parse::<Alias>().is_err());
    }

    #[test]
    fn notes_are_required_and_bounded() {
        assert!(check_note("  ").is_err());
        assert_eq!(check_note(" better MAPE ").as_deref(), Ok("better MAPE"));
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert!(matches!(check_note(&long), Err(why) if why.contains("at most 1000")));
    }
}
