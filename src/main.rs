//! The `queuesim` command: see `queuesim --help`.

fn main() -> std::process::ExitCode {
    queuesim::cli::main()
}
