use super::*;
use proptest::prelude::*;

/// Every key that yields or selects credentials in some SDK or the CLI.
const CREDENTIAL_KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "aws_account_id",
    "aws_credential_expiration",
    "credential_process",
    "credential_source",
    "role_arn",
    "source_profile",
    "role_session_name",
    "external_id",
    "mfa_serial",
    "duration_seconds",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
    "login_session",
];

fn src<'a>(file: &'a str, text: &'a str) -> Source<'a> {
    Source { file, text }
}

fn render(config: &str, credentials: &str, profile: &str) -> Result<String, ProfileError> {
    child_profile(
        &src("config", config),
        &src("credentials", credentials),
        profile,
    )
    .map(|p| p.render())
}

const HEADER: &str = "# Written by tvm exec for the command it runs: the settings of your AWS\n\
                      # profile, without credentials (the command's come from tvm).\n";

#[test]
fn copies_the_allowed_settings_of_the_caller_profile_and_no_credentials() {
    let config = "\
[default]
region = us-west-2

[profile laptop]
region = eu-west-1
aws_access_key_id = AKIACONFIG
credential_process = sh -c 'evil'
sso_session = corp
role_arn = arn:aws:iam::1:role/x
source_profile = default
endpoint_url = http://127.0.0.1:4566
ca_bundle = /etc/ssl/corp.pem
retry_mode = adaptive
Max_Attempts = 7
services = local
s3 =
  addressing_style = path
  aws_secret_access_key = nested-secret
  max_concurrent_requests = 20
unknown_key = dropped

[services local]
s3 =
  endpoint_url = http://127.0.0.1:9000
  credential_process = evil
sts =
  endpoint_url = http://127.0.0.1:9001

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
";
    let credentials = "\
[laptop]
aws_access_key_id = AKIAFILE
aws_secret_access_key = secret
aws_session_token = token
output = json
retry_mode = standard
";
    let out = render(config, credentials, "laptop").unwrap();
    assert_eq!(
        out,
        format!(
            "{HEADER}[default]
region = eu-west-1
output = json
endpoint_url = http://127.0.0.1:4566
services = local
ca_bundle = /etc/ssl/corp.pem
retry_mode = standard
max_attempts = 7
s3 =
  addressing_style = path
  max_concurrent_requests = 20

[services local]
s3 =
  endpoint_url = http://127.0.0.1:9000
sts =
  endpoint_url = http://127.0.0.1:9001
"
        )
    );
    // `[default]` is found as `[default]` or `[profile default]`, the last one winning.
    let out = render(
        "[default]\nregion = a\n[profile default]\nregion = b\n",
        "",
        "default",
    );
    assert_eq!(out.unwrap(), format!("{HEADER}[default]\nregion = b\n"));
    // No profile at all: an empty `[default]`.
    assert_eq!(
        render("", "", "missing").unwrap(),
        format!("{HEADER}[default]\n")
    );
    // A services reference to no section is dropped.
    let out = render("[default]\nservices = nowhere\n", "", "default").unwrap();
    assert_eq!(out, format!("{HEADER}[default]\n"));
}

#[test]
fn no_credential_key_is_ever_copied() {
    let mut config = String::from("[default]\n");
    for key in CREDENTIAL_KEYS {
        config.push_str(&format!("{key} = x\n"));
    }
    config.push_str("s3 =\n");
    for key in CREDENTIAL_KEYS {
        config.push_str(&format!("  {key} = x\n"));
    }
    config.push_str("api_versions =\n  ec2 = 2016-11-15\n");
    let out = render(&config, &config, "default").unwrap();
    for key in CREDENTIAL_KEYS {
        assert!(!out.contains(key), "{key} copied:\n{out}");
        assert!(!COPIED.contains(key));
    }
    assert_eq!(
        out,
        format!("{HEADER}[default]\napi_versions =\n  ec2 = 2016-11-15\n")
    );
}

