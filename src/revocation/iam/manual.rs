//! What `tvm revocations ID` prints for a role tvm did not (or could not)
//! write (DESIGN §13): the document and the `aws iam put-role-policy`
//! command (`manual`), AWS's own fallback when IAM refused it (`failed`:
//! revoke every session of the role issued before now), and, for every
//! role, the equivalent organization SCP statement — the only thing that
//! also stops sessions *chained* from a revoked one into other roles.
//!
//! Invariants: pure text from the role's `Policy` document; every value is
//! shown with its hidden characters (control, bidi, line separators)
//! escaped, so a hostile server's answer cannot drive the terminal or hide
//! text; every argument is single-quoted for a POSIX shell (a `'` inside is
//! closed, escaped and reopened), so a copied command runs exactly what is
//! shown.

use jiff::Timestamp;

use super::client::RoleRef;
use super::status::document_values;
use crate::approvals::display;

/// The policy name AWS's console uses for "Revoke active sessions".
pub const AWS_REVOKE_POLICY_NAME: &str = "AWSRevokeOlderSessions";

/// `s` quoted for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The SCP statement denying the document's SourceIdentities everywhere in
/// the organization (chained sessions carry the SourceIdentity into every
/// role they reach).
pub fn scp_statement(document: &str) -> String {
    let values: Vec<String> = document_values(document).into_iter().collect();
    let mut sid = "TvmRevokedSessionsScp".to_owned();
    if let Ok(doc) = serde_json::from_str::<serde_json::Value>(document) {
        if let Some(s) = doc["Statement"][0]["Sid"].as_str() {
            sid = s.to_owned();
        }
    }
    serde_json::json!({
        "Sid": sid,
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringLike": {"aws:SourceIdentity": values}},
    })
    .to_string()
}

/// The instructions for one role of a revocation: `status` and `document`
/// as the server answered (`Status`, `Policy`), `policy_name` this
/// deployment's (`tvm-revocations-{prefix}-{deployment_id}`).
pub fn instructions(
    role_arn: &str,
    status: &str,
    document: Option<&str>,
    policy_name: &str,
    now: Timestamp,
) -> String {
    let role_name = RoleRef::parse(role_arn)
        .map(|r| r.name)
        .unwrap_or_else(|| role_arn.to_owned());
    let role_name = display(&role_name).into_owned();
    let role_arn = display(role_arn);
    let status = display(status);
    let policy_name = display(policy_name);
    let document = document.map(display);
    let document = document.as_deref();
    let mut out = String::new();
    let Some(document) = document else {
        out.push_str(&format!(
            "{role_arn}: no live value left; if the policy is still there, remove it:\n  \
             aws iam delete-role-policy --role-name {} --policy-name {}\n",
            quote(&role_name),
            quote(&policy_name)
        ));
        return out;
    };
    match &*status {
        "failed" => out.push_str(&format!(
            "{role_arn}: IAM refused the policy (see Error). AWS's own fallback ends EVERY \
             session of this role issued before now, other people's too \
             (console: IAM > Roles > {role_name} > Revoke sessions), or:\n  \
             aws iam put-role-policy --role-name {} --policy-name {} --policy-document {}\n",
            quote(&role_name),
            AWS_REVOKE_POLICY_NAME,
            quote(&revoke_older_sessions(now)),
        )),
        "manual" => out.push_str(&format!(
            "{role_arn}: tvm does not write IAM here (no revocation.role_name); run, in the \
             role's account:\n  \
             aws iam put-role-policy --role-name {} --policy-name {} --policy-document {}\n",
            quote(&role_name),
            quote(&policy_name),
            quote(document),
        )),
        _ => out.push_str(&format!("{role_arn}: {status}\n")),
    }
    out.push_str(&format!(
        "  Sessions chained from a revoked one into other roles keep working until they \
         end (each hop lasts up to 1 h, and two roles that trust each other can re-chain \
         indefinitely). To stop them, attach this statement to an organization SCP and \
         keep it until CloudTrail shows no activity under these SourceIdentities:\n  {}\n",
        scp_statement(document)
    ));
    out
}

/// AWS's "Revoke active sessions" policy at `now`.
fn revoke_older_sessions(now: Timestamp) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()}},
        }],
    })
    .to_string()
}
