//! The production [`Sts`] adapter on `aws-sdk-sts`, built once at start-up.
//!
//! tvm's own credentials come from the default AWS chain (IRSA / pod identity,
//! instance profile, environment) unless explicit ones are given (`tvm dev`,
//! tests). Invariant: errors are classified into throttled / rejected /
//! unavailable; their text stays in [`StsError`] for the log.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;
use aws_sdk_sts::types::Tag;
use jiff::Timestamp;

use super::{AssumeRoleInput, AssumedRole, CallerIdentity, Credentials, Sts, StsError};

/// Time allowed for one AssumeRole call including retries (defined in
/// [`crate::config`], whose `server.request_timeout` must outlive it).
pub use crate::config::OPERATION_TIMEOUT;
/// Time allowed to connect to STS.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts per call (the SDK's standard retry with backoff, throttling included).
pub const MAX_ATTEMPTS: u32 = 2;

/// `aws-sdk-sts` behind the [`Sts`] trait.
#[derive(Debug, Clone)]
pub struct AwsSts {
    client: aws_sdk_sts::Client,
}

impl AwsSts {
    /// Builds the client for `region`, optionally at `endpoint_url`, with
    /// explicit credentials or (when `None`) the default credential chain.
    pub async fn new(
        region: &str,
        endpoint_url: Option<&str>,
        credentials: Option<aws_credential_types::Credentials>,
    ) -> Self {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
        if let Some(creds) = credentials {
            loader = loader.credentials_provider(creds);
        }
        let shared = loader.load().await;
        let mut builder = aws_sdk_sts::config::Builder::from(&shared)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(OPERATION_TIMEOUT)
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            // Its per-call interceptor and body wrappers (a throughput check on a
            // timer for each direction) cost every vend; a stalled STS is already
            // cut off by OPERATION_TIMEOUT, which bounds the whole call.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
        if let Some(url) = endpoint_url {
            builder = builder.endpoint_url(url);
        }
        Self {
            client: aws_sdk_sts::Client::from_conf(builder.build()),
        }
    }
}

fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> StsError {
    let status = err.raw_response().map(|r| r.status().as_u16());
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            // An error document the SDK cannot read (moto wraps auth errors
            // IAM-style, `<Errors><Error>`) has no code: the status still tells
            // the operator what happened, and the class stays "rejected".
            let code = match (e.code(), status) {
                (Some(code), _) => code.to_owned(),
                (None, Some(status)) => format!("Unknown (HTTP {status})"),
                (None, None) => "Unknown".to_owned(),
            };
            let message = e.message().unwrap_or_default().to_owned();
            if status == Some(429) || matches!(code.as_str(), "Throttling" | "RequestLimitExceeded")
            {
                StsError::Throttled(format!("{code}: {message}"))
            } else if status.is_some_and(|s| s >= 500) {
                StsError::Unavailable(format!("{code}: {message}"))
            } else {
                StsError::Rejected { code, message }
            }
        }
        _ => StsError::Unavailable(format!(
            "{}",
            aws_smithy_types::error::display::DisplayErrorContext(&err)
        )),
    }
}

fn timestamp(dt: &aws_smithy_types::DateTime) -> Result<Timestamp, StsError> {
    Timestamp::new(dt.secs(), dt.subsec_nanos() as i32)
        .map_err(|e| StsError::Unavailable(format!("bad expiration from STS: {e}")))
}

#[async_trait]
impl Sts for AwsSts {
    async fn assume_role(&self, input: AssumeRoleInput) -> Result<AssumedRole, StsError> {
        let tags = input
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StsError::Rejected {
                code: "InvalidTag".into(),
                message: e.to_string(),
            })?;
        let duration = i32::try_from(input.duration_seconds).map_err(|_| StsError::Rejected {
            code: "ValidationError".into(),
            message: "duration out of range".into(),
        })?;
        let out = self
            .client
            .assume_role()
            .role_arn(&input.role_arn)
            .role_session_name(input.role_session_name.as_str())
            .source_identity(input.source_identity.as_str())
            .duration_seconds(duration)
            .set_external_id(input.external_id.clone())
            .set_tags((!tags.is_empty()).then_some(tags))
            .set_transitive_tag_keys(
                (!input.transitive_tag_keys.is_empty()).then(|| input.transitive_tag_keys.clone()),
            )
            .set_policy(input.policy.clone())
            .send()
            .await
            .map_err(classify)?;
        let sts_request_id = out.request_id().map(str::to_owned);
        let creds = out
            .credentials()
            .ok_or_else(|| StsError::Unavailable("AssumeRole returned no credentials".into()))?;
        Ok(AssumedRole {
            credentials: Credentials {
                access_key_id: creds.access_key_id().to_owned(),
                secret_access_key: creds.secret_access_key().to_owned(),
                session_token: creds.session_token().to_owned(),
                expiration: timestamp(creds.expiration())?,
            },
            assumed_role_arn: out.assumed_role_user().map(|u| u.arn().to_owned()),
            sts_request_id,
        })
    }

    async fn get_caller_identity(&self) -> Result<CallerIdentity, StsError> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(classify)?;
        match (out.arn(), out.account()) {
            (Some(arn), Some(account)) => Ok(CallerIdentity {
                arn: arn.to_owned(),
                account: account.to_owned(),
            }),
            _ => Err(StsError::Unavailable(
                "GetCallerIdentity returned no Arn or Account".into(),
            )),
        }
    }
}
