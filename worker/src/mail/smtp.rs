//! Sending email through an SMTP server, for a team that runs modelrun on
//! its own server without SES: the same message as the outbox keeps, as
//! `multipart/alternative` (plain text and HTML), through lettre over
//! rustls. The outbox table stays the record of what was sent, with the
//! message's `Message-ID`.
//!
//! A refusal the server gives as permanent (a 5xx reply, RFC 5321 §4.2.1)
//! or an address that cannot be written is [`MailError::Refused`]: the task
//! is dead at once. A 4xx reply, a timeout, a connection or TLS failure is
//! [`MailError::Unavailable`]: the task retries with backoff, as with SES.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use modelrun_core::config::{SmtpConfig, SmtpSecurity};
use modelrun_core::crypto::random_hex;
use modelrun_core::email::Email;
use modelrun_core::mailer::{MailError, Mailer};

/// Where a PEM certificate starts (RFC 7468).
const CERTIFICATE_BEGINS: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// How long one step of the SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain of `Message-ID`s: the sender's.
    domain: String,
    server: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `config`. Fails, naming the setting, on a sender that
    /// is not an address or a CA file that cannot be read.
    pub fn new(config: &SmtpConfig) -> Result<Self, String> {
        let from: Mailbox = config.from.parse().map_err(|error| {
            format!(
                "--smtp-from {:?} is not an email address ({error})",
                config.from
            )
        })?;
        let tls = match config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters(config)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(config)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some((user, password)) = &config.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            domain: from.email.domain().to_owned(),
            from,
            server: format!("{}:{}", config.host, config.port),
        })
    }
}

fn tls_parameters(config: &SmtpConfig) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(config.host.clone());
    if let Some(path) = &config.ca_file {
        let pem = std::fs::read(path)
            .map_err(|error| format!("cannot read --smtp-ca-file {}: {error}", path.display()))?;
        if !pem
            .windows(CERTIFICATE_BEGINS.len())
            .any(|w| w == CERTIFICATE_BEGINS)
        {
            return Err(format!(
                "--smtp-ca-file {} holds no PEM certificate (no \"-----BEGIN CERTIFICATE-----\")",
                path.display()
            ));
        }
        let certificate = Certificate::from_pem(&pem).map_err(|error| {
            format!(
                "--smtp-ca-file {} holds no PEM certificate: {error}",
                path.display()
            )
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build_rustls()
        .map_err(|error| format!("cannot set up TLS for {}: {error}", config.host))
}

/// What a failed send means for the task: permanent or worth retrying.
fn classify(server: &str, error: &lettre::transport::smtp::Error) -> MailError {
    let message = format!("SMTP server {server}: {error}");
    if error.is_permanent() {
        MailError::Refused(message)
    } else {
        MailError::Unavailable(message)
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let to: Mailbox = email.to.parse().map_err(|error| {
            MailError::Refused(format!("{:?} is not an email address ({error})", email.to))
        })?;
        let message_id = format!("<{}.{}@{}>", email.id, random_hex(8), self.domain);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|error| MailError::Refused(format!("cannot build the message: {error}")))?;
        self.transport
            .send(message)
            .await
            .map_err(|error| classify(&self.server, &error))?;
        Ok(format!("smtp:{message_id}"))
    }
}
