//! Plugin-wide state (the plugin value, the buffer table, the last panic).
//!
//! A plugin instance is single-threaded wasm: there a plain `static` is
//! enough, and it avoids `thread_local!`'s access checks, which cost ~1 KB of
//! every `.wasm`. Natively (where the SDK's own tests run on many threads, each
//! standing in for one instance) the state is per thread. Both forms have the
//! same `with` method, so code using it does not care which it gets.
//!
//! The state is kept in `Cell`s, never `RefCell`s: a host may stop a call at
//! any instruction (a fuel or time limit traps it), and a `RefCell` borrowed
//! at that moment would stay borrowed, so every later call would panic on it.
//! A `Cell` is only ever replaced whole: a trapped call can lose a value (the
//! plugin), never leave the state unusable. The buffer table is the one
//! exception, changed in place under the allocator's note (`memory.rs`).

/// Declares plugin-wide state: `global!(static NAME: Type = const_expr);`.
macro_rules! global {
    ($(#[$meta:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
        $(#[$meta])*
        static $name: $crate::global::Global<$ty> = $crate::global::Global::new($init);

        #[cfg(not(all(target_arch = "wasm32", not(target_feature = "atomics"))))]
        ::std::thread_local! {
            $(#[$meta])*
            static $name: $ty = const { $init };
        }
    };
}
pub(crate) use global;

/// State shared by the one thread of a wasm instance.
#[cfg_attr(
    not(all(target_arch = "wasm32", not(target_feature = "atomics"))),
    allow(dead_code)
)]
pub(crate) struct Global<T>(T);

// SAFETY: this impl exists only on wasm32 without the `atomics` target
// feature, where a program has exactly one thread: no value can be reached
// from two threads, whatever `T` is. (Elsewhere `Global` is not `Sync`, and
// `global!` uses `thread_local!` instead.)
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<T> Sync for Global<T> {}

#[cfg_attr(
    not(all(target_arch = "wasm32", not(target_feature = "atomics"))),
    allow(dead_code)
)]
impl<T> Global<T> {
    /// The state's initial value.
    pub(crate) const fn new(value: T) -> Self {
        Global(value)
    }

    /// Runs `f` on the state (the same call as `LocalKey::with`).
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}
