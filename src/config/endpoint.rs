//! `scheme://host[:port]` endpoints in the config (`sts.endpoint_url`,
//! `auth.sts_endpoint_url`) and the client's tvm URL.
//!
//! Invariant: plain `http` only for a loopback host, since AssumeRole answers
//! and vended credentials cross this connection.

/// A parsed `scheme://host[:port]` endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
}

impl EndpointUrl {
    /// Parses `http(s)://host[:port][/]`; no userinfo, path, query or fragment.
    /// `http` only for loopback hosts.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| "must be http(s)://host[:port]".to_owned())?;
        if scheme != "https" && scheme != "http" {
            return Err("scheme must be https (or http on loopback)".into());
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(
                "must be scheme://host[:port] with no user, path, query or fragment".into(),
            );
        }
        let (host, port) = split_host_port(authority)?;
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if scheme == "http" && !loopback {
            return Err("plain http is only allowed for loopback hosts".into());
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            host,
            port,
        })
    }

    /// `scheme://host[:port]`, IPv6 hosts in brackets.
    pub fn to_url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{}://{host}:{p}", self.scheme),
            None => format!("{}://{host}", self.scheme),
        }
    }
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unterminated [")?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    if !valid_host {
        return Err("invalid host".into());
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| "invalid port")?)
        }
        Some(_) => return Err("invalid port".into()),
    };
    Ok((host.to_ascii_lowercase(), port))
}
