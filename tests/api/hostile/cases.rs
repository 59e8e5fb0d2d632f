//! The destination-independent hostile tokens: each a flaw in the prefix,
//! encoding, URL grammar, query, scope, signed headers or time window of an
//! otherwise valid token.

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// `tvm-v1.{nonce}.{b64(url)}` → (nonce, url).
pub(super) fn split(token: &str) -> (String, String) {
    let rest = token.strip_prefix("tvm-v1.").unwrap();
    let (nonce, b64) = rest.split_once('.').unwrap();
    (
        nonce.to_owned(),
        String::from_utf8(URL_SAFE_NO_PAD.decode(b64).unwrap()).unwrap(),
    )
}

pub(super) fn join(nonce: &str, url: &str) -> String {
    format!("tvm-v1.{nonce}.{}", URL_SAFE_NO_PAD.encode(url))
}

pub(super) fn with_url(token: &str, f: impl Fn(&str) -> String) -> String {
    let (nonce, url) = split(token);
    join(&nonce, &f(&url))
}

/// Replaces the value of query parameter `name`.
fn set_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let q: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k == name => format!("{k}={value}"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{base}?{}", q.join("&"))
}

fn drop_param(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let q: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.starts_with(&format!("{name}=")))
        .collect();
    format!("{base}?{}", q.join("&"))
}

fn param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap()
        .to_owned()
}

