//! The `tvm` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc malloc: a vend makes hundreds of small short-lived
/// allocations across threads (SDK config bags, headers, log fields), where
/// glibc's arenas showed up as ~16% of the samples (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tvm::cli::run(tvm::cli::Cli::parse())
}
