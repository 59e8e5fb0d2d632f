//! The simulator's IAM API 2010-05-08 subset (DESIGN §13): `PutRolePolicy`,
//! `GetRolePolicy`, `DeleteRolePolicy` on the inline policies of registered
//! roles, and the enforcement of their `Deny`s on every signed call made with
//! a session of such a role (STS's `GetCallerIdentity` excepted, as in AWS).
//!
//! Routing: on the simulator's one port, a request whose `Version` is
//! [`IAM_API_VERSION`] is an IAM call; its SigV4 scope must name service
//! `iam` (a request signed for `sts` is refused with `SignatureDoesNotMatch`,
//! see [`super::sigv4`]); answers and errors are IAM's XML in IAM's namespace.
//!
//! Invariants:
//! - only a session of a role marked [`SimRole::writes_role_policies`]
//!   (`TvmRevoker` in the demo account) may call these actions, on roles of
//!   its own partition and account other than its own; anyone else gets 403
//!   `AccessDenied` (checked after parameter validation, before the role is
//!   looked up, so the answer does not tell whether a role exists);
//! - a document is parsed and checked against the subset at `PutRolePolicy`
//!   ([`document`]); one outside it is 400 `MalformedPolicyDocument` and
//!   nothing is stored;
//! - a role's inline policies together stay within
//!   [`MAX_ROLE_POLICIES_SIZE`] as [`document::policy_size`] counts
//!   (replacing a policy counts the new one instead of the old one); over it
//!   is 409 `LimitExceeded` and nothing is stored;
//! - `GetRolePolicy` returns the document exactly as it was put,
//!   percent-encoded as IAM does (RFC 3986);
//! - a missing role or policy is 404 `NoSuchEntity`.
//!
//! [`SimRole::writes_role_policies`]: super::SimRole::writes_role_policies

mod deny;
pub(crate) mod document;
#[cfg(test)]
mod tests;

use http::StatusCode;

use super::params::Params;
use super::store::{Principal, RoleEntry, Session, Store};
use super::xml::{echo, text, StsFault, IAM_XMLNS};

/// IAM's query-protocol API version: the `Version` that routes to IAM.
pub(crate) const IAM_API_VERSION: &str = "2010-05-08";

/// IAM's quota on the size of all of a role's inline policies together, as
/// [`document::policy_size`] counts it.
pub(crate) const MAX_ROLE_POLICIES_SIZE: usize = crate::sts::iam::ROLE_POLICIES_QUOTA;

/// IAM's bound on one `PolicyDocument` parameter (characters).
pub(crate) const MAX_POLICY_DOCUMENT_CHARS: usize = 131_072;

/// [`document::policy_size`], for the HTTP tests' boundary documents.
#[cfg(test)]
pub(crate) fn policy_size_for_tests(document: &str) -> usize {
    document::policy_size(document)
}

/// Whether `session`'s role holds an inline `Deny` matching it.
pub(crate) fn session_denied(store: &Store, session: &Session) -> bool {
    let Some(role) = store.roles.get(&session.role_arn) else {
        return false;
    };
    deny::denies(
        role.policies.values(),
        deny::SessionFacts {
            source_identity: session.source_identity.as_deref(),
            issued_at: session.issued_at,
        },
    )
}

/// The explicit-deny refusal of `action` for `caller`.
pub(crate) fn explicit_deny(caller: &Principal, action: &str) -> StsFault {
    StsFault::access_denied(format!(
        "User: {} is not authorized to perform: {} with an explicit deny in an \
         identity-based policy",
        caller.arn(),
        echo(action)
    ))
}

/// The three actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Put,
    Get,
    Delete,
}

/// Runs the IAM action named in `params` for an authenticated `caller`;
/// errors are in IAM's namespace.
pub(crate) fn act(
    store: &mut Store,
    caller: &Principal,
    params: &Params,
    request_id: &str,
) -> Result<String, StsFault> {
    run(store, caller, params, request_id).map_err(StsFault::in_iam)
}

