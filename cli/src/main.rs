//! `bifrost-plugin`: inspect, run and benchmark a Bifrost plugin `.wasm`
//! with the local host (`bifrost-plugin-host`), without Bifrost.

mod arg_value;
mod args;
mod bench;
mod bodies;
mod build;
mod failure;
mod inspect;
mod new;
mod plugin;
mod pretty;
mod run;
mod scenario;
mod scenario_body;
mod serve;
mod test_scenarios;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    stop_on_broken_pipe();
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Inspect(args) => inspect::inspect(args),
        Command::Run(args) => run::run(args),
        Command::Bench(args) => bench::bench(args),
        Command::Test(args) => test_scenarios::test(args),
        Command::New(args) => new::new(args),
        Command::Build(args) => build::build(args),
        Command::Serve(args) => serve::serve(args),
    };
    outcome.unwrap_or_else(|failure| failure.report())
}

/// Stops quietly, as Unix tools do, when whoever reads stdout goes away
/// (`bifrost-plugin run … | head`): Rust starts programs with SIGPIPE
/// ignored, so the next write would fail and `println!` would panic.
fn stop_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with `SIG_DFL` only restores the default action; it
    // runs first in `main`, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
