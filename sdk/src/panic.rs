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
                crate::logger::emit(log::Level::Error, format_args!("{}", one_line(&message)));
                record(message);
            }));
        }
    }
}

/// A panic message as one log line: "panicked at src/lib.rs:9:5: message"
/// (byte by byte, in place: `str::replace` brings a substring searcher,
/// ~3 KB, and an iterator collected into a new vector 0.5 KB).
#[cfg_attr(not(all(target_arch = "wasm32", target_os = "wasi")), allow(dead_code))]
fn one_line(message: &str) -> String {
    let mut bytes = message.as_bytes().to_vec();
    let mut previous = 0;
    for byte in &mut bytes {
        let this = *byte;
        if this == b'\n' && previous == b':' {
            *byte = b' ';
        }
        previous = this;
    }
    // ASCII replaced by ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_is_logged_on_one_line() {
        assert_eq!(
            super::one_line("panicked at src/lib.rs:9:5:\nno key: \"k\"\nnext"),
            "panicked at src/lib.rs:9:5: no key: \"k\"\nnext"
        );
        assert_eq!(super::one_line("é:\n\n:"), "é: \n:");
        assert_eq!(super::one_line(""), "");
    }
}
