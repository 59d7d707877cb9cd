//! The plugin's global allocator.
//!
//! On wasm32 the SDK installs [talc](https://docs.rs/talc): `make bench`
//! measured it ~7 KB smaller than Rust's own allocator (dlmalloc) with the
//! same per-call cost and memory that stays flat under every host free
//! behaviour (figures in the guide, docs/src/performance.md). Feature `dlmalloc` keeps Rust's
//! allocator instead (also the way to install a global allocator of your
//! own). Feature `wee_alloc` swaps in [wee_alloc](https://docs.rs/wee_alloc),
//! which is unmaintained
//! ([RUSTSEC-2022-0054](https://rustsec.org/advisories/RUSTSEC-2022-0054))
//! and whose memory grows with every call under a request-sized workload:
//! it is kept only so `make bench` can show that.
//!
//! # A call stopped inside the allocator
//! A host may stop a call at any instruction (a fuel or time limit), also in
//! the middle of the allocator updating its free lists, which leaves them
//! inconsistent: any later allocation may then trap or hand out memory twice.
//! No allocator survives that, so the SDK notes when a call is inside its
//! allocator (or changing the buffer table, `memory.rs`), and the next export
//! call that finds the note still set knows the heap cannot be trusted. From
//! then on, for the instance's life, no export touches the heap again:
//! `plugin_malloc` serves fresh pages, bump-allocated and never reused, up to
//! [`FALLBACK_LIMIT`] bytes (then 0), `plugin_free` does nothing, every hook
//! answers a fixed output from static data saying the host must instantiate
//! the plugin again, and `init` and `cleanup` return 2 (see [`broken`]). The
//! instance keeps answering instead of trapping, without allocating.
//!
//! The notes are single stores, ordered by compiler fences, so that no stop
//! between two instructions can lose one: the "untrusted" note is set before
//! anything else happens in an export, and the "inside" note is never
//! cleared once it has been seen.

use std::sync::atomic::{compiler_fence, AtomicBool, Ordering};

#[cfg(all(feature = "wee_alloc", target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: Guarded<wee_alloc::WeeAlloc<'static>> = Guarded(wee_alloc::WeeAlloc::INIT);

// Single-threaded wasm only (no `atomics`): talc's wasm cell assumes it.
#[cfg(all(
    target_arch = "wasm32",
    not(target_feature = "atomics"),
    not(feature = "wee_alloc"),
    not(feature = "dlmalloc")
))]
#[global_allocator]
static ALLOCATOR: Guarded<talc::wasm::WasmDynamicTalc> =
    Guarded(talc::wasm::new_wasm_dynamic_allocator());

/// How much `plugin_malloc` hands out once the heap is untrusted: enough
/// for the host's inputs to a long run of refusals, bounded so a host that never re-instantiates cannot
/// grow memory without end.
// Unused natively and with feature `dlmalloc` (no SDK allocator there).
#[cfg_attr(
    any(not(target_arch = "wasm32"), feature = "dlmalloc"),
    allow(dead_code)
)]
pub(crate) const FALLBACK_LIMIT: usize = 16 << 20;

crate::global::global! {
    /// Set while the inner allocator or a change of the buffer table runs.
    static INSIDE: AtomicBool = AtomicBool::new(false);
}
crate::global::global! {
    /// Set once a call was stopped inside the allocator: the heap is
    /// untrusted for the instance's life.
    static BROKEN: AtomicBool = AtomicBool::new(false);
}

/// Stores `value` in `note` as one whole store that the compiler neither
/// removes (it is atomic) nor moves across the code around it (the fences):
/// a trap is not something the compiler knows a later read can observe.
fn set(note: &AtomicBool, value: bool) {
    compiler_fence(Ordering::SeqCst);
    note.store(value, Ordering::Relaxed);
    compiler_fence(Ordering::SeqCst);
}

/// Called first by every export (but `get_name`): a note left set means an
/// earlier call stopped inside the allocator. `BROKEN` is set while `INSIDE`
/// still says so, and `INSIDE` is never cleared here, so a stop anywhere in
/// this function loses nothing: the next call finds `INSIDE` set again.
pub(crate) fn enter_export() {
    if INSIDE.with(|inside| inside.load(Ordering::Relaxed)) {
        BROKEN.with(|broken| set(broken, true));
    }
}

/// Whether the heap is untrusted (see the module docs): the export must
/// answer without touching the heap or the buffer table.
pub(crate) fn broken() -> bool {
    BROKEN.with(|broken| broken.load(Ordering::Relaxed))
}

/// Runs `f` with the "inside" note set, restoring the note it found after
/// (the table's changes hold it around allocator calls of their own). A call
/// stopped in `f` leaves the note set: the next export marks the heap
/// untrusted.
pub(crate) fn noted<R>(f: impl FnOnce() -> R) -> R {
    INSIDE.with(|inside| {
        let outer = inside.load(Ordering::Relaxed);
        set(inside, true);
        let result = f();
        set(inside, outer);
        result
    })
}

/// `size` zeroed bytes for the host once the heap is untrusted, from pages
/// never used before; 0 past [`FALLBACK_LIMIT`] in all or when memory cannot
/// grow. Never freed.
pub(crate) fn fallback(size: usize) -> usize {
    #[cfg(all(target_arch = "wasm32", not(feature = "dlmalloc")))]
    if let Ok(layout) = std::alloc::Layout::from_size_align(size, 1) {
        return guarded::bump(layout) as usize;
    }
    // No fallback with Rust's own allocator (no note is taken there).
    let _ = size;
    0
}

