//! `server.trusted_proxies`: parsed networks, and a floor on how broad one may be.
//!
//! A trusted proxy's `X-Forwarded-For` decides which address rate limits and
//! connection caps are charged to, so trusting "everyone" (`0.0.0.0/0`, `::/0`,
//! or a prefix nearly as broad) lets every peer pick its own address. The floor:
//!
//! - IPv4: `/8` or longer. A /8 is the largest block one organisation has ever
//!   held (the legacy class A allocations) and the size of `10.0.0.0/8`; shorter
//!   prefixes span many unrelated networks.
//! - IPv6: `/16` or longer. A /16 is already 2^112 addresses, far beyond any one
//!   operator: registries give an ISP a /32 and the very largest a /19 or so;
//!   cloud VPCs are /56, Kubernetes pod ranges /48 to /64. Anything shorter is
//!   a sizeable share of the public IPv6 internet (IANA hands registries /12s).
//!   The one exception is unique local space, `fc00::/7` (RFC 4193): never routed
//!   on the internet, it is the counterpart of `10.0.0.0/8`, so `fd00::/8` is
//!   allowed as `10.0.0.0/8` is.
//!
//! Invariant: every network returned is at or above its family's floor; an
//! error names the entry (`server.trusted_proxies[i]`) and repeats its value
//! (a network, never a secret).

use std::net::IpAddr;

use super::{Cidr, ConfigError};

/// Shortest IPv4 prefix a trusted proxy network may have.
pub const MIN_TRUSTED_PREFIX_V4: u8 = 8;

/// Shortest IPv6 prefix a trusted proxy network may have outside unique local
/// space.
pub const MIN_TRUSTED_PREFIX_V6: u8 = 16;

/// Unique local IPv6 space (RFC 4193) is `fc00::/7`: the prefix length, and
/// the mask and value of the first 16 bits.
const UNIQUE_LOCAL_V6: (u8, u16, u16) = (7, 0xfe00, 0xfc00);

/// Parses `server.trusted_proxies`, refusing malformed and too broad networks.
pub(super) fn trusted_proxies(list: &[String]) -> Result<Vec<Cidr>, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(i, net)| {
            let key = format!("server.trusted_proxies[{i}]");
            let cidr = net
                .parse::<Cidr>()
                .map_err(|m| ConfigError::invalid(&key, m))?;
            check_breadth(&cidr).map_err(|m| ConfigError::invalid(&key, m))?;
            Ok(cidr)
        })
        .collect()
}

fn check_breadth(cidr: &Cidr) -> Result<(), String> {
    let (ula_prefix, ula_mask, ula_bits) = UNIQUE_LOCAL_V6;
    let (floor, family) = match cidr.addr() {
        IpAddr::V4(_) => (MIN_TRUSTED_PREFIX_V4, "IPv4"),
        IpAddr::V6(a)
            if cidr.prefix_len() >= ula_prefix && a.segments()[0] & ula_mask == ula_bits =>
        {
            return Ok(())
        }
        IpAddr::V6(_) => (MIN_TRUSTED_PREFIX_V6, "IPv6"),
    };
    if cidr.prefix_len() >= floor {
        return Ok(());
    }
    Err(format!(
        "`{cidr}` is too broad to trust: any peer in it may set X-Forwarded-For and choose \
         the address it is rate limited as; list your proxies' own networks \
         ({family} prefixes must be /{floor} or longer)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(nets: &[&str]) -> Vec<String> {
        nets.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn everyone_and_near_everyone_are_refused() {
        for (bad, at) in [
            (vec!["0.0.0.0/0"], 0),
            (vec!["10.0.0.0/8", "0.0.0.0/1"], 1),
            (vec!["128.0.0.0/1"], 0),
            (vec!["8.0.0.0/7"], 0),
            (vec!["::/0"], 0),
            (vec!["2000::/3"], 0),
            (vec!["2000::/15"], 0),
            (vec!["fc00::/6"], 0),
            (vec!["::/8"], 0),
        ] {
            let err = trusted_proxies(&list(&bad)).expect_err(bad[at]);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("server.trusted_proxies[{at}]")) && msg.contains(bad[at]),
                "{msg}"
            );
            assert!(msg.contains("too broad"), "{msg}");
        }
    }

    #[test]
    fn networks_at_or_above_the_floor_pass() {
        let ok = list(&[
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.0.2.7",
            "2001::/16",
            "2001:db8::/32",
            "fd00::/8",
            "fc00::/7",
            "fd12:3456:789a::/48",
            "::1",
        ]);
        assert_eq!(trusted_proxies(&ok).unwrap().len(), ok.len());
    }
}
