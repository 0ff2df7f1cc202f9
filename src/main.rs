//! The `queuesim` command: see `queuesim --help`. The command line parses
//! arguments, calls the library and prints; everything it computes is
//! the library's.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
