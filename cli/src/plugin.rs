//! What `run` and `bench` share: load the plugin as the host would (name,
//! then `init` with the config), read the hook's inputs, and clean up.

use std::path::Path;

use bifrost_plugin_host::{Field, FreeMode, Guest, Hook, HookInput};

use crate::arg_value::{self, Source};
use crate::args::{HostArgs, InputArgs};
use crate::failure::{warn, Failure};

/// A plugin ready for calls of one hook.
pub struct Ready {
    /// The instance, initialised.
    pub guest: Guest,
    /// The hook's export in this plugin.
    pub export: &'static str,
    /// The hook's inputs.
    pub input: HookInput,
}

/// Loads `plugin`, checks it has `hook` and that the inputs given are ones
/// the hook takes, reports the plugin on stderr, and runs `init`.
pub fn prepare(
    plugin: &Path,
    hook: Hook,
    host: &HostArgs,
    inputs: &InputArgs,
) -> Result<Ready, Failure> {
    let dashes = [&host.config, &inputs.context, &inputs.request]
        .into_iter()
        .chain([&inputs.response, &inputs.error, &inputs.chunk])
        .filter(|value| value.as_deref().map(arg_value::source_of) == Some(Source::Stdin))
        .count();
    if dashes > 1 {
        return Err(Failure::usage("only one input can be `-` (stdin)"));
    }
    let wasm = std::fs::read(plugin)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", plugin.display())))?;
    let free = FreeMode::from(host.free);
    let mut guest = match host.abi {
        Some(abi) => Guest::load_with_abi(&wasm, abi.into(), free)?,
        None => Guest::load(&wasm, free)?,
    };
    let abi = guest.abi().ok_or_else(|| {
        Failure::new(format!(
            "cannot tell the ABI of {} from its exports (no hook of either ABI); \
             pass --abi seed or --abi single-input",
            plugin.display()
        ))
    })?;
    let export = guest.hook_export(hook)?;
    let input = read_inputs(hook, inputs)?;
    let name = guest.name()?;
    let how = if host.abi.is_some() {
        "--abi"
    } else {
        "detected"
    };
    eprintln!(
        "{}: \"{name}\", {abi} ABI ({how}), calling `{export}`, host frees {}",
        plugin.display(),
        free_mode_text(free)
    );
    init(&mut guest, host.config.as_deref())?;
    Ok(Ready {
        guest,
        export,
        input,
    })
}

fn free_mode_text(free: FreeMode) -> &'static str {
    match free {
        FreeMode::All => "inputs and outputs",
        FreeMode::InputsOnly => "inputs only",
        FreeMode::Nothing => "nothing",
    }
}

/// The `--config` bytes (none: an empty buffer, as a host without a
/// configuration sends), after saying on stderr which were read.
pub fn read_config(config: Option<&str>) -> Result<Vec<u8>, Failure> {
    match config {
        Some(value) => {
            let config = arg_value::read("config", value)?;
            eprintln!("config: {}", config.describe());
            Ok(config.bytes)
        }
        None => {
            eprintln!("config: none (init gets an empty buffer)");
            Ok(Vec::new())
        }
    }
}

/// Calls `init` as the host does when loading a plugin; a non-zero status
/// is a failure (Bifrost does not load a plugin whose init fails), reported
/// with the plugin's own reason.
fn init(guest: &mut Guest, config: Option<&str>) -> Result<(), Failure> {
    let config = read_config(config)?;
    if !guest.info().has_func("init") {
        if !config.is_empty() {
            warn("the plugin exports no `init`: --config is not used");
        }
        return Ok(());
    }
    match guest.init(&config)? {
        0 => Ok(()),
        status => {
            let meaning = match status {
                1 => "the plugin could not read its config",
                2 => "the plugin's own init failed",
                _ => "the plugin rejected its config",
            };
            let reason = guest
                .init_failure_reason()
                .map(|reason| format!(": {reason}"))
                .unwrap_or_else(|| " (it gave no reason)".into());
            Err(Failure::new(format!(
                "`init` returned {status} ({meaning}){reason}"
            )))
        }
    }
}

/// Calls `cleanup` if the plugin has it, as the host does at shutdown.
pub fn cleanup(guest: &mut Guest) -> Result<(), Failure> {
    if guest.info().has_func("cleanup") {
        let status = guest.cleanup()?;
        if status != 0 {
            warn(format!("`cleanup` returned {status}"));
        }
    }
    Ok(())
}

/// The inputs given, refusing those the hook does not take.
fn read_inputs(hook: Hook, args: &InputArgs) -> Result<HookInput, Failure> {
    let given = [
        (Field::Context, &args.context),
        (Field::Request, &args.request),
        (Field::Response, &args.response),
        (Field::Error, &args.error),
        (Field::Chunk, &args.chunk),
    ];
    let takes = hook.fields();
    let mut input = HookInput::new();
    for (field, value) in given {
        let Some(value) = value else { continue };
        if !takes.contains(&field) {
            let takes: Vec<String> = takes.iter().map(|f| format!("--{}", f.name())).collect();
            return Err(Failure::usage(format!(
                "{} does not take --{} (it takes {})",
                hook.name().replace('_', "-"),
                field.name(),
                takes.join(", ")
            )));
        }
        input = input.with(field, arg_value::read(field.name(), value)?.bytes);
    }
    Ok(input)
}