fn run(
    store: &mut Store,
    caller: &Principal,
    params: &Params,
    request_id: &str,
) -> Result<String, StsFault> {
    let name = params.get("Action").unwrap_or_default();
    let action = match name {
        "PutRolePolicy" => Action::Put,
        "GetRolePolicy" => Action::Get,
        "DeleteRolePolicy" => Action::Delete,
        _ => {
            return Err(StsFault::new(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!(
                    "Could not find operation {} for version {IAM_API_VERSION}",
                    echo(name)
                ),
            ))
        }
    };
    let role_name = name_param(params, "RoleName", 64)?;
    let policy_name = name_param(params, "PolicyName", 128)?;
    let document = match action {
        Action::Put => Some(document_param(params)?),
        Action::Get | Action::Delete => None,
    };
    authorize(store, caller, name, role_name)?;
    let role = find_role(store, caller, role_name)?;
    match action {
        Action::Put => {
            let policy = document::parse(document.unwrap_or_default()).map_err(|message| {
                StsFault::new(StatusCode::BAD_REQUEST, "MalformedPolicyDocument", message)
            })?;
            let size: usize = role
                .policies
                .iter()
                .filter(|(name, _)| name.as_str() != policy_name)
                .map(|(_, p)| document::policy_size(&p.document))
                .sum::<usize>()
                + document::policy_size(&policy.document);
            if size > MAX_ROLE_POLICIES_SIZE {
                return Err(StsFault::new(
                    StatusCode::CONFLICT,
                    "LimitExceeded",
                    format!(
                        "Maximum policy size of {MAX_ROLE_POLICIES_SIZE} bytes exceeded for role {}",
                        role.parsed.name
                    ),
                ));
            }
            role.policies.insert(policy_name.to_owned(), policy);
            Ok(empty_response("PutRolePolicy", request_id))
        }
        Action::Get => {
            let policy = role
                .policies
                .get(policy_name)
                .ok_or_else(|| no_such_policy(policy_name))?;
            Ok(get_response(
                &role.parsed.name,
                policy_name,
                &policy.document,
                request_id,
            ))
        }
        Action::Delete => {
            role.policies
                .remove(policy_name)
                .ok_or_else(|| no_such_policy(policy_name))?;
            Ok(empty_response("DeleteRolePolicy", request_id))
        }
    }
}

/// `RoleName` / `PolicyName`: 1..=`max` of `[\w+=,.@-]`.
fn name_param<'p>(params: &'p Params, field: &str, max: usize) -> Result<&'p str, StsFault> {
    let value = params.get(field).unwrap_or_default();
    let ok = (1..=max).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(value)
    } else {
        Err(StsFault::validation(format!(
            "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length 1..={max}",
            echo(value),
            field[..1].to_ascii_lowercase() + &field[1..]
        )))
    }
}

fn document_param(params: &Params) -> Result<&str, StsFault> {
    let value = params.get("PolicyDocument").unwrap_or_default();
    let len = value.chars().count();
    if (1..=MAX_POLICY_DOCUMENT_CHARS).contains(&len) {
        Ok(value)
    } else {
        Err(StsFault::validation(format!(
            "1 validation error detected: Value at 'policyDocument' failed to satisfy \
             constraint: Member must have length between 1 and {MAX_POLICY_DOCUMENT_CHARS}"
        )))
    }
}

/// Only a policy-writer role's session, on another role of its account.
fn authorize(
    store: &Store,
    caller: &Principal,
    action: &str,
    role_name: &str,
) -> Result<(), StsFault> {
    let writer = caller.session().and_then(|s| {
        store
            .roles
            .get(&s.role_arn)
            .filter(|r| r.role.writes_role_policies)
    });
    let allowed = writer.is_some_and(|w| !w.parsed.name.eq_ignore_ascii_case(role_name));
    if allowed {
        return Ok(());
    }
    Err(StsFault::access_denied(format!(
        "User: {} is not authorized to perform: iam:{action} on resource: role {role_name}",
        caller.arn()
    )))
}

/// The role named `role_name` (compared without case, as IAM names are
/// unique) in the caller's partition and account.
fn find_role<'s>(
    store: &'s mut Store,
    caller: &Principal,
    role_name: &str,
) -> Result<&'s mut RoleEntry, StsFault> {
    let (partition, account) = (caller.partition().to_owned(), caller.account().to_owned());
    store
        .roles
        .values_mut()
        .find(|r| {
            r.parsed.partition == partition
                && r.parsed.account == account
                && r.parsed.name.eq_ignore_ascii_case(role_name)
        })
        .ok_or_else(|| {
            StsFault::new(
                StatusCode::NOT_FOUND,
                "NoSuchEntity",
                format!("The role with name {role_name} cannot be found."),
            )
        })
}

fn no_such_policy(policy_name: &str) -> StsFault {
    StsFault::new(
        StatusCode::NOT_FOUND,
        "NoSuchEntity",
        format!("The role policy with name {policy_name} cannot be found."),
    )
}

fn empty_response(action: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{IAM_XMLNS}\">\n  <ResponseMetadata>\n    \
         <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n",
        text(request_id)
    )
}

fn get_response(role: &str, policy: &str, document: &str, request_id: &str) -> String {
    let mut encoded = String::with_capacity(document.len() * 3);
    crate::sts::aws::form::encode(&mut encoded, document);
    format!(
        "<GetRolePolicyResponse xmlns=\"{IAM_XMLNS}\">\n  <GetRolePolicyResult>\n    \
         <RoleName>{}</RoleName>\n    <PolicyName>{}</PolicyName>\n    \
         <PolicyDocument>{}</PolicyDocument>\n  </GetRolePolicyResult>\n  \
         <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n\
         </GetRolePolicyResponse>\n",
        text(role),
        text(policy),
        encoded,
        text(request_id)
    )
}
