//! `angel`: see `angel --help`.

fn main() -> std::process::ExitCode {
    angel_server::cli::main()
}
