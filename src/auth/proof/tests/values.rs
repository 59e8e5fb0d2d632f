//! Parameter, scope, value-format and time-window checks, and fuzzing.

use proptest::prelude::*;

use super::*;

#[test]
fn every_parameter_check_has_a_reason() {
    let cases: Vec<(String, &str)> = vec![
        (with_raw(params(), "Foo=bar"), "unknown_param"),
        (with_raw(params(), "X-Amz-Foo=bar"), "unknown_param"),
        (
            with_raw(params(), "Action=GetCallerIdentity"),
            "duplicate_param",
        ),
        (with_raw(params(), "X-Amz-Signature=00"), "duplicate_param"),
        (
            with_raw(params(), "action=GetCallerIdentity"),
            "case_variant_param",
        ),
        (
            with_raw(params(), "X-AMZ-DATE=20240501T120000Z"),
            "case_variant_param",
        ),
        (
            query(&without(params(), "Action")) + "&action=GetCallerIdentity",
            "case_variant_param",
        ),
        (
            query(&without(params(), "X-Amz-Signature")),
            "missing_param",
        ),
        (query(&without(params(), "Version")), "missing_param"),
        (query(&without(params(), "X-Amz-Expires")), "missing_param"),
        (
            query(&set(params(), "Action", "getcalleridentity")),
            "bad_action",
        ),
        (query(&set(params(), "Action", "AssumeRole")), "bad_action"),
        (
            query(&set(params(), "Version", "2011-06-16")),
            "bad_version",
        ),
        (
            query(&set(params(), "X-Amz-Algorithm", "AWS4-HMAC-SHA1")),
            "bad_algorithm",
        ),
        (
            query(&set(params(), "X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256")),
            "bad_algorithm",
        ),
        (
            query(&params()).replace("X-Amz-Date=", "X-Amz-Date=%32"),
            "bad_date",
        ),
        (
            with_raw(without(params(), "Action"), "Action=Get%zz"),
            "bad_percent_encoding",
        ),
        (with_raw(params(), "a=b+c"), "bad_query"),
        (query(&params()) + "&", "bad_query"),
    ];
    for (q, want) in cases {
        let u = format!("{AWS}/?{q}");
        assert_eq!(check(&aws(), &tvm(u.clone()), t0()), want, "{u}");
    }
    // Percent-encoded names decode to the same name (and are re-encoded by us).
    let q = query(&without(params(), "Action")) + "&%41ction=GetCallerIdentity";
    assert_eq!(check(&aws(), &tvm(format!("{AWS}/?{q}")), t0()), "ok");
}

#[test]
fn every_scope_and_header_check_has_a_reason() {
    let cred = |c: &str| url(AWS, &set(params(), "X-Amz-Credential", c));
    let hdrs = |h: &str| url(AWS, &set(params(), "X-Amz-SignedHeaders", h));
    let cases: Vec<(String, &str)> = vec![
        (
            cred(&format!("{AKID}/20240501/us-east-1/iam/aws4_request")),
            "bad_credential",
        ),
        (
            cred(&format!("{AKID}/20240501/us-east-1/sts/aws4_requesT")),
            "bad_credential",
        ),
        (
            cred(&format!("{AKID}/20240501/us-east-1/sts")),
            "bad_credential",
        ),
        (
            cred(&format!("{AKID}/20240501/us-east-1/sts/aws4_request/x")),
            "bad_credential",
        ),
        (
            cred("akiaiosfodnn7example/20240501/us-east-1/sts/aws4_request"),
            "bad_credential",
        ),
        (
            cred("AKIA/20240501/us-east-1/sts/aws4_request"),
            "bad_credential",
        ),
        (
            cred(&format!("{AKID}/2024051/us-east-1/sts/aws4_request")),
            "bad_credential",
        ),
        (
            cred(&format!("{AKID}/20240501/US-EAST-1/sts/aws4_request")),
            "bad_credential",
        ),
        (
            cred(&format!("{AKID}/20240501//sts/aws4_request")),
            "bad_credential",
        ),
        // Not region-shaped (crate::auth::is_region_name), before any host check.
        (
            cred(&format!("{AKID}/20240501/local/sts/aws4_request")),
            "bad_credential",
        ),
        (
            cred(&format!("{AKID}/20240501/us-east/sts/aws4_request")),
            "bad_credential",
        ),
        (
            cred(&format!("{AKID}/20240502/us-east-1/sts/aws4_request")),
            "scope_date_mismatch",
        ),
        (hdrs("host"), "bad_signed_headers"),
        (
            hdrs("host;x-tvm-audience;x-tvm-nonce"),
            "bad_signed_headers",
        ),
        (
            hdrs("host;x-tvm-body-sha256;x-tvm-audience;x-tvm-nonce"),
            "bad_signed_headers",
        ),
        (
            hdrs("host;x-tvm-audience;x-tvm-body-sha256;x-tvm-nonce;x-amz-date"),
            "bad_signed_headers",
        ),
        (
            hdrs("HOST;X-TVM-AUDIENCE;X-TVM-BODY-SHA256;X-TVM-NONCE"),
            "bad_signed_headers",
        ),
        (hdrs(EKS_SIGNED_HEADERS), "bad_signed_headers"),
    ];
    for (u, want) in cases {
        assert_eq!(check(&aws(), &tvm(u.clone()), t0()), want, "{u}");
    }
    let eks = |h: &str| RawToken {
        kind: TokenKind::Eks,
        url: url(AWS, &set(params(), "X-Amz-SignedHeaders", h)),
    };
    assert_eq!(check(&aws(), &eks(EKS_SIGNED_HEADERS), t0()), "ok");
    assert_eq!(
        check(&aws(), &eks(TVM_V1_SIGNED_HEADERS), t0()),
        "bad_signed_headers"
    );
    assert_eq!(check(&aws(), &eks("host"), t0()), "bad_signed_headers");
}

