//! The simulated STS actions: `GetCallerIdentity`, `GetAccessKeyInfo` and
//! `AssumeRole` for an
//! already authenticated caller, and the unsigned `AssumeRoleWithWebIdentity`
//! for a registered web identity token (authorization and session issuing).
//!
//! Invariants: `AssumeRole` issues credentials only for a registered role whose
//! trust admits the caller, with the role's external id if it requires one
//! (compared in constant time), within the role's `MaxSessionDuration` and
//! within one hour when chaining from a role session; a SourceIdentity set on
//! the caller's session is carried over and cannot be changed (AWS's rule);
//! `AssumeRoleWithWebIdentity` issues only for a token registered with the
//! simulator (compared in constant time) whose provider the role trusts.

use jiff::Timestamp;
use subtle::ConstantTimeEq as _;

use super::rules::AssumeRoleRequest;
use super::store::{
    random_id, random_secret, random_session_token, KeyEntry, Principal, RoleEntry, Session, Store,
};
use super::xml::{self, echo, AssumeRoleDoc, Format, StsFault};
use crate::sts::Credentials;

/// Longest session a role session may get by assuming another role (AWS's
/// role-chaining limit, whatever the role's `MaxSessionDuration`).
pub(crate) const ROLE_CHAINING_MAX_DURATION: u32 = 3600;

/// The `GetCallerIdentity` document for `caller`.
pub(crate) fn get_caller_identity(caller: &Principal, request_id: &str, format: Format) -> String {
    xml::get_caller_identity(
        &caller.arn(),
        &caller.user_id(),
        caller.account(),
        request_id,
        format,
    )
}

/// `GetAccessKeyInfo`: the account of a key the simulator knows (AWS decodes
/// it from any key id; the simulator's ids are random, so an unknown one is
/// a `ValidationError`). The key need not be the caller's, as in AWS.
pub(crate) fn get_access_key_info(
    store: &Store,
    params: &super::params::Params,
    request_id: &str,
    format: Format,
) -> Result<String, StsFault> {
    let key = params.get("AccessKeyId").unwrap_or_default();
    if !(16..=128).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(StsFault::validation(format!(
            "1 validation error detected: Value '{}' at 'accessKeyId' failed to satisfy \
             constraint: Member must have length 16..=128 and match [\\w]+",
            echo(key)
        )));
    }
    let entry = store.keys.get(key).ok_or_else(|| {
        StsFault::validation(format!(
            "The access key {} is not known to the simulator.",
            echo(key)
        ))
    })?;
    Ok(xml::get_access_key_info(
        entry.principal.account(),
        request_id,
        format,
    ))
}

/// What `AssumeRole` issued.
#[derive(Debug)]
pub(crate) struct Issued {
    /// The response document (contains the secret: never log it).
    pub(crate) body: String,
    /// The new credentials (redacted `Debug`).
    pub(crate) credentials: Credentials,
    /// `arn:P:sts::A:assumed-role/R/S`.
    pub(crate) assumed_role_arn: String,
}

fn denied(caller: &Principal, role_arn: &str, action: &str) -> StsFault {
    StsFault::access_denied(format!(
        "User: {} is not authorized to perform: {action} on resource: {}",
        caller.arn(),
        echo(role_arn)
    ))
}

