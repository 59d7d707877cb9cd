//! `bifrost-plugin`: inspect, run and benchmark a Bifrost plugin `.wasm`
//! with the local host (`bifrost-plugin-host`), without Bifrost.

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
mod test_scenarios;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Inspect(args) => inspect::inspect(args),
        Command::Run(args) => run::run(args),
        Command::Bench(args) => bench::bench(args),
        Command::Test(args) => test_scenarios::test(args),
        Command::New(args) => new::new(args),
        Command::Build(args) => build::build(args),
    };
    outcome.unwrap_or_else(|failure| failure.report())
}
