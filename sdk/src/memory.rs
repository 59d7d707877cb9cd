//! Buffers shared with the host: the machinery behind `plugin_malloc`,
//! `plugin_free` and every hook's output.
//!
//! The host's freeing behaviour is not public (it may free inputs and
//! outputs, only inputs, nothing at all, or the same pointer twice), so the
//! plugin cannot rely on it. Every buffer the host can see lives in a
//! [`BufferTable`] and is tagged with the *generation* (the number of finished
//! export calls) in which it was created. The rule:
//!
//! > A buffer the host has not freed by the end of the export call *after* the
//! > one it was created for is reclaimed by the plugin.
//!
//! An input written before call *N* and the output of call *N* therefore stay
//! valid through the whole of call *N + 1*: the host has read its output long
//! before it makes another call (calls into one instance are serialised). At
//! most two generations are alive at once, so memory stays bounded whichever
//! way the host behaves. `plugin_free` of a pointer that is not in the table
//! (unknown, interior, already freed or already reclaimed) does nothing.

use std::cell::RefCell;

/// Packs a pointer and a length into the `u64` the host unpacks as
/// `(ptr << 32) | len`.
///
/// ```
/// use bifrost_plugin_sdk::memory::{pack, unpack};
/// assert_eq!(pack(0x10, 3), 0x0000_0010_0000_0003);
/// assert_eq!(unpack(pack(0x10, 3)), (0x10, 3));
/// ```
#[inline]
pub const fn pack(ptr: u32, len: u32) -> u64 {
    ((ptr as u64) << 32) | len as u64
}

/// Splits a packed `u64` back into `(ptr, len)`; the inverse of [`pack`].
///
/// ```
/// use bifrost_plugin_sdk::memory::unpack;
/// assert_eq!(unpack(0x0000_0100_0000_0020), (0x100, 0x20));
/// ```
#[inline]
pub const fn unpack(packed: u64) -> (u32, u32) {
    ((packed >> 32) as u32, packed as u32)
}

/// One buffer the host knows the address of.
#[derive(Debug)]
struct Buffer {
    /// Owns the allocation. Host-written bytes live in its spare capacity
    /// (its length stays 0); outputs are fully initialised.
    data: Vec<u8>,
    /// Usable size in bytes, as requested or as written.
    size: usize,
    /// The generation the buffer was created in.
    generation: u64,
}

impl Buffer {
    fn address(&self) -> usize {
        self.data.as_ptr() as usize
    }
}

/// The set of buffers the host can see, with the reclamation rule of this
/// module.
///
/// Addresses are `usize` so the bookkeeping is testable natively; the ABI
/// layer converts them to and from the host's `u32`.
///
/// ```
/// use bifrost_plugin_sdk::memory::BufferTable;
/// let mut table = BufferTable::new();
/// let input = table.alloc(16).unwrap();
/// let output = table.adopt(b"{}".to_vec());
/// table.end_call(); // the call that used `input` and produced `output`
/// assert!(table.contains(input) && table.contains(output));
/// table.end_call(); // one more call: neither was freed, both are reclaimed
/// assert_eq!(table.live(), 0);
/// assert!(!table.free(output)); // a late free is harmless
/// ```
#[derive(Debug, Default)]
pub struct BufferTable {
    live: Vec<Buffer>,
    generation: u64,
}

impl BufferTable {
    /// An empty table.
    pub const fn new() -> Self {
        BufferTable {
            live: Vec::new(),
            generation: 0,
        }
    }

    /// Allocates `size` writable bytes for the host and returns their address,
    /// or `None` when memory is exhausted (the host sees `0`).
    ///
    /// `size` 0 returns the address of a static, never-freed sentinel: a
    /// valid, non-null place to write nothing.
    pub fn alloc(&mut self, size: usize) -> Option<usize> {
        if size == 0 {
            return Some(empty_sentinel());
        }
        let mut data = Vec::new();
        data.try_reserve_exact(size).ok()?;
        self.live.try_reserve(1).ok()?;
        let buffer = Buffer {
            data,
            size,
            generation: self.generation,
        };
        let address = buffer.address();
        self.live.push(buffer);
        Some(address)
    }

