//! SigV4 for tvm's own STS calls, with the signing key kept per day.
//!
//! Design: every call tvm signs has one shape — `POST /` with a form body,
//! signing `content-type`, `host`, `x-amz-date` and, for temporary credentials,
//! `x-amz-security-token`. Its canonical request is written here (a few lines
//! for one fixed shape); the cryptography is `aws-sigv4`'s own
//! ([`generate_signing_key`], [`calculate_signature`]). `aws-sigv4`'s
//! `http_request::sign` would canonicalise a generic request on every call and
//! derive the key again each time (four HMACs), and it exposes no way to hand it
//! a derived key: so the key is derived once per (credentials, UTC day) and kept
//! in [`KeyCache`], which belongs to one credentials snapshot (a refreshed
//! secret starts with an empty cache); region and service are fixed per client.
//! A test proves the `Authorization` header is byte-for-byte the one
//! `aws-sigv4`'s `sign` produces for the same request, time and credentials.
//!
//! [`sign_for`] signs the same shape for another service (tvm's IAM calls,
//! [`crate::sts::iam`]).
//!
//! Invariants: the key, the secret and the session token never reach `Debug`
//! or a log; the date of the scope is the date of `x-amz-date`.

use std::fmt;
use std::sync::Mutex;

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// The signing service of STS.
pub(crate) const SERVICE: &str = "sts";
/// The `Content-Type` of a query-protocol body, as the SDK sends it.
pub(crate) const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The headers a signed request carries.
pub(crate) struct SignedHeaders {
    /// `x-amz-date`, `YYYYMMDDTHHMMSSZ`.
    pub(crate) amz_date: String,
    /// The session token, for temporary credentials.
    pub(crate) security_token: Option<String>,
    /// The `Authorization` header.
    pub(crate) authorization: String,
}

impl fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("amz_date", &self.amz_date)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("authorization", &"<redacted>")
            .finish()
    }
}

/// The derived key of one UTC day, for one credentials snapshot.
#[derive(Default)]
pub(crate) struct KeyCache {
    slot: Mutex<Option<([u8; 8], [u8; 32])>>,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyCache(<redacted>)")
    }
}

impl KeyCache {
    /// The STS key for `date` (`YYYYMMDD`, the date of `time`), derived on first use.
    #[cfg(test)]
    fn key(&self, creds: &AwsCredentials, date: &str, time: Timestamp, region: &str) -> [u8; 32] {
        self.key_for(SERVICE, creds, date, time, region)
    }

    /// The key of `service` for `date`, derived on first use. One cache serves
    /// one (credentials, region, service): only the day is remembered.
    fn key_for(
        &self,
        service: &str,
        creds: &AwsCredentials,
        date: &str,
        time: Timestamp,
        region: &str,
    ) -> [u8; 32] {
        let day: [u8; 8] = date.as_bytes().try_into().expect("YYYYMMDD");
        // A poisoned lock only means another thread panicked mid-write of a
        // Copy value: derive afresh rather than trust or propagate it.
        let mut slot = self.slot.lock().unwrap_or_else(|p| {
            let mut g = p.into_inner();
            *g = None;
            g
        });
        if let Some((d, key)) = *slot {
            if d == day {
                return key;
            }
        }
        let derived = generate_signing_key(
            creds.secret_access_key(),
            std::time::SystemTime::from(time),
            region,
            service,
        );
        let key: [u8; 32] = derived
            .as_ref()
            .try_into()
            .expect("HMAC-SHA256 is 32 bytes");
        *slot = Some((day, key));
        key
    }
}

/// Signs `POST /` to `host` with `body` at `time`, for STS in `region`.
pub(crate) fn sign(
    creds: &AwsCredentials,
    keys: &KeyCache,
    region: &str,
    host: &str,
    body: &[u8],
    time: Timestamp,
) -> SignedHeaders {
    sign_for(SERVICE, creds, keys, region, host, body, time)
}

/// Signs `POST /` to `host` with `body` at `time`, for `service` in `region`
/// (`keys` must be used for that service only).
pub(crate) fn sign_for(
    service: &str,
    creds: &AwsCredentials,
    keys: &KeyCache,
    region: &str,
    host: &str,
    body: &[u8],
    time: Timestamp,
) -> SignedHeaders {
    let amz_date = time.strftime("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let token = creds.session_token();
    let signed_headers = if token.is_some() {
        "content-type;host;x-amz-date;x-amz-security-token"
    } else {
        "content-type;host;x-amz-date"
    };
    let mut canonical = String::with_capacity(256 + token.map_or(0, str::len));
    canonical.push_str("POST\n/\n\ncontent-type:");
    canonical.push_str(CONTENT_TYPE);
    canonical.push_str("\nhost:");
    canonical.push_str(host);
    canonical.push_str("\nx-amz-date:");
    canonical.push_str(&amz_date);
    canonical.push('\n');
    if let Some(token) = token {
        canonical.push_str("x-amz-security-token:");
        canonical.push_str(token);
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(signed_headers);
    canonical.push('\n');
    canonical.push_str(&hex::encode(Sha256::digest(body)));
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = keys.key_for(service, creds, date, time, region);
    let signature = calculate_signature(key, string_to_sign.as_bytes());
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id()
    );
    SignedHeaders {
        amz_date,
        security_token: token.map(str::to_owned),
        authorization,
    }
}

#[cfg(test)]
mod tests;
