//! The `sync-manager` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: a listing page allocates and frees thousands of
/// small values across the runtime's threads, where glibc's `malloc` and `free` took a tenth
/// of the server's CPU (BENCHMARKS.md, "A faster allocator, and pooled connections checked
/// only after a pause"). Built without transparent huge pages, which raised peak RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    sync_manager::cli::main()
}
