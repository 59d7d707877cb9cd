//! A local stand-in for the Bifrost WASM host: loads a plugin `.wasm` into a
//! real WebAssembly runtime (wasmi) and calls its exports as the Bifrost host
//! does, for either ABI: allocate each input in the guest, write it, call the
//! hook, unpack `(ptr << 32) | len`, read the output, then free (or not)
//! according to a [`FreeMode`].
//!
//! - [`Guest`] loads a module ([`Guest::load`] detects its [`Abi`] from its
//!   exports), calls `get_name`, `init`, each [`Hook`] with a [`HookInput`]
//!   and `cleanup`; [`Guest::call_hook`] returns a [`HookOutput`]: the raw
//!   bytes, a parsed `serde_json::Value` and a [`TypedOutput`].
//! - Traps and malformed outputs (0, out of bounds, not UTF-8, not JSON, the
//!   wrong shape) are [`Error`]s naming the export.
//! - [`validate`] lists everything wrong with a module's exports for an ABI.
//! - A `wasm32-wasip1` plugin gets WASI preview 1 (wasmi's `wasmi_wasi`):
//!   [`Guest::take_stderr`] / [`Guest::take_log_lines`] give what it wrote,
//!   [`Guest::clock`] fixes and moves its clock. Any other import is refused.
//! - [`pipeline::Pipeline`] runs a chain of plugins in Bifrost's order,
//!   one context per request; [`mock`] is a deterministic provider for it.
//! - [`build::plugin_wasm`] builds a plugin crate's `.wasm` from its tests.
//!
//! ```no_run
//! use bifrost_plugin_host::{FreeMode, Guest, Hook, HookInput};
//! let mut guest = Guest::from_file("build/hello-world.wasm", FreeMode::All)?;
//! assert_eq!(guest.init(b"{}")?, 0);
//! let input = HookInput::new()
//!     .with_context(r#"{"request_id":"1"}"#)
//!     .with_request(r#"{"model":"gpt-4o-mini"}"#);
//! let output = guest.call_hook(Hook::PreHook, &input)?;
//! println!("{}", output.json());
//! # Ok::<(), bifrost_plugin_host::Error>(())
//! ```
//!
//! The byte-level calls the conformance tests use are there too
//! ([`Guest::hook`], [`Guest::call`], [`Guest::malloc`], [`Guest::read`], ...).

#![warn(missing_docs)]

mod abi;
mod alloc;
pub mod build;
mod error;
mod guest;
mod hook;
pub mod mock;
mod module;
mod output;
pub mod pipeline;
pub mod responses_stream;
mod typed;
mod validate;
mod wasi;

pub use abi::{Abi, ExportRule, Need, Signature};
pub use error::{Error, Result};
pub use guest::{FreeMode, Guest, MeteredPlugin};
pub use hook::{Field, Hook, HookInput};
pub use module::{ExportType, Import, ModuleInfo};
pub use output::HookOutput;
pub use typed::{
    HttpPostOutput, HttpPreOutput, PostOutput, PreOutput, SeedHttpOutput, SeedPostOutput,
    SeedPreOutput, StreamChunkOutput, TypedOutput,
};
pub use validate::{validate, Problem, Severity};
pub use wasi::{Clock, CAPTURE_LIMIT, WASI_MODULE};
