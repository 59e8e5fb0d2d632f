//! Merges `TVM_*` environment overrides into the parsed config file, then
//! refuses blank values anywhere in the result (DESIGN §5).
//!
//! Invariants: a variable is an override only when it is `TVM_` plus a key path
//! with `__` between levels; an override always sets a value — one that is
//! empty, whitespace or YAML null is an error naming the key, never "unset"
//! (a Kubernetes `secretKeyRef` to an empty Secret gives exactly that, and
//! `state.redis_url` unset means per-replica state, so every replica would
//! accept the same token once); and no string anywhere in the merged config is
//! empty or whitespace only, whether it came from the file or a variable, since
//! no key has a meaningful blank value. Explicit `null` in the file stays the
//! documented way to turn an optional key off. Messages never repeat a value:
//! some are secrets.

use serde_yaml_ng::Value;

use super::ConfigError;

/// The prefix of environment variables that override config keys; `__` separates
/// nesting levels (`TVM_LISTEN__ADDR` sets `listen.addr`).
pub const ENV_PREFIX: &str = "TVM_";

/// Whether `var` is a config override: `TVM_` and a key path with `__` between
/// levels (DESIGN §5). Every config key is nested, so a variable without `__` is
/// never one: `TVM_CONFIG` names the file, and Kubernetes injects
/// `{SERVICE}_PORT…` and `{SERVICE}_SERVICE_…` variables (`TVM_PORT`,
/// `TVM_REDIS_PORT`) for every Service in the namespace.
pub fn is_override(var: &str) -> bool {
    var.strip_prefix(ENV_PREFIX)
        .is_some_and(|rest| rest.contains("__"))
}

/// Sets the key `var` names in `root` to `raw`, parsed as YAML (so lists and
/// numbers work) or else taken as a string.
pub(super) fn apply_override(root: &mut Value, var: &str, raw: &str) -> Result<(), ConfigError> {
    let path: Vec<String> = var[ENV_PREFIX.len()..]
        .split("__")
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let dotted = path.join(".");
    if path.iter().any(|s| s.is_empty()) {
        return Err(ConfigError::invalid(
            &dotted,
            format!("malformed variable {var}"),
        ));
    }
    super::moved::refuse_variable(var, &path)?;
    if raw.trim().is_empty() {
        return Err(ConfigError::invalid(
            &dotted,
            format!(
                "{var} is set but empty; give it a value, or remove the variable \
                 (an empty Secret behind a secretKeyRef gives this)"
            ),
        ));
    }
    let parsed: Value = serde_yaml_ng::from_str(raw).unwrap_or_else(|_| Value::String(raw.into()));
    if parsed.is_null() {
        return Err(ConfigError::invalid(
            &dotted,
            format!(
                "{var} is YAML null; a variable cannot unset a key: remove the variable \
                 and set the key to null in the file instead"
            ),
        ));
    }
    let mut node = root;
    for (i, segment) in path.iter().enumerate() {
        let Value::Mapping(map) = node else {
            return Err(ConfigError::invalid(
                &dotted,
                format!("{var} overrides a non-mapping"),
            ));
        };
        let key = Value::String(segment.clone());
        if i + 1 == path.len() {
            map.insert(key, parsed);
            return Ok(());
        }
        node = map
            .entry(key)
            .or_insert_with(|| Value::Mapping(Default::default()));
    }
    Ok(())
}

