//! The `arn` target's oracle: [`CallerArn::from_str`] and [`Identity::from_arn`]
//! on arbitrary UTF-8.
//!
//! Invariants checked on every input: no panic; the two entry points agree on
//! accept/refuse (and on the error). On an accepted ARN: it re-serialises to
//! exactly the input; it has exactly six `:`-separated fields of printable ASCII;
//! partition and account echo their fields (account is 12 digits); the username
//! is non-empty, uses IAM's name characters and is the field DESIGN §3 names; the
//! canonical principal is the ARN itself (and re-parses to it) for users,
//! federated users and root, and `arn:P:iam::A:role/R` for role sessions.

use std::str::FromStr;

use tvm::identity::{AccountId, CallerArn, Identity, Partition, PrincipalType, MAX_ARN_LEN};

/// Runs the `arn` checks on one input.
pub fn check(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match (CallerArn::from_str(s), Identity::from_arn(s)) {
        (Ok(arn), Ok(identity)) => check_accepted(s, &arn, &identity),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "from_str and from_arn refuse differently");
            assert!(!a.to_string().is_empty());
        }
        (a, b) => panic!(
            "from_str ok={} but from_arn ok={} for {s:?}",
            a.is_ok(),
            b.is_ok()
        ),
    }
}

fn is_iam_name(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

fn check_accepted(s: &str, arn: &CallerArn, identity: &Identity) {
    assert!(s.len() <= MAX_ARN_LEN);
    assert!(s.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{s:?}");
    assert_eq!(arn.as_str(), s);
    assert_eq!(arn.to_string(), s);
    assert_eq!(identity.arn(), arn);

    let fields: Vec<&str> = s.split(':').collect();
    let [prefix, partition, service, region, account, resource] = fields[..] else {
        panic!("accepted ARN without exactly six fields: {s:?}");
    };
    assert_eq!(prefix, "arn");
    assert_eq!(region, "");
    assert_eq!(arn.partition().as_str(), partition);
    assert_eq!(Partition::parse(partition), Some(arn.partition()));
    assert_eq!(identity.partition(), arn.partition());
    assert_eq!(arn.account().as_str(), account);
    assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(AccountId::parse(account).as_ref(), Ok(arn.account()));
    assert_eq!(identity.account(), arn.account());

    let kind = arn.principal_type();
    assert_eq!(identity.principal_type(), kind);
    assert_eq!(PrincipalType::parse(kind.as_str()), Some(kind));

    let username = identity.username();
    assert_eq!(username, arn.username());
    assert!(!username.is_empty() && is_iam_name(username), "{s:?}");

    match kind {
        PrincipalType::AssumedRole => {
            assert_eq!(service, "sts");
            let role = arn.role_name().expect("role session without role name");
            let session = arn.session_name().expect("role session without session");
            assert_eq!(resource, format!("assumed-role/{role}/{session}"));
            assert_eq!(session, username);
            assert!((1..=64).contains(&role.len()) && is_iam_name(role));
            assert!((2..=64).contains(&session.len()));
            assert_eq!(arn.user_name(), None);
            let want = format!("arn:{partition}:iam::{account}:role/{role}");
            assert_eq!(identity.canonical_principal(), want);
            assert_eq!(arn.canonical_principal(), want);
            // A role ARN is not a caller ARN.
            assert!(CallerArn::from_str(&want).is_err());
        }
        other => {
            assert_eq!((arn.role_name(), arn.session_name()), (None, None));
            match other {
                PrincipalType::User => {
                    assert_eq!(service, "iam");
                    assert!(resource.starts_with("user/"));
                    assert!(resource.ends_with(&format!("/{username}")));
                    assert!(!resource.contains("//"));
                    assert_eq!(arn.user_name(), Some(username));
                    assert!(username.len() <= 64);
                }
                PrincipalType::FederatedUser => {
                    assert_eq!(service, "sts");
                    assert_eq!(resource, format!("federated-user/{username}"));
                    assert_eq!(arn.user_name(), Some(username));
                    assert!((2..=32).contains(&username.len()));
                }
                PrincipalType::Root => {
                    assert_eq!((service, resource, username), ("iam", "root", "root"));
                    assert_eq!(arn.user_name(), None);
                }
                PrincipalType::AssumedRole => unreachable!(),
            }
            // The canonical principal is the ARN itself and parses back to it.
            assert_eq!(identity.canonical_principal(), s);
            let again = Identity::from_arn(identity.canonical_principal())
                .expect("canonical principal does not parse");
            assert_eq!(&again, identity);
        }
    }
}
