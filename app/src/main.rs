//! The `modelrun` binary: everything is in the library.

fn main() -> std::process::ExitCode {
    modelrun_app::cli::run()
}
