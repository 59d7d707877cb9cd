//! The Bifrost hello-world WASM plugin, in Rust.
//!
//! Behaves like the TinyGo hello-world example: it is named
//! "Hello World WASM Plugin", accepts any JSON configuration, passes every
//! request, response, error and stream chunk through unchanged, marks the
//! context it has seen (`from-http` = "123", `from-pre-hook` = "789",
//! `from-post-hook` = "456", `from-stream-chunk` = "wasm-plugin"; and, as
//! Bifrost's documented sample does, `from-http-post` = "wasm-plugin"), and
//! cleans up successfully. (The TinyGo version also prints what it sees; this one
//! imports nothing, so it has nowhere to print to. The seed ABI carries no
//! context back, so there the marks stay inside the plugin.)
//!
//! Build it with `make build` (both ABIs) or `cargo build --release --target
//! wasm32-unknown-unknown -p hello-world [--features single-input-abi]`.

// The SDK's generated exports are the only unsafe code, and they live in the SDK.
#![deny(unsafe_code)]

use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde::de::IgnoredAny;

/// The plugin's state: none.
pub struct HelloWorld;

#[bifrost_plugin(name = "Hello World WASM Plugin")]
impl Plugin for HelloWorld {
    /// Any JSON configuration is accepted (checked as JSON, then ignored).
    type Config = IgnoredAny;

    fn init(_config: IgnoredAny) -> Result<Self, PluginError> {
        Ok(HelloWorld)
    }

    fn http_pre_hook(
        &mut self,
        ctx: &mut Context,
        req: HttpRequest,
    ) -> Result<HttpPreHook, PluginError> {
        ctx.set("from-http", "123");
        Ok(HttpPreHook::Continue(req))
    }

    fn http_post_hook(
        &mut self,
        ctx: &mut Context,
        _req: &HttpRequest,
        _resp: &HttpResponse,
    ) -> Result<(), PluginError> {
        ctx.set("from-http-post", "wasm-plugin");
        Ok(())
    }

    fn http_stream_chunk_hook(
        &mut self,
        ctx: &mut Context,
        _req: &HttpRequest,
        chunk: StreamChunk,
    ) -> Result<StreamChunkHook, PluginError> {
        ctx.set("from-stream-chunk", "wasm-plugin");
        Ok(StreamChunkHook::Continue(chunk))
    }

    fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        ctx.set("from-pre-hook", "789");
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        ctx.set("from-post-hook", "456");
        Ok(PostHook::new(response, error))
    }
}
