//! Registering files that are already a version: the same files under
//! another label are that version, not a second one.

use std::sync::Arc;

use chrono::Utc;
use modelrun_core::model::{Registered, Runtime};
use modelrun_core::store::Store;

use crate::support;

/// Unchanged files registered under another label answer with the version
/// they already are; a retired one does not count, so its files come back
/// as a new version.
pub async fn the_same_files_under_another_label_are_the_same_version(store: Arc<dyn Store>) {
    let first = support::version(&store, "forecast", "a1").await;
    let again = store
        .register_version(
            support::new_version("forecast", "v2", &first.digest),
            Vec::new(),
        )
        .await
        .expect("register again");
    assert!(
        matches!(&again, Registered::Unchanged(v) if v.id == first.id && v.label == "a1"),
        "{again:?}"
    );
    let other = store
        .register_version(
            support::new_version("weather", "v2", &first.digest),
            Vec::new(),
        )
        .await
        .expect("another model");
    assert!(
        matches!(other, Registered::Created(_)),
        "only the same model's versions count"
    );
    let labels = |store: Arc<dyn Store>| async move {
        let model = store
            .model("forecast")
            .await
            .expect("query")
            .expect("model");
        model
            .versions
            .iter()
            .map(|v| v.label.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(store.clone()).await, ["a1"]);

    store
        .retire_version(first.id, Utc::now())
        .await
        .expect("retire");
    let back = store
        .register_version(
            support::new_version("forecast", "v3", &first.digest),
            Vec::new(),
        )
        .await
        .expect("register after retiring");
    assert!(
        matches!(&back, Registered::Created(v) if v.label == "v3"),
        "{back:?}"
    );
    assert_eq!(labels(store.clone()).await, ["v3", "a1"]);
}

/// An image's digest leaves out the manifest that comes beside it: each
/// pushed tag is a version of its own, even of one image.
pub async fn each_tag_of_an_image_is_a_version(store: Arc<dyn Store>) {
    let image = |tag: &str| {
        let mut new = support::new_version("forecast", tag, "sha256:abc");
        new.runtime = Runtime::Image {
            uri: format!("registry.example/forecast:{tag}"),
            digest: Some("sha256:abc".to_owned()),
        };
        new
    };
    let first = store
        .register_version(image("a1b2c3d"), Vec::new())
        .await
        .expect("register");
    let second = store
        .register_version(image("b2c3d4e"), Vec::new())
        .await
        .expect("register");
    assert!(matches!(first, Registered::Created(_)));
    assert!(
        matches!(&second, Registered::Created(v) if v.label == "b2c3d4e"),
        "{second:?}"
    );
}
