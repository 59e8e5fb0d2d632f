//! What `tvm dev` demonstrates with the demo account
//! ([`crate::commands::demo`]: alice, who requests, and bob, who approves):
//! the demo roles, the demo policy (a direct profile, a denied one, and one
//! that needs an approval or break-glass), and the banner of ready-to-paste
//! commands.
//!
//! The demo keys are fixed so the printed commands stay valid across runs;
//! they work nowhere but this simulator.

use crate::commands::demo::{
    DEMO_ACCESS_KEY_ID, DEMO_APPROVER_ACCESS_KEY_ID, DEMO_APPROVER_ARN,
    DEMO_APPROVER_SECRET_ACCESS_KEY, DEMO_SECRET_ACCESS_KEY, DEMO_USER_ARN,
};

/// The profile that needs an approval (or break-glass).
pub(super) const DEMO_APPROVAL_PROFILE: &str = "demo-prod";

/// The demo roles (each trusts tvm's identity only).
pub(super) const DEMO_ROLES: [&str; 3] = ["TvmDemoReadOnly", "TvmDemoAdmin", "TvmDemoProd"];

/// The demo policy: the IAM users under /demo/ may have the read-only
/// profile; nobody may have the admin profile; demo-prod needs another demo
/// user's approval, or a break-glass reason (notified); bob is the tvm admin
/// of DESIGN §13 (sees and revokes everyone's sessions).
pub(super) const DEMO_POLICY: &str = r#"version: 1
profiles:
  demo-readonly:
    role_arn: arn:aws:iam::111122223333:role/TvmDemoReadOnly
    max_duration: 1h
    session_tags:
      tvm-user: "{user}"
  demo-admin:
    role_arn: arn:aws:iam::111122223333:role/TvmDemoAdmin
    max_duration: 1h
  demo-prod:
    role_arn: arn:aws:iam::111122223333:role/TvmDemoProd
    max_duration: 1h
admins:
  accounts: ["111122223333"]
  principals: ["arn:aws:iam::111122223333:user/demo/bob"]
rules:
  - name: demo-users-read-only
    effect: allow
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/demo/*"]
    profiles: ["demo-readonly"]
  - name: demo-prod-needs-a-second-person
    effect: require_approval
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/demo/*"]
    profiles: ["demo-prod"]
    approvers:
      accounts: ["111122223333"]
      principals: ["arn:aws:iam::111122223333:user/demo/*"]
    approvals_needed: 1
    grant_duration: 1h
  - name: demo-prod-break-glass
    effect: break_glass
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::111122223333:user/demo/*"]
    profiles: ["demo-prod"]
    reason_min_length: 20
    max_duration: 1h
"#;

/// Prints what runs where and the commands to paste.
pub(super) fn print_banner(api: &str, admin: &str, sim: &str) {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "tvm".into());
    let bob = format!(
        "AWS_ACCESS_KEY_ID={DEMO_APPROVER_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY={DEMO_APPROVER_SECRET_ACCESS_KEY}"
    );
    let p = DEMO_APPROVAL_PROFILE;
    println!(
        r#"
tvm dev is running on loopback (no AWS account involved).
  API            {api}   POST /vend, GET /profiles, /requests, /ui/, GET /.well-known/tvm
  admin          {admin}   /livez /readyz /healthz /metrics
  STS simulator  {sim}

Demo caller: IAM user {DEMO_USER_ARN}
  export AWS_ACCESS_KEY_ID={DEMO_ACCESS_KEY_ID}
  export AWS_SECRET_ACCESS_KEY={DEMO_SECRET_ACCESS_KEY}
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_PROFILE

Then vend credentials for the demo-readonly profile (credential_process JSON):
  {exe} credentials --url {api} --profile demo-readonly

or with curl and a tvm-v1 token bound to the exact body:
  printf '{{"profile":"demo-readonly"}}' > /tmp/tvm-body.json
  curl -s -H "Authorization: Bearer $({exe} token --url {api} --body /tmp/tvm-body.json)" \
       --data-binary @/tmp/tvm-body.json {api}/vend

or run any AWS SDK or CLI with them, refreshed by itself (the vended session
exists only in this simulator, hence AWS_ENDPOINT_URL_STS):
  AWS_ENDPOINT_URL_STS={sim} {exe} exec --url {api} --profile demo-readonly -- \
    python3 -c "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"

An approval round trip: {p} needs a second person; the demo approver is IAM
user {DEMO_APPROVER_ARN}. As pasted, in this shell (bob's
keys only on his lines):
  ID=$({exe} request --url {api} --profile {p} --reason "try the approval flow")
  {bob} {exe} requests --url {api}
  {bob} {exe} approve --url {api} "$ID" --comment "looks fine"
  {exe} credentials --url {api} --profile {p} --approval-id "$ID"

Bob can decide in a browser instead: this signs him in to {api}/ui/
(add --request "$ID" to land on the request):
  {bob} {exe} ui --url {api}

Break-glass on {p} vends at once (SourceIdentity marker bg-…) and is notified to
tvm dev's own webhook receiver, whose lines appear below:
  {exe} credentials --url {api} --profile {p} --reason "prod is down and nobody answers the pager"

Who holds what, and ending it: alice lists her sessions and ends her grant
(or one session: tvm revoke ASIA… --reason …); bob, the demo admin, sees
everyone's, tries a person revocation, and reads the audit trail (revocations
are written to the simulator's IAM with the TvmRevoker role):
  {exe} sessions --url {api}
  {exe} revoke --url {api} --grant "$ID" --reason "done with {p}"
  {bob} {exe} sessions --url {api} --all
  {bob} {exe} revoke --url {api} --principal {DEMO_USER_ARN} --dry-run --reason "laptop stolen"
  {bob} {exe} revocations --url {api}
  {bob} {exe} audit --url {api} --since 1h

Decisions are logged below, one line each (--log-format json for full records).
"#
    );
}
