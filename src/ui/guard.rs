//! The web page's defences, as pure functions: where it may be served, the
//! response headers every page carries, the `next` grammar, secrets (login
//! codes, session ids, the login-form nonce) and their digests at rest, CSRF
//! tokens, and the two cookies.
//!
//! Invariants: a secret leaves this module only as the value handed to its
//! owner (the link, the cookie) and is stored only as its SHA-256; every
//! comparison of a secret is constant-time; a CSRF token is derived from the
//! session id, so a token from another session never matches and the token
//! itself reveals nothing about the id.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::web::{ClientAddr, ListenerInfo};

/// The session cookie (DESIGN §12). The `__Host-` prefix makes browsers refuse
/// it unless `Secure`, `Path=/` and without `Domain`: no sibling host can set
/// or shadow it.
pub const SESSION_COOKIE: &str = "__Host-tvm-session";

/// The cookie the sign-in form echoes (login CSRF defence).
pub const LOGIN_COOKIE: &str = "__Host-tvm-login";

/// The Content-Security-Policy of every page: nothing but tvm's own
/// stylesheet, no script at all, forms only to tvm, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Length of a secret (login code, session id, login nonce) in bytes: 128 bits.
const SECRET_BYTES: usize = 16;

/// A fresh secret from the OS CSPRNG, as 32 lowercase hex.
pub(crate) fn new_secret() -> String {
    use rand::TryRngCore;
    let mut b = [0u8; SECRET_BYTES];
    rand::rngs::OsRng
        .try_fill_bytes(&mut b)
        .expect("operating system random number generator failed");
    hex::encode(b)
}

/// Whether `s` has the shape of a secret (32 lowercase hex).
pub(crate) fn is_secret(s: &str) -> bool {
    s.len() == SECRET_BYTES * 2 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What is stored for a secret: hex SHA-256 under a purpose label, so a
/// database reader holds nothing usable and a digest of one kind never
/// matches another kind.
pub(crate) fn digest(purpose: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"tvm-ui-v1\0");
    h.update(purpose.as_bytes());
    h.update(b"\0");
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// The CSRF token of the session `session_id`.
pub fn csrf_token(session_id: &str) -> String {
    digest("csrf", session_id)
}

/// Whether `given` is the CSRF token of `session_id` (constant time).
pub(crate) fn csrf_ok(session_id: &str, given: &str) -> bool {
    secrets_equal(&csrf_token(session_id), given)
}

/// Constant-time equality of two secrets (their lengths are not secret).
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether `next` may be redirected to after sign-in: `^/ui/[a-z0-9/]*$`.
pub fn next_ok(next: &str) -> bool {
    next.strip_prefix("/ui/").is_some_and(|rest| {
        rest.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'/'))
    })
}

/// Whether the page may be served on this request: the listener speaks TLS,
/// or a trusted proxy says the client used https (`X-Forwarded-Proto`, its
/// right-most entry being the one that proxy set), or the listener is bound to
/// loopback. Anything unknown is refused.
pub fn transport_ok(
    listener: Option<&ListenerInfo>,
    client: Option<&ClientAddr>,
    headers: &HeaderMap,
) -> bool {
    let Some(listener) = listener else {
        return false;
    };
    if listener.tls || listener.loopback {
        return true;
    }
    client.is_some_and(|c| c.via_trusted_proxy)
        && headers
            .get_all("x-forwarded-proto")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// The value of cookie `name` in the request, if sent once.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v);
    let first = found.next()?;
    // Two cookies of one name: one was planted; trust neither.
    found.next().is_none().then_some(first)
}

/// `Set-Cookie` for a `__Host-` cookie holding `value` for `max_age_secs`.
pub(crate) fn set_cookie(name: &str, value: &str, max_age_secs: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Max-Age={max_age_secs}; Path=/; Secure; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// `Set-Cookie` that removes cookie `name`.
pub(crate) fn clear_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", 0)
}

