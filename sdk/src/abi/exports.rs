//! The pointer layer: the bodies of the wasm exports every ABI shares, and the
//! reading and writing of host buffers. wasm32 only: pointers are 32-bit
//! offsets into this instance's linear memory.

use std::borrow::Cow;

use crate::memory::{pack, with_table};
use crate::Plugin;

use super::Input;

/// `plugin_malloc(size) -> ptr`: `0` only when memory is exhausted.
pub fn plugin_malloc(size: u32) -> u32 {
    with_table(|t| t.alloc(size as usize)).map_or(0, |address| address as u32)
}

/// `plugin_free(ptr)`: frees a buffer from `plugin_malloc` or a hook output;
/// any other pointer (unknown, freed twice, already reclaimed) is ignored.
pub fn plugin_free(ptr: u32) {
    with_table(|t| t.free(ptr as usize));
}

/// `get_name() -> (ptr << 32) | len` of the name, which lives in the module's
/// data for the instance's whole life (so freeing it is ignored).
pub fn get_name(name: &'static str) -> u64 {
    pack(name.as_ptr() as u32, name.len() as u32)
}

/// `init(config_ptr, config_len) -> i32`; see [`super::init`].
pub fn init<P: Plugin>(ptr: u32, len: u32) -> i32 {
    let status = with_input(ptr, len, "config", super::init::<P>);
    end_call();
    status
}

/// `cleanup() -> i32`; see [`super::cleanup`].
pub fn cleanup<P: Plugin>() -> i32 {
    let status = super::cleanup::<P>();
    end_call();
    status
}

/// Runs `f` on the bytes at `[ptr, ptr + len)`, or on the reason they cannot
/// be read.
pub fn with_input<R>(ptr: u32, len: u32, what: &str, f: impl FnOnce(Input<'_>) -> R) -> R {
    match read(ptr, len, what) {
        Ok(bytes) => f(Ok(&bytes)),
        Err(reason) => f(Err(reason)),
    }
}

/// The largest input read from memory the plugin did not hand out (which
/// must be copied first): every real host writes inputs into buffers from
/// `plugin_malloc`/`malloc`, which are read in place whatever their size.
pub const MAX_FOREIGN_COPY: usize = 4 * 1024 * 1024;

fn read(ptr: u32, len: u32, what: &str) -> Result<Cow<'static, [u8]>, String> {
    if len == 0 {
        return Ok(Cow::Borrowed(&[]));
    }
    if ptr == 0 {
        return Err(format!("{what} pointer is null"));
    }
    let memory_bytes = core::arch::wasm32::memory_size(0) as u64 * 65536;
    let end = ptr as u64 + len as u64;
    if end > memory_bytes {
        return Err(format!(
            "{what} buffer [{ptr}, {end}) lies outside the plugin's {memory_bytes}-byte memory"
        ));
    }
    let (address, len) = (ptr as usize, len as usize);
    // SAFETY: the range is inside linear memory (checked above), and wasm
    // memory is always readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(address as *const u8, len) };
    if with_table(|t| t.covers(address, len)) {
        // Inside a live buffer: only `plugin_free` and the end of the call
        // release it, and neither can happen while the hook runs (the caller
        // drops the slice before the call ends).
        Ok(Cow::Borrowed(bytes))
    } else if len > MAX_FOREIGN_COPY {
        // Copying any range the host names would let a host that passes
        // stray pointers grow memory call after call (each copy as large as
        // the memory the last one grew).
        Err(format!(
            "{what} buffer [{ptr}, {end}) was not allocated by plugin_malloc, and at \
             {len} bytes is too large to copy (limit {MAX_FOREIGN_COPY})"
        ))
    } else {
        // Memory the plugin does not own may be handed out by the allocator
        // during the hook: copy it before anything allocates.
        let mut copy = Vec::new();
        copy.try_reserve_exact(len)
            .map_err(|_| format!("out of memory copying {len}-byte {what}"))?;
        copy.extend_from_slice(bytes);
        Ok(Cow::Owned(copy))
    }
}

/// Hands `output` to the host, ends the call (see [`crate::memory`] for what
/// that reclaims) and returns `(ptr << 32) | len`.
pub fn finish(output: Vec<u8>) -> u64 {
    with_table(|t| {
        let len = output.len() as u32;
        let address = t.adopt(output) as u32;
        t.end_call();
        pack(address, len)
    })
}

/// Ends a call that returns no buffer (`init`, `cleanup`).
fn end_call() {
    with_table(|t| t.end_call());
}
