//! Tallies what tvm makes of a corpus — a quick view of how deep a fuzzer got.
//!
//! Run from `fuzz/`:
//! `cargo run --example triage -- token corpus/token seeds/token` (per verifier
//! configuration: accepted, or the reason refused) or
//! `cargo run --example triage -- arn corpus/arn seeds/arn` (accepted principal
//! types, or the `ArnError`).

use std::collections::BTreeMap;
use std::fs;

use tvm::auth::fuzz_check_token;
use tvm::identity::Identity;
use tvm_fuzz::token::{cases, context, now};

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: triage token|arn DIR...");
    let mut files = 0;
    let mut tally: BTreeMap<(String, String), usize> = BTreeMap::new();
    for dir in args {
        for entry in fs::read_dir(&dir).expect("read dir") {
            let data = fs::read(entry.expect("entry").path()).expect("read");
            files += 1;
            match target.as_str() {
                "token" => {
                    for case in cases() {
                        let outcome =
                            match fuzz_check_token(&data, &case.settings, &context(), now()) {
                                Ok(_) => "ACCEPTED",
                                Err(e) => e.reason(),
                            };
                        *tally
                            .entry((case.name.to_owned(), outcome.to_owned()))
                            .or_default() += 1;
                    }
                }
                "arn" => {
                    let outcome = match std::str::from_utf8(&data) {
                        Err(_) => ("-".to_owned(), "not UTF-8".to_owned()),
                        Ok(s) => match Identity::from_arn(s) {
                            Ok(id) => (
                                "ACCEPTED".to_owned(),
                                id.principal_type().as_str().to_owned(),
                            ),
                            Err(e) => ("refused".to_owned(), format!("{e:?}")),
                        },
                    };
                    *tally.entry(outcome).or_default() += 1;
                }
                other => panic!("unknown target {other}"),
            }
        }
    }
    println!("{files} inputs");
    for ((a, b), n) in tally {
        println!("{a:>12}  {b:<26} {n}");
    }
}
