//! The Bifrost hello-world WASM plugin, in Rust.
//!
//! Behaves like the TinyGo hello-world example: it is named
//! "Hello World WASM Plugin", accepts any JSON configuration, passes every
//! request, response, error and stream chunk through unchanged, marks the
//! context it has seen (`from-http` = "123", `from-pre-hook` = "789",
//! `from-post-hook` = "456", `from-stream-chunk` = "wasm-plugin"; and, as
//! Bifrost's documented sample does, `from-http-post` = "wasm-plugin"), and
//! cleans up successfully. (The seed ABI carries no context back, so there
//! the marks stay inside the plugin.)
//!
//! Like the TinyGo version it also says what it sees, through `log`: built
//! for `wasm32-wasip1` (`build/hello-world-wasi.wasm`) each call writes a
//! line to stderr; built for `wasm32-unknown-unknown` the same calls compile
//! to nothing (that target imports nothing, so has nowhere to print).
//!
//! Build it with `make build` (both ABIs, and the wasip1 build) or `cargo
//! build --release --target wasm32-unknown-unknown -p hello-world [--features
//! single-input-abi]` (or `--target wasm32-wasip1`).

// The SDK's generated exports are the only unsafe code, and they live in the SDK.
#![deny(unsafe_code)]

use bifrost_plugin_sdk::log::info;
use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde::de::IgnoredAny;

/// The plugin's state: none.
pub struct HelloWorld;

#[bifrost_plugin(name = "Hello World WASM Plugin")]
impl Plugin for HelloWorld {
    /// Any JSON configuration is accepted (checked as JSON, then ignored).
    type Config = IgnoredAny;

    fn init(_config: IgnoredAny) -> Result<Self, PluginError> {
        info!("init: Hello World WASM Plugin, configuration accepted");
        Ok(HelloWorld)
    }

    fn http_pre_hook(
        &mut self,
        ctx: &mut Context,
        req: HttpRequest,
    ) -> Result<HttpPreHook, PluginError> {
        info!(
            "http_pre_hook: {} {} ({} headers, {}-byte body), request {}",
            req.method,
            req.path,
            req.headers.len(),
            req.body.len(),
            ctx.request_id().unwrap_or("-")
        );
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
        info!(
            "http_stream_chunk_hook: {} chars of text, request {}",
            chunk.text().map_or(0, |t| t.chars().count()),
            ctx.request_id().unwrap_or("-")
        );
        ctx.set("from-stream-chunk", "wasm-plugin");
        Ok(StreamChunkHook::Continue(chunk))
    }

    fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        info!(
            "pre_hook: model {}, provider {}, {} messages, request {}",
            req.model().unwrap_or("-"),
            req.provider().unwrap_or("-"),
            req.message_count(),
            ctx.request_id().unwrap_or("-")
        );
        ctx.set("from-pre-hook", "789");
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        info!(
            "post_hook: response from model {}, error {}, request {}",
            response
                .as_ref()
                .and_then(LlmResponse::model)
                .unwrap_or("-"),
            error.as_ref().and_then(LlmError::message).unwrap_or("-"),
            ctx.request_id().unwrap_or("-")
        );
        ctx.set("from-post-hook", "456");
        Ok(PostHook::new(response, error))
    }

    fn cleanup(&mut self) -> Result<(), PluginError> {
        info!("cleanup");
        Ok(())
    }
}
