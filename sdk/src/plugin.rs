//! The trait a plugin implements, and its error type.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::hooks::{HttpPreHook, PostHook, PreHook, StreamChunkHook};
use crate::types::{
    Context, HttpRequest, HttpResponse, LlmError, LlmRequest, LlmResponse, StreamChunk,
};

/// A Bifrost plugin.
///
/// Implement it on your plugin's state and put `#[bifrost_plugin(name = "…")]`
/// on the impl: the attribute generates every export the host calls. Every
/// hook is optional; the default passes everything through unchanged.
///
/// Hooks run one at a time (a wasm instance is single-threaded), so `&mut
/// self` is all the synchronisation state needs.
///
/// ```
/// use bifrost_plugin_sdk::prelude::*;
///
/// #[derive(serde::Deserialize, Default)]
/// #[serde(default)]
/// struct Config {
///     model: Option<String>,
/// }
///
/// struct ForceModel {
///     model: String,
///     seen: u64,
/// }
///
/// #[bifrost_plugin(name = "force-model")]
/// impl Plugin for ForceModel {
///     type Config = Config;
///
///     fn init(config: Config) -> Result<Self, PluginError> {
///         let model = config.model.ok_or_else(|| PluginError::new("config needs a model"))?;
///         Ok(ForceModel { model, seen: 0 })
///     }
///
///     fn pre_hook(&mut self, _ctx: &mut Context, mut req: LlmRequest) -> Result<PreHook, PluginError> {
///         self.seen += 1;
///         req.set_model(self.model.as_str());
///         Ok(PreHook::Continue(req))
///     }
/// }
/// # fn main() {}
/// ```
pub trait Plugin: Sized + 'static {
    /// The plugin's configuration, parsed from the JSON the host passes to
    /// `init`. An empty or absent configuration (`""`, `null`) is
    /// `Config::default()`. Use `serde_json::Value` to accept any JSON.
    type Config: DeserializeOwned + Default;

    /// Builds the plugin from its configuration. An `Err` makes the host's
    /// `init` call fail (non-zero), and every later hook reports the reason in
    /// its `error` field.
    fn init(config: Self::Config) -> Result<Self, PluginError>;

    /// Runs on the incoming HTTP request, before Bifrost parses it (the seed
    /// ABI's `http_transport_intercept`). Answer it yourself with
    /// [`HttpPreHook::Respond`], or let it continue.
    ///
    /// The seed ABI's output carries no request: there, changes to `req` and
    /// `ctx` are visible to this call only.
    fn http_pre_hook(
        &mut self,
        ctx: &mut Context,
        req: HttpRequest,
    ) -> Result<HttpPreHook, PluginError> {
        let _ = ctx;
        Ok(HttpPreHook::Continue(req))
    }

    /// Runs on the HTTP response of a non-streaming request, in reverse
    /// plugin order (single-input ABI only). It can record or update the
    /// context, or fail; Bifrost's documented output has no response field,
    /// so the response itself cannot be changed here.
    fn http_post_hook(
        &mut self,
        ctx: &mut Context,
        req: &HttpRequest,
        resp: &HttpResponse,
    ) -> Result<(), PluginError> {
        let _ = (ctx, req, resp);
        Ok(())
    }

    /// Runs on every chunk of a streaming response, instead of
    /// `http_post_hook` (single-input ABI only): pass it on, change it, or
    /// skip it ([`StreamChunkHook`]).
    fn http_stream_chunk_hook(
        &mut self,
        ctx: &mut Context,
        req: &HttpRequest,
        chunk: StreamChunk,
    ) -> Result<StreamChunkHook, PluginError> {
        let _ = (ctx, req);
        Ok(StreamChunkHook::Continue(chunk))
    }

    /// Runs before the request goes to the provider: change it, or answer it
    /// with a response or an error ([`PreHook`]).
    fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        let _ = ctx;
        Ok(PreHook::Continue(req))
    }

    /// Runs after the provider answered (or failed, or a pre-hook
    /// short-circuited): change the response, the error, or both.
    fn post_hook(
        &mut self,
        ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        let _ = ctx;
        Ok(PostHook::new(response, error))
    }

    /// Runs when the host unloads the plugin. An `Err` makes `cleanup`
    /// return non-zero. The plugin is dropped afterwards either way.
    fn cleanup(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
}

/// Why a hook failed. Its message goes to the host in the hook's `error`
/// field; the host keeps the request or response as it was.
///
/// Any `std::error::Error` converts into it, so `?` works on serde, parsing
/// and I/O errors alike:
///
/// ```
/// use bifrost_plugin_sdk::PluginError;
/// fn limit(text: &str) -> Result<u32, PluginError> {
///     let n: u32 = text.parse()?;
///     if n == 0 {
///         return Err(PluginError::new("limit must be positive"));
///     }
///     Ok(n)
/// }
/// assert_eq!(limit("x").unwrap_err().to_string(), "invalid digit found in string");
/// assert_eq!(limit("0").unwrap_err().message(), "limit must be positive");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PluginError {
    message: String,
}

impl PluginError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        PluginError {
            message: message.into(),
        }
    }

    /// The message, moved out (for the hook's `error` field).
    pub(crate) fn into_message(self) -> String {
        self.message
    }

    /// The message the host will see.
    pub fn message(&self) -> &str {
        &self.message
    }
}

// Deliberately no `impl std::error::Error for PluginError`: it would make the
// blanket conversion below overlap with `From<T> for T`.
impl<E: std::error::Error> From<E> for PluginError {
    fn from(error: E) -> Self {
        PluginError::new(error.to_string())
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginError({:?})", self.message)
    }
}
