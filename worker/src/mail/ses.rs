//! Sending email through Amazon SES (v2 API): the same message as the
//! outbox keeps, in HTML and plain text. The outbox table stays the record
//! of what was sent, with SES's message id.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use modelrun_core::config::SesConfig;
use modelrun_core::email::Email;
use modelrun_core::mailer::{MailError, Mailer};

use crate::aws::AwsFailure;

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    config: SesConfig,
}

impl SesMailer {
    pub fn new(sdk: &aws_config::SdkConfig, config: SesConfig) -> Self {
        SesMailer {
            client: Client::new(sdk),
            config,
        }
    }
}

fn text(data: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|error| MailError::Refused(error.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let message = Message::builder()
            .subject(text(&email.subject)?)
            .body(
                Body::builder()
                    .text(text(&email.text)?)
                    .html(text(&email.html)?)
                    .build(),
            )
            .build();
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.config.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.config.configuration_set.clone())
            .send()
            .await
            .map_err(|error| {
                let failure = AwsFailure::new("SES SendEmail", error);
                if failure.transient {
                    MailError::Unavailable(failure.message)
                } else {
                    MailError::Refused(failure.message)
                }
            })?;
        sent.message_id()
            .map(|id| format!("ses:{id}"))
            .ok_or_else(|| {
                MailError::Unavailable("SES accepted the message without an id".to_owned())
            })
    }
}
