//! Config loading: defaults, env overrides, errors with key paths.

use crate::auth::VerificationTarget;
use crate::config::{from_yaml, ConfigError};
use crate::identity::Partition;

const MINIMAL: &str =
    "auth: {audience: https://tvm.example.com}\npolicy: {file: config/policy.yaml}\n";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn key_of(err: ConfigError) -> String {
    match err {
        ConfigError::Invalid { key, .. } => key,
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn minimal_config_gets_documented_defaults() {
    let c = from_yaml(MINIMAL, env(&[])).unwrap();
    assert_eq!(c.listen_addr.to_string(), "0.0.0.0:8080");
    assert_eq!(c.admin_addr.to_string(), "0.0.0.0:9090");
    assert_eq!(c.verifier.max_clock_skew.as_secs(), 300);
    assert_eq!(c.sts_region, "us-east-1");
    assert_eq!(c.stamp_prefix.as_str(), "tvm");
    assert_eq!(c.verifier.eks_cluster_id, None);
    assert_eq!(c.shutdown_delay.as_secs(), 5, "the documented default");
    assert_eq!(c.replay_capacity, crate::auth::REPLAY_CACHE_CAPACITY);
    let origins: Vec<&str> = c.verifier.audiences.iter().map(|o| o.as_str()).collect();
    assert_eq!(origins, ["https://tvm.example.com"]);
    assert_eq!(
        c.verifier.target,
        VerificationTarget::Aws {
            partition: Partition::Aws,
            region: "us-east-1".into()
        }
    );
}

#[test]
fn shipped_example_config_is_valid() {
    let text = include_str!("../../../config/tvm.yaml");
    from_yaml(text, env(&[])).unwrap();
}

#[test]
fn env_overrides_nest_with_double_underscore() {
    let c = from_yaml(
        MINIMAL,
        env(&[
            ("TVM_LISTEN__ADDR", "127.0.0.1:18080"),
            ("TVM_AUTH__EKS_CLUSTER_ID", "tvm-compat"),
            ("TVM_STS__ENDPOINT_URL", "http://127.0.0.1:4599"),
            ("OTHER_VAR", "ignored"),
        ]),
    )
    .unwrap();
    assert_eq!(c.listen_addr.to_string(), "127.0.0.1:18080");
    assert_eq!(c.verifier.eks_cluster_id.as_deref(), Some("tvm-compat"));
    // The verification endpoint defaults to sts.endpoint_url.
    let VerificationTarget::Endpoint { endpoint: ep, .. } = c.verifier.target else {
        panic!("expected the configured endpoint")
    };
    assert_eq!(ep.base_url(), "http://127.0.0.1:4599");
}

#[test]
fn errors_name_the_key() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            "auth: {audience: https://a.example, bogus: 1}\npolicy: {file: p}\n",
            &[],
            "auth.bogus",
        ),
        ("policy: {file: p}\n", &[], "."),
        (
            MINIMAL,
            &[("TVM_AUTH__MAX_CLOCK_SKEW", "1h")],
            "auth.max_clock_skew",
        ),
        (
            MINIMAL,
            &[("TVM_AUTH__MAX_CLOCK_SKEW", "soon")],
            "auth.max_clock_skew",
        ),
        (MINIMAL, &[("TVM_NOPE__X", "1")], "nope"),
        (MINIMAL, &[("TVM_LISTEN__ADDR", "nowhere")], "listen.addr"),
        (MINIMAL, &[("TVM_STS__REGION", "Mars")], "sts.region"),
        (
            MINIMAL,
            &[("TVM_STS__ENDPOINT_URL", "http://sts.example.com")],
            "sts.endpoint_url",
        ),
        (
            MINIMAL,
            &[("TVM_AUTH__STS_ENDPOINT_URL", "https://u@h")],
            "auth.sts_endpoint_url",
        ),
        (MINIMAL, &[("TVM_STAMP__PREFIX", "t.v.m")], "stamp.prefix"),
        (
            MINIMAL,
            &[("TVM_AUTH__AUDIENCE", "has space")],
            "auth.audience",
        ),
        (
            MINIMAL,
            &[("TVM_AUTH__EKS_CLUSTER_ID", "a.b")],
            "auth.eks_cluster_id",
        ),
        (
            MINIMAL,
            &[("TVM_STATE__REPLAY_CAPACITY", "10")],
            "state.replay_capacity",
        ),
        (
            MINIMAL,
            &[("TVM_ADMIN__ADDR", "0.0.0.0:8080")],
            "admin.addr",
        ),
        (
            MINIMAL,
            &[("TVM_STATE__REDIS_URL", "http://x")],
            "state.redis_url",
        ),
        (
            MINIMAL,
            &[("TVM_STATE__REDIS_URL", "rediss://h/#insecure")],
            "state.redis_url",
        ),
        (
            MINIMAL,
            &[("TVM_STATE__REDIS_PASSWORD_FILE", "/nonexistent")],
            "state.redis_url",
        ),
        (
            MINIMAL,
            &[("TVM_STATE__RATE_LIMIT_FAILURE", "sometimes")],
            "state.rate_limit_failure",
        ),
        (
            MINIMAL,
            &[("TVM_STATE__KEY_PREFIX", "a b")],
            "state.key_prefix",
        ),
        (
            MINIMAL,
            &[("TVM_STS__MAX_CONCURRENT_CALLS", "0")],
            "sts.max_concurrent_calls",
        ),
        (
            MINIMAL,
            &[("TVM_SERVER__MAX_BODY_BYTES", "1")],
            "server.max_body_bytes",
        ),
    ];
    for (yaml, vars, want) in cases {
        let err = from_yaml(yaml, env(vars)).expect_err(want);
        let msg = err.to_string();
        assert_eq!(key_of(err), *want, "{msg}");
    }
}

