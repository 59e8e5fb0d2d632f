//! The `POST /vend` body: `{"profile": "...", "duration_seconds": 900}`, parsed
//! strictly (unknown fields, wrong types and out-of-range durations rejected)
//! before anything touches the network.

use serde::Deserialize;

use super::outcome::VendError;
use crate::policy::{MAX_PROFILE_NAME_LEN, MAX_SESSION_SECONDS, MIN_SESSION_SECONDS};

/// A parsed vend request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendBody {
    /// The requested profile (syntax checked; existence is the policy's call).
    pub profile: String,
    /// The requested session length, within STS's range.
    pub duration_seconds: Option<u32>,
    /// The grant to vend under (DESIGN §12; the request's `Id`).
    pub approval_id: Option<String>,
    /// A break-glass reason (DESIGN §12).
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    profile: String,
    #[serde(default)]
    duration_seconds: Option<i64>,
    #[serde(default)]
    approval_id: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

impl VendBody {
    /// Parses and checks the body.
    pub fn parse(bytes: &[u8]) -> Result<Self, VendError> {
        let raw: Raw = serde_json::from_slice(bytes).map_err(|_| {
            VendError::BadRequest(
                "body must be a JSON object {\"profile\": string, \"duration_seconds\": integer}",
            )
        })?;
        let name_ok = !raw.profile.is_empty()
            && raw.profile.len() <= MAX_PROFILE_NAME_LEN
            && raw.profile.bytes().all(|b| b.is_ascii_graphic());
        if !name_ok {
            return Err(VendError::BadRequest("profile is not a valid profile name"));
        }
        let duration_seconds = match raw.duration_seconds {
            None => None,
            Some(d) if (MIN_SESSION_SECONDS as i64..=MAX_SESSION_SECONDS as i64).contains(&d) => {
                Some(d as u32)
            }
            Some(_) => {
                return Err(VendError::BadDuration(format!(
                "duration_seconds must be between {MIN_SESSION_SECONDS} and {MAX_SESSION_SECONDS}"
            )))
            }
        };
        if raw.approval_id.is_some() && raw.reason.is_some() {
            return Err(VendError::BadRequest(
                "a vend carries an approval_id or a reason, not both",
            ));
        }
        if raw
            .reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > crate::policy::MAX_REASON_CHARS as usize)
        {
            return Err(VendError::BadRequest(
                "reason is longer than 1000 characters",
            ));
        }
        Ok(Self {
            profile: raw.profile,
            duration_seconds,
            approval_id: raw.approval_id,
            reason: raw.reason,
        })
    }

    /// Which rules this vend meets (DESIGN §12).
    pub fn kind(&self) -> crate::policy::VendKind {
        use crate::policy::VendKind;
        match (&self.approval_id, &self.reason) {
            (Some(_), _) => VendKind::Approval,
            (None, Some(_)) => VendKind::BreakGlass,
            (None, None) => VendKind::Plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_documented_shape() {
        let b = VendBody::parse(br#"{"profile": "prod-admin", "duration_seconds": 900}"#).unwrap();
        assert_eq!(b.profile, "prod-admin");
        assert_eq!(b.duration_seconds, Some(900));
        let b = VendBody::parse(br#"{"profile": "p"}"#).unwrap();
        assert_eq!(b.duration_seconds, None);
    }

    #[test]
    fn rejects_bad_bodies() {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"{\"profile\": 1}",
            b"{\"profile\": \"\"}",
            b"{\"profile\": \"a b\"}",
            b"{\"profile\": \"p\", \"extra\": 1}",
            b"{\"profile\": \"p\", \"duration_seconds\": \"900\"}",
            b"{\"profile\": \"p\", \"duration_seconds\": 900.5}",
            b"{\"profile\": \"p\"} trailing",
            b"{\"profile\": \"p\", \"approval_id\": \"0123456789abcdef\", \"reason\": \"r\"}",
            b"{\"profile\": \"p\", \"request_id\": \"0123456789abcdef\"}",
        ] {
            assert!(
                matches!(VendBody::parse(body), Err(VendError::BadRequest(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let long = format!(
            "{{\"profile\": \"{}\"}}",
            "a".repeat(MAX_PROFILE_NAME_LEN + 1)
        );
        assert!(matches!(
            VendBody::parse(long.as_bytes()),
            Err(VendError::BadRequest(_))
        ));
    }

    #[test]
    fn rejects_durations_outside_sts_range() {
        for d in [-1, 0, 899, 43_201, i64::MAX] {
            let body = format!("{{\"profile\": \"p\", \"duration_seconds\": {d}}}");
            assert!(
                matches!(
                    VendBody::parse(body.as_bytes()),
                    Err(VendError::BadDuration(_))
                ),
                "{d}"
            );
        }
        for d in [900, 43_200] {
            let body = format!("{{\"profile\": \"p\", \"duration_seconds\": {d}}}");
            assert!(VendBody::parse(body.as_bytes()).is_ok());
        }
    }
}
