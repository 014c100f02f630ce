//! The `sync-manager` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

/// mimalloc: GraphQL responses are built from many small allocations, where it is markedly
/// faster than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    sync_manager::cli::main()
}
