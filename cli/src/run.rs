//! `run`: one call of one hook, its output pretty on stdout.

use std::process::ExitCode;

use bifrost_plugin_host::Hook;

use crate::args::RunArgs;
use crate::failure::{Outcome, PLUGIN_ERROR};
use crate::plugin::{cleanup, prepare};
use crate::pretty::pretty;

/// Loads the plugin, calls the hook once, prints the output.
pub fn run(args: &RunArgs) -> Outcome {
    let hook = Hook::from(args.hook);
    let mut ready = prepare(&args.plugin, hook, &args.host, &args.inputs)?;
    let output = ready.guest.call_hook(hook, &ready.input)?;
    // Valid UTF-8 JSON: call_hook checked both.
    println!("{}", pretty(&String::from_utf8_lossy(output.raw())));
    cleanup(&mut ready.guest)?;
    Ok(match output.plugin_error() {
        Some(message) => {
            eprintln!("the plugin reported an error: {message}");
            ExitCode::from(PLUGIN_ERROR)
        }
        None => ExitCode::SUCCESS,
    })
}