/// Adds the headers every page carries: CSP, no framing, no referrer, no
/// caching of pages that show who is signed in, no MIME sniffing.
pub(crate) fn page_headers(headers: &mut HeaderMap) {
    for (k, v) in strict_headers() {
        headers.insert(k, HeaderValue::from_static(v));
    }
}

/// Adds those of [`page_headers`] an answer does not set itself (the
/// stylesheet keeps its own `Cache-Control`).
pub(crate) fn fill_page_headers(headers: &mut HeaderMap) {
    for (k, v) in strict_headers() {
        if !headers.contains_key(&k) {
            headers.insert(k, HeaderValue::from_static(v));
        }
    }
}

fn strict_headers() -> [(HeaderName, &'static str); 6] {
    [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    #[test]
    fn next_is_limited_to_ui_paths() {
        for ok in ["/ui/", "/ui/requests/0123456789abcdef", "/ui/a/b/"] {
            assert!(next_ok(ok), "{ok}");
        }
        for bad in [
            "",
            "/",
            "/ui",
            "//evil.example.com/ui/",
            "/ui/../vend",
            "/ui/?x=1",
            "/ui/A",
            "/ui/%2e%2e",
            "https://evil.example.com/ui/",
            "/ui/\\evil",
            "/ui/x y",
            "/uix/",
        ] {
            assert!(!next_ok(bad), "{bad}");
        }
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let (a, b) = (new_secret(), new_secret());
        assert!(is_secret(&a) && a != b);
        assert!(csrf_ok(&a, &csrf_token(&a)));
        assert!(!csrf_ok(&a, &csrf_token(&b)));
        assert!(!csrf_ok(&a, ""));
        assert!(!csrf_ok(&a, &a), "the session id itself is not the token");
        assert_ne!(digest("session", &a), digest("code", &a));
        assert_ne!(csrf_token(&a), digest("session", &a));
    }

    fn listener(tls: bool, loopback: bool) -> ListenerInfo {
        ListenerInfo { tls, loopback }
    }

    fn client(trusted: bool) -> ClientAddr {
        let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 1234);
        ClientAddr {
            peer,
            ip: peer.ip(),
            via_trusted_proxy: trusted,
        }
    }

    #[test]
    fn pages_only_over_https_or_on_loopback() {
        let none = HeaderMap::new();
        let mut https = HeaderMap::new();
        https.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let mut spoofed = HeaderMap::new();
        spoofed.insert("x-forwarded-proto", HeaderValue::from_static("https, http"));
        let plain = listener(false, false);
        assert!(transport_ok(Some(&listener(true, false)), None, &none));
        assert!(transport_ok(Some(&listener(false, true)), None, &none));
        assert!(!transport_ok(Some(&plain), Some(&client(false)), &none));
        assert!(!transport_ok(Some(&plain), Some(&client(false)), &https));
        assert!(transport_ok(Some(&plain), Some(&client(true)), &https));
        assert!(!transport_ok(Some(&plain), Some(&client(true)), &spoofed));
        assert!(!transport_ok(Some(&plain), Some(&client(true)), &none));
        assert!(!transport_ok(None, Some(&client(true)), &https));
    }

    #[test]
    fn cookies_are_read_once_and_set_with_the_host_prefix_rules() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-tvm-session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
        h.append(
            header::COOKIE,
            HeaderValue::from_static("__Host-tvm-session=planted"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), None, "two values: neither");
        let set = set_cookie(SESSION_COOKIE, "abc", 3600);
        let set = set.to_str().unwrap();
        for part in [
            "Path=/",
            "Secure",
            "HttpOnly",
            "SameSite=Lax",
            "Max-Age=3600",
        ] {
            assert!(set.contains(part), "{set}");
        }
        assert!(!set.contains("Domain"));
        assert!(clear_cookie(SESSION_COOKIE)
            .to_str()
            .unwrap()
            .contains("Max-Age=0"));
    }

    #[test]
    fn every_page_header_is_strict() {
        let mut h = HeaderMap::new();
        page_headers(&mut h);
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe"));
        assert!(!csp.contains("script-src"));
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
    }
}
