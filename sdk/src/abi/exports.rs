//! The pointer layer: the bodies of the wasm exports, and the reading of the
//! host's `(ptr, len)` ranges. Pointers are 32-bit offsets into this wasm32
//! instance's linear memory (natively there is none: see `memory_bytes`).
//!
//! Every function that takes a pointer, or that ends a call, is an `unsafe fn`:
//! its contract is "called by the host through the export `#[bifrost_plugin]`
//! generated, never from plugin code and never from inside another export".
//! That is what makes the borrows below sound: while a hook reads an input
//! buffer, nothing can free or reuse it, because only the host frees buffers
//! and the host cannot run while the plugin does (calls into one instance are
//! serialised, and the plugin's imports, if any, never call back into it).
//! Safe code cannot call these functions (`sdk/tests/ui/pointer_layer_is_unsafe.rs`
//! shows the compile error).

use crate::allocator;
use crate::memory::{change_table, pack, with_table};
use crate::Plugin;

use super::Input;

/// The largest input read from memory the plugin did not hand out (which
/// must be copied first): every real host writes inputs into buffers from
/// `plugin_malloc`/`malloc`, which are read in place whatever their size.
pub const MAX_FOREIGN_COPY: usize = 4 * 1024 * 1024;

/// Bytes of linear memory right now.
#[cfg(target_arch = "wasm32")]
fn memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65536
}

/// Natively there is no linear memory: every non-empty range is refused (the
/// layer compiles natively only so its signatures are checked there).
#[cfg(not(target_arch = "wasm32"))]
fn memory_bytes() -> u64 {
    0
}

/// `plugin_malloc(size) -> ptr`: `0` only when memory is exhausted (or,
/// once the heap is untrusted, the fallback is spent: abi-spec 4.5).
///
/// # Safety
/// Called only by the host through the generated export (see the module docs).
pub unsafe fn plugin_malloc(size: u32) -> u32 {
    allocator::enter_export();
    if allocator::broken() {
        return allocator::fallback(size as usize) as u32;
    }
    change_table(|t| t.alloc(size as usize)).map_or(0, |address| address as u32)
}

/// `plugin_free(ptr)`: frees a buffer from `plugin_malloc` or a hook output;
/// any other pointer (unknown, freed twice, already reclaimed) is ignored,
/// and so is every pointer once the heap is untrusted.
///
/// # Safety
/// Called only by the host through the generated export: a buffer freed
/// while a hook reads it would leave that hook reading reused memory.
pub unsafe fn plugin_free(ptr: u32) {
    allocator::enter_export();
    if allocator::broken() {
        return;
    }
    // Found without a change, so a stop before the removal loses nothing.
    if let Some(index) = with_table(|t| t.find(ptr as usize)) {
        change_table(|t| t.remove(index));
    }
}

/// The answer of an export called once the heap is untrusted (abi-spec
/// 4.5): `fixed`, a hook's whole output in static data, handed out without
/// allocating or reading any input (freeing it is ignored, like `get_name`'s
/// result). `None` while the heap is trusted.
#[inline]
pub fn past_recovery(fixed: &'static str) -> Option<u64> {
    allocator::enter_export();
    allocator::broken().then(|| pack(fixed.as_ptr() as u32, fixed.len() as u32))
}

/// Tells the logger the plugin's `#[bifrost_plugin(name = …)]`, which its
/// lines carry; the generated `init` and hook exports call it first (nothing
/// at all off `wasm32-wasip1`, where nothing is logged).
#[inline]
pub fn plugin_name(name: &'static str) {
    crate::logger::name_plugin(name);
}

/// `get_name() -> (ptr << 32) | len` of the name, which lives in the module's
/// data for the instance's whole life (so freeing it is ignored).
pub fn get_name(name: &'static str) -> u64 {
    pack(name.as_ptr() as u32, name.len() as u32)
}

/// `init(config_ptr, config_len) -> i32`; see [`super::init`].
///
/// # Safety
/// Called only by the host through the generated export.
pub unsafe fn init<P: Plugin>(ptr: u32, len: u32) -> i32 {
    if past_recovery("").is_some() {
        return crate::runtime::status::PLUGIN_ERROR;
    }
    // SAFETY: the caller's contract is this function's.
    let status = unsafe { with_input(ptr, len, "config", super::init::<P>) };
    change_table(|t| t.end_call());
    status
}

/// `cleanup() -> i32`; see [`super::cleanup`].
///
/// # Safety
/// Called only by the host through the generated export.
pub unsafe fn cleanup<P: Plugin>() -> i32 {
    // Plugin code is not run on an untrusted heap.
    if past_recovery("").is_some() {
        return crate::runtime::status::PLUGIN_ERROR;
    }
    let status = super::cleanup::<P>();
    change_table(|t| t.end_call());
    status
}

