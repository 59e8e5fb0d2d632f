//! Glob tests: a table, and properties against a reference matcher.

use super::*;
use proptest::prelude::*;

/// The obviously-correct definition, character by character. `field` counts
/// the `:` consumed so far; from field `first_folded` on, characters compare
/// ignoring ASCII case (written apart from the matcher: no lowercased copies,
/// no per-field split).
fn reference(pat: &[char], text: &[char], field: usize, first_folded: usize) -> bool {
    let same = |a: char, b: char| {
        if field >= first_folded {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    match pat.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => {
            reference(rest, text, field, first_folded)
                || (!text.is_empty()
                    && text[0] != ':'
                    && reference(pat, &text[1..], field, first_folded))
        }
        Some((&c, rest)) => {
            !text.is_empty()
                && same(c, text[0])
                && reference(
                    rest,
                    &text[1..],
                    field + usize::from(c == ':'),
                    first_folded,
                )
        }
    }
}

fn reference_str(pat: &str, text: &str) -> bool {
    reference_folding(pat, text, usize::MAX)
}

fn reference_folding(pat: &str, text: &str, first_folded: usize) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = text.chars().collect();
    reference(&p, &t, 0, first_folded)
}

fn m(pat: &str, text: &str) -> bool {
    Glob::new(pat).expect("valid pattern").matches(text)
}

fn folded(pat: &str, first_folded: usize, text: &str) -> bool {
    Glob::folding_from(pat, first_folded)
        .expect("valid pattern")
        .matches(text)
}

#[test]
fn table() {
    let sso =
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com";
    let cases: &[(&str, &str, bool)] = &[
        ("*", "", true),
        ("*", "anything", true),
        ("*", "a:b", false),
        ("*:*", "a:b", true),
        ("prod-*", "prod-admin", true),
        ("prod-*", "prod-", true),
        ("prod-*", "dev-admin", false),
        ("*-admin", "prod-admin", true),
        ("p*d*n", "prod-admin", true),
        ("a?c", "abc", false),
        ("a?c", "a?c", true),
        ("*@example.com", "alice@example.com", true),
        ("*@example.com", "alice@example.com.evil", false),
        ("*@example.com", "alice@EXAMPLE.com", false),
        (
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_*/*",
            sso,
            true,
        ),
        (
            "arn:aws:sts::*:assumed-role/AWSReservedSSO_Admin_*/*",
            sso,
            true,
        ),
        ("arn:aws:sts::111122223333:*", sso, true),
        ("arn:*:sts::111122223333:*", sso, true),
        // `*` never spans a field separator.
        ("arn:aws:sts:*:assumed-role/*", sso, false),
        ("arn:aws:*:*", sso, false),
        ("arn:*", sso, false),
        ("arn:aws:sts::11112222333*:*", sso, true),
        (
            "arn:aws:sts::111122223333:assumed-role/*",
            "arn:aws:sts::111122223333:assumed-role/R/x:y",
            false,
        ),
        ("ab**c", "abxxc", true),
        ("a*b*c", "abc", true),
        ("a*b*c", "acb", false),
        ("ünï*", "ünïcode", true),
        ("*é", "café", true),
    ];
    for &(pat, text, want) in cases {
        assert_eq!(m(pat, text), want, "{pat:?} vs {text:?}");
        assert_eq!(
            reference_str(pat, text),
            want,
            "reference {pat:?} vs {text:?}"
        );
    }
}

