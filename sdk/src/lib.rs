//! Write [Bifrost](https://github.com/maximhq/bifrost) WebAssembly plugins in
//! safe, typed Rust.
//!
//! Implement [`Plugin`] and put [`#[bifrost_plugin]`](bifrost_plugin) on the
//! impl. The attribute generates every export the Bifrost host calls
//! (`plugin_malloc`, `plugin_free`, `get_name`, `init`, the hooks and
//! `cleanup`); the SDK reads the host's JSON into typed values, writes your
//! answer back, and manages the memory shared with the host. Plugin code has
//! no `unsafe`, no pointers and no JSON plumbing.
//!
//! ```
//! use bifrost_plugin_sdk::prelude::*;
//!
//! struct Guard;
//!
//! #[bifrost_plugin(name = "guard")]
//! impl Plugin for Guard {
//!     type Config = serde_json::Value;
//!
//!     fn init(_config: serde_json::Value) -> Result<Self, PluginError> {
//!         Ok(Guard)
//!     }
//!
//!     fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
//!         if req.model() == Some("forbidden-model") {
//!             let error = LlmError::new("model not allowed").with_status(403);
//!             return Ok(PreHook::Fail(error));
//!         }
//!         ctx.set("checked-by", "guard");
//!         Ok(PreHook::Continue(req))
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! Build with `cargo build --release --target wasm32-unknown-unknown` and a
//! `cdylib` crate type. The contract with the host (export signatures, JSON
//! shapes, memory rules, error behaviour) is written down in `abi-spec.md`.
//!
//! # Layout
//! - [`types`]: the values that cross the boundary ([`Context`],
//!   [`HttpRequest`], [`LlmRequest`], …), which keep every field they do not
//!   model.
//! - [`hooks`]: what a hook decides ([`PreHook`], …).
//! - [`per_request`]: state kept between a request's hooks, bounded
//!   ([`RequestMap`]); [`time`] and [`random`]: the host's clocks and
//!   randomness, without traps; [`collections`]: hash maps seeded through
//!   the SDK (smaller than std's on `wasm32-wasip1`, and they never trap).
//! - `testing` (native builds only): run hooks in a plain `cargo test`.

#![warn(missing_docs)]

#[doc(hidden)]
pub mod abi;
mod allocator;
mod base64;
pub mod collections;
mod global;
pub mod hooks;
mod json;
pub mod logger;
mod marker;
// Natively only the unit tests use it: the exports are wasm32-only.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod memory;
mod panic;
pub mod per_request;
mod plugin;
pub mod random;
mod runtime;
mod stack;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod time;
pub mod types;
mod unavailable;

pub use hooks::{HttpPreHook, PostHook, PreHook, StreamChunkHook};
pub use per_request::RequestMap;
pub use plugin::{Plugin, PluginError};
pub use types::{
    ChatMessage, Context, HttpRequest, HttpResponse, JsonObject, LlmError, LlmRequest, LlmResponse,
    StreamChunk, StringMap,
};
pub use types::{
    ChatMessageRef, Choice, ChoiceMut, Location, Part, Place, RequestKind, ResponseKind, Role,
    Text, TextMut, Usage,
};
pub use unavailable::Unavailable;

/// Generates a plugin's wasm exports from its [`Plugin`] impl.
///
/// ```
/// use bifrost_plugin_sdk::prelude::*;
/// struct Hello;
/// #[bifrost_plugin(name = "Hello World WASM Plugin")]
/// impl Plugin for Hello {
///     type Config = serde_json::Value;
///     fn init(_config: serde_json::Value) -> Result<Self, PluginError> {
///         Ok(Hello)
///     }
/// }
/// # fn main() {}
/// ```
///
/// `name` is required: it is what `get_name` returns. A plugin that renamed
/// the dependency in its `Cargo.toml` (`sdk = { package =
/// "bifrost-plugin-sdk", … }`) says so with `crate = sdk`. The attribute goes on
/// an `impl Plugin for YourType` block; every other item is a compile error.
/// The exports exist only when compiling for `wasm32`, so the same crate
/// builds and unit-tests natively.
pub use bifrost_plugin_sdk_macros::bifrost_plugin;

/// Re-exported so plugins can log (`log::info!`, …) without their own
/// dependency; see [`logger`] for where the lines go on each target.
pub use log;
/// Re-exported so plugins can derive and name their `Config` without their
/// own dependency.
pub use serde;
/// Re-exported so plugins can name JSON values without their own dependency.
pub use serde_json;

/// Everything a plugin usually needs: `use bifrost_plugin_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::bifrost_plugin;
    pub use crate::hooks::{HttpPreHook, PostHook, PreHook, StreamChunkHook};
    pub use crate::plugin::{Plugin, PluginError};
    pub use crate::types::{
        ChatMessage, Context, HttpRequest, HttpResponse, JsonObject, LlmError, LlmRequest,
        LlmResponse, StreamChunk, StringMap,
    };
    pub use crate::types::{
        ChatMessageRef, Choice, ChoiceMut, Location, Part, Place, RequestKind, ResponseKind, Role,
        Text, TextMut, Usage,
    };
}

