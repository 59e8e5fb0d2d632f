//! The demo account that `tvm dev`, `tvm sim` and `tvm bench` all set up in
//! the STS simulator: its account id, alice (the demo caller, who requests),
//! bob (the demo approver), tvm's own identity, the revoker role tvm writes
//! revocations with (DESIGN §13), and the generator of the
//! simulator-only secrets. What each command does with them (`tvm dev`'s
//! policy and banner, `tvm sim`'s keys file, `tvm bench`'s canned answers)
//! stays in that command's module.
//!
//! Invariants: the demo keys are fixed so the commands `tvm dev` and `tvm sim`
//! print stay valid across runs; they and every [`random_secret`] work nowhere
//! but in this simulator. Nothing here imports a command.

use crate::sts::sim::SimRole;

/// The demo account.
pub const DEMO_ACCOUNT: &str = "111122223333";
/// The demo caller.
pub const DEMO_USER_ARN: &str = "arn:aws:iam::111122223333:user/demo/alice";
/// The demo caller's access key id (simulator only).
pub const DEMO_ACCESS_KEY_ID: &str = "AKIATVMDEMOALICE0001";
/// The demo caller's secret (simulator only).
pub const DEMO_SECRET_ACCESS_KEY: &str = "tvmDemoSecretForAliceValidOnlyInTheSimulator";
/// The demo approver: another person, so he may approve alice's requests.
pub const DEMO_APPROVER_ARN: &str = "arn:aws:iam::111122223333:user/demo/bob";
/// The demo approver's access key id (simulator only).
pub const DEMO_APPROVER_ACCESS_KEY_ID: &str = "AKIATVMDEMOBOB000001";
/// The demo approver's secret (simulator only).
pub const DEMO_APPROVER_SECRET_ACCESS_KEY: &str = "tvmDemoSecretForBobValidOnlyInTheSimulator";
/// tvm's own identity in the simulator: the only principal the demo roles
/// trust, as in a real account. Its key is made fresh each run.
pub const DEMO_SERVICE_ARN: &str = "arn:aws:iam::111122223333:user/tvm-service";

/// The demo revoker role's name (DESIGN §13 `revocation.role_name`).
pub const DEMO_REVOKER_ROLE: &str = "TvmRevoker";
/// The demo revoker role: tvm assumes it (with its `rvk-` SourceIdentity,
/// which the simulator allows on every role) to write the `Deny` inline
/// policies of the account's other roles.
pub const DEMO_REVOKER_ROLE_ARN: &str = "arn:aws:iam::111122223333:role/TvmRevoker";

/// The revoker role as the simulator holds it: trusting `service_arn` (tvm's
/// identity) only, and allowed to write the inline policies of the
/// account's other roles (never its own), as docs/deploy.md's permissions.
pub fn revoker_role(service_arn: &str) -> SimRole {
    SimRole::new(DEMO_REVOKER_ROLE_ARN, vec![service_arn.to_owned()]).with_role_policy_writer()
}

/// 60 hex characters from the OS CSPRNG (simulator-only secrets).
pub fn random_secret() -> String {
    use rand::TryRngCore;
    let mut b = [0u8; 30];
    rand::rngs::OsRng
        .try_fill_bytes(&mut b)
        .expect("operating system random number generator failed");
    hex::encode(b)
}

/// A fresh access key id for tvm's own identity (`AKIATVMSERVICE` and six
/// random characters).
pub fn service_access_key_id() -> String {
    format!("AKIATVMSERVICE{}", &random_secret()[..6].to_uppercase())
}