#[test]
fn folded_fields_ignore_ascii_case_and_the_rest_does_not() {
    let arn = |name: &str| format!("arn:aws:iam::111122223333:user/{name}");
    let cases: &[(&str, usize, &str, bool)] = &[
        // Usernames: folded throughout.
        ("Mallory@example.com", 0, "mallory@example.com", true),
        ("*@EXAMPLE.com", 0, "alice@example.COM", true),
        ("*@example.com", 0, "alice@example.org", false),
        ("ci-*", 0, "CI-7", true),
        ("ünï*", 0, "ÜNÏcode", false), // not ASCII: exact
        ("ünï*", 0, "ünïCODE", true),
        // ARNs: only the resource field (5) is folded.
        (&arn("Alice"), 5, &arn("alice"), true),
        (
            &arn("alice"),
            5,
            "arn:aws:iam::111122223333:USER/ALICE",
            true,
        ),
        (
            "arn:aws:iam::111122223333:user/eng/*",
            5,
            &arn("ENG/bob"),
            true,
        ),
        (
            &arn("alice"),
            5,
            "ARN:aws:iam::111122223333:user/alice",
            false,
        ),
        (
            &arn("alice"),
            5,
            "arn:AWS:iam::111122223333:user/alice",
            false,
        ),
        (
            &arn("alice"),
            5,
            "arn:aws:IAM::111122223333:user/alice",
            false,
        ),
        (
            "arn:aws:sts::*:assumed-role/Admin/*",
            5,
            "arn:aws:sts::111122223333:assumed-role/ADMIN/x",
            true,
        ),
        (
            "arn:aws:sts::*:assumed-role/Admin/*",
            5,
            "arn:aws:sts::111122223333:assumed-role/ADMIN/x:y",
            false,
        ),
        // Case never lets `*` cross a `:`.
        (
            "arn:aws:iam::111122223333:*",
            5,
            "arn:aws:iam::111122223333:user/A:b",
            false,
        ),
    ];
    for &(pat, from, text, want) in cases {
        assert_eq!(
            folded(pat, from, text),
            want,
            "{pat:?} from {from} vs {text:?}"
        );
        assert_eq!(
            reference_folding(pat, text, from),
            want,
            "reference {pat:?} from {from} vs {text:?}"
        );
    }
    // The pattern as written is kept for logs; folded fields read lowercased.
    let g = Glob::folding_from("arn:aws:iam::111122223333:ROOT", 5).unwrap();
    assert_eq!(g.as_str(), "arn:aws:iam::111122223333:ROOT");
    assert_eq!(g.field(5), Some("root"));
    assert_eq!(g.field(1), Some("aws"));
}

#[test]
fn rejects_empty_and_huge() {
    assert!(Glob::new("").is_err());
    assert!(Glob::new(&"a".repeat(MAX_GLOB_LEN + 1)).is_err());
    assert!(Glob::new(&"a".repeat(MAX_GLOB_LEN)).is_ok());
}

#[test]
fn field_accessors() {
    let g = Glob::new("arn:aws:iam::1111**:root").unwrap();
    assert_eq!(g.field_count(), 6);
    assert_eq!(g.field(4), Some("1111*"));
    assert!(!g.field_is_literal(4));
    assert!(g.field_is_literal(5));
    assert!(!g.is_literal());
    assert!(Glob::new("prod-admin").unwrap().is_literal());
}

#[test]
fn pathological_pattern_is_fast() {
    let pat = format!("{}b", "a*".repeat(200));
    let text = "a".repeat(1_000);
    assert!(!m(&pat, &text));
}

fn alphabet() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!['a', 'b', 'A', ':', '*', '/', 'é', 'É']),
        0..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn text_alphabet() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!['a', 'b', 'A', 'B', ':', '/', 'é', 'É', '*']),
        0..16,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #[test]
    fn agrees_with_reference(pat in alphabet(), text in text_alphabet()) {
        prop_assume!(!pat.is_empty());
        prop_assert_eq!(m(&pat, &text), reference_str(&pat, &text));
    }

    #[test]
    fn folding_agrees_with_reference(
        pat in alphabet(),
        text in text_alphabet(),
        from in prop::sample::select(vec![0usize, 1, 2, 5, usize::MAX]),
    ) {
        prop_assume!(!pat.is_empty());
        prop_assert_eq!(folded(&pat, from, &text), reference_folding(&pat, &text, from));
    }

    #[test]
    fn folding_from_zero_is_matching_lowercased_text(pat in alphabet(), text in text_alphabet()) {
        prop_assume!(!pat.is_empty());
        prop_assert_eq!(
            folded(&pat, 0, &text),
            m(&pat.to_ascii_lowercase(), &text.to_ascii_lowercase())
        );
    }

    #[test]
    fn star_never_matches_a_colon(prefix in "[a-z]{0,4}", suffix in "[a-z]{0,4}", mid in "[a-z:]{0,8}") {
        prop_assume!(mid.contains(':'));
        let pat = format!("{prefix}*{suffix}");
        let text = format!("{prefix}{mid}{suffix}");
        prop_assert!(!m(&pat, &text));
    }

    #[test]
    fn literal_matches_only_itself(a in "[a-z:/]{1,10}", b in "[a-z:/]{0,10}") {
        prop_assert!(m(&a, &a));
        prop_assert_eq!(m(&a, &b), a == b);
    }

    #[test]
    fn star_matches_any_colon_free_text(text in "[^:]{0,20}") {
        prop_assert!(m("*", &text));
    }
}
