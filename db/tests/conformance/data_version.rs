//! The database's version moves with every commit, by this store or
//! another on the same database (another process), and with nothing else.

use modelrun_core::run::{RunFilter, StatusChange};
use modelrun_core::status::RunStatus;

use crate::support::{Backend, seeded};

pub async fn the_data_version_moves_with_every_commit_and_nothing_else(backend: Backend) {
    let store = backend.store.clone();
    let other = backend.another().await;
    let (_, _, run) = seeded(&store).await;

    let before = store.data_version().await.expect("version");
    assert_eq!(store.data_version().await.expect("again"), before);
    // Reads, by either store, change nothing.
    store
        .list_runs(&RunFilter {
            limit: 10,
            ..RunFilter::default()
        })
        .await
        .expect("list");
    other.run(run.id).await.expect("read");
    assert_eq!(store.data_version().await.expect("after reads"), before);

    // A commit through this store.
    store
        .transition(StatusChange::new(run.id, RunStatus::Dispatching))
        .await
        .expect("dispatching");
    let after_own = store.data_version().await.expect("after own write");
    assert_ne!(after_own, before, "this store's commit moves the version");
    assert_eq!(store.data_version().await.expect("settled"), after_own);

    // A commit through another store on the same database, as a separate
    // worker process makes.
    other
        .transition(StatusChange::new(run.id, RunStatus::Submitted))
        .await
        .expect("submitted");
    let after_other = store.data_version().await.expect("after other's write");
    assert_ne!(
        after_other, after_own,
        "another process's commit moves the version"
    );
    assert_eq!(store.data_version().await.expect("settled"), after_other);
}
