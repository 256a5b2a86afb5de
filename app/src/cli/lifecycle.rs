//! `modelrun models promote` on this machine's database, for an
//! installation without a server to ask: the same checks and audit entry
//! as the API, with the command line as the actor.

use anyhow::{Context, bail};
use modelrun_core::alias::{Alias, check_note};
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::store::Store;

/// Promotes `label` of `model` in `store`; prints what changed.
pub(super) async fn promote_here(
    store: &dyn Store,
    model: &str,
    label: &str,
    note: &str,
) -> anyhow::Result<()> {
    let note = check_note(note).map_err(|why| anyhow::anyhow!("--{why}"))?;
    let found = store
        .model(model)
        .await?
        .with_context(|| format!("there is no model {model:?}: see `modelrun models list`"))?;
    let Some(version) = found.versions.iter().find(|v| v.label == label) else {
        bail!("{model} has no version {label:?}: see `modelrun models list`");
    };
    let promotion = store.promote_version(version.id).await?;
    if promotion.previous == Some(version.id) {
        println!("Version {label} of {model} already is production; nothing changed.");
        return Ok(());
    }
    let previous = promotion
        .previous
        .and_then(|id| found.versions.iter().find(|v| v.id == id))
        .map(|v| v.label.clone());
    let entry = NewAuditEntry::new(
        Actor::system("cli"),
        AuditAction::VersionPromote,
        format!("version {}", version.id),
    )
    .detail(serde_json::json!({
        "model": model,
        "label": label,
        "alias": Alias::Production,
        "previous": previous,
        "note": note,
    }));
    store.record_audit(entry).await?;
    match previous {
        Some(previous) => {
            println!("Version {label} of {model} is production; {previous} is a candidate again.")
        }
        None => println!("Version {label} of {model} is production."),
    }
    Ok(())
}