/// Runs `AssumeRole` for `caller`, storing the new session's key.
pub(crate) fn assume_role(
    store: &mut Store,
    caller: &Principal,
    req: &AssumeRoleRequest,
    now: Timestamp,
    request_id: &str,
    format: Format,
) -> Result<Issued, StsFault> {
    if caller.is_root() {
        return Err(StsFault::access_denied(
            "Roles may not be assumed by root accounts.",
        ));
    }
    let role = store
        .roles
        .get(&req.role_arn)
        .filter(|r| r.trusts(caller))
        .ok_or_else(|| denied(caller, &req.role_arn, "sts:AssumeRole"))?
        .clone();
    if let Some(required) = &role.role.external_id {
        let given = req.external_id.as_deref().unwrap_or_default();
        if !bool::from(required.as_bytes().ct_eq(given.as_bytes())) {
            return Err(denied(caller, &req.role_arn, "sts:AssumeRole"));
        }
    }
    if req.duration_seconds > role.role.max_session_duration {
        return Err(StsFault::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let chained = caller.session();
    if chained.is_some() && req.duration_seconds > ROLE_CHAINING_MAX_DURATION {
        return Err(StsFault::validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    let inherited = chained.and_then(|s| s.source_identity.as_deref());
    let source_identity = match (inherited, req.source_identity.as_deref()) {
        (Some(old), Some(new)) if old != new => {
            return Err(denied(caller, &req.role_arn, "sts:SetSourceIdentity"));
        }
        (Some(old), _) => Some(old.to_owned()),
        (None, new) => new.map(str::to_owned),
    };

    issue(store, &role, req, source_identity, now, request_id, |doc| {
        xml::assume_role(doc, format)
    })
}

/// Runs `AssumeRoleWithWebIdentity` (unsigned): `token` must be registered,
/// and the role must trust its provider.
pub(crate) fn assume_role_with_web_identity(
    store: &mut Store,
    req: &AssumeRoleRequest,
    token: &str,
    now: Timestamp,
    request_id: &str,
    format: Format,
) -> Result<Issued, StsFault> {
    let identity = store
        .web_identities
        .iter()
        .fold(None, |found, w| {
            // Every entry is compared, so timing does not tell which matched.
            let matched = w.token.matches(token);
            found.or(matched.then(|| w.clone()))
        })
        .ok_or_else(|| {
            StsFault::new(
                http::StatusCode::BAD_REQUEST,
                "InvalidIdentityToken",
                "The web identity token that was passed could not be validated by AWS.",
            )
        })?;
    let role = store
        .roles
        .get(&req.role_arn)
        .filter(|r| r.role.trusted_principals.contains(&identity.provider_arn))
        .ok_or_else(|| {
            StsFault::access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
        })?
        .clone();
    if req.duration_seconds > role.role.max_session_duration {
        return Err(StsFault::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let provider = identity
        .provider_arn
        .split_once(":oidc-provider/")
        .map_or(identity.provider_arn.as_str(), |(_, issuer)| issuer)
        .to_owned();
    issue(
        store,
        &role,
        req,
        req.source_identity.clone(),
        now,
        request_id,
        |doc| xml::assume_role_with_web_identity(doc, &identity.subject, &provider, format),
    )
}

/// Makes a session of `role` for `req` and stores its key.
fn issue(
    store: &mut Store,
    role: &RoleEntry,
    req: &AssumeRoleRequest,
    source_identity: Option<String>,
    now: Timestamp,
    request_id: &str,
    render: impl FnOnce(&AssumeRoleDoc<'_>) -> String,
) -> Result<Issued, StsFault> {
    let expiration = Timestamp::from_second(now.as_second() + i64::from(req.duration_seconds))
        .map_err(|_| StsFault::validation("DurationSeconds is out of range."))?;
    let session = Session {
        role_arn: role.role.arn.clone(),
        role: role.parsed.clone(),
        role_id: role.role_id.clone(),
        session_name: req.role_session_name.clone(),
        source_identity,
        expiration,
        issued_at: now,
        session_token: random_session_token(),
    };
    let secret = random_secret();
    store.prune(now);
    let access_key_id = loop {
        let candidate = random_id("ASIA", 16);
        if !store.keys.contains_key(&candidate) {
            break candidate;
        }
    };
    let body = render(&AssumeRoleDoc {
        access_key_id: &access_key_id,
        secret_access_key: secret.expose(),
        session_token: session.session_token.expose(),
        expiration,
        assumed_role_arn: &session.assumed_role_arn(),
        assumed_role_id: &session.assumed_role_id(),
        source_identity: session.source_identity.as_deref(),
        request_id,
    });
    let credentials = Credentials {
        access_key_id: access_key_id.clone(),
        secret_access_key: secret.expose().to_owned(),
        session_token: session.session_token.expose().to_owned(),
        expiration,
    };
    let assumed_role_arn = session.assumed_role_arn();
    let entry = KeyEntry {
        secret,
        principal: Principal::Session(session),
    };
    store
        .insert_key(&access_key_id, entry)
        .map_err(|_| StsFault::validation("Access key collision."))?;
    Ok(Issued {
        body,
        credentials,
        assumed_role_arn,
    })
}
