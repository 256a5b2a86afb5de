//! The installation's identity and the runs' own keys.

use std::sync::Arc;

use modelrun_core::store::Store;

use crate::support::*;

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub async fn an_installation_has_one_identity_and_runs_their_own_keys(store: Arc<dyn Store>) {
    let first = store.installation().await.expect("installation");
    assert!(is_hex(&first.id, 12), "{first:?}");
    assert!(
        first.scoped_storage,
        "a new database keeps its objects under its id"
    );
    assert_eq!(store.installation().await.expect("again"), first);
    assert_eq!(
        modelrun_core::installation::StorageScope::of(&first).apply("runs/1/inputs.json"),
        format!("runs/{}/1/inputs.json", first.id)
    );

    let (user, version, run) = seeded(&store).await;
    let key = run.job_key.clone().expect("a new run has a key");
    assert!(is_hex(&key, 16), "{key}");
    let other = crate::support::run(&store, &version, user.id).await;
    assert_ne!(other.job_key, run.job_key);
    let read = store.run(run.id).await.expect("read").expect("run");
    assert_eq!(read.job_key, run.job_key, "the key is kept");
}
