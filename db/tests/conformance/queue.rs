use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, SubsecRound, Utc};
use modelrun_core::store::{Store, StoreError};
use modelrun_core::task::{Failure, NewTask, TaskKind, TaskState};
use serde_json::json;

fn task(n: i64) -> NewTask {
    NewTask::new(TaskKind::SendEmail, json!({ "email_id": n }))
}

pub async fn enqueue_dedupes_while_a_task_is_queued(store: Arc<dyn Store>) {
    let first = store.enqueue(task(1).dedupe("k")).await.expect("enqueue");
    let second = store.enqueue(task(2).dedupe("k")).await.expect("enqueue");
    assert_eq!(first.id, second.id);
    assert_eq!(second.payload, json!({"email_id": 1}));
    let other = store
        .enqueue(task(3).dedupe("other"))
        .await
        .expect("enqueue");
    assert_ne!(other.id, first.id);
    let plain = store.enqueue(task(4)).await.expect("enqueue");
    let plain_again = store.enqueue(task(4)).await.expect("enqueue");
    assert_ne!(plain.id, plain_again.id);

    // Once done, the key is free again.
    let claimed = loop {
        let claimed = store
            .claim(Utc::now(), Duration::seconds(30))
            .await
            .expect("claim")
            .expect("task");
        if claimed.task.id == first.id {
            break claimed;
        }
        store
            .complete(&claimed, Utc::now())
            .await
            .expect("complete");
    };
    store
        .complete(&claimed, Utc::now())
        .await
        .expect("complete");
    let fresh = store.enqueue(task(5).dedupe("k")).await.expect("enqueue");
    assert_ne!(fresh.id, first.id);
}

pub async fn claims_due_tasks_in_order_with_a_lease(store: Arc<dyn Store>) {
    let now = Utc::now();
    let later = store
        .enqueue(NewTask {
            run_after: Some(now + Duration::seconds(60)),
            ..task(1)
        })
        .await
        .expect("enqueue");
    let soon = store
        .enqueue(NewTask {
            run_after: Some(now - Duration::seconds(5)),
            ..task(2)
        })
        .await
        .expect("enqueue");
    let sooner = store
        .enqueue(NewTask {
            run_after: Some(now - Duration::seconds(10)),
            ..task(3)
        })
        .await
        .expect("enqueue");
    let a = store
        .claim(now, Duration::seconds(30))
        .await
        .expect("claim")
        .expect("due");
    let b = store
        .claim(now, Duration::seconds(30))
        .await
        .expect("claim")
        .expect("due");
    assert_eq!((a.task.id, b.task.id), (sooner.id, soon.id));
    assert_eq!(a.task.attempts, 1);
    // Backends keep milliseconds at least (SQLite) or more (Postgres).
    assert_eq!(
        a.task.locked_until.map(|t| t.trunc_subsecs(3)),
        Some((now + Duration::seconds(30)).trunc_subsecs(3))
    );
    assert!(
        store
            .claim(now, Duration::seconds(30))
            .await
            .expect("claim")
            .is_none()
    );
    store.complete(&a, now).await.expect("complete");
    store.complete(&b, now).await.expect("complete");
    assert_eq!(
        store.task(a.task.id).await.expect("get").map(|t| t.state),
        Some(TaskState::Done)
    );
    assert!(matches!(
        store.complete(&a, now).await,
        Err(StoreError::LeaseLost(_))
    ));
    let c = store
        .claim(now + Duration::seconds(61), Duration::seconds(30))
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(c.task.id, later.id);
}

