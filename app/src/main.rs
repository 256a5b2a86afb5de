//! The `modelrun` binary: everything is in the library.

/// mimalloc rather than the C library's allocator: a request allocates
/// many small, short-lived values on several threads at once, which glibc's
/// malloc served with lock waits and heap consolidation (a sixth of a runs
/// list's time, `scripts/bench-peers`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    modelrun_app::cli::run()
}
