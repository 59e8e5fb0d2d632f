//! STS's XML: the success documents of the simulated actions and the
//! `ErrorResponse` envelope, plus the [`StsFault`] error every step returns.
//! Also the JSON variant STS answers when a request sends
//! `Accept: application/json` (as aws-iam-authenticator does).
//!
//! Invariants: every value written into a document goes through [`text`], which
//! drops characters XML 1.0 cannot carry and escapes markup, so hostile input
//! echoed in a message can never break or inject structure; error messages never
//! contain secrets (callers build them from public values only) and echoed
//! caller values are truncated to [`MAX_ECHO_CHARS`].

use std::borrow::Cow;
use std::fmt::Write as _;

use http::StatusCode;

/// The namespace of every STS document.
pub(crate) const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The namespace of every IAM 2010-05-08 document.
pub(crate) const IAM_XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Longest caller-supplied value echoed in an error message. Keeps error bodies
/// small whatever the caller sends.
pub(crate) const MAX_ECHO_CHARS: usize = 128;

/// The document format a caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// STS's default, `text/xml`.
    Xml,
    /// `application/json`, when the request's `Accept` asks for it.
    Json,
}

impl Format {
    /// From the request's `Accept` header.
    pub(crate) fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(a) if a.to_ascii_lowercase().contains("application/json") => Format::Json,
            _ => Format::Xml,
        }
    }

    /// The response `Content-Type`.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml",
            Format::Json => "application/json",
        }
    }
}

/// An error answer, shaped like STS's: status, code and a message for the caller
/// (here the caller is a test or `tvm dev`, and the messages follow AWS's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsFault {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// The STS error code (`AccessDenied`, `ValidationError`, ...).
    pub(crate) code: Cow<'static, str>,
    /// The message; built from public values only.
    pub(crate) message: String,
    /// The namespace of the XML error document: STS's, or IAM's for an IAM call.
    pub(crate) xmlns: &'static str,
}

impl StsFault {
    /// A fault with any status and code.
    pub(crate) fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            xmlns: STS_XMLNS,
        }
    }

    /// The same fault answered by the simulator's IAM (its document in IAM's
    /// namespace).
    pub(crate) fn in_iam(self) -> Self {
        Self {
            xmlns: IAM_XMLNS,
            ..self
        }
    }

    /// 400 `ValidationError`.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    /// 403 `AccessDenied`.
    pub(crate) fn access_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", message)
    }

    /// 403 `SignatureDoesNotMatch` with STS's generic text, or a specific one.
    pub(crate) fn signature(message: Option<&str>) -> Self {
        let message = message.unwrap_or(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. \
             Consult the service documentation for details.",
        );
        Self::new(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", message)
    }

    /// 400 `IncompleteSignature`: the authentication material is malformed.
    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "IncompleteSignature", message)
    }

    /// 403 `InvalidClientTokenId`: unknown key, or a session token that does not
    /// belong to it.
    pub(crate) fn invalid_client_token() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    }

    /// `Sender` for caller faults, `Receiver` for server faults, as STS says.
    fn fault_type(&self) -> &'static str {
        if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        }
    }

    /// The error document in `format`.
    pub(crate) fn render(&self, request_id: &str, format: Format) -> String {
        match format {
            Format::Xml => self.to_xml(request_id),
            Format::Json => serde_json::json!({
                "Error": {"Code": self.code, "Message": self.message, "Type": self.fault_type()},
                "RequestId": request_id,
            })
            .to_string(),
        }
    }

    /// The `ErrorResponse` document.
    pub(crate) fn to_xml(&self, request_id: &str) -> String {
        format!(
            "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    \
             <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
             <RequestId>{}</RequestId>\n</ErrorResponse>\n",
            self.xmlns,
            self.fault_type(),
            text(&self.code),
            text(&self.message),
            text(request_id),
        )
    }
}

