//! Each person's display settings: defaults until chosen, then kept.

use std::sync::Arc;

use modelrun_core::display::{DisplaySettings, NumberStyle, parse_time_zone};
use modelrun_core::ids::UserId;
use modelrun_core::store::{Store, StoreError};

use crate::support::user;

pub async fn display_settings_default_then_keep_the_choice(store: Arc<dyn Store>) {
    let ann = user(&store, "ann@example.com").await;
    let bob = user(&store, "bob@example.com").await;
    assert_eq!(
        store.display_settings(ann.id).await.expect("read"),
        DisplaySettings::default()
    );
    let chosen = DisplaySettings {
        time_zone: Some(parse_time_zone("Asia/Tokyo").expect("a zone")),
        number_style: NumberStyle::CommaDecimal,
    };
    store
        .set_display_settings(ann.id, chosen)
        .await
        .expect("set");
    assert_eq!(store.display_settings(ann.id).await.expect("read"), chosen);
    let now = chrono::Utc::now();
    store
        .create_session("ann-session", ann.id, now)
        .await
        .expect("session");
    let (person, settings) = store
        .session_person(
            "ann-session",
            now,
            chrono::Duration::minutes(30),
            chrono::Duration::hours(12),
        )
        .await
        .expect("read")
        .expect("a live session");
    assert_eq!(
        (person.id, settings),
        (ann.id, chosen),
        "a page reads the person and their settings in one query"
    );
    assert_eq!(
        store.display_settings(bob.id).await.expect("read"),
        DisplaySettings::default(),
        "another person's settings are their own"
    );
    store
        .set_display_settings(ann.id, DisplaySettings::default())
        .await
        .expect("back to the browser's zone");
    assert_eq!(
        store.display_settings(ann.id).await.expect("read"),
        DisplaySettings::default()
    );
    assert!(matches!(
        store.set_display_settings(UserId(999_999), chosen).await,
        Err(StoreError::NotFound)
    ));
}
