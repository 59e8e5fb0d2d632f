//! The steps of one vend after the per-address bucket (DESIGN §1), in order:
//! the body → the caller proof → the caller's buckets → the policy → the
//! grant or break-glass record → the stamps → AssumeRole → the credentials
//! checked → the vend recorded. Each step fills in the decision line
//! (`DecisionLog`) with what it learnt, so the one line a request writes
//! names whatever was known when it ended.
//!
//! Invariants: the body and the duration are checked (pure) before any
//! network call; nothing reaches STS unless the policy allowed it; every field
//! sent to STS is tvm's (the validated profile, stamps built here); an
//! EKS-style token, which binds no body, only serves plain vends.

use super::body::VendBody;
use super::grants::GRANT_ID_TAG;
use super::log::DecisionLog;
use super::outcome::{VendError, Vended};
use super::session::Opening;
use super::vendor::Vendor;
use crate::auth::{RequestContext, VerifiedCaller};
use crate::identity::{Marker, RequestId, RoleSessionName, SourceIdentity};
use crate::ledger::SessionKind;
use crate::policy::{Grant, Outcome, Policy, Rule, TagContext, VendKind, VendRequest};
use crate::sts::AssumeRoleInput;

impl Vendor {
    /// Runs the steps for one `POST /vend`; `log` learns each one's result.
    pub(super) async fn run(
        &self,
        id: &RequestId,
        authorization: Option<&[u8]>,
        ctx: &RequestContext<'_>,
        log: &mut DecisionLog,
    ) -> Result<Vended, VendError> {
        log.client_addr = ctx.client.map(|ip| ip.to_string());
        let body = VendBody::parse(ctx.body)?;
        log.profile = Some(body.profile.clone());
        let caller = self.verify(authorization, ctx).await?;
        log.caller(&caller);
        self.unblocked(&caller).await?;
        if let Err((scope, e)) = self.limit_caller(&caller).await {
            if matches!(e, VendError::RateLimited(_)) {
                log.reason = Some(scope.reason());
            }
            return Err(e);
        }
        let kind = body.kind();
        if kind != VendKind::Plain && !caller.binds_request() {
            return Err(VendError::UnboundToken);
        }
        let policy = self.policy.current();
        let (mut grant, rule) = self.decide(&policy, &caller, &body, log)?;
        let (marker, grant_id) = self.grant(id, &caller, &body, rule, &mut grant).await?;
        let session_kind = session_kind(kind);
        log.kind = Some(session_kind.as_str());
        log.grant_id.clone_from(&grant_id);
        let input = self.stamp(id, &caller, &grant, &marker, grant_id.as_deref(), log)?;
        let source_identity = input.source_identity.clone();
        let pending = self
            .open_session(Opening {
                id,
                caller: &caller,
                policy: &policy,
                grant: &grant,
                rule,
                kind: session_kind,
                grant_id: grant_id.as_deref(),
                input: &input,
                client: log.client_addr.as_deref().unwrap_or_default(),
            })
            .await?;
        let assumed = match self.assume_role(input).await {
            Ok(a) => a,
            Err(e) => {
                self.fail_session(pending.as_ref()).await;
                return Err(e);
            }
        };
        log.sts_request_id = assumed.sts_request_id.clone();
        if let Err(e) = self.check_credentials(&assumed.credentials) {
            self.fail_session(pending.as_ref()).await;
            return Err(e);
        }
        log.issued(&assumed.credentials);
        self.close_session(pending.as_ref(), &assumed.credentials, log)
            .await?;
        self.count_issued(kind);
        Ok(Vended {
            credentials: assumed.credentials,
            source_identity,
            role_arn: grant.profile.role_arn.clone(),
        })
    }

    /// The policy's decision (a pure function of the caller, the request and
    /// now), on the decision line; only an allow goes on, with the rule that
    /// matched.
    fn decide<'p>(
        &self,
        policy: &'p Policy,
        caller: &VerifiedCaller,
        body: &VendBody,
        log: &mut DecisionLog,
    ) -> Result<(Grant, Option<&'p Rule>), VendError> {
        let request = VendRequest {
            profile: &body.profile,
            duration_seconds: body.duration_seconds,
            kind: body.kind(),
        };
        let decision = policy.evaluate(caller, &request, self.clock.now());
        log.decision(&decision);
        let rule = decision.rule.as_ref().and_then(|m| policy.rule(m.index));
        match decision.outcome {
            Outcome::Allow(grant) => Ok((grant, rule)),
            Outcome::Deny => Err(VendError::Denied),
            Outcome::ApprovalRequired => Err(VendError::ApprovalRequired),
            Outcome::InvalidDuration {
                min_seconds,
                max_seconds,
                ..
            } => Err(VendError::BadDuration(format!(
                "duration_seconds must be between {min_seconds} and {max_seconds} for this profile"
            ))),
        }
    }

    /// The AssumeRole input: the profile's role, external id and session
    /// policy; its session tags rendered for this caller (the grant's id in
    /// [`GRANT_ID_TAG`], replacing any tag of that name); and the
    /// SourceIdentity and RoleSessionName stamps, on the decision line.
    fn stamp(
        &self,
        id: &RequestId,
        caller: &VerifiedCaller,
        grant: &Grant,
        marker: &Marker,
        grant_id: Option<&str>,
        log: &mut DecisionLog,
    ) -> Result<AssumeRoleInput, VendError> {
        let profile = &grant.profile;
        let identity = caller.identity();
        let mut tags = profile
            .session_tags(&TagContext::new(identity, &profile.name, id.as_str()))
            .map_err(|e| {
                log.reason = Some("session_tags_invalid");
                tracing::warn!(error = %e, "session tags cannot be rendered for this caller");
                VendError::Denied
            })?;
        if let Some(g) = grant_id {
            tags.retain(|(k, _)| !k.eq_ignore_ascii_case(GRANT_ID_TAG));
            tags.push((GRANT_ID_TAG.to_owned(), g.to_owned()));
        }
        let source_identity = SourceIdentity::new(
            &self.stamp_prefix,
            identity.username(),
            identity.arn().as_str(),
            marker,
            id,
        );
        log.source_identity = Some(source_identity.to_string());
        log.duration_seconds = Some(grant.duration_seconds);
        Ok(AssumeRoleInput {
            role_arn: profile.role_arn.clone(),
            role_session_name: RoleSessionName::new(
                identity.username(),
                identity.arn().as_str(),
                id,
            ),
            source_identity,
            duration_seconds: grant.duration_seconds,
            external_id: profile.external_id.clone(),
            tags,
            transitive_tag_keys: profile.transitive_tag_keys.clone(),
            policy: profile.session_policy.clone(),
        })
    }
}

/// The ledger's name for a vend of this kind.
fn session_kind(kind: VendKind) -> SessionKind {
    match kind {
        VendKind::Plain => SessionKind::Direct,
        VendKind::Approval => SessionKind::Approval,
        VendKind::BreakGlass => SessionKind::BreakGlass,
    }
}