#[test]
fn unknown_key_message_is_helpful() {
    let err = from_yaml(
        "auth: {audience: https://a.example, bogus: 1}\npolicy: {file: p}\n",
        env(&[]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");
}

#[test]
fn endpoint_urls_are_strict() {
    use crate::config::EndpointUrl;
    assert!(EndpointUrl::parse("https://sts.us-east-1.amazonaws.com").is_ok());
    assert!(EndpointUrl::parse("https://vpce-1.sts.us-east-1.vpce.amazonaws.com:443/").is_ok());
    assert!(EndpointUrl::parse("http://[::1]:4599").is_ok());
    assert_eq!(
        EndpointUrl::parse("http://[::1]:4599").unwrap().to_url(),
        "http://[::1]:4599"
    );
    for bad in [
        "sts.amazonaws.com",
        "ftp://h",
        "https://",
        "https://h/path",
        "https://h?x",
        "https://h#f",
        "https://h:99999",
        "https://h:",
        "http://10.0.0.1",
        "https://h_ost",
    ] {
        assert!(EndpointUrl::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn only_variables_with_double_underscore_are_overrides() {
    let c = from_yaml(
        MINIMAL,
        env(&[
            // Kubernetes service links for Services named `tvm` and `tvm-redis`.
            ("TVM_PORT", "tcp://10.0.0.1:8080"),
            ("TVM_PORT_8080_TCP", "tcp://10.0.0.1:8080"),
            ("TVM_PORT_8080_TCP_PROTO", "tcp"),
            ("TVM_SERVICE_HOST", "10.0.0.1"),
            ("TVM_SERVICE_PORT_HTTP", "8080"),
            ("TVM_REDIS_PORT", "tcp://10.0.0.2:6379"),
            // The config file's own variable.
            ("TVM_CONFIG", "/etc/tvm/tvm.yaml"),
            ("TVM_PORTS", "1"),
        ]),
    );
    assert!(c.is_ok(), "{:?}", c.err());
    // Anything with `__` is an override, and an unknown key is still an error.
    let err = from_yaml(MINIMAL, env(&[("TVM_LISTEN__PORTS", "1")])).unwrap_err();
    assert_eq!(key_of(err), "listen.ports");
    assert!(crate::config::is_override("TVM_LISTEN__ADDR"));
    assert!(!crate::config::is_override("TVM_CONFIG"));
    assert!(!crate::config::is_override("OTHER__X"));
}

#[test]
fn config_path_is_flag_then_tvm_config_then_etc() {
    use crate::config::{config_path, ConfigSource};
    use std::path::{Path, PathBuf};
    let with_env = env(&[("TVM_CONFIG", "/cfg/tvm.yaml")]);
    assert_eq!(
        config_path(Some(Path::new("a.yaml")), with_env.clone()),
        (PathBuf::from("a.yaml"), ConfigSource::Flag)
    );
    assert_eq!(
        config_path(None, with_env),
        (PathBuf::from("/cfg/tvm.yaml"), ConfigSource::Env)
    );
    assert_eq!(
        config_path(None, env(&[("TVM_CONFIG", "")])),
        (PathBuf::from("/etc/tvm/tvm.yaml"), ConfigSource::Default)
    );
}

#[test]
fn sts_region_must_be_known_unless_an_endpoint_is_set() {
    for typo in ["us-eest-1", "eu-central-9", "cn-south-7", "us-gov-north-1"] {
        let err = from_yaml(MINIMAL, env(&[("TVM_STS__REGION", typo)])).unwrap_err();
        assert_eq!(key_of(err), "sts.region", "{typo}");
    }
    // Verification at a custom endpoint does not make AssumeRole's region custom.
    let err = from_yaml(
        MINIMAL,
        env(&[
            ("TVM_STS__REGION", "us-eest-1"),
            ("TVM_AUTH__STS_ENDPOINT_URL", "https://sts.internal.example"),
        ]),
    )
    .unwrap_err();
    assert_eq!(key_of(err), "sts.region");
    for ok in ["eu-central-1", "cn-north-1", "us-gov-west-1"] {
        from_yaml(MINIMAL, env(&[("TVM_STS__REGION", ok)])).unwrap();
    }
    // Endpoint mode: the region only names the signing scope.
    from_yaml(
        MINIMAL,
        env(&[
            ("TVM_STS__REGION", "xx-local-1"),
            ("TVM_STS__ENDPOINT_URL", "http://127.0.0.1:4599"),
        ]),
    )
    .unwrap();
}

#[test]
fn listen_tls_needs_both_files() {
    let c = from_yaml(
        &format!("{MINIMAL}listen: {{tls: {{cert_file: /tls/tls.crt, key_file: /tls/tls.key}}}}\n"),
        env(&[]),
    )
    .unwrap();
    assert_eq!(
        c.listen_tls.unwrap().cert_file,
        std::path::PathBuf::from("/tls/tls.crt")
    );
    let err = from_yaml(
        &format!("{MINIMAL}listen: {{tls: {{cert_file: /tls/tls.crt}}}}\n"),
        env(&[]),
    )
    .unwrap_err();
    assert_eq!(key_of(err), "listen.tls");
    let err = from_yaml(
        &format!("{MINIMAL}listen: {{tls: {{cert_file: '', key_file: /k}}}}\n"),
        env(&[]),
    )
    .unwrap_err();
    assert_eq!(key_of(err), "listen.tls.cert_file");
}

#[test]
fn request_timeout_must_outlive_the_sts_calls() {
    let err = from_yaml(MINIMAL, env(&[("TVM_SERVER__REQUEST_TIMEOUT", "5s")])).unwrap_err();
    assert_eq!(key_of(err), "server.request_timeout");
    let err = from_yaml(MINIMAL, env(&[("TVM_AUTH__MAX_CLOCK_SKEW", "0s")])).unwrap_err();
    assert_eq!(key_of(err), "auth.max_clock_skew");
}

#[test]
fn audience_is_a_list_of_origins() {
    let c = from_yaml(
        "auth:\n  audience:\n    - HTTPS://TVM.example.com:443/\n    - https://tvm.internal.example.com:8443\n    - http://127.0.0.1:8080\npolicy: {file: p}\n",
        env(&[]),
    )
    .unwrap();
    let origins: Vec<&str> = c.verifier.audiences.iter().map(|o| o.as_str()).collect();
    assert_eq!(
        origins,
        [
            "https://tvm.example.com",
            "https://tvm.internal.example.com:8443",
            "http://127.0.0.1:8080"
        ]
    );
    for (audience, key, says) in [
        ("[]", "auth.audience", "1 to 16 origins"),
        (
            "[https://a.example, tvm-prod]",
            "auth.audience[1]",
            "e.g. `audience: [https://tvm.example.com]`",
        ),
        ("https://a.example/tvm", "auth.audience", "no path"),
        ("https://u@a.example", "auth.audience", "user name"),
        ("http://tvm.example.com", "auth.audience", "use https"),
        (
            "[https://a.example, https://A.example:443]",
            "auth.audience",
            "listed twice",
        ),
    ] {
        let err = from_yaml(
            &format!("auth: {{audience: {audience}}}\npolicy: {{file: p}}\n"),
            env(&[]),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert_eq!(key_of(err), key, "{audience}: {msg}");
        let msg = msg.replace("tvm is served at the root of its origin", "no path");
        assert!(
            msg.contains(says) || msg.contains("path"),
            "{audience}: {msg}"
        );
    }
}

#[test]
fn old_style_settings_say_what_to_write_instead() {
    let err = from_yaml("auth: {audience: tvm-prod}\npolicy: {file: p}\n", env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("auth.audience") && msg.contains("https://tvm.example.com"),
        "{msg}"
    );
    let err = from_yaml(
        "auth: {audience: https://tvm.example.com, accept_eks_tokens: true}\npolicy: {file: p}\n",
        env(&[]),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("auth.accept_eks_tokens") && msg.contains("auth.eks_cluster_id"),
        "{msg}"
    );
}

#[test]
fn server_limits_default_to_the_documented_values() {
    let c = from_yaml(MINIMAL, env(&[])).unwrap();
    let l = &c.limits;
    assert!(l.trusted_proxies.is_empty());
    assert_eq!(
        (l.max_connections, l.max_connections_per_address),
        (1024, 64)
    );
    assert_eq!(l.first_byte_timeout.as_secs(), 5);
    assert_eq!(l.idle_timeout.as_secs(), 10);
    assert_eq!(
        (l.address_rate.per_minute, l.address_rate.burst),
        (600, 300)
    );
    assert_eq!(
        (l.caller_rate.per_minute, l.role_rate.per_minute),
        (120, 1200)
    );
    // The shipped file says the same as the code.
    let shipped = from_yaml(include_str!("../../../config/tvm.yaml"), env(&[])).unwrap();
    assert_eq!(format!("{:?}", shipped.limits), format!("{l:?}"));
}

#[test]
fn trusted_proxies_are_validated_with_their_index() {
    let yaml = format!("{MINIMAL}server: {{trusted_proxies: [10.0.0.0/8, \"fd00::/8\"]}}\n");
    let c = from_yaml(&yaml, env(&[])).unwrap();
    assert_eq!(c.limits.trusted_proxies.len(), 2);
    assert!(c.limits.trusted_proxies[1].contains("fd00::1".parse().unwrap()));
    let c = from_yaml(
        MINIMAL,
        env(&[("TVM_SERVER__TRUSTED_PROXIES", "[\"192.0.2.0/24\"]")]),
    )
    .unwrap();
    assert_eq!(c.limits.trusted_proxies[0].to_string(), "192.0.2.0/24");
    for (bad, key) in [
        ("[10.0.0.0/8, 10.0.0.1/8]", "server.trusted_proxies[1]"),
        ("[nonsense]", "server.trusted_proxies[0]"),
        ("[\"10.0.0.0/33\"]", "server.trusted_proxies[0]"),
    ] {
        let yaml = format!("{MINIMAL}server: {{trusted_proxies: {bad}}}\n");
        assert_eq!(key_of(from_yaml(&yaml, env(&[])).unwrap_err()), key);
    }
}

#[test]
fn server_limit_errors_name_the_key() {
    for (server, key) in [
        (
            "{max_connections_per_address: 0}",
            "server.max_connections_per_address",
        ),
        (
            "{max_connections: 10, max_connections_per_address: 11}",
            "server.max_connections_per_address",
        ),
        ("{first_byte_timeout: 0s}", "server.first_byte_timeout"),
        ("{idle_timeout: 1m}", "server.idle_timeout"),
        ("{rate_limit_burst: 0}", "server.rate_limit_burst"),
        (
            "{caller_rate_limit_burst: 0}",
            "server.caller_rate_limit_burst",
        ),
        ("{role_rate_limit_burst: 0}", "server.role_rate_limit_burst"),
        (
            "{discovery_rate_limit_burst: 0}",
            "server.discovery_rate_limit_burst",
        ),
    ] {
        let yaml = format!("{MINIMAL}server: {server}\n");
        assert_eq!(
            key_of(from_yaml(&yaml, env(&[])).unwrap_err()),
            key,
            "{server}"
        );
    }
    // 0 turns a bucket off; then its burst does not matter.
    let yaml =
        format!("{MINIMAL}server: {{role_rate_limit_per_minute: 0, role_rate_limit_burst: 0}}\n");
    assert!(!from_yaml(&yaml, env(&[])).unwrap().limits.role_rate.is_on());
    // Turning the address rate off turns the per-caller rates off unless they
    // are set; set, they stay; by default all three are on.
    let limits = |server: &str| {
        from_yaml(&format!("{MINIMAL}server: {server}\n"), env(&[]))
            .unwrap()
            .limits
    };
    let off = limits("{rate_limit_per_minute: 0}");
    assert!(!off.address_rate.is_on() && !off.caller_rate.is_on() && !off.role_rate.is_on());
    let kept = limits("{rate_limit_per_minute: 0, caller_rate_limit_per_minute: 60}");
    assert_eq!(kept.caller_rate.per_minute, 60);
    assert!(!kept.role_rate.is_on());
    let on = limits("{}");
    assert!(on.address_rate.is_on() && on.caller_rate.is_on() && on.role_rate.is_on());
}
