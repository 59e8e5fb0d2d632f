//! Who a request comes from: the TCP peer, and the client address behind it
//! when the peer is a trusted proxy (`server.trusted_proxies`).
//!
//! Rule: only when the peer is in a trusted network is `X-Forwarded-For` read.
//! All its headers are joined in order (as RFC 9110 joins repeated fields); the
//! client is the right-most entry that is not itself a trusted proxy — the
//! entries left of it were written by the client and prove nothing. If every
//! entry is a trusted proxy, the left-most one is the client (traffic from
//! inside the trusted network). Fail-closed: when the entry that would be taken
//! is malformed (not an IP, optionally with a port), the request is charged to
//! the peer itself — the proxy's own, shared budget — so garbage can never buy
//! a fresh bucket. PROXY protocol is not supported (use `X-Forwarded-For`).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use crate::config::{canonical_ip, Cidr};

/// Where a request comes from; put on every request by `crate::http::serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    /// The TCP peer (a proxy, or the client itself).
    pub peer: SocketAddr,
    /// The client: the peer, or the address a trusted proxy forwarded.
    pub ip: IpAddr,
    /// The peer is a trusted proxy, so its `X-Forwarded-*` headers are believed.
    pub via_trusted_proxy: bool,
}

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

/// The header read from trusted proxies.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Most `X-Forwarded-For` entries examined, right to left: a proxy chain is a
/// handful of hops; anything longer is charged to the peer.
const MAX_FORWARDED_HOPS: usize = 32;