/// Runs `f` on the bytes at `[ptr, ptr + len)`, or on the reason they cannot
/// be read.
///
/// A range inside one live buffer is lent to `f` in place. Any other range is
/// decided on its addresses alone, before any reference to it exists and
/// before anything allocates: refused when it is null, outside memory or
/// larger than [`MAX_FOREIGN_COPY`], else copied out with one raw copy.
///
/// # Safety
/// Called only from an export body, before [`finish`], with no other
/// `with_input` borrow of the same call able to free anything: the lent bytes
/// stay valid because only the host frees buffers, and the host cannot run
/// until the export returns.
pub unsafe fn with_input<R>(ptr: u32, len: u32, what: &str, f: impl FnOnce(Input<'_>) -> R) -> R {
    allocator::enter_export();
    let (address, size) = (ptr as usize, len as usize);
    match locate(ptr, len, what) {
        Err(reason) => f(Err(reason)),
        Ok(Place::Empty) => f(Ok(&[])),
        Ok(Place::Owned) => {
            // SAFETY: `[address, address + size)` lies inside one live buffer
            // of the table (checked by `locate`): a live allocation of ours,
            // fully initialised (buffers are zeroed when allocated, and the
            // host's writes replace initialised bytes), at most `isize::MAX`
            // long (it fits in one `Vec`). The slice lives only for `f`; no
            // `&mut` to those bytes exists, and the buffer cannot be freed or
            // reclaimed before `f` returns: only `plugin_free` (the host's)
            // and the end of the call (after this returns) release buffers.
            let bytes = unsafe { std::slice::from_raw_parts(address as *const u8, size) };
            f(Ok(bytes))
        }
        Ok(Place::Foreign) => match copy_foreign(address, size, what) {
            Ok(copy) => f(Ok(&copy)),
            Err(reason) => f(Err(reason)),
        },
    }
}

/// Where a host range lies.
enum Place {
    /// Zero bytes: nothing to read, whatever the pointer.
    Empty,
    /// Inside one live buffer of the table.
    Owned,
    /// In memory, but not inside a buffer of ours, and small enough to copy.
    Foreign,
}

/// Decides what a range is from its numbers and the table alone.
fn locate(ptr: u32, len: u32, what: &str) -> Result<Place, String> {
    if len == 0 {
        return Ok(Place::Empty);
    }
    if ptr == 0 {
        return Err(format!("{what} pointer is null"));
    }
    let memory = memory_bytes();
    let end = ptr as u64 + len as u64;
    let (memory, end) = (Decimal(memory), Decimal(end));
    if end.0 > memory.0 {
        return Err(format!(
            "{what} buffer [{ptr}, {end}) lies outside the plugin's {memory}-byte memory"
        ));
    }
    if with_table(|t| t.covers(ptr as usize, len as usize)) {
        return Ok(Place::Owned);
    }
    if len as usize > MAX_FOREIGN_COPY {
        // Copying any range the host names would let a host that passes
        // stray pointers grow memory call after call (each copy as large as
        // the memory the last one grew).
        return Err(format!(
            "{what} buffer [{ptr}, {end}) was not allocated by plugin_malloc, and at \
             {len} bytes is too large to copy (limit {MAX_FOREIGN_COPY})"
        ));
    }
    Ok(Place::Foreign)
}

/// A `u64` written in decimal by a loop of its own: the only `u64` a plugin
/// formats is a memory address past 4 GiB, and core's `u64` formatting
/// costs ~300 B of .wasm beside the `u32` one every plugin has.
struct Decimal(u64);

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut digits = [0u8; 20];
        let (mut n, mut at) = (self.0, digits.len());
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // ASCII digits are UTF-8.
        f.write_str(std::str::from_utf8(&digits[at..]).unwrap_or_default())
    }
}

/// Copies `size` bytes at `address`, memory the plugin does not own (static
/// data, the stack, freed heap, pages the host grew itself), without ever
/// making a reference to it: one volatile read per byte into a zeroed copy.
///
/// What Rust defines here (abi-spec 4.4): a volatile read of memory outside
/// every live allocation (free heap, freed or reclaimed buffers, pages the
/// host grew) is allowed with any pointer. Bytes inside a live allocation
/// are read through the provenance it exposed: the table's buffers and the
/// plugin's name expose theirs (their addresses are cast to integers for the
/// host), and so does the copy itself, exposed before the first read, which
/// is the case a freed range can fall into (the copy may be handed exactly
/// those bytes, already zeroed). A range over memory the plugin holds
/// without exposing it (a live value of its own, the stack's frames) is the
/// one read Rust leaves undefined; wasm defines it (the bytes are read,
/// nothing traps, nothing is written), and the hook answers with those
/// bytes or an error.
fn copy_foreign(address: usize, size: usize, what: &str) -> Result<Vec<u8>, String> {
    let mut copy = Vec::new();
    copy.try_reserve_exact(size)
        .map_err(|_| format!("out of memory copying {size}-byte {what}"))?;
    copy.resize(size, 0);
    // Exposes the copy's provenance, so that bytes of the source inside it
    // are read through it.
    let _ = copy.as_mut_ptr() as usize;
    for (offset, byte) in copy.iter_mut().enumerate() {
        // SAFETY: `address + offset` lies in linear memory (bounds checked
        // by `locate`), always mapped and readable on wasm; read as the
        // function's docs say, one byte at a time, never through a
        // reference. Writing `*byte` after the read is sound even when the
        // two are the same byte: the read has finished.
        *byte = unsafe {
            std::ptr::read_volatile(std::ptr::with_exposed_provenance::<u8>(address + offset))
        };
    }
    Ok(copy)
}

