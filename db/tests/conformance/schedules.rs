//! Schedules: a slot fires once, however many workers fire it; pause,
//! resume and delete; fires that made no run are kept.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use modelrun_core::ids::VersionId;
use modelrun_core::run::NewRun;
use modelrun_core::schedule::{
    Fire, FireKind, FireOutcome, Fired, NewSchedule, Schedule, VersionChoice,
};
use modelrun_core::store::{Store, StoreError};

use crate::support;

fn new_schedule(
    name: &str,
    version: Option<VersionId>,
    owner: &modelrun_core::user::User,
    model: modelrun_core::ids::ModelId,
    next: DateTime<Utc>,
) -> NewSchedule {
    NewSchedule {
        name: name.to_owned(),
        model_id: model,
        version_id: version,
        inputs: support::inputs(0.2),
        cron: "0 6 * * *".to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
        owner: owner.id,
        next_fire_at: Some(next),
    }
}

fn run_fire(schedule: &Schedule, version: VersionId, at: DateTime<Utc>) -> Fire {
    Fire {
        schedule: schedule.id,
        fire_at: at,
        next_fire_at: Some(at + Duration::days(1)),
        outcome: FireOutcome::Run(NewRun {
            version_id: version,
            submitted_by: schedule.owner,
            inputs: schedule.inputs.clone(),
            resources: Default::default(),
            submit_key: None,
            rerun_of: None,
            production_only: false,
        }),
    }
}

pub async fn two_workers_firing_one_slot_make_one_run(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let version = support::version(&store, "forecast", "v1").await;
    let slot = Utc::now() - Duration::minutes(1);
    let schedule = store
        .create_schedule(new_schedule(
            "Daily",
            Some(version.id),
            &ann,
            version.model_id,
            slot,
        ))
        .await
        .expect("create");
    assert_eq!(
        schedule.version,
        VersionChoice::Pinned {
            id: version.id,
            label: "v1".to_owned()
        }
    );
    assert_eq!(store.due_schedules(Utc::now()).await.expect("due").len(), 1);
    let firings = (0..6).map(|_| {
        let store = store.clone();
        let fire = run_fire(&schedule, version.id, slot);
        tokio::spawn(async move { store.fire_schedule(fire).await })
    });
    let mut runs = Vec::new();
    let mut already = 0;
    for firing in firings {
        match firing.await.expect("join").expect("fire") {
            Fired::Run { run, .. } => runs.push(run),
            Fired::AlreadyFired => already += 1,
            Fired::Recorded => panic!("a run fire recorded no run"),
        }
    }
    assert_eq!((runs.len(), already), (1, 5), "{runs:?}");
    let run = store.run(runs[0]).await.expect("run").expect("exists");
    assert_eq!(run.submitted_by, ann.id);
    let by = store
        .run_schedule(run.id)
        .await
        .expect("by")
        .expect("scheduled");
    assert_eq!((by.id, by.name.as_str()), (schedule.id, "Daily"));
    let fires = store.schedule_fires(schedule.id, 10).await.expect("fires");
    assert_eq!(fires.len(), 1);
    assert_eq!(
        (fires[0].kind, fires[0].run_id),
        (FireKind::Run, Some(run.id))
    );
    assert_eq!(fires[0].fire_at.timestamp(), slot.timestamp());
    // The next slot moved forward, so the schedule is not due any more.
    assert!(
        store
            .due_schedules(Utc::now())
            .await
            .expect("due")
            .is_empty()
    );
    let after = store
        .schedule(schedule.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        after.next_fire_at.map(|at| at.timestamp()),
        Some((slot + Duration::days(1)).timestamp())
    );
    // The same slot fired again later writes nothing.
    let again = store
        .fire_schedule(run_fire(&schedule, version.id, slot))
        .await
        .expect("again");
    assert_eq!(again, Fired::AlreadyFired);
}

