//! Unit tests of ARN parsing: every caller form, malformed ARNs, properties.

use super::*;
use proptest::prelude::*;

fn parse(s: &str) -> Result<CallerArn, ArnError> {
    s.parse()
}

#[test]
fn iam_user_with_and_without_path() {
    let a = parse("arn:aws:iam::111122223333:user/alice").unwrap();
    assert_eq!(a.principal_type(), PrincipalType::User);
    assert_eq!(a.username(), "alice");
    assert_eq!(
        a.canonical_principal(),
        "arn:aws:iam::111122223333:user/alice"
    );
    let a = parse("arn:aws:iam::111122223333:user/eng/platform/alice").unwrap();
    assert_eq!(a.username(), "alice");
    assert_eq!(a.user_name(), Some("alice"));
    assert_eq!(a.account().as_str(), "111122223333");
}

#[test]
fn assumed_role_and_sso() {
    let a = parse("arn:aws:sts::111122223333:assumed-role/Deploy/ci-run-42").unwrap();
    assert_eq!(a.principal_type(), PrincipalType::AssumedRole);
    assert_eq!(a.username(), "ci-run-42");
    assert_eq!(a.role_name(), Some("Deploy"));
    assert_eq!(
        a.canonical_principal(),
        "arn:aws:iam::111122223333:role/Deploy"
    );
    let sso = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com";
    let a = parse(sso).unwrap();
    assert_eq!(a.username(), "alice@example.com");
    assert_eq!(a.session_name(), Some("alice@example.com"));
    assert_eq!(
        a.canonical_principal(),
        "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef"
    );
}

#[test]
fn federated_user_and_root() {
    let a = parse("arn:aws:sts::111122223333:federated-user/bob").unwrap();
    assert_eq!(a.principal_type(), PrincipalType::FederatedUser);
    assert_eq!(a.username(), "bob");
    assert_eq!(a.canonical_principal(), a.as_str());
    let a = parse("arn:aws:iam::111122223333:root").unwrap();
    assert_eq!(a.principal_type(), PrincipalType::Root);
    assert_eq!(a.username(), "root");
}

#[test]
fn partitions() {
    for (p, want) in [
        ("aws", Partition::Aws),
        ("aws-cn", Partition::AwsCn),
        ("aws-us-gov", Partition::AwsUsGov),
    ] {
        let a = parse(&format!("arn:{p}:sts::111122223333:assumed-role/R/s1")).unwrap();
        assert_eq!(a.partition(), want);
        assert_eq!(
            a.canonical_principal(),
            format!("arn:{p}:iam::111122223333:role/R")
        );
    }
}

#[test]
fn malformed_arns_are_refused() {
    let cases: &[(&str, ArnError)] = &[
        ("", ArnError::Shape),
        ("arn:aws:iam::111122223333", ArnError::Shape),
        ("arn:aws:iam:111122223333:user/alice", ArnError::Shape),
        ("urn:aws:iam::111122223333:user/alice", ArnError::Shape),
        ("arn:aws:iam::111122223333:user/alice:x", ArnError::Shape),
        (
            "arn:aws-iso:iam::111122223333:user/alice",
            ArnError::Partition,
        ),
        ("arn:AWS:iam::111122223333:user/alice", ArnError::Partition),
        ("arn:aws:iam::11112222333:user/alice", ArnError::Account),
        ("arn:aws:iam::1111222233334:user/alice", ArnError::Account),
        ("arn:aws:iam::11112222333x:user/alice", ArnError::Account),
        ("arn:aws:iam::+11122223333:user/alice", ArnError::Account),
        ("arn:aws:iam::111122223333:role/alice", ArnError::Kind),
        ("arn:aws:iam::111122223333:group/admins", ArnError::Kind),
        ("arn:aws:s3::111122223333:user/alice", ArnError::Kind),
        ("arn:aws:sts::111122223333:user/alice", ArnError::Kind),
        ("arn:aws:sts::111122223333:root", ArnError::Kind),
        (
            "arn:aws:iam:us-east-1:111122223333:user/alice",
            ArnError::Region,
        ),
        (
            "arn:aws:iam::111122223333:user/",
            ArnError::Name("user name"),
        ),
        (
            "arn:aws:iam::111122223333:user/al ice",
            ArnError::Name("user name"),
        ),
        (
            "arn:aws:iam::111122223333:user//alice",
            ArnError::Name("path"),
        ),
        ("arn:aws:sts::111122223333:assumed-role/R", ArnError::Shape),
        (
            "arn:aws:sts::111122223333:assumed-role//sess",
            ArnError::Name("role name"),
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/R/",
            ArnError::Name("session name"),
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/R/s",
            ArnError::Name("session name"),
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/R/a/b",
            ArnError::Name("session name"),
        ),
        (
            "arn:aws:sts::111122223333:federated-user/",
            ArnError::Name("federated user name"),
        ),
        (
            "arn:aws:sts::111122223333:federated-user/b\u{e9}b",
            ArnError::Name("federated user name"),
        ),
    ];
    for (arn, want) in cases {
        assert_eq!(parse(arn).as_ref().err(), Some(want), "{arn}");
    }
    assert_eq!(parse(&"a".repeat(3000)).err(), Some(ArnError::TooLong));
}

proptest! {
    #[test]
    fn parse_never_panics(s in ".{0,200}") {
        let _ = parse(&s);
    }

    #[test]
    fn accepted_arns_reserialise_to_themselves(
        s in "arn:(aws|aws-cn|aws-us-gov|x):(iam|sts|s3):(|us-east-1):[0-9]{11,13}:(user/[a-z/]{0,8}[a-z@.]{0,6}|root|assumed-role/[A-Za-z_]{0,5}/[a-z@.]{0,5}|federated-user/[a-z]{0,4})"
    ) {
        if let Ok(a) = parse(&s) {
            prop_assert_eq!(a.to_string(), s.clone());
            let again = parse(&a.to_string()).unwrap();
            prop_assert_eq!(again, a);
        }
    }
}