/// Emits the exports every ABI shares: memory, name, `init`, `cleanup`.
/// Not a public API.
///
/// Each export calls the pointer layer's `unsafe fn` of the same name. That
/// is sound because these functions are the host's entry points and nothing
/// else: the pointer layer's contract (see `abi::exports`) is exactly "called
/// by the host, one call at a time".
#[doc(hidden)]
#[macro_export]
macro_rules! __export_common {
    ($plugin:ty, $name:expr) => {
        #[unsafe(no_mangle)]
        extern "C" fn plugin_malloc(size: u32) -> u32 {
            // SAFETY: a host entry point (see above).
            unsafe { $crate::abi::exports::plugin_malloc(size) }
        }
        #[unsafe(no_mangle)]
        extern "C" fn plugin_free(ptr: u32) {
            // SAFETY: a host entry point (see above).
            unsafe { $crate::abi::exports::plugin_free(ptr) }
        }
        #[unsafe(no_mangle)]
        extern "C" fn get_name() -> u64 {
            $crate::abi::exports::get_name($name)
        }
        #[unsafe(no_mangle)]
        extern "C" fn init(config_ptr: u32, config_len: u32) -> i32 {
            // SAFETY: a host entry point (see above).
            $crate::abi::exports::plugin_name($name);
            unsafe { $crate::abi::exports::init::<$plugin>(config_ptr, config_len) }
        }
        #[unsafe(no_mangle)]
        extern "C" fn cleanup() -> i32 {
            // SAFETY: a host entry point (see above).
            unsafe { $crate::abi::exports::cleanup::<$plugin>() }
        }
    };
}

/// Emits the seed ABI's exports for plugin type `$plugin` named `$name`
/// (the default). Generated by `#[bifrost_plugin]`; not a public API.
#[cfg(not(feature = "single-input-abi"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_abi {
    ($plugin:ty, $name:expr, [$($defined:literal),*]) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            use $crate::abi::exports::seed as __seed;

            $crate::__export_common!($plugin, $name);
            // The hooks the impl defines: the others pass their input on
            // unread (abi-spec 3.8).
            const __DEFINED: &[&str] = &[$($defined),*];

            #[unsafe(no_mangle)]
            extern "C" fn http_transport_intercept(cp: u32, cl: u32, rp: u32, rl: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __seed::http_transport_intercept::<
                    $plugin,
                    { $crate::abi::defines(__DEFINED, "http_pre_hook") },
                >(cp, cl, rp, rl) }
            }
            #[unsafe(no_mangle)]
            extern "C" fn pre_hook(cp: u32, cl: u32, rp: u32, rl: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __seed::pre_hook::<$plugin>(cp, cl, rp, rl) }
            }
            #[unsafe(no_mangle)]
            extern "C" fn post_hook(cp: u32, cl: u32, rp: u32, rl: u32, ep: u32, el: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __seed::post_hook::<$plugin>(cp, cl, rp, rl, ep, el) }
            }
        };
    };
}

/// Emits the single-input ABI's exports (feature `single-input-abi`): the
/// union of the examples' and the docs' export tables, so hosts of either
/// generation find what they look for. Not a public API.
#[cfg(feature = "single-input-abi")]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_abi {
    ($plugin:ty, $name:expr, [$($defined:literal),*]) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            use $crate::abi::exports::single as __single;

            $crate::__export_common!($plugin, $name);
            // The hooks the impl defines: the others pass their input on
            // unread (abi-spec 3.8).
            const __DEFINED: &[&str] = &[$($defined),*];

            // `malloc`/`free` of the docs' Rust plugin. Not on WASI: there
            // wasi-libc owns those symbols (with C signatures), so the build
            // exports only `plugin_malloc`/`plugin_free`, as the docs' TinyGo
            // (WASI) plugin does; abi-spec.md, "WASI".
            #[cfg(not(target_os = "wasi"))]
            #[unsafe(no_mangle)]
            extern "C" fn malloc(size: u32) -> u32 {
                // SAFETY: a host entry point (see `__export_common`).
                unsafe { $crate::abi::exports::plugin_malloc(size) }
            }
            /// `size` is ignored: the plugin knows every buffer's size.
            #[cfg(not(target_os = "wasi"))]
            #[unsafe(no_mangle)]
            extern "C" fn free(ptr: u32, _size: u32) {
                // SAFETY: a host entry point (see `__export_common`).
                unsafe { $crate::abi::exports::plugin_free(ptr) }
            }
            #[unsafe(no_mangle)]
            extern "C" fn http_pre_hook(ptr: u32, len: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __single::http_pre_hook::<
                    $plugin,
                    { $crate::abi::defines(__DEFINED, "http_pre_hook") },
                >(ptr, len) }
            }
            #[unsafe(no_mangle)]
            extern "C" fn http_intercept(ptr: u32, len: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __single::http_pre_hook::<
                    $plugin,
                    { $crate::abi::defines(__DEFINED, "http_pre_hook") },
                >(ptr, len) }
            }
            #[unsafe(no_mangle)]
            extern "C" fn http_post_hook(ptr: u32, len: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __single::http_post_hook::<
                    $plugin,
                    { $crate::abi::defines(__DEFINED, "http_post_hook") },
                >(ptr, len) }
            }
            #[unsafe(no_mangle)]
            extern "C" fn http_stream_chunk_hook(ptr: u32, len: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __single::http_stream_chunk_hook::<
                    $plugin,
                    { $crate::abi::defines(__DEFINED, "http_stream_chunk_hook") },
                >(ptr, len) }
            }
            #[unsafe(no_mangle)]
            extern "C" fn pre_hook(ptr: u32, len: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __single::pre_hook::<
                    $plugin,
                    { $crate::abi::defines(__DEFINED, "pre_hook") },
                >(ptr, len) }
            }
            #[unsafe(no_mangle)]
            extern "C" fn post_hook(ptr: u32, len: u32) -> u64 {
                // SAFETY: a host entry point (see `__export_common`).
                $crate::abi::exports::plugin_name($name);
                unsafe { __single::post_hook::<
                    $plugin,
                    { $crate::abi::defines(__DEFINED, "post_hook") },
                >(ptr, len) }
            }
        };
    };
}
