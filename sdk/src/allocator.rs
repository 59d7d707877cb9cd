//! The plugin's global allocator.
//!
//! On wasm32 the SDK installs [talc](https://docs.rs/talc): `make bench`
//! measured it ~7 KB smaller than Rust's own allocator (dlmalloc) with the
//! same per-call cost and memory that stays flat under every host free
//! behaviour (figures in the README). Feature `dlmalloc` keeps Rust's
//! allocator instead (also the way to install a global allocator of your
//! own). Feature `wee_alloc` swaps in [wee_alloc](https://docs.rs/wee_alloc),
//! which is unmaintained
//! ([RUSTSEC-2022-0054](https://rustsec.org/advisories/RUSTSEC-2022-0054))
//! and whose memory grows with every call under a request-sized workload:
//! it is kept only so `make bench` can show that.

#[cfg(all(feature = "wee_alloc", target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: wee_alloc::WeeAlloc<'static> = wee_alloc::WeeAlloc::INIT;

// Single-threaded wasm only (no `atomics`): talc's wasm cell assumes it.
#[cfg(all(
    target_arch = "wasm32",
    not(target_feature = "atomics"),
    not(feature = "wee_alloc"),
    not(feature = "dlmalloc")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