impl TrustedProxies {
    /// Trusts `networks`.
    pub fn new(networks: Vec<Cidr>) -> Self {
        Self(networks)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The [`ClientAddr`] of a request from `peer` with `headers`.
    pub fn resolve(&self, peer: SocketAddr, headers: &HeaderMap) -> ClientAddr {
        let peer_ip = canonical_ip(peer.ip());
        if !self.contains(peer_ip) {
            return ClientAddr {
                peer,
                ip: peer_ip,
                via_trusted_proxy: false,
            };
        }
        ClientAddr {
            peer,
            ip: self.forwarded_client(headers).unwrap_or(peer_ip),
            via_trusted_proxy: true,
        }
    }

    /// The right-most untrusted `X-Forwarded-For` entry; `None` (charge the
    /// peer) when there is none or it is malformed.
    fn forwarded_client(&self, headers: &HeaderMap) -> Option<IpAddr> {
        // Split the raw bytes: only the entries examined below must be text, so
        // a byte the client put left of the real client cannot decide anything.
        let mut entries = Vec::new();
        for value in headers.get_all(X_FORWARDED_FOR) {
            entries.extend(
                value
                    .as_bytes()
                    .split(|&b| b == b',')
                    .map(<[u8]>::trim_ascii),
            );
        }
        let mut last_trusted = None;
        for entry in entries.iter().rev().take(MAX_FORWARDED_HOPS) {
            let ip = parse_entry(std::str::from_utf8(entry).ok()?)?;
            if !self.contains(ip) {
                return Some(ip);
            }
            last_trusted = Some(ip);
        }
        if entries.len() > MAX_FORWARDED_HOPS {
            return None;
        }
        last_trusted
    }
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:80`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical_ip(ip));
    }
    if let Ok(sa) = entry.parse::<SocketAddr>() {
        return Some(canonical_ip(sa.ip()));
    }
    let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
    inner
        .parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|v6| canonical_ip(IpAddr::V6(v6)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "fd00::/8".parse().unwrap(),
        ])
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(X_FORWARDED_FOR, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn client(peer: &str, xff: &[&str]) -> ClientAddr {
        proxies().resolve(peer.parse().unwrap(), &headers(xff))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let c = client("203.0.113.9:5000", &["198.51.100.1"]);
        assert_eq!(c.ip, ip("203.0.113.9"));
        assert!(!c.via_trusted_proxy);
        assert_eq!(c.peer.port(), 5000);
    }

    #[test]
    fn a_trusted_peer_forwards_the_right_most_untrusted_entry() {
        let c = client("10.0.0.2:1", &["6.6.6.6, 198.51.100.1"]);
        assert_eq!(c.ip, ip("198.51.100.1"));
        assert!(c.via_trusted_proxy);
        // Trusted hops on the right are skipped; forged entries on the left ignored.
        let c = client("10.0.0.2:1", &["6.6.6.6, 198.51.100.1, 10.1.1.1"]);
        assert_eq!(c.ip, ip("198.51.100.1"));
        // Several headers are joined in order.
        let c = client("10.0.0.2:1", &["6.6.6.6", "198.51.100.1", "10.9.9.9"]);
        assert_eq!(c.ip, ip("198.51.100.1"));
        // Ports and brackets, v4-mapped v6.
        assert_eq!(
            client("10.0.0.2:1", &["198.51.100.1:443"]).ip,
            ip("198.51.100.1")
        );
        assert_eq!(
            client("10.0.0.2:1", &["[2001:db8::7]:443"]).ip,
            ip("2001:db8::7")
        );
        assert_eq!(
            client("10.0.0.2:1", &["[2001:db8::7]"]).ip,
            ip("2001:db8::7")
        );
        assert_eq!(
            client("[::ffff:10.0.0.2]:1", &["198.51.100.1"]).ip,
            ip("198.51.100.1")
        );
        assert_eq!(
            client("[fd00::1]:1", &["2001:db8::7"]).ip,
            ip("2001:db8::7")
        );
    }

    #[test]
    fn only_trusted_hops_means_the_left_most_and_none_means_the_peer() {
        assert_eq!(
            client("10.0.0.2:1", &["10.3.3.3, 10.4.4.4"]).ip,
            ip("10.3.3.3")
        );
        let c = client("10.0.0.2:1", &[]);
        assert_eq!(c.ip, ip("10.0.0.2"));
        assert!(c.via_trusted_proxy);
    }

    #[test]
    fn malformed_entries_where_the_client_would_be_taken_charge_the_peer() {
        for xff in [
            &["garbage"][..],
            &["198.51.100.1, not-an-ip"],
            &["198.51.100.1,"],
            &["198.51.100.1, 10.1.1.1, unknown"],
            &["1.2.3.4:99999"],
        ] {
            assert_eq!(client("10.0.0.2:1", xff).ip, ip("10.0.0.2"), "{xff:?}");
        }
        // Garbage left of the real client is never reached.
        assert_eq!(
            client("10.0.0.2:1", &["garbage, 198.51.100.1"]).ip,
            ip("198.51.100.1")
        );
        // A chain longer than any real one is charged to the peer.
        let long = vec!["10.1.1.1"; MAX_FORWARDED_HOPS + 1].join(",");
        assert_eq!(client("10.0.0.2:1", &[&long]).ip, ip("10.0.0.2"));
    }

    #[test]
    fn a_non_ascii_header_charges_the_peer() {
        let mut h = HeaderMap::new();
        h.append(
            X_FORWARDED_FOR,
            HeaderValue::from_bytes(b"198.51.100.1\xff").unwrap(),
        );
        let c = proxies().resolve("10.0.0.2:1".parse().unwrap(), &h);
        assert_eq!(c.ip, ip("10.0.0.2"));
    }

    #[test]
    fn non_ascii_bytes_left_of_the_client_are_never_reached() {
        // The client wrote the left part; the proxy appended the real address.
        // Were the whole header refused, any client could move its requests
        // onto the proxy's own bucket and drain it for everyone charged there.
        for raw in [
            &b"\xff, 198.51.100.1"[..],
            b"\xff\xfe,198.51.100.1, 10.1.1.1",
        ] {
            let mut h = HeaderMap::new();
            h.append(X_FORWARDED_FOR, HeaderValue::from_bytes(raw).unwrap());
            let c = proxies().resolve("10.0.0.2:1".parse().unwrap(), &h);
            assert_eq!(c.ip, ip("198.51.100.1"), "{raw:?}");
        }
        // Also when the client's bytes come in a header of their own.
        let mut h = HeaderMap::new();
        h.append(X_FORWARDED_FOR, HeaderValue::from_bytes(b"\xff").unwrap());
        h.append(X_FORWARDED_FOR, HeaderValue::from_static("198.51.100.1"));
        let c = proxies().resolve("10.0.0.2:1".parse().unwrap(), &h);
        assert_eq!(c.ip, ip("198.51.100.1"));
    }
}
