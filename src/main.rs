//! The `sync-manager` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    sync_manager::cli::main()
}
