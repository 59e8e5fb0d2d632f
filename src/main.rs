//! The `tvm` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

#[cfg(all(unix, not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    tvm::cli::run(tvm::cli::Cli::parse())
}
