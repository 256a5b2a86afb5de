//! Talking to AWS: one SDK configuration, read once at start-up and shared
//! by every client, and one rule for which errors are worth retrying.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use modelrun_core::config::AwsSettings;

/// Loads the SDK configuration: region and credentials from the usual
/// chain (environment, profile, container or Lambda role), with modelrun's
/// timeouts and retries.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .operation_timeout(settings.operation_timeout)
                .build(),
        );
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if settings.emulator_credentials {
        loader = loader.credentials_provider(Credentials::new(
            "emulator", "emulator", None, None, "emulator",
        ));
    }
    loader.load().await
}

/// Codes that mean "not now" rather than "never".
const TRANSIENT_CODES: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
];

/// An AWS error: whether another attempt may succeed, and what happened.
#[derive(Debug)]
pub(crate) struct AwsFailure {
    pub transient: bool,
    pub message: String,
}

impl AwsFailure {
    pub(crate) fn new<E>(action: &str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let transient = match &error {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                service.raw().status().as_u16() >= 500
                    || service
                        .err()
                        .code()
                        .is_some_and(|code| TRANSIENT_CODES.contains(&code))
            }
            _ => false,
        };
        AwsFailure {
            transient,
            message: format!("{action}: {}", DisplayErrorContext(&error)),
        }
    }
}
