//! Reference implementations the `token` oracle checks tvm against, written
//! here from RFC 3986, the SigV4 specification and DESIGN §2 rather than taken
//! from tvm, so that a tvm parser bug cannot vouch for itself. Each panics on
//! input tvm must have refused before accepting.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use tvm::identity::Partition;

pub(crate) fn is_lower_hex(s: &[u8], len: usize) -> bool {
    s.len() == len && s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Strict percent-decoding written from RFC 3986; panics on anything tvm must
/// have refused before accepting.
pub(crate) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).expect("accepted a truncated %-escape");
            assert!(
                hex.iter().all(u8::is_ascii_hexdigit),
                "accepted a bad %-escape"
            );
            let hex = std::str::from_utf8(hex).expect("ascii");
            let byte = u8::from_str_radix(hex, 16).expect("hex");
            assert!((0x21..=0x7e).contains(&byte), "accepted %{hex}");
            out.push(char::from(byte));
            i += 3;
        } else {
            assert!(is_unreserved(b[i]), "accepted raw {:?} in a query", b[i]);
            out.push(char::from(b[i]));
            i += 1;
        }
    }
    out
}

/// SigV4 encoding written from the SigV4 specification.
pub(crate) fn sigv4(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if is_unreserved(b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub(crate) fn split_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .map(|pair| {
            let (n, v) = pair.split_once('=').expect("accepted a pair without =");
            assert!(!n.is_empty() && !v.contains('='));
            (decode(n), decode(v))
        })
        .collect()
}

pub(crate) fn expected_aws_host(partition: Partition, host: &str, region: &str) -> bool {
    match partition {
        Partition::Aws => {
            !region.starts_with("cn-")
                && !region.starts_with("us-gov-")
                && ((host == "sts.amazonaws.com" && region == "us-east-1")
                    || host == format!("sts.{region}.amazonaws.com")
                    || (host == format!("sts-fips.{region}.amazonaws.com")
                        && region.starts_with("us-")))
        }
        Partition::AwsCn => {
            region.starts_with("cn-") && host == format!("sts.{region}.amazonaws.com.cn")
        }
        Partition::AwsUsGov => {
            region.starts_with("us-gov-") && host == format!("sts.{region}.amazonaws.com")
        }
    }
}

pub(crate) fn parse_amz_date(s: &str) -> Timestamp {
    let b = s.as_bytes();
    assert!(b.len() == 16 && b[8] == b'T' && b[15] == b'Z', "date {s:?}");
    assert!(b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit));
    DateTime::strptime("%Y%m%dT%H%M%SZ", s)
        .expect("accepted an impossible date")
        .to_zoned(TimeZone::UTC)
        .expect("in range")
        .timestamp()
}
