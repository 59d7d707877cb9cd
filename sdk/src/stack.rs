//! The stack across calls that trapped.
//!
//! On wasm32, Rust keeps its stack in linear memory, at an address held in a
//! global that every function moves down on entry and back up on return. A
//! call that traps (a panic, a host's fuel or time limit) never returns, so
//! that global stays where the trap left it: the frames the call held are
//! lost for the instance's life. Stable Rust cannot reset the global, and a
//! stack used up that way ends in an out-of-bounds trap on every later call.
//!
//! So the SDK measures how deep each call starts, against the shallowest
//! start it has seen. Once more than half the stack is lost, hooks and `init`
//! refuse to run, with an error saying why (the host must instantiate the
//! plugin again), while `plugin_malloc` and `plugin_free`, which need little
//! stack, keep working.

use std::cell::Cell;

crate::global::global! {
    /// The highest stack address seen at a measurement: where a call starts
    /// when no stack has been lost.
    static TOP: Cell<usize> = Cell::new(0);
}

/// The address of a local of this frame: how far down the stack is now.
#[inline(never)]
fn here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Bytes of stack lost to trapped calls so far, and the stack there was.
/// Natively (one OS thread per test) nothing is lost that a trap could leak.
fn lost() -> (usize, usize) {
    let now = here();
    let top = TOP.with(|top| {
        top.set(top.get().max(now));
        top.get()
    });
    (top - now, top)
}

/// `Err` with the reason when so much stack is lost that running the plugin
/// risks a trap. With the stack placed first in memory (Rust's wasm32
/// layout), the stack there was is the distance from address 0.
pub(crate) fn check() -> Result<(), String> {
    let (lost, top) = lost();
    if cfg!(target_arch = "wasm32") && lost > top / 2 {
        return Err(format!(
            "the plugin lost {} KiB of its {} KiB stack to calls that trapped, and cannot \
             run safely any more: the host must instantiate it again",
            lost / 1024,
            top / 1024
        ));
    }
    Ok(())
}