/// `(start, next, end)` of a `size`-byte block aligned to `align` at or
/// after `next`, if it ends by `end`: `None` rather than a wrapped sum.
#[cfg_attr(
    any(not(target_arch = "wasm32"), feature = "dlmalloc"),
    allow(dead_code)
)]
fn fit(next: usize, end: usize, size: usize, align: usize) -> Option<(usize, usize, usize)> {
    let start = next.checked_next_multiple_of(align)?;
    let stop = start.checked_add(size)?;
    (stop <= end).then_some((start, stop, end))
}

/// The SDK's global allocator: `A`, with the note described in the module
/// docs and the fallback for after a stop inside `A`.
#[cfg_attr(
    any(not(target_arch = "wasm32"), feature = "dlmalloc"),
    allow(dead_code)
)]
pub(crate) struct Guarded<A>(A);

#[cfg(all(target_arch = "wasm32", not(feature = "dlmalloc")))]
mod guarded {
    use std::alloc::{GlobalAlloc, Layout};
    use std::cell::Cell;
    use std::sync::atomic::{compiler_fence, Ordering};

    use super::{broken, fit, noted, Guarded, FALLBACK_LIMIT};

    crate::global::global! {
        /// The fallback's next free address.
        static NEXT: Cell<usize> = Cell::new(0);
    }
    crate::global::global! {
        /// The end of the fallback's pages: `[NEXT, END)` is unused.
        static END: Cell<usize> = Cell::new(0);
    }
    crate::global::global! {
        /// Bytes the fallback has handed out.
        static BUMPED: Cell<usize> = Cell::new(0);
    }

    /// `layout.size()` bytes from pages grown for the fallback, never reused;
    /// null past [`FALLBACK_LIMIT`], when memory cannot grow, or when an
    /// address would pass the end of the 32-bit address space (a host may
    /// have grown memory to 4 GiB itself). Every sum is checked: a wrapped
    /// one would hand out low memory (the stack, static data) as new.
    pub(super) fn bump(layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size().max(1), layout.align());
        let Some(total) = BUMPED
            .with(Cell::get)
            .checked_add(size)
            .filter(|&total| total <= FALLBACK_LIMIT)
        else {
            return std::ptr::null_mut();
        };
        // Counted before memory grows: a call stopped after this point
        // spends budget it did not use, never uses budget it did not count.
        BUMPED.with(|b| b.set(total));
        compiler_fence(Ordering::SeqCst);
        let block = fit(NEXT.with(Cell::get), END.with(Cell::get), size, align).or_else(|| {
            let pages = size.checked_add(align)?.div_ceil(65536);
            let old = core::arch::wasm32::memory_grow(0, pages);
            if old == usize::MAX {
                return None;
            }
            // The grow succeeded, so `old + pages` is at most 65,536 and
            // the product overflows only when memory is now exactly 4 GiB,
            // whose end is one past `usize::MAX`: that last byte is not used.
            let end = old.checked_add(pages)?.saturating_mul(65536);
            fit(old.checked_mul(65536)?, end, size, align)
        });
        let Some((start, stop, end)) = block else {
            return std::ptr::null_mut();
        };
        // Two stores, each whole, in this order: a stop between them leaves
        // `NEXT` past the old `END` (an empty range), never a range over
        // pages between the old and the new ones, which are not ours.
        compiler_fence(Ordering::SeqCst);
        NEXT.with(|n| n.set(stop));
        compiler_fence(Ordering::SeqCst);
        END.with(|e| e.set(end));
        start as *mut u8
    }

    // SAFETY: while the heap is trusted every method forwards to `A` with
    // the caller's own arguments, so `A`'s contract is the caller's. Once it
    // is untrusted no export runs code that allocates (each answers first,
    // see the module docs); should anything allocate all the same, it gets
    // null (an allocation failure, never memory `A` may have handed out
    // twice), and frees are ignored, which is always allowed (a leak).
    // Single-threaded wasm: the notes are never reached from two threads.
    unsafe impl<A: GlobalAlloc> GlobalAlloc for Guarded<A> {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            match broken() {
                true => std::ptr::null_mut(),
                false => noted(|| unsafe { self.0.alloc(layout) }),
            }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            match broken() {
                true => std::ptr::null_mut(),
                false => noted(|| unsafe { self.0.alloc_zeroed(layout) }),
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if !broken() {
                noted(|| unsafe { self.0.dealloc(ptr, layout) })
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            match broken() {
                true => std::ptr::null_mut(),
                false => noted(|| unsafe { self.0.realloc(ptr, layout, new_size) }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn a_block_that_would_pass_the_end_of_the_address_space_does_not_fit() {
        let top = usize::MAX - 0xFFFF;
        assert_eq!(
            fit(top, usize::MAX, 16, 8),
            Some((top, top + 16, usize::MAX))
        );
        assert_eq!(fit(top + 1, usize::MAX, 0x20000, 1), None, "the end wraps");
        assert_eq!(fit(usize::MAX, usize::MAX, 1, 16), None, "the start wraps");
        assert_eq!(fit(0x1000, 0x2000, 0x1001, 1), None, "past the pages");
    }
}
