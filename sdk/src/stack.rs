//! The stack across calls that trapped.
//!
//! On wasm32, Rust keeps its stack in linear memory, at an address held in a
//! global that every function moves down on entry and back up on return. A
//! call that traps (a panic, a host's fuel or time limit) never returns, so
//! that global stays where the trap left it: the frames the call held are
//! lost for the instance's life. Stable Rust cannot reset the global, and a
//! stack used up that way ends in an out-of-bounds trap on every later call.
//!
//! So the SDK measures how deep each call starts, against the top of the
//! stack region the linker laid out (`__stack_high`; the region is
//! `[__stack_low, __stack_high)`, the first megabyte of memory in Rust's
//! wasm32 layout): a call starts near the top when no stack has been lost,
//! however much was lost before the first measurement. Once more than half
//! the stack is lost, hooks and `init` refuse to run, with an error saying
//! why (the host must instantiate the plugin again), while `plugin_malloc`
//! and `plugin_free`, which need little stack, keep working.

/// The address of a local of this frame: how far down the stack is now.
#[cfg(target_arch = "wasm32")]
#[inline(never)]
fn here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// `(top, bottom)` of the stack region, from the linker's symbols: only
/// their addresses are taken, their bytes are never read.
#[cfg(target_arch = "wasm32")]
fn region() -> (usize, usize) {
    extern "C" {
        static __stack_high: u8;
        static __stack_low: u8;
    }
    (
        &raw const __stack_high as usize,
        &raw const __stack_low as usize,
    )
}

/// `Err` with the reason when so much stack is lost that running the plugin
/// risks a trap. Natively (one OS thread per test) nothing is lost that a
/// trap could leak.
pub(crate) fn check() -> Result<(), String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::global::global! {
            /// Set once a check found more than half the stack lost: the
            /// stack never comes back, so every later check refuses too
            /// (also one made less deep than the one that found it).
            static SHORT: std::cell::Cell<bool> = std::cell::Cell::new(false);
        }
        let (top, bottom) = region();
        let (lost, size) = (top.saturating_sub(here()), top - bottom);
        let short = SHORT.with(|short| {
            short.set(short.get() || lost > size / 2);
            short.get()
        });
        if short {
            return Err(format!(
                "the plugin lost {} KiB of its {} KiB stack to calls that trapped, and cannot \
                 run safely any more: the host must instantiate it again",
                lost / 1024,
                size / 1024
            ));
        }
    }
    Ok(())
}
