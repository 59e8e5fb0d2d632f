//! Where a proof may be sent: the exact STS host allowlist per partition, and the
//! configured verification endpoint.
//!
//! Owns: the region table and the one region-name grammar ([`is_region_name`],
//! also used by the config and the client), [`Allowlist`] (built once from the
//! table), [`Endpoint`].
//!
//! Invariants: the allowlist is a finite set of exact host strings generated from
//! the table below; a token can only *pick* one of its entries, never contribute
//! bytes to where tvm connects. Each entry carries the one region its host serves,
//! which must equal the credential-scope region. `sts.amazonaws.com` serves only
//! `us-east-1`. An [`Endpoint`] is `scheme://host[:port]` and nothing else.

use std::collections::HashMap;
use std::fmt;

use super::url::{parse_url, Scheme, UrlError};
use crate::identity::Partition;

/// Commercial regions with a regional STS endpoint `sts.{region}.amazonaws.com`.
const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Commercial regions that also have `sts-fips.{region}.amazonaws.com`.
const AWS_FIPS_REGIONS: &[&str] = &["us-east-1", "us-east-2", "us-west-1", "us-west-2"];

/// China regions (`sts.{region}.amazonaws.com.cn`).
const AWS_CN_REGIONS: &[&str] = &["cn-north-1", "cn-northwest-1"];

/// GovCloud regions (`sts.{region}.amazonaws.com`; these hosts are FIPS already).
const AWS_US_GOV_REGIONS: &[&str] = &["us-gov-east-1", "us-gov-west-1"];

/// The known regions of a partition.
pub(crate) fn regions(partition: Partition) -> &'static [&'static str] {
    match partition {
        Partition::Aws => AWS_REGIONS,
        Partition::AwsCn => AWS_CN_REGIONS,
        Partition::AwsUsGov => AWS_US_GOV_REGIONS,
    }
}

/// Whether `region` is in the known region table of its partition (`cn-…` is
/// China, `us-gov-…` GovCloud, the rest commercial). `sts.region` must be, unless
/// an endpoint is configured.
pub fn is_known_region(region: &str) -> bool {
    let partition = if region.starts_with("cn-") {
        Partition::AwsCn
    } else if region.starts_with("us-gov-") {
        Partition::AwsUsGov
    } else {
        Partition::Aws
    };
    regions(partition).contains(&region)
}

/// Longest region name accepted anywhere (real ones are about half as long).
pub const MAX_REGION_LEN: usize = 32;

