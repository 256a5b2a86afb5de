use std::sync::Arc;

use chrono::Utc;
use modelrun_core::email::{EmailStatus, NewEmail};
use modelrun_core::store::Store;
use modelrun_core::task::{SendEmail, TaskKind};

pub async fn emails_are_stored_with_their_send_task(store: Arc<dyn Store>) {
    let queued = store
        .enqueue_email(NewEmail {
            to: "ann@example.com".to_owned(),
            subject: "Run 1 succeeded".to_owned(),
            text: "plain".to_owned(),
            html: "<p>html</p>".to_owned(),
            run_id: None,
        })
        .await
        .expect("enqueue");
    let email = queued.item;
    assert_eq!(email.status, EmailStatus::Queued);
    let tasks = store.list_tasks(None, 10).await.expect("tasks");
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].kind, TaskKind::SendEmail);
    assert_eq!(tasks[0].id, queued.task, "the send task is the one named");
    let payload: SendEmail = serde_json::from_value(tasks[0].payload.clone()).expect("payload");
    assert_eq!(payload.email_id, email.id);

    store
        .mark_email_failed(email.id, "smtp down")
        .await
        .expect("failed");
    assert_eq!(
        store.email(email.id).await.expect("get").map(|e| e.status),
        Some(EmailStatus::Failed)
    );
    store
        .mark_email_sent(email.id, "outbox-1", Utc::now())
        .await
        .expect("sent");
    let sent = store.email(email.id).await.expect("get").expect("exists");
    assert_eq!(
        (sent.status, sent.provider_id.as_deref(), sent.last_error),
        (EmailStatus::Sent, Some("outbox-1"), None)
    );
    assert!(sent.sent_at.is_some());
    // A late failure report does not undo a send.
    store
        .mark_email_failed(email.id, "late")
        .await
        .expect("failed");
    assert_eq!(
        store.email(email.id).await.expect("get").map(|e| e.status),
        Some(EmailStatus::Sent)
    );

    let second = store
        .enqueue_email(NewEmail {
            subject: "second".to_owned(),
            ..sent_new()
        })
        .await
        .expect("enqueue")
        .item;
    let listed: Vec<_> = store
        .list_emails(None, 10)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(listed, [second.id, email.id]);
    let older: Vec<_> = store
        .list_emails(Some(second.id), 10)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(older, [email.id]);
}

fn sent_new() -> NewEmail {
    NewEmail {
        to: "bob@example.com".to_owned(),
        subject: String::new(),
        text: String::new(),
        html: String::new(),
        run_id: None,
    }
}
