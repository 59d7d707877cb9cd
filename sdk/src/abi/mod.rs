//! The host-facing side: what each export does with the host's pointers.
//! Not part of the documented API: `#[bifrost_plugin]` and the SDK's own
//! tests call it.
//!
//! Every ABI is split in two layers:
//! - a byte layer (`seed::pre_hook`, …) that turns input bytes into output
//!   bytes and is tested natively like any Rust function;
//! - a pointer layer (`exports`) of `unsafe fn`s that decides what the host's
//!   `(ptr, len)` pairs point at, hands the bytes to the byte layer and
//!   returns the output packed as `(ptr << 32) | len`. It is meaningful on
//!   wasm32 only (natively there is no linear memory and every range is
//!   refused), but compiles everywhere so that its signatures are checked.
//!
//! `#[bifrost_plugin]` generates `#[no_mangle]` functions that call the pointer
//! layer and nothing else.

pub mod exports;
pub mod seed;
pub mod single;

use crate::json::write::ObjectWriter;
use crate::types::document::take_deferred_error;
use crate::{runtime, Plugin, PluginError};

/// One input buffer as the byte layer receives it: the bytes, or why they
/// could not be read (null pointer, out of bounds, out of memory).
pub type Input<'a> = Result<&'a [u8], String>;

/// The error of every hook's output once the heap is untrusted (abi-spec
/// 4.5). Those outputs are whole texts in static data (`seed.rs`,
/// `single.rs`), handed out without allocating: a macro, so that `concat!`
/// can build each of them around the one text.
macro_rules! past_recovery_error {
    () => {
        "an earlier call was stopped inside the plugin's memory allocator: the host must \
         instantiate the plugin again"
    };
}
use past_recovery_error;

/// What an output says when a value it carries cannot be written (host text
/// the hook passed on that does not check is reported before this).
const UNWRITABLE: &str = "plugin could not write its output";

/// `{"response": …, "error": …}`: a `pre_hook` short-circuit, in both ABIs.
fn short_circuit(response: Option<&[u8]>, error: Option<&[u8]>) -> Vec<u8> {
    ObjectWriter::with_capacity(response.map_or(0, <[u8]>::len))
        .raw_or_null("response", response)
        .raw_or_null("error", error)
        .finish()
}

/// Whether `hook` is among the methods a plugin's impl defines (`defined`,
/// listed by `#[bifrost_plugin]`); an export whose hook it is not passes its
/// input on unread (abi-spec 3.8). `const`: it picks the export's body at
/// compile time, so the code of the other is not in the `.wasm`.
#[doc(hidden)]
pub const fn defines(defined: &[&str], hook: &str) -> bool {
    let mut i = 0;
    while i < defined.len() {
        if same(defined[i].as_bytes(), hook.as_bytes()) {
            return true;
        }
        i += 1;
    }
    false
}

/// `a == b`, in a `const fn`.
const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Rejects an empty buffer where the hook needs a value.
pub(crate) fn required<'a>(input: Input<'a>, what: &str) -> Result<&'a [u8], String> {
    let bytes = input?;
    if bytes.trim_ascii().is_empty() {
        return Err(format!("{what} is empty"));
    }
    Ok(bytes)
}

/// The reason a failed hook reports: the plugin's unavailability (a failed
/// `init`, a cleanup, a lost state), whatever its input, else `error`.
/// Asked once the hook has failed, so a call that succeeds asks nothing
/// more.
pub(crate) fn first_reason<P: Plugin>(error: String) -> String {
    runtime::unavailable_or::<P>(error)
}

/// Runs a hook on the plugin. "Plugin unavailable", the hook's own `Err`,
/// and an input the plugin read that turned out not to be valid (so the
/// hook saw an empty view of it) all become the output's error text.
pub(crate) fn run<P: Plugin, T>(
    hook: impl FnOnce(&mut P) -> Result<T, PluginError>,
) -> Result<T, String> {
    take_deferred_error(); // none is left from an earlier call
    let result = runtime::with_plugin::<P, _>(hook)?;
    match (take_deferred_error(), result) {
        (Some(input_error), _) => Err(input_error.into()),
        (None, Ok(value)) => Ok(value),
        (None, Err(error)) => Err(error.into_message()),
    }
}

/// `init`: parses the configuration (empty, blank or `null` means
/// `Config::default()`) and builds the plugin. Returns 0 on success, 1 for a
/// configuration that cannot be read or parsed, 2 when the plugin's own
/// `init` fails; the reason is reported by every later hook.
pub fn init<P: Plugin>(config: Input<'_>) -> i32 {
    runtime::init::<P>(config)
}

/// `cleanup`: runs the plugin's `cleanup` and drops it. Returns 0 on success
/// (also when there was no plugin), 2 when the plugin's `cleanup` fails.
pub fn cleanup<P: Plugin>() -> i32 {
    runtime::cleanup::<P>()
}
