//! The `tvm` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tvm::cli::run(tvm::cli::Cli::parse())
}
