//! The plugin instance's life: `init` builds it, hooks borrow it, `cleanup`
//! drops it. Failures are remembered so every later hook can say why it
//! could not run.

use std::any::Any;
use std::cell::Cell;

use crate::plugin::{Plugin, PluginError};
use crate::{panic, stack};

/// Where the one plugin value of this wasm instance is.
enum Slot {
    /// `init` has not been called: the first hook builds the plugin from the
    /// default configuration (the seed ABI calls `init` optional).
    Empty,
    Ready(Box<dyn Any>),
    /// `init` failed, with this reason.
    InitFailed(String),
    /// A hook is running or trapped mid-call; the plugin value was lost.
    InUse,
    CleanedUp,
}

crate::global::global! {
    static SLOT: Cell<Slot> = Cell::new(Slot::Empty);
}

fn replace(slot: Slot) -> Slot {
    SLOT.with(|s| s.replace(slot))
}

/// What `init` returns to the host.
pub(crate) mod status {
    /// Success.
    pub const OK: i32 = 0;
    /// The configuration is not valid JSON for the plugin's `Config`.
    pub const BAD_CONFIG: i32 = 1;
    /// The plugin's own `init` (or `cleanup`) returned an error.
    pub const PLUGIN_ERROR: i32 = 2;
}

/// Parses the configuration bytes and builds the plugin; returns a
/// [`status`] code. Empty, blank or `null` configuration means
/// `Config::default()`.
pub(crate) fn init<P: Plugin>(config: Result<&[u8], String>) -> i32 {
    crate::logger::install::<P>();
    panic::install_hook();
    if let Err(reason) = stack::check() {
        replace(Slot::InitFailed(reason));
        return status::PLUGIN_ERROR;
    }
    replace(Slot::InUse); // the old plugin, if any, is dropped before the new one is built
    let built = match config.and_then(parse_config::<P>) {
        Err(reason) => Err((status::BAD_CONFIG, reason)),
        Ok(config) => P::init(config).map_err(|e| (status::PLUGIN_ERROR, init_failed(e))),
    };
    match built {
        Ok(plugin) => {
            panic::clear();
            replace(Slot::Ready(Box::new(plugin)));
            status::OK
        }
        Err((code, reason)) => {
            replace(Slot::InitFailed(reason));
            code
        }
    }
}

fn parse_config<P: Plugin>(bytes: &[u8]) -> Result<P::Config, String> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(P::Config::default());
    }
    // The untrimmed bytes: `trim_ascii` also drops form feeds, which JSON
    // does not allow around a value.
    crate::json::validate_nested(bytes, crate::json::CONFIG_MAX_DEPTH)
        .map_err(|e| format!("config {e}"))?;
    crate::json::de::from_checked(bytes).map_err(|e| format!("config is not valid: {e}"))
}

fn init_failed(error: PluginError) -> String {
    format!("init failed: {error}")
}

/// Runs `f` on the plugin, building it from the default configuration first
/// if `init` was never called. `Err` says why the plugin is unavailable.
pub(crate) fn with_plugin<P: Plugin, R>(f: impl FnOnce(&mut P) -> R) -> Result<R, String> {
    crate::logger::install::<P>();
    let mut plugin = take_plugin(build_default::<P>)?;
    // The slot holds only values of the one `P` the exports were generated for.
    let result = plugin.downcast_mut::<P>().map(f);
    put_back(plugin);
    result.ok_or_else(unexpected_type)
}

/// Why a hook could not run on a plugin value of another type (which the
/// exports never store): one copy, not one per hook.
#[cold]
#[inline(never)]
fn unexpected_type() -> String {
    "plugin state has an unexpected type".into()
}

/// Why the plugin is unavailable, if it is (building it from the default
/// configuration if `init` was never called), else `error`: what a hook
/// that failed reports, so that a failed `init` comes before anything wrong
/// with the hook's input.
pub(crate) fn unavailable_or<P: Plugin>(error: String) -> String {
    crate::logger::install::<P>();
    first_reason(error, build_default::<P>)
}

/// [`unavailable_or`], not generic: one copy for every hook.
fn first_reason(error: String, build: fn() -> Result<Box<dyn Any>, PluginError>) -> String {
    match take_plugin(build) {
        Ok(plugin) => {
            put_back(plugin);
            error
        }
        Err(reason) => reason,
    }
}

/// Returns the plugin to its slot after a hook. One shared copy, not one
/// per hook: the slot's old value (`InUse`) is dropped here.
#[inline(never)]
fn put_back(plugin: Box<dyn Any>) {
    replace(Slot::Ready(plugin));
}