#[test]
fn a_copied_value_with_a_line_break_or_control_character_stops_exec() {
    for (config, key) in [
        // A continuation line is how a second line reaches a value.
        (
            "[default]\nregion = us-east-1\n  credential_process = evil\n",
            "region",
        ),
        ("[default]\nregion = us-east-1\u{b}[profile x]\n", "region"),
        (
            "[default]\nendpoint_url = http://x\u{1b}[2J\n",
            "endpoint_url",
        ),
        ("[default]\nca_bundle = /a\u{85}b\n", "ca_bundle"),
        ("[default]\noutput = json\u{2028}[x]\n", "output"),
        ("[default]\ns3 =\n  addressing_style = path\u{c}x\n", "s3"),
        ("[default]\nservices = a b\n[services a b]\n", "services"),
        (
            "[default]\nservices = s\n[services s]\ns3 =\n  endpoint_url = http://x\u{7f}\n",
            "services",
        ),
        ("[default]\nregion =\n  a = b\n", "region"),
        ("[default]\ns3 = path\n", "s3"),
    ] {
        let err = render(config, "", "default").unwrap_err();
        let ProfileError::Value { key: k, .. } = &err else {
            panic!("{config:?}: {err}");
        };
        assert_eq!(*k, key, "{config:?}");
        let shown = err.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }
    let long = format!("[default]\nregion = {}\n", "a".repeat(MAX_VALUE_CHARS + 1));
    assert!(render(&long, "", "default").is_err());
    // A setting that is not copied may hold anything.
    assert!(render("[default]\nnote = a\u{1b}b\n", "", "default").is_ok());
    // A file botocore refuses is refused, naming the file.
    let err = render("", "[default]\n[default]\n", "default").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("credentials: line 2: section [default]"),
        "{err}"
    );
}

#[test]
fn profile_sections_are_named_as_botocore_names_them() {
    assert_eq!(config_profile_name("default"), Some("default"));
    assert_eq!(config_profile_name("profile a"), Some("a"));
    assert_eq!(config_profile_name("profile \t a "), Some("a"));
    assert_eq!(config_profile_name("profilea"), None);
    assert_eq!(config_profile_name("profile "), None);
    assert_eq!(config_profile_name("profile 'a b'"), None);
    assert_eq!(config_profile_name(" default"), None);
    assert_eq!(config_profile_name("services a"), None);
}

fn key_or_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(COPIED.to_vec()).prop_map(str::to_owned),
        prop::sample::select(CREDENTIAL_KEYS.to_vec()).prop_map(str::to_owned),
        Just("s3".to_owned()),
        Just("api_versions".to_owned()),
        "(\\PC|[\r\n\u{b}\u{c}\u{85}\u{2028} =:\\[\\]#;])*",
    ]
}

proptest! {
    /// Whatever the caller's file holds, the child's file parses to a
    /// `[default]` of allowed keys (and at most one services section), with
    /// no credential key anywhere.
    #[test]
    fn the_child_file_holds_only_allowed_keys(
        lines in prop::collection::vec((key_or_value(), key_or_value(), any::<bool>()), 0..12)
    ) {
        let mut config = String::from("[default]\n");
        for (k, v, indent) in &lines {
            config.push_str(&format!("{}{k} = {v}\n", if *indent { "  " } else { "" }));
        }
        let Ok(out) = render(&config, "", "default") else { return Ok(()) };
        let sections = ini::parse(&out).unwrap();
        prop_assert!(sections.len() <= 2);
        prop_assert_eq!(&sections[0].name, "default");
        for s in &sections[0].settings {
            prop_assert!(
                COPIED.contains(&s.key.as_str()) || NESTED.iter().any(|(k, _)| *k == s.key),
                "{} in {:?}", s.key, out
            );
        }
        if let Some(services) = sections.get(1) {
            prop_assert!(services.name.starts_with("services "));
        }
        for s in sections.iter().flat_map(|s| &s.settings) {
            let sub = s.nested().map(Result::unwrap).unwrap_or_default();
            for key in std::iter::once(&s.key).chain(sub.iter().map(|(k, _)| k)) {
                prop_assert!(!CREDENTIAL_KEYS.contains(&key.as_str()), "{} in {:?}", key, out);
            }
        }
    }
}