/// Whether `s` has the shape of an AWS region name: `[a-z]{2}(-[a-z]+)+-[0-9]+`,
/// at most [`MAX_REGION_LEN`] bytes, e.g. `us-east-1`, `us-gov-west-1`,
/// `cn-north-1`. Syntax only: whether the region exists is the region table's
/// business. The one check for `sts.region`, credential scopes and the client.
pub fn is_region_name(s: &str) -> bool {
    let lower = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
    let Some((words, number)) = s.rsplit_once('-') else {
        return false;
    };
    let mut words = words.split('-');
    let first_ok = words.next().is_some_and(|w| w.len() == 2 && lower(w));
    let mut more = words.peekable();
    let rest_ok = more.peek().is_some() && more.all(lower);
    s.len() <= MAX_REGION_LEN
        && first_ok
        && rest_ok
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// `sts.{region}.{dns suffix of partition}`, whether or not the region is known.
pub(crate) fn sts_host(partition: Partition, region: &str) -> String {
    let suffix = match partition {
        Partition::AwsCn => "amazonaws.com.cn",
        Partition::Aws | Partition::AwsUsGov => "amazonaws.com",
    };
    format!("sts.{region}.{suffix}")
}

/// The regional STS host of `region` in `partition`, if the region is known.
pub(crate) fn regional_host(partition: Partition, region: &str) -> Option<String> {
    regions(partition)
        .contains(&region)
        .then(|| sts_host(partition, region))
}

/// The exact set of STS hosts accepted for one partition, each with its region.
#[derive(Debug, Clone)]
pub(crate) struct Allowlist {
    hosts: HashMap<String, &'static str>,
}

impl Allowlist {
    /// Builds the list for `partition` from the region table.
    pub(crate) fn for_partition(partition: Partition) -> Self {
        let mut hosts = HashMap::new();
        for &region in regions(partition) {
            if let Some(host) = regional_host(partition, region) {
                hosts.insert(host, region);
            }
        }
        if partition == Partition::Aws {
            hosts.insert("sts.amazonaws.com".to_owned(), "us-east-1");
            for &region in AWS_FIPS_REGIONS {
                hosts.insert(format!("sts-fips.{region}.amazonaws.com"), region);
            }
        }
        Self { hosts }
    }

    /// The allowlisted entry equal to `host`: our own copy of the host string and
    /// the one region it serves.
    pub(crate) fn get(&self, host: &str) -> Option<(&str, &'static str)> {
        self.hosts
            .get_key_value(host)
            .map(|(h, region)| (h.as_str(), *region))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.hosts.len()
    }
}

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The URL failed the strict grammar.
    #[error("invalid endpoint URL: {0}")]
    Url(#[from] UrlError),
    /// An endpoint is `scheme://host[:port]` with an optional `/`, nothing more.
    #[error("endpoint URL must not have a path other than / or a query")]
    PathOrQuery,
}

/// A configured verification endpoint (`auth.sts_endpoint_url`, else
/// `sts.endpoint_url`): the simulator, a VPC endpoint, or a fixed STS host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl Endpoint {
    /// Parses `scheme://host[:port][/]` with the same strict grammar as tokens.
    pub fn parse(url: &str) -> Result<Self, EndpointError> {
        let parsed = parse_url(url)?;
        if !matches!(parsed.path, "" | "/") || parsed.query.is_some() {
            return Err(EndpointError::PathOrQuery);
        }
        Ok(Self {
            scheme: parsed.scheme,
            host: parsed.host.to_owned(),
            port: parsed.effective_port(),
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host name or IPv4 text, lowercase.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The effective port (the scheme default if none was written).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `Host` header a SigV4 signer computes for this endpoint: the host, plus
    /// `:port` only when the port is not the scheme's default.
    pub fn host_header(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `scheme://host[:port]`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme.as_str(), self.host_header())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_is_exact() {
        let aws = Allowlist::for_partition(Partition::Aws);
        assert_eq!(aws.get("sts.amazonaws.com").unwrap().1, "us-east-1");
        assert_eq!(
            aws.get("sts.eu-west-1.amazonaws.com").unwrap().1,
            "eu-west-1"
        );
        assert_eq!(
            aws.get("sts-fips.us-west-2.amazonaws.com").unwrap().1,
            "us-west-2"
        );
        assert_eq!(aws.len(), AWS_REGIONS.len() + 1 + AWS_FIPS_REGIONS.len());
        for bad in [
            "sts-fips.eu-west-1.amazonaws.com",
            "sts.xx-fake-1.amazonaws.com",
            "sts.cn-north-1.amazonaws.com.cn",
            "sts.us-gov-west-1.amazonaws.com",
            "sts.amazonaws.com.evil.com",
            "evil.sts.amazonaws.com",
            "sts.us-east-1.amazonaws.com.",
            "",
        ] {
            assert!(aws.get(bad).is_none(), "{bad}");
        }
        let cn = Allowlist::for_partition(Partition::AwsCn);
        assert_eq!(
            cn.get("sts.cn-north-1.amazonaws.com.cn").unwrap().1,
            "cn-north-1"
        );
        assert!(cn.get("sts.amazonaws.com").is_none());
        assert_eq!(cn.len(), 2);
        let gov = Allowlist::for_partition(Partition::AwsUsGov);
        assert_eq!(
            gov.get("sts.us-gov-east-1.amazonaws.com").unwrap().1,
            "us-gov-east-1"
        );
        assert!(gov.get("sts.us-east-1.amazonaws.com").is_none());
        assert_eq!(gov.len(), 2);
    }

    #[test]
    fn regional_hosts() {
        assert_eq!(
            regional_host(Partition::Aws, "us-east-1").as_deref(),
            Some("sts.us-east-1.amazonaws.com")
        );
        assert_eq!(
            regional_host(Partition::AwsCn, "cn-northwest-1").as_deref(),
            Some("sts.cn-northwest-1.amazonaws.com.cn")
        );
        assert_eq!(regional_host(Partition::Aws, "cn-north-1"), None);
    }

    /// The grammar `sts.region` had before it was shared, kept as the reference.
    fn old_config_is_region(s: &str) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        parts.len() >= 3
            && parts[0].len() == 2
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty()
    }

    #[test]
    fn region_names() {
        for p in [Partition::Aws, Partition::AwsCn, Partition::AwsUsGov] {
            for r in regions(p) {
                assert!(is_region_name(r), "{r}");
            }
        }
        for ok in ["us-iso-east-1", "eu-isoe-west-1", "ab-c-10"] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-1",
            "useast-1",
            "u-east-1",
            "us-east",
            "us-east-",
            "-us-east-1",
            "us--east-1",
            "US-EAST-1",
            "us-east-1a",
            "us_east_1",
            "us-east-1-",
            "moon-1",
            "us-east-1 ",
            "us-ëast-1",
            "local",
            "us-east-x1",
        ] {
            assert!(!is_region_name(bad), "{bad:?}");
        }
        let long = format!("us-{}-1", "a".repeat(MAX_REGION_LEN - 5));
        assert_eq!(long.len(), MAX_REGION_LEN);
        assert!(is_region_name(&long));
        assert!(!is_region_name(&format!(
            "us-{}-1",
            "a".repeat(MAX_REGION_LEN - 4)
        )));
    }

    proptest::proptest! {
        /// Exactly the old `sts.region` grammar, plus the length cap the token
        /// and client checks had.
        #[test]
        fn region_names_match_the_old_config_grammar(s in "[a-z0-9A-Z_-]{0,40}") {
            proptest::prop_assert_eq!(
                is_region_name(&s),
                old_config_is_region(&s) && s.len() <= MAX_REGION_LEN
            );
        }

        #[test]
        fn region_shaped_names(s in "[a-z]{1,3}(-[a-z]{0,4}){0,3}-[0-9]{0,3}") {
            proptest::prop_assert_eq!(
                is_region_name(&s),
                old_config_is_region(&s) && s.len() <= MAX_REGION_LEN
            );
        }
    }

    #[test]
    fn endpoints_parse_strictly() {
        let e = Endpoint::parse("http://127.0.0.1:4599").unwrap();
        assert_eq!(
            (e.scheme(), e.host(), e.port()),
            (Scheme::Http, "127.0.0.1", 4599)
        );
        assert_eq!(e.host_header(), "127.0.0.1:4599");
        assert_eq!(e.base_url(), "http://127.0.0.1:4599");
        let e = Endpoint::parse("https://vpce-1.sts.us-east-1.vpce.amazonaws.com:443/").unwrap();
        assert_eq!(e.host_header(), "vpce-1.sts.us-east-1.vpce.amazonaws.com");
        assert_eq!(
            e.to_string(),
            "https://vpce-1.sts.us-east-1.vpce.amazonaws.com"
        );
        assert_eq!(
            Endpoint::parse("https://h/x").unwrap_err(),
            EndpointError::PathOrQuery
        );
        assert_eq!(
            Endpoint::parse("https://h/?a=b").unwrap_err(),
            EndpointError::PathOrQuery
        );
        assert_eq!(
            Endpoint::parse("https://u@h/").unwrap_err(),
            EndpointError::Url(UrlError::Userinfo)
        );
    }
}