#[test]
fn every_value_format_check_has_a_reason() {
    let v = |name: &'static str, value: &str| url(AWS, &set(params(), name, value));
    let cases: Vec<(String, &str)> = vec![
        (v("X-Amz-Date", "20240501T120000"), "bad_date"),
        (v("X-Amz-Date", "2024-05-01T12:00:00Z"), "bad_date"),
        (v("X-Amz-Date", "20240501t120000z"), "bad_date"),
        (v("X-Amz-Date", "20241301T120000Z"), "bad_date"),
        (v("X-Amz-Date", "20240230T120000Z"), "bad_date"),
        (v("X-Amz-Date", "20240501T246000Z"), "bad_date"),
        (v("X-Amz-Date", "20240501T120060Z"), "bad_date"),
        (v("X-Amz-Date", "20240501T12000Z0"), "bad_date"),
        (v("X-Amz-Expires", "0"), "bad_expires"),
        (v("X-Amz-Expires", "901"), "bad_expires"),
        (v("X-Amz-Expires", "060"), "bad_expires"),
        (v("X-Amz-Expires", "-1"), "bad_expires"),
        (v("X-Amz-Expires", "6e1"), "bad_expires"),
        (v("X-Amz-Expires", ""), "bad_expires"),
        (v("X-Amz-Expires", "1000"), "bad_expires"),
        (v("X-Amz-Expires", "900"), "ok"),
        (v("X-Amz-Signature", &SIG.to_uppercase()), "bad_signature"),
        (v("X-Amz-Signature", &SIG[1..]), "bad_signature"),
        (v("X-Amz-Signature", &format!("{SIG}0")), "bad_signature"),
        (
            v("X-Amz-Signature", &SIG.replace('a', "g")),
            "bad_signature",
        ),
        (v("X-Amz-Security-Token", ""), "bad_security_token"),
    ];
    for (u, want) in cases {
        assert_eq!(check(&aws(), &tvm(u.clone()), t0()), want, "{u}");
    }
}

#[test]
fn the_time_window_is_enforced() {
    let at = |offset_secs: i64, expires: &str| {
        let p = params_at(t0() + SignedDuration::from_secs(offset_secs), "us-east-1");
        tvm(url(AWS, &set(p, "X-Amz-Expires", expires)))
    };
    let cases = [
        (0, "60", "ok"),
        (-60, "60", "ok"),
        (-61, "60", "token_expired"),
        (-240, "300", "ok"),
        (-300, "900", "ok"),
        (-301, "900", "stale_date"),
        (-3600, "900", "stale_date"),
        (300, "60", "ok"),
        (301, "60", "date_in_future"),
        (86_400, "60", "date_in_future"),
    ];
    for (offset, expires, want) in cases {
        assert_eq!(
            check(&aws(), &at(offset, expires), t0()),
            want,
            "{offset} {expires}"
        );
    }
    assert_eq!(parse_amz_date("20240501T120000Z").unwrap(), t0());
}

proptest! {
    #[test]
    fn never_panics_on_any_url(s in ".{0,400}") {
        let _ = validate(&tvm(s.clone()), &aws(), SignedDuration::from_mins(5), t0());
        let _ = validate(&tvm(s), &sim(), SignedDuration::from_mins(5), t0());
    }

    #[test]
    fn never_panics_on_any_query(q in "[A-Za-z0-9%=&._~-]{0,300}") {
        let _ = validate(&tvm(format!("{AWS}/?{q}")), &aws(), SignedDuration::from_mins(5), t0());
    }

    #[test]
    fn never_panics_on_any_value(i in 0usize..8, v in "[!-~]{0,80}") {
        let name = params()[i].0;
        let u = url(AWS, &set(params(), name, &v));
        let _ = validate(&tvm(u), &aws(), SignedDuration::from_mins(5), t0());
    }
}
