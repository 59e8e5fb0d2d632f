//! Stamp tests: the documented example, sanitising, truncation tags that keep
//! principals apart, parsing back, and properties over arbitrary names.

use super::*;
use proptest::prelude::*;

const ALICE: &str =
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com";

fn valid_aws_stamp(s: &str) -> bool {
    (2..=MAX_STAMP_LEN).contains(&s.len())
        && s.chars().all(is_iam_name_char)
        && !s.starts_with("aws:")
}

/// The tag a truncated name of `arn` ends with.
fn tag(arn: &str) -> String {
    format!("-{}", &hex::encode(Sha256::digest(arn.as_bytes()))[..8])
}

#[test]
fn documented_example() {
    let id = RequestId::parse("7f3a9c2e4b1d").unwrap();
    let si = SourceIdentity::new(
        &StampPrefix::default(),
        "alice@example.com",
        ALICE,
        &Marker::Direct,
        &id,
    );
    assert_eq!(si.as_str(), "tvm.alice@example.com.direct.7f3a9c2e4b1d");
    let back = SourceIdentity::parse(si.as_str()).unwrap();
    assert_eq!(back.user, "alice@example.com");
    assert_eq!(back.marker, Marker::Direct);
    assert_eq!(back.request_id, id);
    let rsn = RoleSessionName::new("alice@example.com", ALICE, &id);
    assert_eq!(rsn.as_str(), "tvm-alice@example.com-7f3a9c2e4b1d");
}

#[test]
fn long_and_odd_usernames_are_sanitised_and_truncated() {
    let id = RequestId::generate();
    let prefix = StampPrefix::parse("ABCDEFGHIJKLMNOP").unwrap();
    let marker = Marker::parse("apr-0badc0de").unwrap();
    let si = SourceIdentity::new(&prefix, &"x:y ".repeat(40), ALICE, &marker, &id);
    assert_eq!(si.as_str().len(), MAX_STAMP_LEN);
    assert!(valid_aws_stamp(si.as_str()));
    assert!(si.as_str().starts_with("ABCDEFGHIJKLMNOP.x-y-"));
    let rsn = RoleSessionName::new("Jürgen Müller", ALICE, &id);
    assert_eq!(rsn.as_str(), format!("tvm-J-rgen-M-ller-{id}"));
}

#[test]
fn only_a_cut_name_carries_the_tag_of_the_arn() {
    let id = RequestId::parse("7f3a9c2e4b1d").unwrap();
    let prefix = StampPrefix::default();
    // tvm.{user}.direct.{12}: 64 - 3 - 6 - 12 - 3 = 40 characters for the user.
    let room = MAX_STAMP_LEN - "tvm...direct".len() - REQUEST_ID_HEX_LEN;
    let fits = "a".repeat(room);
    let si = SourceIdentity::new(&prefix, &fits, ALICE, &Marker::Direct, &id);
    assert_eq!(si.as_str(), format!("tvm.{fits}.direct.{id}"));
    let cut = "a".repeat(room + 1);
    let si = SourceIdentity::new(&prefix, &cut, ALICE, &Marker::Direct, &id);
    let user = format!("{}{}", "a".repeat(room - TRUNCATION_TAG_LEN), tag(ALICE));
    assert_eq!(si.as_str(), format!("tvm.{user}.direct.{id}"));
    assert_eq!(si.as_str().len(), MAX_STAMP_LEN);
    assert_eq!(SourceIdentity::parse(si.as_str()).unwrap().user, user);
    // RoleSessionName: tvm-{user}-{12}: 47 characters for the user.
    let room = MAX_STAMP_LEN - "tvm--".len() - REQUEST_ID_HEX_LEN;
    let rsn = RoleSessionName::new(&"b".repeat(room), ALICE, &id);
    assert_eq!(rsn.as_str(), format!("tvm-{}-{id}", "b".repeat(room)));
    let rsn = RoleSessionName::new(&"b".repeat(room + 1), ALICE, &id);
    assert_eq!(
        rsn.as_str(),
        format!(
            "tvm-{}{}-{id}",
            "b".repeat(room - TRUNCATION_TAG_LEN),
            tag(ALICE)
        )
    );
}

#[test]
fn same_long_name_in_two_roles_gets_two_stamps() {
    let id = RequestId::generate();
    let name = format!("{}@example.com", "firstname.middlename.lastname".repeat(2));
    let a = format!("arn:aws:sts::111122223333:assumed-role/Admin/{name}");
    let b = format!("arn:aws:sts::111122223333:assumed-role/ReadOnly/{name}");
    let prefix = StampPrefix::default();
    let sa = SourceIdentity::new(&prefix, &name, &a, &Marker::Direct, &id);
    let sb = SourceIdentity::new(&prefix, &name, &b, &Marker::Direct, &id);
    assert_ne!(sa, sb);
    assert_ne!(
        RoleSessionName::new(&name, &a, &id),
        RoleSessionName::new(&name, &b, &id)
    );
}

#[test]
fn request_ids_are_fresh_hex() {
    let a = RequestId::generate();
    let b = RequestId::generate();
    assert_ne!(a, b);
    assert!(RequestId::parse(a.as_str()).is_ok());
    assert!(RequestId::parse("7F3A9C2E4B1D").is_err());
    assert!(RequestId::parse("7f3a9c2e4b1").is_err());
}