/// `P` built from its default configuration, for a host that never called
/// `init`.
fn build_default<P: Plugin>() -> Result<Box<dyn Any>, PluginError> {
    P::init(P::Config::default()).map(|plugin| Box::new(plugin) as Box<dyn Any>)
}

/// Takes the plugin out of its slot (marking it in use), building it with
/// `build` if there is none yet. Not generic, so every hook shares one copy.
fn take_plugin(build: fn() -> Result<Box<dyn Any>, PluginError>) -> Result<Box<dyn Any>, String> {
    panic::install_hook();
    stack::check()?;
    let reason = match replace(Slot::InUse) {
        Slot::Ready(plugin) => return Ok(plugin),
        Slot::Empty => match build() {
            Ok(plugin) => return Ok(plugin),
            Err(e) => init_failed(e),
        },
        Slot::InitFailed(reason) => reason,
        Slot::InUse => {
            let cause = panic::last().unwrap_or_else(|| "trapped".into());
            return Err(format!(
                "plugin state was lost: an earlier call {cause}; call init again"
            ));
        }
        Slot::CleanedUp => {
            replace(Slot::CleanedUp);
            return Err("plugin was cleaned up; call init again".into());
        }
    };
    // Why init failed stays for every later hook to report.
    let message = format!("plugin is not initialised: {reason}");
    replace(Slot::InitFailed(reason));
    Err(message)
}

/// Runs the plugin's `cleanup` and drops it; returns a [`status`] code.
pub(crate) fn cleanup<P: Plugin>() -> i32 {
    // `InUse` while the plugin's own cleanup runs: if it panics, later hooks
    // report the panic rather than a clean shutdown.
    let outcome = match replace(Slot::InUse) {
        Slot::Ready(mut plugin) => plugin.downcast_mut::<P>().map(P::cleanup),
        _ => None,
    };
    match outcome {
        Some(Err(e)) => {
            replace(Slot::InitFailed(format!("cleanup failed: {e}")));
            status::PLUGIN_ERROR
        }
        _ => {
            replace(Slot::CleanedUp);
            status::OK
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local!(static CLEANED: Cell<u32> = const { Cell::new(0) });

    #[derive(serde::Deserialize, Default)]
    struct Config {
        fail: bool,
    }

    struct Counter(u32);

    impl Plugin for Counter {
        type Config = Config;
        fn init(config: Config) -> Result<Self, PluginError> {
            match config.fail {
                true => Err(PluginError::new("asked to fail")),
                false => Ok(Counter(0)),
            }
        }
        fn cleanup(&mut self) -> Result<(), PluginError> {
            CLEANED.with(|c| c.set(c.get() + 1));
            Ok(())
        }
    }

    fn bump() -> Result<u32, String> {
        with_plugin::<Counter, _>(|p| {
            p.0 += 1;
            p.0
        })
    }

    // One test, because the slot is per thread and the steps depend on order.
    #[test]
    fn lifecycle() {
        assert_eq!(bump(), Ok(1), "a hook before init uses the default config");
        assert_eq!(init::<Counter>(Ok(b"")), status::OK);
        assert_eq!(bump(), Ok(1), "init starts a fresh plugin");
        assert_eq!(bump(), Ok(2), "state lives across hooks");

        assert_eq!(
            init::<Counter>(Ok(b"\x0c{}")),
            status::BAD_CONFIG,
            "no form feed in JSON"
        );
        assert_eq!(init::<Counter>(Ok(b"{\"fail\":1}")), status::BAD_CONFIG);
        let err = bump().unwrap_err();
        assert!(
            err.starts_with("plugin is not initialised: config is not valid"),
            "{err}"
        );
        assert_eq!(
            init::<Counter>(Ok(b"{\"fail\":true}")),
            status::PLUGIN_ERROR
        );
        assert_eq!(
            bump().unwrap_err(),
            "plugin is not initialised: init failed: asked to fail"
        );
        assert_eq!(
            init::<Counter>(Err("config pointer is null".into())),
            status::BAD_CONFIG
        );

        assert_eq!(init::<Counter>(Ok(b" null ")), status::OK);
        assert_eq!(cleanup::<Counter>(), status::OK);
        assert_eq!(CLEANED.with(Cell::get), 1);
        assert_eq!(
            bump().unwrap_err(),
            "plugin was cleaned up; call init again"
        );
        assert_eq!(
            cleanup::<Counter>(),
            status::OK,
            "a second cleanup is harmless"
        );
        assert_eq!(CLEANED.with(Cell::get), 1);
    }
}
