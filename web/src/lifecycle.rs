//! Promoting a version to production, the one path the version's page and
//! the API share: who may, the note, the store's atomic move, the audit
//! entry. See `modelrun_core::alias` for what production and candidate mean.

use modelrun_core::alias::{Alias, check_note, may_promote};
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::schema::ValidationErrors;
use modelrun_core::store::StoreError;
use modelrun_core::user::User;

use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, audit};
use crate::state::AppState;

/// What a promotion did, for the page's message and the API's answer.
#[derive(Debug, Clone)]
pub struct Promoted {
    /// The label production had before, if any.
    pub previous: Option<String>,
    /// False when the version already was production.
    pub changed: bool,
}

/// The version `label` of the model `name`; `NotFound` for either.
pub async fn find_version(
    state: &AppState,
    name: &str,
    label: &str,
) -> AppResult<(ModelWithVersions, ModelVersion)> {
    let model = state.store.model(name).await?.ok_or(AppError::NotFound)?;
    let version = model
        .versions
        .iter()
        .find(|v| v.label == label)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((model, version))
}

/// Makes `version` its model's production version. `user` must be an
/// administrator or the model's owner; `note` says why (required, at most
/// 1,000 characters: a 422 naming `note` otherwise). A retired version is
/// refused with 409. The audit log records the note and the version it
/// replaced.
pub async fn promote(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    model: &ModelWithVersions,
    version: &ModelVersion,
    note: &str,
) -> AppResult<Promoted> {
    if !may_promote(user, &model.model) {
        return Err(AppError::Forbidden(format!(
            "only an administrator or the owner of {} ({}) promotes its versions",
            model.model.name, model.model.owner
        )));
    }
    let note = check_note(note).map_err(|message| {
        let mut errors = ValidationErrors::default();
        let (field, text) = message.split_once(": ").unwrap_or(("note", &message));
        errors.push(field, text);
        AppError::Invalid {
            summary: "the promotion is not valid",
            errors,
        }
    })?;
    let promotion = state
        .store
        .promote_version(version.id)
        .await
        .map_err(|error| match error {
            StoreError::NotFound => AppError::NotFound,
            other => other.into(),
        })?;
    let previous = promotion.previous.and_then(|id| {
        model
            .versions
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.label.clone())
    });
    let changed = promotion.previous != Some(version.id);
    if changed {
        tracing::info!(model = %model.model.name, version = %version.label, user_id = %user.id, "version promoted to production");
        let entry = NewAuditEntry::new(
            Actor::user(user.id, &user.email),
            AuditAction::VersionPromote,
            format!("version {}", version.id),
        )
        .detail(serde_json::json!({
            "model": model.model.name,
            "label": version.label,
            "alias": Alias::Production,
            "previous": previous,
            "note": note,
        }))
        .from_address(client.as_str());
        audit(state, entry).await;
    }
    Ok(Promoted { previous, changed })
}
