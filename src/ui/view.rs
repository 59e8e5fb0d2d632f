//! What the pages show besides the request object of the API: audit rows and
//! break-glass uses, as plain text fields (the pages escape them).

/// One audit row of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// What happened (`created`, `approved`, …).
    pub action: String,
    /// Who did it (STS ARN).
    pub actor: String,
    /// The HTTP request id of the call that did it.
    pub http_request_id: String,
    /// When, RFC 3339 UTC.
    pub at: String,
}

/// One break-glass vend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassUse {
    /// The caller's STS ARN.
    pub caller: String,
    /// The profile vended.
    pub profile: String,
    /// The reason given.
    pub reason: String,
    /// Session length in seconds.
    pub duration_seconds: u64,
    /// When, RFC 3339 UTC.
    pub at: String,
}