/// The first string in `value` that is empty or whitespace only, as an error
/// naming its key path (`state.redis_url`, `auth.audience[1]`).
pub(super) fn refuse_blank_strings(value: &Value) -> Result<(), ConfigError> {
    fn walk(value: &Value, path: &mut String) -> Result<(), ConfigError> {
        match value {
            Value::String(s) if s.trim().is_empty() => Err(ConfigError::invalid(
                path,
                "must not be empty: remove the key (or set it to null) for the default",
            )),
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Value::Mapping(map) => {
                for (k, v) in map {
                    let len = path.len();
                    let name = match k {
                        Value::String(s) => s.clone(),
                        other => serde_yaml_ng::to_string(other)
                            .map(|s| s.trim_end().to_owned())
                            .unwrap_or_default(),
                    };
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&name);
                    walk(v, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Value::Tagged(t) => walk(&t.value, path),
            _ => Ok(()),
        }
    }
    walk(value, &mut String::new())
}

#[cfg(test)]
mod tests {
    use crate::config::{from_yaml, ConfigError};

    const REDIS_FILE: &str = "auth: {audience: https://tvm.example.com}\npolicy: {file: p}\n\
                              state: {redis_url: 'redis://redis.example:6379'}\n";

    fn key_and_message(err: ConfigError) -> (String, String) {
        let text = err.to_string();
        match err {
            ConfigError::Invalid { key, .. } => (key, text),
            other => panic!("unexpected {other}"),
        }
    }

    fn refused(yaml: &str, vars: &[(&str, &str)]) -> (String, String) {
        let env = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        key_and_message(from_yaml(yaml, env).expect_err("must be refused"))
    }

    #[test]
    fn an_empty_or_blank_variable_never_unsets_a_key() {
        for raw in ["", " ", "  ", "\t", "\n", " \r\n "] {
            let (key, msg) = refused(REDIS_FILE, &[("TVM_STATE__REDIS_URL", raw)]);
            assert_eq!(key, "state.redis_url", "{raw:?}: {msg}");
            assert!(
                msg.contains("TVM_STATE__REDIS_URL") && msg.contains("empty"),
                "{msg}"
            );
        }
        // Every key, not just the Redis URL: optional ones, ones with defaults,
        // lists, numbers.
        for var in [
            "TVM_AUTH__EKS_CLUSTER_ID",
            "TVM_STS__ENDPOINT_URL",
            "TVM_STATE__KEY_PREFIX",
            "TVM_SERVER__TRUSTED_PROXIES",
            "TVM_SERVER__MAX_CONNECTIONS",
            "TVM_DATABASE__URL",
        ] {
            let (key, _) = refused(REDIS_FILE, &[(var, "")]);
            let want = var["TVM_".len()..].to_ascii_lowercase().replace("__", ".");
            assert_eq!(key, want);
        }
    }

    #[test]
    fn a_null_variable_never_unsets_a_key() {
        for raw in ["null", "~", "Null", "NULL"] {
            let (key, msg) = refused(REDIS_FILE, &[("TVM_STATE__REDIS_URL", raw)]);
            assert_eq!(key, "state.redis_url", "{raw}: {msg}");
        }
    }

    #[test]
    fn blank_strings_in_the_file_are_refused_with_their_path() {
        let base = "auth: {audience: https://tvm.example.com}\npolicy: {file: p}\n";
        for (extra, want) in [
            ("state: {redis_url: ''}", "state.redis_url"),
            ("state: {redis_url: '   '}", "state.redis_url"),
            ("auth: {audience: ' ', max_clock_skew: 5m}", "auth.audience"),
            ("sts: {endpoint_url: ''}", "sts.endpoint_url"),
            ("stamp: {prefix: ' '}", "stamp.prefix"),
            (
                "server: {trusted_proxies: [10.0.0.0/8, '']}",
                "server.trusted_proxies[1]",
            ),
            ("database: {url: ''}", "database.url"),
            (
                "database: {url: 'sqlite://x', retention: ' '}",
                "database.retention",
            ),
        ] {
            let yaml = if extra.starts_with("auth:") {
                format!("{extra}\npolicy: {{file: p}}\n")
            } else {
                format!("{base}{extra}\n")
            };
            let (key, msg) = refused(&yaml, &[]);
            assert_eq!(key, want, "{extra}: {msg}");
            assert!(msg.contains("must not be empty"), "{msg}");
        }
        // A blank value from a variable is caught before it is merged, with the
        // variable's name; one in a list from a variable is caught after.
        let (key, _) = refused(base, &[("TVM_SERVER__TRUSTED_PROXIES", "['']")]);
        assert_eq!(key, "server.trusted_proxies[0]");
    }

    #[test]
    fn null_in_the_file_still_means_off_and_real_values_pass() {
        let c = from_yaml(
            "auth: {audience: https://tvm.example.com, eks_cluster_id: null}\n\
             policy: {file: p}\nstate: {redis_url: null}\n",
            Vec::new(),
        )
        .unwrap();
        assert!(c.state.redis.is_none() && c.verifier.eks_cluster_id.is_none());
        let c = from_yaml(
            REDIS_FILE,
            vec![("TVM_STATE__REDIS_URL".into(), "redis://other:6379".into())],
        )
        .unwrap();
        assert_eq!(c.state.redis.unwrap().url, "redis://other:6379");
    }
}
