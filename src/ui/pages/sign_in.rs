//! The pages before a session: the signed-out page (the `tvm ui` command to
//! run on a workstation) and the sign-in page (one button; the POST spends
//! the code).
//!
//! Invariants: a GET never spends a code, so the sign-in page only carries it
//! in a form with the login nonce; the signed-out page names the command, never
//! a secret.

use maud::{html, Markup};

use super::layout::layout;

/// The page a link opens without a session: the command that signs in.
pub(crate) fn signed_out(base: &str, request: Option<&str>) -> Markup {
    let command = match request {
        Some(id) => format!("tvm ui --url {base} --request {id}"),
        None => format!("tvm ui --url {base}"),
    };
    layout(
        "Sign in with your AWS identity",
        None,
        html! {
            p { "You are not signed in. A browser cannot prove your AWS identity, so signing in starts on your workstation. Run:" }
            pre { code id="sign-in-command" { (command) } }
            p { "It prints a one-time link (valid for 60 seconds) and opens it here." }
        },
    )
}

/// `GET /ui/login?code=…`: only a button; the POST spends the code.
pub(crate) fn sign_in(code: &str, nonce: &str) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            p { "Continue as the AWS identity that ran " code { "tvm ui" } ". This link works once, within 60 seconds of being made." }
            p id="own-link" { "Sign in only with a link you made yourself with " code { "tvm ui" } ": this page cannot tell whose link it is, and a link someone sent you would sign you in as them." }
            form method="post" action="/ui/login" {
                input type="hidden" name="code" value=(code);
                input type="hidden" name="login" value=(nonce);
                button type="submit" id="sign-in" { "Sign in" }
            }
        },
    )
}
