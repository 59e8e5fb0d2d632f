//! The log a newcomer reads in `tvm dev` (the default `--log-format text`):
//! one short human line per decision — who, profile, effect, rule or reason,
//! SourceIdentity — and warnings and errors as one line each; nothing else, no
//! colour codes, so the banner and the self-test stay readable.
//! `--log-format json` keeps the full records ([`crate::telemetry`]).
//!
//! Invariant: it prints only fields the decision record already carries,
//! which never include a token, signature or credential.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// The target of the decision record (`crate::vend`).
const DECISION_TARGET: &str = "tvm::decision";

#[derive(Default)]
struct Fields(BTreeMap<&'static str, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

impl Fields {
    fn get(&self, k: &str) -> &str {
        self.0.get(k).map(String::as_str).unwrap_or_default()
    }
}

/// `alice -> demo-readonly: allow by rule demo-users-read-only, SourceIdentity tvm.alice.direct.…`
fn decision_line(f: &Fields) -> String {
    let who = match f.get("username") {
        "" => "(unverified caller)",
        u => u,
    };
    let mut line = format!("{who} -> {}: {}", f.get("profile"), f.get("effect"));
    match (f.get("effect"), f.get("rule")) {
        ("allow", rule) if !rule.is_empty() => line.push_str(&format!(" by rule {rule}")),
        (_, "") => line.push_str(&format!(" ({})", f.get("reason"))),
        (_, rule) => line.push_str(&format!(" by rule {rule} ({})", f.get("reason"))),
    }
    if !f.get("source_identity").is_empty() {
        line.push_str(&format!(", SourceIdentity {}", f.get("source_identity")));
    }
    line
}

/// Writes the human lines to its writer.
struct HumanLayer<W> {
    writer: W,
}

impl<S, W> Layer<S> for HumanLayer<W>
where
    S: Subscriber,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = if meta.target() == DECISION_TARGET {
            decision_line(&fields)
        } else if *meta.level() <= Level::WARN {
            format!("{}: {}", meta.level(), fields.get("message"))
        } else {
            return;
        };
        let now = jiff::Zoned::now().strftime("%H:%M:%S").to_string();
        let _ = writeln!(self.writer.make_writer(), "{now}  {line}");
    }
}

/// Installs the human log writing to `writer` (`RUST_LOG` still filters).
pub fn init<W>(writer: W) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(crate::telemetry::DEFAULT_FILTER));
    tracing_subscriber::registry()
        .with(filter)
        .with(HumanLayer { writer })
        .try_init()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&'static str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    }

    #[test]
    fn decision_lines_say_who_what_and_why() {
        let allow = fields(&[
            ("username", "alice"),
            ("profile", "demo-readonly"),
            ("effect", "allow"),
            ("rule", "demo-users-read-only"),
            ("reason", "allowed_by_rule"),
            ("source_identity", "tvm.alice.direct.0123456789ab"),
        ]);
        assert_eq!(
            decision_line(&allow),
            "alice -> demo-readonly: allow by rule demo-users-read-only, SourceIdentity tvm.alice.direct.0123456789ab"
        );
        let deny = fields(&[
            ("username", "alice"),
            ("profile", "demo-admin"),
            ("effect", "deny"),
            ("reason", "no_matching_rule"),
        ]);
        assert_eq!(
            decision_line(&deny),
            "alice -> demo-admin: deny (no_matching_rule)"
        );
        let bad = fields(&[("effect", "deny"), ("reason", "token_expired")]);
        assert_eq!(
            decision_line(&bad),
            "(unverified caller) -> : deny (token_expired)"
        );
    }
}