/// A caller value made safe to quote in a message: at most [`MAX_ECHO_CHARS`]
/// characters (XML escaping happens later, in [`text`]).
pub(crate) fn echo(value: &str) -> String {
    let mut out: String = value.chars().take(MAX_ECHO_CHARS).collect();
    if value.chars().nth(MAX_ECHO_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

/// XML character data: characters XML 1.0 forbids become U+FFFD, markup is escaped.
pub(crate) fn text(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    quick_xml::escape::escape(cleaned.as_str()).into_owned()
}

/// The `Char` production of XML 1.0.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// The successful `GetCallerIdentity` document.
pub(crate) fn get_caller_identity(
    arn: &str,
    user_id: &str,
    account: &str,
    rid: &str,
    format: Format,
) -> String {
    if format == Format::Json {
        return serde_json::json!({"GetCallerIdentityResponse": {
            "GetCallerIdentityResult": {"Account": account, "Arn": arn, "UserId": user_id},
            "ResponseMetadata": {"RequestId": rid},
        }})
        .to_string();
    }
    format!(
        "<GetCallerIdentityResponse xmlns=\"{STS_XMLNS}\">\n  <GetCallerIdentityResult>\n    \
         <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  \
         </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  \
         </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        text(arn),
        text(user_id),
        text(account),
        text(rid),
    )
}

/// The successful `GetAccessKeyInfo` document.
pub(crate) fn get_access_key_info(account: &str, rid: &str, format: Format) -> String {
    if format == Format::Json {
        return serde_json::json!({"GetAccessKeyInfoResponse": {
            "GetAccessKeyInfoResult": {"Account": account},
            "ResponseMetadata": {"RequestId": rid},
        }})
        .to_string();
    }
    format!(
        "<GetAccessKeyInfoResponse xmlns=\"{STS_XMLNS}\">\n  <GetAccessKeyInfoResult>\n    \
         <Account>{}</Account>\n  </GetAccessKeyInfoResult>\n  <ResponseMetadata>\n    \
         <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</GetAccessKeyInfoResponse>\n",
        text(account),
        text(rid),
    )
}

/// What a successful `AssumeRole` returns.
pub(crate) struct AssumeRoleDoc<'a> {
    /// `ASIA...`.
    pub(crate) access_key_id: &'a str,
    /// The new secret.
    pub(crate) secret_access_key: &'a str,
    /// The new session token.
    pub(crate) session_token: &'a str,
    /// When the credentials expire (whole seconds).
    pub(crate) expiration: jiff::Timestamp,
    /// `arn:P:sts::A:assumed-role/R/S`.
    pub(crate) assumed_role_arn: &'a str,
    /// `AROA...:S`.
    pub(crate) assumed_role_id: &'a str,
    /// The session's SourceIdentity, if any.
    pub(crate) source_identity: Option<&'a str>,
    /// The request id.
    pub(crate) request_id: &'a str,
}

/// The successful `AssumeRole` document.
pub(crate) fn assume_role(doc: &AssumeRoleDoc<'_>, format: Format) -> String {
    issued("AssumeRole", doc, None, format)
}

/// The successful `AssumeRoleWithWebIdentity` document: `AssumeRole`'s plus
/// the token's subject and the identity provider.
pub(crate) fn assume_role_with_web_identity(
    doc: &AssumeRoleDoc<'_>,
    subject: &str,
    provider: &str,
    format: Format,
) -> String {
    issued(
        "AssumeRoleWithWebIdentity",
        doc,
        Some((subject, provider)),
        format,
    )
}

/// The document of an action that issued credentials.
fn issued(
    action: &str,
    doc: &AssumeRoleDoc<'_>,
    web_identity: Option<(&str, &str)>,
    format: Format,
) -> String {
    if format == Format::Json {
        let mut result = serde_json::json!({
            "AssumedRoleUser": {"Arn": doc.assumed_role_arn, "AssumedRoleId": doc.assumed_role_id},
            "Credentials": {
                "AccessKeyId": doc.access_key_id,
                "Expiration": doc.expiration.as_second(),
                "SecretAccessKey": doc.secret_access_key,
                "SessionToken": doc.session_token,
            },
            "PackedPolicySize": null,
            "SourceIdentity": doc.source_identity,
        });
        if let Some((subject, provider)) = web_identity {
            result["SubjectFromWebIdentityToken"] = subject.into();
            result["Provider"] = provider.into();
        }
        return serde_json::json!({format!("{action}Response"): {
            format!("{action}Result"): result,
            "ResponseMetadata": {"RequestId": doc.request_id},
        }})
        .to_string();
    }
    let mut out = format!("<{action}Response xmlns=\"{STS_XMLNS}\">\n  <{action}Result>\n");
    // Writing to a String cannot fail.
    if let Some(si) = doc.source_identity {
        let _ = writeln!(out, "    <SourceIdentity>{}</SourceIdentity>", text(si));
    }
    if let Some((subject, provider)) = web_identity {
        let _ = writeln!(
            out,
            "    <SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\n    \
             <Provider>{}</Provider>",
            text(subject),
            text(provider)
        );
    }
    let _ = write!(
        out,
        "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      \
         <Arn>{}</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n      \
         <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      \
         <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    \
         </Credentials>\n  </{action}Result>\n  <ResponseMetadata>\n    \
         <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n",
        text(doc.assumed_role_id),
        text(doc.assumed_role_arn),
        text(doc.access_key_id),
        text(doc.secret_access_key),
        text(doc.session_token),
        text(&doc.expiration.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        text(doc.request_id),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_and_drops_invalid_chars() {
        assert_eq!(text("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(text("x\u{0}y\u{1b}"), "x\u{FFFD}y\u{FFFD}");
        assert_eq!(text("tab\tok"), "tab\tok");
    }

    #[test]
    fn echo_truncates() {
        let long = "a".repeat(1000);
        assert_eq!(echo(&long).len(), MAX_ECHO_CHARS + 3);
        assert_eq!(echo("short"), "short");
    }

    #[test]
    fn error_document_has_sts_shape() {
        let f = StsFault::access_denied("no </Message><Code>Evil</Code>");
        let xml = f.to_xml("rid-1");
        assert!(
            xml.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">")
        );
        assert!(xml.contains("<Type>Sender</Type>"));
        assert!(xml.contains("<Code>AccessDenied</Code>"));
        assert!(!xml.contains("<Code>Evil</Code>"));
        assert!(xml.contains("<RequestId>rid-1</RequestId>"));
        let internal = StsFault::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "x");
        assert!(internal.to_xml("r").contains("<Type>Receiver</Type>"));
    }

    #[test]
    fn assume_role_document_omits_absent_source_identity() {
        let doc = AssumeRoleDoc {
            access_key_id: "ASIA",
            secret_access_key: "s",
            session_token: "t+/=",
            expiration: "2026-01-01T00:00:00Z".parse().unwrap(),
            assumed_role_arn: "arn:aws:sts::111122223333:assumed-role/R/s",
            assumed_role_id: "AROAX:s",
            source_identity: None,
            request_id: "r",
        };
        let xml = assume_role(&doc, Format::Xml);
        assert!(!xml.contains("SourceIdentity"));
        assert!(xml.contains("<Expiration>2026-01-01T00:00:00Z</Expiration>"));
        assert!(xml.contains("<SessionToken>t+/=</SessionToken>"));
        let with = assume_role(
            &AssumeRoleDoc {
                source_identity: Some("tvm.alice.direct.0123456789ab"),
                ..doc
            },
            Format::Xml,
        );
        assert!(with.contains("<SourceIdentity>tvm.alice.direct.0123456789ab</SourceIdentity>"));
    }

    #[test]
    fn json_variants_have_sts_shape() {
        assert_eq!(Format::from_accept(Some("Application/JSON")), Format::Json);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Xml);
        assert_eq!(Format::from_accept(None), Format::Xml);
        let doc: serde_json::Value = serde_json::from_str(&get_caller_identity(
            "arn:aws:iam::111122223333:user/a",
            "AIDAX",
            "111122223333",
            "rid",
            Format::Json,
        ))
        .unwrap();
        let result = &doc["GetCallerIdentityResponse"]["GetCallerIdentityResult"];
        assert_eq!(result["Arn"], "arn:aws:iam::111122223333:user/a");
        assert_eq!(result["Account"], "111122223333");
        let err: serde_json::Value =
            serde_json::from_str(&StsFault::access_denied("no").render("rid", Format::Json))
                .unwrap();
        assert_eq!(err["Error"]["Code"], "AccessDenied");
        assert_eq!(err["RequestId"], "rid");
    }
}
