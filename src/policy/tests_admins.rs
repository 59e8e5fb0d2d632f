//! The top-level `admins` of DESIGN §13: matched like a rule's caller
//! conditions, `principals` required, role principals warned about.

use super::*;
use crate::identity::Identity;

fn load(admins: &str) -> Result<Policy, PolicyError> {
    Policy::from_yaml(&format!("version: 1\nprofiles: {{}}\nrules: []\n{admins}"))
}

fn who(arn: &str) -> Identity {
    Identity::from_arn(arn).unwrap()
}

#[test]
fn admins_match_like_a_rule_and_nobody_is_admin_without_them() {
    let p = load(
        r#"admins: {accounts: ["111122223333"], principals: ["arn:aws:iam::111122223333:user/sec/*", "arn:aws:iam::111122223333:role/Responder"]}"#,
    )
    .unwrap();
    assert!(p.is_admin(&who("arn:aws:iam::111122223333:user/sec/carol")));
    assert!(
        p.is_admin(&who(
            "arn:aws:sts::111122223333:assumed-role/Responder/lambda"
        )),
        "a role principal matches its sessions (canonical principal)"
    );
    assert!(!p.is_admin(&who("arn:aws:iam::111122223333:user/dev/alice")));
    assert!(!p.is_admin(&who("arn:aws:iam::999999999999:user/sec/carol")));
    assert_eq!(
        p.admin_warnings().len(),
        1,
        "role principals are warned about"
    );
    let none = load("").unwrap();
    assert!(!none.is_admin(&who("arn:aws:iam::111122223333:user/sec/carol")));
    assert!(none.admin_warnings().is_empty());
}

#[test]
fn admins_must_bind_principals_and_users_alone_do_not_count() {
    let Err(PolicyError::Invalid { path, message }) = load(r#"admins: {users: ["carol"]}"#) else {
        panic!("admins without principals must be refused");
    };
    assert_eq!(path, "admins.principals");
    assert!(message.contains("principals"), "{message}");
    assert!(load("admins: {principals: []}").is_err(), "empty list");
    assert!(
        load("admins: {principals: [\"x\"], extra: 1}").is_err(),
        "unknown key"
    );
    let people = load(r#"admins: {principals: ["arn:aws:iam::111122223333:user/sec/*"]}"#).unwrap();
    assert!(people.admin_warnings().is_empty());
}
