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
//!
//! The table stays in place for the instance's life. A host may stop a call
//! at any instruction: reading the table ([`with_table`]) changes nothing, so
//! a stop there loses nothing; a change ([`change_table`]) runs under the
//! allocator's note, so a stop half-way through one makes the next call
//! treat the heap as untrusted, and the table is never touched again (see
//! the `allocator` module).

use std::cell::UnsafeCell;

/// Packs a pointer and a length into the `u64` the host unpacks as
/// `(ptr << 32) | len`.
#[inline]
pub(crate) const fn pack(ptr: u32, len: u32) -> u64 {
    ((ptr as u64) << 32) | len as u64
}

/// One buffer the host knows the address of.
#[derive(Debug)]
struct Buffer {
    /// Owns the allocation, every byte initialised: host buffers are zeroed
    /// when allocated (the host then overwrites them), outputs are written.
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
#[derive(Debug, Default)]
pub(crate) struct BufferTable {
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

    /// Allocates `size` writable bytes for the host, zeroed, and returns their
    /// address, or `None` when memory is exhausted (the host sees `0`).
    ///
    /// `size` 0 still gets a real, writable byte of its own (freeable like any
    /// buffer): `0` would read as "exhausted", and a host may write a
    /// terminator into what it was given.
    pub fn alloc(&mut self, size: usize) -> Option<usize> {
        let mut data = Vec::new();
        data.try_reserve_exact(size.max(1)).ok()?;
        data.resize(size.max(1), 0);
        self.live.try_reserve(1).ok()?;
        Some(self.push(data, size))
    }

    fn push(&mut self, data: Vec<u8>, size: usize) -> usize {
        let buffer = Buffer {
            data,
            size,
            generation: self.generation,
        };
        let address = buffer.address();
        self.live.push(buffer);
        address
    }

    /// Hands an output to the host: the table owns it from now on, under the
    /// same rule as host allocations. Returns its address.
    ///
    /// If memory is so exhausted that the table cannot grow by one entry, the
    /// output is leaked instead: the host still reads a valid output, and the
    /// call does not trap.
    pub fn adopt(&mut self, data: Vec<u8>) -> usize {
        if data.is_empty() {
            // Never written by the SDK (every output is a JSON object); a
            // readable non-null address for zero bytes all the same.
            return self.alloc(0).unwrap_or(1);
        }
        if self.live.try_reserve(1).is_err() {
            return data.leak().as_ptr() as usize;
        }
        let size = data.len();
        self.push(data, size)
    }

    /// Frees the buffer at `address`. Returns `false`, and does nothing, for an
    /// address the table does not hold: null, unknown, interior, already freed
    /// or already reclaimed.
    #[cfg(test)]
    pub fn free(&mut self, address: usize) -> bool {
        match self.find(address) {
            Some(index) => {
                self.remove(index);
                true
            }
            None => false,
        }
    }

    /// Where the buffer at `address` is in the table, if it holds one.
    pub fn find(&self, address: usize) -> Option<usize> {
        self.live.iter().position(|b| b.address() == address)
    }

    /// Frees the buffer at `index`, from [`BufferTable::find`].
    pub fn remove(&mut self, index: usize) {
        self.live.swap_remove(index);
    }

    /// Whether a buffer starts at `address`.
    #[cfg(test)]
    pub fn contains(&self, address: usize) -> bool {
        self.live.iter().any(|b| b.address() == address)
    }

    /// Whether `[address, address + len)` lies inside one live buffer, i.e.
    /// memory the plugin will not reuse before the call ends.
    pub fn covers(&self, address: usize, len: usize) -> bool {
        // Differences, not sums: nothing here can wrap.
        self.live.iter().any(|b| {
            address
                .checked_sub(b.address())
                .is_some_and(|offset| offset <= b.size && len <= b.size - offset)
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
    #[cfg(test)]
    pub fn live(&self) -> usize {
        self.live.len()
    }
}

crate::global::global! {
    // wasm32 plugins are single-threaded: this is one table per instance.
    static TABLE: UnsafeCell<BufferTable> = UnsafeCell::new(BufferTable::new());
}

/// Runs `f` on this instance's buffer table, in place, without changing it.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm exports
pub(crate) fn with_table<R>(f: impl FnOnce(&BufferTable) -> R) -> R {
    // SAFETY: one thread (wasm32 without atomics, or one thread-local table
    // natively), and no `&mut` to the table is alive: `change_table` holds
    // one only while its own `f` runs, and neither function is called from
    // inside the other's `f` (both are crate-private, and every caller
    // passes a closure over the table alone). `R` cannot borrow the table.
    TABLE.with(|table| f(unsafe { &*table.get() }))
}

/// Runs `f` on this instance's buffer table, in place, under the allocator's
/// note: a call stopped half-way leaves the note set, and the next export
/// call treats the heap (and the table) as untrusted, never touching either
/// again. Never called once the heap is untrusted.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the wasm exports
pub(crate) fn change_table<R>(f: impl FnOnce(&mut BufferTable) -> R) -> R {
    // SAFETY: as in `with_table`; this `&mut` is the only reference to the
    // table while `f` runs.
    crate::allocator::noted(|| TABLE.with(|table| f(unsafe { &mut *table.get() })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_sized_allocations_get_a_writable_byte_of_their_own() {
        let mut table = BufferTable::new();
        let a = table.alloc(0).unwrap();
        let b = table.alloc(0).unwrap();
        assert!(a != 0 && b != 0 && a != b);
        assert_eq!(table.live(), 2);
        assert!(!table.covers(a, 1), "zero usable bytes");
        assert!(table.free(a));
    }

    #[test]
    fn host_buffers_are_zeroed_and_outputs_kept() {
        let mut table = BufferTable::new();
        let input = table.alloc(16).unwrap();
        let output = table.adopt(b"{}".to_vec());
        let live = |t: &BufferTable, a| {
            t.live
                .iter()
                .find(|b| b.address() == a)
                .unwrap()
                .data
                .clone()
        };
        assert_eq!(live(&table, input), [0; 16]);
        assert_eq!(live(&table, output), b"{}");
        table.end_call(); // the call that used `input` and produced `output`
        assert!(table.contains(input) && table.contains(output));
        table.end_call(); // one more call: neither was freed, both are reclaimed
        assert_eq!(table.live(), 0);
        assert!(!table.free(output), "a late free is harmless");
    }

    #[test]
    fn the_table_is_changed_in_place_and_read_without_a_change() {
        let address = change_table(|t| t.alloc(8)).unwrap();
        assert_eq!(with_table(|t| t.find(address)), Some(0));
        assert!(with_table(|t| t.covers(address, 8)));
        change_table(|t| t.remove(0));
        assert_eq!(with_table(BufferTable::live), 0);
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
