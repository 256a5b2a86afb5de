//! `--mailer smtp` against a real SMTP server on 127.0.0.1 (aiosmtpd):
//! delivery with AUTH, STARTTLS with a company's own CA, and the same
//! retry and dead-task behaviour as SES.

use std::sync::Arc;
use std::time::Duration;

use modelrun_core::config::{SmtpConfig, SmtpSecurity};
use modelrun_core::email::{EmailStatus, NewEmail};
use modelrun_core::secret::Secret;
use modelrun_core::task::TaskState;
use modelrun_testkit::{SMTP_PASSWORD, SMTP_USER, SmtpServer};
use modelrun_worker::mail::SmtpMailer;

use crate::support::Harness;

fn config(server: &SmtpServer, security: SmtpSecurity) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: server.port,
        security,
        credentials: Some((SMTP_USER.to_owned(), Secret::new(SMTP_PASSWORD.to_owned()))),
        from: "modelrun <modelrun@example.com>".to_owned(),
        ca_file: server.certificate.clone(),
    }
}

fn email(to: &str) -> NewEmail {
    NewEmail {
        to: to.to_owned(),
        subject: "Run #7 of forecast succeeded — 3 outputs".to_owned(),
        text: "Your run succeeded.\nhttp://127.0.0.1/runs/7".to_owned(),
        html: "<p>Your run <b>succeeded</b>.</p>".to_owned(),
        run_id: None,
    }
}

async fn harness(config: &SmtpConfig) -> Harness {
    Harness::with_mailer(Arc::new(SmtpMailer::new(config).expect("mailer"))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_goes_out_through_smtp_with_both_parts() {
    let server = SmtpServer::plain().await;
    let h = harness(&config(&server, SmtpSecurity::None)).await;
    let queued = h
        .store
        .enqueue_email(email("ann@example.com"))
        .await
        .expect("enqueue");
    h.worker.run_due().await.expect("send");

    let messages = server.messages(1, Duration::from_secs(10)).await;
    assert_eq!(messages.len(), 1);
    let received = &messages[0];
    assert_eq!(received["mail_from"], "modelrun@example.com");
    assert_eq!(received["rcpt_tos"], serde_json::json!(["ann@example.com"]));
    assert_eq!(received["login"], SMTP_USER);
    let message = received["message"].as_str().expect("message");
    for part in [
        "From: modelrun <modelrun@example.com>",
        "To: ann@example.com",
        "multipart/alternative",
        "text/plain",
        "text/html",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    let sent = h
        .store
        .email(queued.item.id)
        .await
        .expect("read")
        .expect("email");
    assert_eq!(sent.status, EmailStatus::Sent);
    let id = sent.provider_id.expect("message id");
    assert!(
        id.starts_with("smtp:<") && id.ends_with("@example.com>"),
        "{id}"
    );
    assert!(
        message.contains(&format!("Message-ID: {}", &id["smtp:".len()..])),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_is_required_and_a_company_ca_is_trusted() {
    let server = SmtpServer::with_starttls().await;
    let h = harness(&config(&server, SmtpSecurity::StartTls)).await;
    h.store
        .enqueue_email(email("ann@example.com"))
        .await
        .expect("enqueue");
    h.worker.run_due().await.expect("send");
    let messages = server.messages(1, Duration::from_secs(10)).await;
    assert_eq!(messages.len(), 1, "delivered over STARTTLS");
    assert_eq!(messages[0]["tls"], true);

    // Without the CA the certificate is not trusted: nothing is sent, and
    // the task tries again later.
    let untrusted = SmtpConfig {
        ca_file: None,
        ..config(&server, SmtpSecurity::StartTls)
    };
    let h = harness(&untrusted).await;
    h.store
        .enqueue_email(email("bob@example.com"))
        .await
        .expect("enqueue");
    h.worker.run_due().await.expect("attempt");
    let tasks = h.store.list_tasks(None, 10).await.expect("tasks");
    assert_eq!(tasks[0].state, TaskState::Queued, "{tasks:?}");
    assert!(tasks[0].run_after > chrono::Utc::now());
    assert_eq!(
        server.messages(2, Duration::from_millis(300)).await.len(),
        1
    );
}

#[test]
fn a_ca_file_without_a_certificate_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("dir");
    let garbage = dir.path().join("ca.pem");
    std::fs::write(&garbage, "garbage").expect("write");
    let config = SmtpConfig {
        host: "mail.example.com".to_owned(),
        port: 587,
        security: SmtpSecurity::StartTls,
        credentials: None,
        from: "modelrun@example.com".to_owned(),
        ca_file: Some(garbage),
    };
    let error = SmtpMailer::new(&config).expect_err("refused");
    assert!(
        error.contains("--smtp-ca-file") && error.contains("no PEM certificate"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_final_and_a_temporary_one_is_retried() {
    let server = SmtpServer::plain().await;
    let h = harness(&config(&server, SmtpSecurity::None)).await;
    let refused = h
        .store
        .enqueue_email(email("refuse@example.com"))
        .await
        .expect("enqueue");
    h.worker.run_due().await.expect("attempt");
    let tasks = h.store.list_tasks(None, 10).await.expect("tasks");
    assert_eq!(tasks[0].state, TaskState::Dead, "{tasks:?}");
    assert!(
        tasks[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("550")),
        "{tasks:?}"
    );
    let failed = h
        .store
        .email(refused.item.id)
        .await
        .expect("read")
        .expect("email");
    assert_ne!(failed.status, EmailStatus::Sent);

    let busy = h
        .store
        .enqueue_email(email("busy@example.com"))
        .await
        .expect("enqueue");
    h.worker.run_due().await.expect("attempt");
    let task = h
        .store
        .list_tasks(Some(TaskState::Queued), 10)
        .await
        .expect("tasks")
        .into_iter()
        .next()
        .expect("the busy task waits for a retry");
    assert_eq!(task.attempts, 1);
    assert!(task.run_after > chrono::Utc::now());
    assert!(
        task.last_error
            .as_deref()
            .is_some_and(|e| e.contains("451")),
        "{task:?}"
    );
    let waiting = h
        .store
        .email(busy.item.id)
        .await
        .expect("read")
        .expect("email");
    assert_eq!(waiting.status, EmailStatus::Queued);

    // A server that is down is worth retrying too.
    drop(server);
    h.store
        .enqueue_email(email("ann@example.com"))
        .await
        .expect("enqueue");
    h.worker.run_due().await.expect("attempt");
    let waiting = h
        .store
        .list_tasks(Some(TaskState::Queued), 10)
        .await
        .expect("tasks");
    assert_eq!(waiting.len(), 2, "{waiting:?}");
}
