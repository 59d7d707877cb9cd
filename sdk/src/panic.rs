//! What a panic in plugin code does.
//!
//! `wasm32-unknown-unknown` cannot unwind: a panic aborts, which traps the
//! host's call. Before that happens, a panic hook installed by the first
//! export call records the message (with its source location). The plugin
//! value is lost with the trapped call, so every later hook reports
//! "an earlier call panicked: …" in its `error` field, until `init` builds a
//! new plugin. The SDK itself does not panic on any input; only plugin code
//! (or an allocation failure inside it) can.
//!
//! On `wasm32-wasip1` the hook also logs the message and its location (one
//! `ERROR` line on stderr, see [`logger`](crate::logger)) before the trap,
//! so the host's log says why the call trapped.

use std::cell::Cell;

crate::global::global! {
    static LAST_PANIC: Cell<Option<String>> = Cell::new(None);
}

/// Installs the recording hook, once. Only on wasm32: natively the test
/// harness's own hook must stay in place.
pub(crate) fn install_hook() {
    #[cfg(target_arch = "wasm32")]
    {
        crate::global::global! {
            static INSTALLED: std::cell::Cell<bool> = std::cell::Cell::new(false);
        }
        if !INSTALLED.with(|i| i.replace(true)) {
            std::panic::set_hook(Box::new(|info| {
                // "panicked at src/lib.rs:9:5:\nmessage"
                let message = info.to_string();
                #[cfg(target_os = "wasi")]
                crate::logger::emit(
                    log::Level::Error,
                    format_args!("{}", message.replace(":\n", ": ")),
                );
                record(message);
            }));
        }
    }
}

/// Keeps `message` as the last panic.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // called by the wasm32 hook
pub(crate) fn record(message: String) {
    LAST_PANIC.with(|last| last.set(Some(message)));
}

/// The last recorded panic, if any.
pub(crate) fn last() -> Option<String> {
    LAST_PANIC.with(|last| {
        let message = last.take();
        last.set(message.clone());
        message
    })
}

/// Forgets the last panic (a new plugin was built).
pub(crate) fn clear() {
    LAST_PANIC.with(|last| last.set(None));
}