const PARAMS: [&str; 9] = [
    "Action",
    "Version",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// Cases that need no particular destination: (name, Authorization value, code).
pub(super) fn generic_cases(
    valid: &str,
    mint_at: impl Fn(SystemTime) -> String,
    sso: &str,
) -> Vec<(String, String, &'static str)> {
    let bearer = |t: &str| format!("Bearer {t}");
    let mut cases: Vec<(String, String, &'static str)> = Vec::new();
    let mut add = |name: &str, token: String, code: &'static str| {
        cases.push((name.to_owned(), bearer(&token), code))
    };
    let (nonce, url) = split(valid);
    let b64 = valid.rsplit('.').next().unwrap().to_owned();

    add(
        "wrong prefix",
        valid.replacen("tvm-v1.", "tvm-v2.", 1),
        "INVALID_TOKEN",
    );
    add("no prefix", b64.clone(), "INVALID_TOKEN");
    add(
        "bad base64 character",
        format!("tvm-v1.{nonce}.{}!", &b64),
        "INVALID_TOKEN",
    );
    add(
        "standard base64 alphabet",
        format!(
            "tvm-v1.{nonce}.{}",
            b64.replace('_', "/").replace('-', "+") + "+/"
        ),
        "INVALID_TOKEN",
    );
    add("base64 padding", format!("{valid}=="), "INVALID_TOKEN");
    add(
        "over-size token",
        format!("tvm-v1.{nonce}.{}", "A".repeat(9 * 1024)),
        "INVALID_TOKEN",
    );
    add(
        "non-UTF-8 URL",
        join(&nonce, "") + &URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0xfd]),
        "INVALID_TOKEN",
    );
    add(
        "nonce uppercase hex",
        join(&nonce.to_uppercase(), &url),
        "INVALID_TOKEN",
    );
    add("nonce too short", join(&nonce[..31], &url), "INVALID_TOKEN");
    add("empty token", "tvm-v1.".into(), "INVALID_TOKEN");
    add(
        "CR/LF in URL",
        with_url(valid, |u| u.replacen("?", "?%0d%0aX-Injected: 1\r\n&", 1)),
        "INVALID_TOKEN",
    );
    add(
        "raw CRLF in URL",
        with_url(valid, |u| format!("{u}\r\nHost: evil")),
        "INVALID_TOKEN",
    );
    add(
        "space in URL",
        with_url(valid, |u| u.replacen("Action=", "Action =", 1)),
        "INVALID_TOKEN",
    );
    add(
        "userinfo",
        with_url(valid, |u| u.replacen("://", "://attacker@", 1)),
        "INVALID_TOKEN",
    );
    add(
        "fragment",
        with_url(valid, |u| format!("{u}#frag")),
        "INVALID_TOKEN",
    );
    add(
        "path /x",
        with_url(valid, |u| u.replacen("/?", "/x?", 1)),
        "INVALID_TOKEN",
    );
    add(
        "path //",
        with_url(valid, |u| u.replacen("/?", "//?", 1)),
        "INVALID_TOKEN",
    );
    add(
        "path /%2e%2e/",
        with_url(valid, |u| u.replacen("/?", "/%2e%2e/?", 1)),
        "INVALID_TOKEN",
    );
    add(
        "no query",
        with_url(valid, |u| u.split('?').next().unwrap().to_owned()),
        "INVALID_TOKEN",
    );
    add(
        "Action=AssumeRole",
        with_url(valid, |u| set_param(u, "Action", "AssumeRole")),
        "INVALID_TOKEN",
    );
    add(
        "Action=GetSessionToken",
        with_url(valid, |u| set_param(u, "Action", "GetSessionToken")),
        "INVALID_TOKEN",
    );
    add(
        "Action=getcalleridentity",
        with_url(valid, |u| set_param(u, "Action", "getcalleridentity")),
        "INVALID_TOKEN",
    );
    add(
        "missing Version",
        with_url(valid, |u| drop_param(u, "Version")),
        "INVALID_TOKEN",
    );
    add(
        "wrong Version",
        with_url(valid, |u| set_param(u, "Version", "2011-06-16")),
        "INVALID_TOKEN",
    );
    add(
        "unknown parameter",
        with_url(valid, |u| {
            format!("{u}&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx")
        }),
        "INVALID_TOKEN",
    );
    add(
        "bad percent-encoding",
        with_url(valid, |u| format!("{u}%zz")),
        "INVALID_TOKEN",
    );
    for p in [
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Algorithm",
        "X-Amz-SignedHeaders",
        "X-Amz-Expires",
        "Action",
    ] {
        add(
            &format!("missing {p}"),
            with_url(valid, |u| drop_param(u, p)),
            "INVALID_TOKEN",
        );
    }
    for p in PARAMS {
        // The security token only exists for session credentials.
        let source = if p == "X-Amz-Security-Token" {
            sso
        } else {
            valid
        };
        let (n, u) = split(source);
        let v = param(&u, p);
        add(
            &format!("duplicate {p}"),
            join(&n, &format!("{u}&{p}={v}")),
            "INVALID_TOKEN",
        );
        add(
            &format!("case-variant duplicate {p}"),
            join(&n, &format!("{u}&{}={v}", p.to_lowercase())),
            "INVALID_TOKEN",
        );
    }
    add(
        "algorithm SHA512",
        with_url(valid, |u| {
            set_param(u, "X-Amz-Algorithm", "AWS4-HMAC-SHA512")
        }),
        "INVALID_TOKEN",
    );
    let cred = param(&url, "X-Amz-Credential");
    add(
        "scope service s3",
        with_url(valid, |u| {
            set_param(
                u,
                "X-Amz-Credential",
                &cred.replace("%2Fsts%2F", "%2Fs3%2F"),
            )
        }),
        "INVALID_TOKEN",
    );
    add(
        "scope terminator",
        with_url(valid, |u| {
            set_param(
                u,
                "X-Amz-Credential",
                &cred.replace("aws4_request", "aws4_requesx"),
            )
        }),
        "INVALID_TOKEN",
    );
    add(
        "scope date != X-Amz-Date",
        with_url(valid, |u| {
            set_param(u, "X-Amz-Credential", &cred.replace("%2F20", "%2F19"))
        }),
        "INVALID_TOKEN",
    );
    for (name, sh) in [
        (
            "SignedHeaders without audience",
            "host%3Bx-tvm-body-sha256%3Bx-tvm-nonce",
        ),
        (
            "SignedHeaders without body hash",
            "host%3Bx-tvm-audience%3Bx-tvm-nonce",
        ),
        (
            "SignedHeaders without nonce",
            "host%3Bx-tvm-audience%3Bx-tvm-body-sha256",
        ),
        (
            "SignedHeaders without host",
            "x-tvm-audience%3Bx-tvm-body-sha256%3Bx-tvm-nonce",
        ),
        (
            "SignedHeaders with an extra header",
            "host%3Bx-amz-date%3Bx-tvm-audience%3Bx-tvm-body-sha256%3Bx-tvm-nonce",
        ),
        ("SignedHeaders of an EKS token", "host%3Bx-k8s-aws-id"),
    ] {
        add(
            name,
            with_url(valid, |u| set_param(u, "X-Amz-SignedHeaders", sh)),
            "INVALID_TOKEN",
        );
    }
    add(
        "X-Amz-Date stale",
        mint_at(SystemTime::now() - Duration::from_secs(600)),
        "TOKEN_EXPIRED",
    );
    add(
        "X-Amz-Date in the future",
        mint_at(SystemTime::now() + Duration::from_secs(600)),
        "INVALID_TOKEN",
    );
    add(
        "X-Amz-Date malformed",
        with_url(valid, |u| {
            set_param(u, "X-Amz-Date", "2026-11-29T16%3A00%3A00Z")
        }),
        "INVALID_TOKEN",
    );
    for (name, v) in [
        ("Expires 0", "0"),
        ("Expires negative", "-60"),
        ("Expires 901", "901"),
        ("Expires non-numeric", "sixty"),
        ("Expires +60", "%2B60"),
    ] {
        add(
            name,
            with_url(valid, |u| set_param(u, "X-Amz-Expires", v)),
            "INVALID_TOKEN",
        );
    }
    add(
        "signature not hex",
        with_url(valid, |u| set_param(u, "X-Amz-Signature", &"z".repeat(64))),
        "INVALID_TOKEN",
    );
    add(
        "signature uppercase",
        with_url(valid, |u| {
            let s = param(u, "X-Amz-Signature").to_uppercase();
            set_param(u, "X-Amz-Signature", &s)
        }),
        "INVALID_TOKEN",
    );
    cases
}
