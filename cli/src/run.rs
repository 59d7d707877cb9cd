//! `run`: one call of one hook, its output pretty on stdout; what the
//! plugin itself printed (its log lines, on wasm32-wasip1) on stderr, each
//! line marked `[plugin]`, apart from the output.

use std::process::ExitCode;

use bifrost_plugin_host::{Error, Guest, Hook, HookInput};

use crate::args::RunArgs;
use crate::bodies::decode_bodies;
use crate::failure::{Failure, Outcome, PLUGIN_ERROR};
use crate::plugin::{cleanup, prepare};
use crate::pretty::pretty;

/// Loads the plugin, calls the hook once, prints the output.
pub fn run(args: &RunArgs) -> Outcome {
    let hook = Hook::from(args.hook);
    let mut ready = prepare(&args.plugin, hook, &args.host, &args.inputs)?;
    show_plugin_lines(&mut ready.guest); // from init
    let called = ready.guest.call_hook(hook, &ready.input);
    show_plugin_lines(&mut ready.guest);
    let output = match called {
        Ok(output) => output,
        Err(trap @ Error::Trap { .. }) => {
            let recorded = recorded_panic(&mut ready.guest, hook, &ready.input);
            ready.guest.take_stderr(); // the second call's lines repeat the first's
            return Err(Failure::new(format!(
                "{trap}{}",
                recorded.unwrap_or_default()
            )));
        }
        Err(error) => return Err(error.into()),
    };
    // Valid UTF-8 JSON: call_hook checked both.
    let text = if args.raw {
        String::from_utf8_lossy(output.raw()).into_owned()
    } else {
        let (text, decoded) = decode_bodies(&output);
        if decoded {
            eprintln!("(HTTP bodies shown decoded; --raw prints them as sent, in base64)");
        }
        text
    };
    println!("{}", pretty(&text));
    let cleaned = cleanup(&mut ready.guest);
    show_plugin_lines(&mut ready.guest);
    cleaned?;
    Ok(match output.plugin_error() {
        Some(message) => {
            eprintln!("the plugin reported an error: {message}");
            ExitCode::from(PLUGIN_ERROR)
        }
        None => ExitCode::SUCCESS,
    })
}

/// A trap kills an SDK plugin's state, and the SDK keeps the panic message
/// for the next call: make that call, so the author sees the message and
/// where it was raised (`\npanicked at src/lib.rs:…`), not only the trap.
fn recorded_panic(guest: &mut Guest, hook: Hook, input: &HookInput) -> Option<String> {
    let output = guest.call_hook(hook, input).ok()?;
    let error = output.plugin_error()?;
    let (_, panic) = error.split_once("an earlier call ")?;
    let panic = panic.strip_suffix("; call init again").unwrap_or(panic);
    Some(format!("\nthe plugin {panic}"))
}

/// Writes what the plugin printed since the last call to stderr, one
/// `[plugin] ` line per line (stdout first: a plugin's own prints).
fn show_plugin_lines(guest: &mut Guest) {
    for printed in [guest.take_stdout(), guest.take_stderr()] {
        for line in String::from_utf8_lossy(&printed).lines() {
            eprintln!("[plugin] {line}");
        }
    }
}