#[test]
fn bad_components_are_refused() {
    assert!(StampPrefix::parse("").is_err());
    assert!(StampPrefix::parse("a.b").is_err());
    assert!(StampPrefix::parse("ABCDEFGHIJKLMNOPQ").is_err());
    assert!(Marker::parse("Direct").is_err());
    assert!(Marker::parse("0badc0de").is_err());
    assert!(Marker::parse("apr-0BADC0DE").is_err());
    assert!(Marker::parse("bg-0badc0d").is_err());
    assert_eq!(
        Marker::parse("bg-0badc0de").unwrap().as_str(),
        "bg-0badc0de"
    );
    assert_eq!(
        Marker::approval("0123456789abcdef").unwrap(),
        Marker::Approval("apr-01234567".into())
    );
    assert_eq!(
        Marker::break_glass("89abcdef01234567").unwrap(),
        Marker::BreakGlass("bg-89abcdef".into())
    );
    assert!(SourceIdentity::parse("tvm.direct.7f3a9c2e4b1d").is_err());
    assert!(SourceIdentity::parse("tvm..direct.7f3a9c2e4b1d").is_err());
    assert!(SourceIdentity::parse("tvm:alice:direct:7f3a9c2e4b1d").is_err());
}

#[test]
fn no_room_still_gives_a_nonempty_name() {
    for max in 0..=TRUNCATION_TAG_LEN + 1 {
        let user = sanitise_user(&"z".repeat(80), ALICE, max);
        assert!(
            !user.is_empty() && user.len() <= max.max(1),
            "{max}: {user}"
        );
        assert!(user.chars().all(is_iam_name_char) && !user.contains('.'));
    }
}

/// Any caller ARN: the stamp only hashes it, so its shape is free.
fn arn() -> impl Strategy<Value = String> {
    ("[0-9]{12}", "[A-Za-z0-9_+=,.@-]{1,64}", "\\PC{1,64}").prop_map(|(account, role, user)| {
        format!("arn:aws:sts::{account}:assumed-role/{role}/{user}")
    })
}

proptest! {
    #[test]
    fn any_username_gives_a_valid_stamp_that_parses_back(
        user in "\\PC{1,100}",
        arn in arn(),
        prefix in "[A-Za-z0-9]{1,16}",
        approval in proptest::option::of("[0-9a-f]{8}"),
    ) {
        let id = RequestId::generate();
        let prefix = StampPrefix::parse(&prefix).unwrap();
        let marker = approval.map_or(Marker::Direct, |a| Marker::approval(&a).unwrap());
        let si = SourceIdentity::new(&prefix, &user, &arn, &marker, &id);
        prop_assert!(valid_aws_stamp(si.as_str()), "{}", si);
        let back = SourceIdentity::parse(si.as_str()).unwrap();
        prop_assert_eq!(&back.prefix, &prefix);
        prop_assert_eq!(&back.marker, &marker);
        prop_assert_eq!(&back.request_id, &id);
        prop_assert!(!back.user.is_empty());
        let rsn = RoleSessionName::new(&user, &arn, &id);
        prop_assert!(valid_aws_stamp(rsn.as_str()), "{}", rsn);
    }

    /// Two principals whose cleaned usernames share their first 64 characters
    /// (so both are cut, in every stamp) never share a stamp: with the same
    /// prefix, marker and request id, the stamps still differ.
    #[test]
    fn distinct_principals_with_a_long_common_name_get_distinct_stamps(
        common in "[A-Za-z0-9_+=,.@-]{64}",
        tails in ("\\PC{0,20}", "\\PC{0,20}"),
        arns in (arn(), arn()),
        prefix in "[A-Za-z0-9]{1,16}",
        approval in proptest::option::of("[0-9a-f]{8}"),
    ) {
        let (a, b) = arns;
        prop_assume!(a != b);
        let (ua, ub) = (format!("{common}{}", tails.0), format!("{common}{}", tails.1));
        let id = RequestId::generate();
        let prefix = StampPrefix::parse(&prefix).unwrap();
        let marker = approval.map_or(Marker::Direct, |a| Marker::approval(&a).unwrap());
        let sa = SourceIdentity::new(&prefix, &ua, &a, &marker, &id);
        let sb = SourceIdentity::new(&prefix, &ub, &b, &marker, &id);
        prop_assert_ne!(&sa, &sb);
        for s in [&sa, &sb] {
            prop_assert!(valid_aws_stamp(s.as_str()), "{}", s);
            let back = SourceIdentity::parse(s.as_str()).unwrap();
            prop_assert_eq!(&back.request_id, &id);
            prop_assert_eq!(&back.marker, &marker);
        }
        let (ra, rb) = (RoleSessionName::new(&ua, &a, &id), RoleSessionName::new(&ub, &b, &id));
        prop_assert_ne!(&ra, &rb);
        prop_assert!(valid_aws_stamp(ra.as_str()) && valid_aws_stamp(rb.as_str()));
    }
}

/// DESIGN §4/§13: tvm's own session with the revoker role carries
/// `rvk-{8 hex}` (the revocation's id) and parses back from the right.
#[test]
fn revoker_marker_round_trips() {
    let marker = Marker::revoker("c02e42f3a2d43d42").unwrap();
    assert_eq!(marker, Marker::Revoker("rvk-c02e42f3".into()));
    let id = RequestId::parse("a2d43d42a691").unwrap();
    let prefix = StampPrefix::parse("tvm").unwrap();
    let si = SourceIdentity::new(&prefix, "alice@example.com", ALICE, &marker, &id);
    assert_eq!(
        si.as_str(),
        "tvm.alice@example.com.rvk-c02e42f3.a2d43d42a691"
    );
    let back = SourceIdentity::parse(si.as_str()).unwrap();
    assert_eq!(back.marker, marker);
    assert_eq!(back.request_id, id);
    for bad in [
        "rvk-",
        "rvk-c02e42f",
        "rvk-C02E42F3",
        "rvk-c02e42f3a",
        "rvk_c02e42f3",
    ] {
        assert!(Marker::parse(bad).is_err(), "{bad}");
    }
}