    /// Hands an output to the host: the table owns it from now on, under the
    /// same rule as host allocations. Returns its address.
    ///
    /// If memory is so exhausted that the table cannot grow by one entry, the
    /// output is leaked instead: the host still reads a valid output, and the
    /// call does not trap (a trap here would leave the table borrowed and
    /// every later call trapping too).
    pub fn adopt(&mut self, data: Vec<u8>) -> usize {
        if data.is_empty() {
            return empty_sentinel();
        }
        if self.live.try_reserve(1).is_err() {
            return data.leak().as_ptr() as usize;
        }
        let buffer = Buffer {
            size: data.len(),
            data,
            generation: self.generation,
        };
        let address = buffer.address();
        self.live.push(buffer);
        address
    }

    /// Frees the buffer at `address`. Returns `false`, and does nothing, for an
    /// address the table does not hold: null, unknown, interior, already freed
    /// or already reclaimed.
    pub fn free(&mut self, address: usize) -> bool {
        match self.live.iter().position(|b| b.address() == address) {
            Some(index) => {
                self.live.swap_remove(index);
                true
            }
            None => false,
        }
    }

    /// Whether a buffer starts at `address`.
    pub fn contains(&self, address: usize) -> bool {
        self.live.iter().any(|b| b.address() == address)
    }

    /// Whether `[address, address + len)` lies inside one live buffer, i.e.
    /// memory the plugin will not reuse before the call ends.
    pub fn covers(&self, address: usize, len: usize) -> bool {
        self.live.iter().any(|b| {
            let start = b.address();
            address >= start
                && address
                    .checked_add(len)
                    .is_some_and(|end| end <= start + b.size)
        })
    }

    /// Marks the end of an export call and reclaims every buffer created two
    /// or more generations ago (see the module docs).
    pub fn end_call(&mut self) {
        self.generation += 1;
        let keep_from = self.generation - 1;
        self.live.retain(|b| b.generation >= keep_from);
    }

    /// Number of live buffers.
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// Total bytes held by live buffers.
    pub fn live_bytes(&self) -> usize {
        self.live.iter().map(|b| b.size).sum()
    }
}

/// The address handed out for zero-sized buffers.
fn empty_sentinel() -> usize {
    static EMPTY: u8 = 0;
    &EMPTY as *const u8 as usize
}

crate::global::global! {
    // wasm32 plugins are single-threaded: this is one table per instance.
    static TABLE: RefCell<BufferTable> = RefCell::new(BufferTable::new());
}

/// Runs `f` on this instance's buffer table.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm exports
pub(crate) fn with_table<R>(f: impl FnOnce(&mut BufferTable) -> R) -> R {
    TABLE.with(|table| f(&mut table.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_sized_allocations_share_a_sentinel_that_is_never_freed() {
        let mut table = BufferTable::new();
        let a = table.alloc(0).unwrap();
        assert_ne!(a, 0);
        assert_eq!(table.alloc(0), Some(a));
        assert_eq!(table.live(), 0);
        assert!(!table.free(a));
    }

    #[test]
    fn unknown_interior_and_double_frees_are_ignored() {
        let mut table = BufferTable::new();
        let a = table.alloc(8).unwrap();
        assert!(!table.free(0));
        assert!(!table.free(a + 1));
        assert!(table.free(a));
        assert!(!table.free(a));
        assert_eq!(table.live(), 0);
    }

    #[test]
    fn impossible_allocations_fail_without_panicking() {
        let mut table = BufferTable::new();
        assert_eq!(table.alloc(usize::MAX), None);
        assert_eq!(table.live(), 0);
    }

    #[test]
    fn buffers_survive_exactly_one_further_call() {
        let mut table = BufferTable::new();
        let first = table.alloc(4).unwrap();
        table.end_call();
        let second = table.alloc(4).unwrap();
        assert!(table.contains(first), "valid during the next call");
        table.end_call();
        assert!(!table.contains(first), "reclaimed after it");
        assert!(table.contains(second));
    }

    #[test]
    fn a_host_that_never_frees_keeps_at_most_two_generations() {
        let mut table = BufferTable::new();
        for _ in 0..1000 {
            table.alloc(100).unwrap();
            table.alloc(100).unwrap();
            table.adopt(vec![1; 50]);
            table.end_call();
            assert!(table.live() <= 6);
        }
    }

    #[test]
    fn covers_checks_the_whole_range() {
        let mut table = BufferTable::new();
        let a = table.alloc(10).unwrap();
        assert!(table.covers(a, 10));
        assert!(table.covers(a + 2, 8));
        assert!(!table.covers(a + 2, 9));
        assert!(!table.covers(usize::MAX, 2));
    }
}