pub async fn skipped_fires_are_kept_and_pause_resume_delete_apply(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let version = support::version(&store, "forecast", "v1").await;
    let slot = Utc::now() - Duration::minutes(5);
    let schedule = store
        .create_schedule(new_schedule("Latest", None, &ann, version.model_id, slot))
        .await
        .expect("create");
    assert_eq!(schedule.version, VersionChoice::Production);
    let duplicate = store
        .create_schedule(new_schedule("Latest", None, &ann, version.model_id, slot))
        .await;
    assert!(
        matches!(&duplicate, Err(StoreError::Conflict(message)) if message.contains("Latest")),
        "{duplicate:?}"
    );
    // Names are unique per owner: another person may use the same one.
    let bob = support::user(&store, "bob@example.com").await;
    let bobs = store
        .create_schedule(new_schedule("Latest", None, &bob, version.model_id, slot))
        .await
        .expect("another owner's schedule of the same name");
    store
        .delete_schedule(bobs.id, Utc::now())
        .await
        .expect("delete");
    let skipped = store
        .fire_schedule(Fire {
            schedule: schedule.id,
            fire_at: slot,
            next_fire_at: Some(slot + Duration::days(1)),
            outcome: FireOutcome::Skipped("ann@example.com is disabled".to_owned()),
        })
        .await
        .expect("skip");
    assert_eq!(skipped, Fired::Recorded);
    let fires = store.schedule_fires(schedule.id, 10).await.expect("fires");
    assert_eq!(fires[0].kind, FireKind::Skipped);
    assert_eq!(fires[0].run_id, None);
    assert!(fires[0].message.contains("disabled"));

    // Paused: not due, and a fire that read it as due writes nothing.
    let paused = store
        .set_schedule_paused(schedule.id, true, None)
        .await
        .expect("pause");
    assert!(paused.paused);
    let later = slot + Duration::days(1);
    assert!(
        store
            .due_schedules(later + Duration::hours(1))
            .await
            .expect("due")
            .is_empty()
    );
    let fired = store
        .fire_schedule(run_fire(&schedule, version.id, later))
        .await
        .expect("fire");
    assert_eq!(fired, Fired::AlreadyFired);
    // Resumed: the next slot is the one given, not a missed one.
    let next = Utc::now() + Duration::hours(3);
    let resumed = store
        .set_schedule_paused(schedule.id, false, Some(next))
        .await
        .expect("resume");
    assert!(!resumed.paused);
    assert_eq!(
        resumed.next_fire_at.map(|at| at.timestamp()),
        Some(next.timestamp())
    );

    // Deleted: gone from the list, fires kept, name free again.
    store
        .delete_schedule(schedule.id, Utc::now())
        .await
        .expect("delete");
    assert!(store.schedules().await.expect("list").is_empty());
    let deleted = store
        .schedule(schedule.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(deleted.state(), "deleted");
    assert_eq!(
        store
            .schedule_fires(schedule.id, 10)
            .await
            .expect("fires")
            .len(),
        1
    );
    assert!(matches!(
        store.delete_schedule(schedule.id, Utc::now()).await,
        Err(StoreError::NotFound)
    ));
    store
        .create_schedule(new_schedule("Latest", None, &ann, version.model_id, slot))
        .await
        .expect("the name is free again");
}

/// A fire of production whose version a promotion demoted after it was
/// read is refused and claims nothing, so the slot fires on production
/// when tried again.
pub async fn a_fire_on_a_demoted_version_leaves_its_slot_free(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let v1 = support::version(&store, "forecast", "v1").await;
    let v2 = support::version(&store, "forecast", "v2").await;
    let slot = Utc::now() - Duration::minutes(1);
    let schedule = store
        .create_schedule(new_schedule("Daily", None, &ann, v1.model_id, slot))
        .await
        .expect("create");
    assert_eq!(schedule.version, VersionChoice::Production);
    store.promote_version(v2.id).await.expect("promote");
    let production_only = |version: VersionId| {
        let mut fire = run_fire(&schedule, version, slot);
        if let FireOutcome::Run(run) = &mut fire.outcome {
            run.production_only = true;
        }
        fire
    };
    let refused = store.fire_schedule(production_only(v1.id)).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(message)) if message.contains("stopped being production")),
        "{refused:?}"
    );
    let fired = store
        .fire_schedule(production_only(v2.id))
        .await
        .expect("fire on production");
    let Fired::Run { run, .. } = fired else {
        panic!("a run: {fired:?}")
    };
    let run = store.run(run).await.expect("query").expect("run");
    assert_eq!(run.version_id, v2.id);
}