/// Hands `output` to the host, ends the call (see the `memory` module for what
/// that reclaims) and returns `(ptr << 32) | len`.
///
/// # Safety
/// Called only at the end of an export body, after every [`with_input`] of
/// the call returned: ending the call may reclaim the buffers they lent.
pub unsafe fn finish(output: Vec<u8>) -> u64 {
    change_table(|t| {
        let len = output.len() as u32;
        let address = t.adopt(output) as u32;
        t.end_call();
        pack(address, len)
    })
}

/// The seed ABI's hook exports over pointers.
pub mod seed {
    use super::{finish, past_recovery, with_input};
    use crate::abi::seed;
    use crate::Plugin;

    /// `http_transport_intercept(ctx_ptr, ctx_len, req_ptr, req_len) -> i64`;
    /// `DEFINED`: whether the plugin defines `http_pre_hook` (else the
    /// input is passed on unread, [`seed::passes`]).
    ///
    /// # Safety
    /// Called only by the host through the generated export.
    pub unsafe fn http_transport_intercept<P: Plugin, const DEFINED: bool>(
        cp: u32,
        cl: u32,
        rp: u32,
        rl: u32,
    ) -> u64 {
        if let Some(fixed) = past_recovery(seed::INTERCEPT_PAST_RECOVERY) {
            return fixed;
        }
        // SAFETY (every block in this module): the caller's contract is the
        // pointer layer's; the inputs are read before `finish` ends the call.
        unsafe {
            let output = with_input(cp, cl, "context", |ctx| {
                with_input(rp, rl, "request", |req| match DEFINED {
                    true => seed::http_transport_intercept::<P>(ctx, req),
                    false => seed::passes::http_transport_intercept::<P>(ctx, req),
                })
            });
            finish(output)
        }
    }

    /// `pre_hook(ctx_ptr, ctx_len, req_ptr, req_len) -> i64`.
    ///
    /// # Safety
    /// Called only by the host through the generated export.
    pub unsafe fn pre_hook<P: Plugin>(cp: u32, cl: u32, rp: u32, rl: u32) -> u64 {
        if let Some(fixed) = past_recovery(seed::PRE_HOOK_PAST_RECOVERY) {
            return fixed;
        }
        unsafe {
            let output = with_input(cp, cl, "context", |ctx| {
                with_input(rp, rl, "request", |req| seed::pre_hook::<P>(ctx, req))
            });
            finish(output)
        }
    }

    /// `post_hook(ctx_ptr, ctx_len, resp_ptr, resp_len, err_ptr, err_len) -> i64`.
    ///
    /// # Safety
    /// Called only by the host through the generated export.
    pub unsafe fn post_hook<P: Plugin>(
        cp: u32,
        cl: u32,
        rp: u32,
        rl: u32,
        ep: u32,
        el: u32,
    ) -> u64 {
        if let Some(fixed) = past_recovery(seed::POST_HOOK_PAST_RECOVERY) {
            return fixed;
        }
        unsafe {
            let output = with_input(cp, cl, "context", |ctx| {
                with_input(rp, rl, "response", |resp| {
                    with_input(ep, el, "error", |err| seed::post_hook::<P>(ctx, resp, err))
                })
            });
            finish(output)
        }
    }
}

/// The single-input ABI's hook exports over pointers: one input buffer each.
pub mod single {
    use super::{finish, past_recovery, with_input};
    use crate::abi::single::past_recovery as fixed;
    use crate::Plugin;

    macro_rules! single_input_exports {
        ($($name:ident),*) => {$(
            #[doc = concat!("`", stringify!($name), "(ptr, len) -> i64`; `DEFINED`: whether the")]
            /// plugin defines the hook (else the input is passed on unread,
            /// [`crate::abi::single::passes`]).
            ///
            /// # Safety
            /// Called only by the host through the generated export.
            pub unsafe fn $name<P: Plugin, const DEFINED: bool>(ptr: u32, len: u32) -> u64 {
                if let Some(fixed) = past_recovery(fixed::$name) {
                    return fixed;
                }
                // SAFETY: the caller's contract is the pointer layer's; the
                // input is read before `finish` ends the call.
                unsafe {
                    finish(with_input(ptr, len, "input", |input| match DEFINED {
                        true => crate::abi::single::$name::<P>(input),
                        false => crate::abi::single::passes::$name::<P>(input),
                    }))
                }
            }
        )*};
    }

    single_input_exports!(
        http_pre_hook,
        http_post_hook,
        http_stream_chunk_hook,
        pre_hook,
        post_hook
    );
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    #[test]
    fn decimal_writes_every_u64_as_core_does() {
        for n in [
            0,
            7,
            10,
            65_536,
            u32::MAX as u64 + 1,
            8_589_934_590,
            u64::MAX,
        ] {
            assert_eq!(Decimal(n).to_string(), n.to_string());
        }
    }
}