/// Eight claimers race for 200 tasks; each task is handed out exactly once.
pub async fn concurrent_claims_never_share_a_task(store: Arc<dyn Store>) {
    for n in 0..200 {
        store.enqueue(task(n)).await.expect("enqueue");
    }
    let mut claimers = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(claimed) = store
                .claim(Utc::now(), Duration::seconds(60))
                .await
                .expect("claim")
            {
                mine.push(claimed.task.id);
                store
                    .complete(&claimed, Utc::now())
                    .await
                    .expect("complete");
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for claimer in claimers {
        for id in claimer.await.expect("claimer") {
            total += 1;
            assert!(seen.insert(id), "task {id} was claimed twice");
        }
    }
    assert_eq!(total, 200);
}

pub async fn expired_leases_are_reclaimed_and_the_old_lease_is_void(store: Arc<dyn Store>) {
    store.enqueue(task(1)).await.expect("enqueue");
    let now = Utc::now();
    let first = store
        .claim(now, Duration::seconds(30))
        .await
        .expect("claim")
        .expect("task");
    assert!(
        store
            .claim(now + Duration::seconds(29), Duration::seconds(30))
            .await
            .expect("claim")
            .is_none()
    );
    let second = store
        .claim(now + Duration::seconds(31), Duration::seconds(30))
        .await
        .expect("claim")
        .expect("reclaimed");
    assert_eq!(second.task.id, first.task.id);
    assert_eq!(second.task.attempts, 2);
    assert!(matches!(
        store.complete(&first, now).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert!(matches!(
        store.fail(&first, "late", Failure::Dead, now).await,
        Err(StoreError::LeaseLost(_))
    ));
    store
        .complete(&second, now)
        .await
        .expect("the new holder completes");
}

pub async fn failures_back_off_then_die_and_dead_tasks_stay_visible(store: Arc<dyn Store>) {
    let queued = store.enqueue(task(1)).await.expect("enqueue");
    let now = Utc::now();
    let claimed = store
        .claim(now, Duration::seconds(30))
        .await
        .expect("claim")
        .expect("task");
    store
        .fail(
            &claimed,
            "smtp down",
            Failure::RetryAt(now + Duration::seconds(4)),
            now,
        )
        .await
        .expect("fail");
    let waiting = store.task(queued.id).await.expect("get").expect("task");
    assert_eq!(
        (
            waiting.state,
            waiting.last_error.as_deref(),
            waiting.locked_until
        ),
        (TaskState::Queued, Some("smtp down"), None)
    );
    assert!(
        store
            .claim(now + Duration::seconds(3), Duration::seconds(30))
            .await
            .expect("claim")
            .is_none()
    );
    let retry = store
        .claim(now + Duration::seconds(5), Duration::seconds(30))
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(retry.task.attempts, 2);
    store
        .fail(&retry, "still down", Failure::Dead, now)
        .await
        .expect("dead");
    assert!(
        store
            .claim(now + Duration::days(1), Duration::seconds(30))
            .await
            .expect("claim")
            .is_none()
    );
    let dead = store
        .list_tasks(Some(TaskState::Dead), 10)
        .await
        .expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("still down"));

    let revived = store.retry_task(queued.id, now).await.expect("retry");
    assert_eq!((revived.state, revived.attempts), (TaskState::Queued, 0));
    assert!(
        store
            .claim(now, Duration::seconds(30))
            .await
            .expect("claim")
            .is_some()
    );
    assert!(matches!(
        store.retry_task(queued.id, now).await,
        Err(StoreError::Conflict(_))
    ));
}

pub async fn release_gives_a_task_back_without_counting_it(store: Arc<dyn Store>) {
    store.enqueue(task(1)).await.expect("enqueue");
    let now = Utc::now();
    let claimed = store
        .claim(now, Duration::seconds(30))
        .await
        .expect("claim")
        .expect("task");
    store.release(&claimed, now).await.expect("release");
    let again = store
        .claim(now, Duration::seconds(30))
        .await
        .expect("claim")
        .expect("task");
    assert_eq!(again.task.attempts, 1);
    assert!(matches!(
        store.release(&claimed, now).await,
        Err(StoreError::LeaseLost(_))
    ));
}

/// A batch claim takes the oldest due tasks, each leased; concurrent batch
/// claims never share a task, and every task is taken once.
pub async fn batch_claims_take_the_oldest_due_tasks_once(store: Arc<dyn Store>) {
    let now = Utc::now();
    let mut queued = Vec::new();
    for n in 0..5 {
        queued.push(store.enqueue(task(n)).await.expect("enqueue").id);
    }
    let future = store
        .enqueue(NewTask {
            run_after: Some(now + Duration::seconds(60)),
            ..task(99)
        })
        .await
        .expect("enqueue");
    let first = store
        .claim_many(Utc::now(), Duration::seconds(30), 3)
        .await
        .expect("claim");
    let ids: Vec<_> = first.iter().map(|claimed| claimed.task.id).collect();
    assert_eq!(ids, queued[..3], "the three oldest, oldest first");
    assert!(first.iter().all(|claimed| claimed.task.attempts == 1));
    let rest = store
        .claim_many(Utc::now(), Duration::seconds(30), 10)
        .await
        .expect("claim");
    let ids: Vec<_> = rest.iter().map(|claimed| claimed.task.id).collect();
    assert_eq!(ids, queued[3..], "the rest, and not the one due later");
    assert!(!ids.contains(&future.id));
    assert!(
        store
            .claim_many(Utc::now(), Duration::seconds(30), 10)
            .await
            .expect("claim")
            .is_empty(),
        "leased tasks are not claimed again"
    );
    for claimed in first.iter().chain(&rest) {
        store.complete(claimed, Utc::now()).await.expect("complete");
    }

    for n in 0..200 {
        store.enqueue(task(n)).await.expect("enqueue");
    }
    let mut claimers = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_many(Utc::now(), Duration::seconds(60), 7)
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    return mine;
                }
                for claimed in batch {
                    mine.push(claimed.task.id);
                    store
                        .complete(&claimed, Utc::now())
                        .await
                        .expect("complete");
                }
            }
        }));
    }
    let mut seen = HashSet::new();
    for claimer in claimers {
        for id in claimer.await.expect("claimer") {
            assert!(seen.insert(id), "task {id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), 200);
}
