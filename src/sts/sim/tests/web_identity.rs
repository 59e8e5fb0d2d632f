//! `AssumeRoleWithWebIdentity` through the real SDK: a registered token of a
//! provider the role trusts gets a working session; an unknown token, or a
//! role that does not trust the provider, gets STS's error; the token is never
//! recorded.

use super::*;

const PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
const CI_ROLE: &str = "arn:aws:iam::111122223333:role/CiDeploy";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.ci-token-for-the-test.sig";

#[tokio::test]
async fn web_identity_token_assumes_a_trusting_role() {
    let (sim, handle) = spawn().await;
    sim.add_role(SimRole::new(CI_ROLE, vec![PROVIDER.into()]))
        .unwrap();
    sim.add_web_identity(PROVIDER, TOKEN, "repo:example/app:ref:refs/heads/main")
        .unwrap();
    // Unsigned: any client will do; the token is the proof.
    let anon = alice(&handle);
    let out = anon
        .assume_role_with_web_identity()
        .role_arn(CI_ROLE)
        .role_session_name("gha-run-42")
        .web_identity_token(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.subject_from_web_identity_token(),
        Some("repo:example/app:ref:refs/heads/main")
    );
    assert_eq!(out.provider(), Some("token.actions.githubusercontent.com"));
    let creds = out.credentials().unwrap();
    let who = vended(&handle, creds)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::111122223333:assumed-role/CiDeploy/gha-run-42")
    );

    let wrong = anon
        .assume_role_with_web_identity()
        .role_arn(CI_ROLE)
        .role_session_name("gha-run-42")
        .web_identity_token("not-a-registered-token")
        .send()
        .await;
    assert_eq!(failure(wrong), (400, "InvalidIdentityToken".into()));

    let untrusting = anon
        .assume_role_with_web_identity()
        .role_arn(TVM_ROLE)
        .role_session_name("gha-run-42")
        .web_identity_token(TOKEN)
        .send()
        .await;
    assert_eq!(failure(untrusting), (403, "AccessDenied".into()));

    for call in sim.calls_for("AssumeRoleWithWebIdentity") {
        assert_eq!(call.param("WebIdentityToken"), None);
        assert_eq!(call.param("RoleSessionName"), Some("gha-run-42"));
    }
    assert!(sim
        .add_web_identity("arn:aws:iam::111122223333:role/x", TOKEN, "s")
        .is_err());
}
