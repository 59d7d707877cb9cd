//! The Bifrost hello-world WASM plugin, in Rust.
//!
//! Behaves like the TinyGo hello-world example: it is named
//! "Hello World WASM Plugin", accepts any JSON configuration, passes every
//! request, response and error through unchanged, and cleans up successfully.
//! (The TinyGo version also prints what it sees; this one imports nothing,
//! so it has nowhere to print to.)
//!
//! Build it with `make build` (or `cargo build --release --target
//! wasm32-unknown-unknown -p hello-world`).

// The SDK's generated exports are the only unsafe code, and they live in the SDK.
#![deny(unsafe_code)]

use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde_json::Value;

/// The plugin's state: none.
pub struct HelloWorld;

#[bifrost_plugin(name = "Hello World WASM Plugin")]
impl Plugin for HelloWorld {
    /// Any JSON configuration is accepted (and ignored).
    type Config = Value;

    fn init(_config: Value) -> Result<Self, PluginError> {
        Ok(HelloWorld)
    }

    // Every hook keeps the SDK's default: pass through unchanged.
}
