//! The plugin's global allocator.
//!
//! By default the SDK keeps Rust's own allocator for `wasm32-unknown-unknown`
//! (dlmalloc): `make bench` measured it as the fastest, with memory that
//! stays flat under every host free behaviour (figures in the README).
//! Feature `wee_alloc` swaps in [wee_alloc](https://docs.rs/wee_alloc), which
//! is a few kilobytes smaller but slower on large buffers, and is
//! unmaintained ([RUSTSEC-2022-0054](https://rustsec.org/advisories/RUSTSEC-2022-0054)):
//! opt in only after measuring your plugin with it.

#[cfg(all(feature = "wee_alloc", target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: wee_alloc::WeeAlloc<'static> = wee_alloc::WeeAlloc::INIT;
