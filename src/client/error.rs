//! [`ClientError`]: the one error of the client boundary (DESIGN §6), for
//! every command that talks to a tvm, and [`describe_error`], the one line it
//! shows for a tvm's JSON error.
//!
//! Invariants: every message is shown through [`visible`], so a server's words
//! (serde errors quote them) never reach a terminal raw; a server's error body
//! is cut to `MAX_SHOWN_ERROR_BODY` characters; nothing here holds a token
//! or a credential.

use super::checked::Refused;
use super::visible::visible;

/// A failed request to tvm. Every message is shown through [`visible`]: a
/// server's words (serde errors quote them) never reach a terminal raw.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not acceptable.
    #[error("invalid tvm URL: {}", visible(.0))]
    Url(String),
    /// Transport failure.
    #[error("request to tvm failed: {}", visible(.0))]
    Transport(String),
    /// tvm answered with an error. Shown as one line with the server's
    /// `Code`, `Message` and `RequestId` (tvm's errors carry no secrets).
    #[error("tvm answered {status} {}", describe_error(.body))]
    Status {
        /// HTTP status.
        status: u16,
        /// The error body (tvm's generic JSON error, no secrets).
        body: String,
    },
    /// The answer could not be understood.
    #[error("unexpected answer from tvm: {}", visible(.0))]
    Decode(String),
    /// The answer held a value that breaks its rule; none of it was used.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// Local credentials could not be loaded or used.
    #[error("{}", visible(.0))]
    Credentials(String),
}

/// Longest part of a non-JSON error body shown to the user.
const MAX_SHOWN_ERROR_BODY: usize = 200;

/// One line from tvm's JSON error (`Code: Message (RequestId …)`), or the start
/// of a body that is not one, shown through [`visible`].
pub(crate) fn describe_error(body: &str) -> String {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct ErrorBody {
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        request_id: String,
    }
    let one_line = |s: &str| -> String {
        let start: String = s.chars().take(MAX_SHOWN_ERROR_BODY).collect();
        visible(&start).into_owned()
    };
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) => format!(
            "{}: {} (RequestId {})",
            one_line(&e.code),
            one_line(&e.message),
            one_line(&e.request_id)
        ),
        Err(_) => one_line(body),
    }
}
