//! Run a plugin's hooks in a plain `cargo test`, without building wasm.
//!
//! [`TestPlugin`] calls the same byte layer the wasm exports call
//! (`abi::seed`, `abi::single`): your JSON text goes in as the host's bytes,
//! and the output is the exact JSON the host would read. So a native test
//! checks the real host contract (output shapes, error fields, what passes
//! through unchanged), not just your Rust code.
//!
//! ```
//! use bifrost_plugin_sdk::prelude::*;
//! use bifrost_plugin_sdk::testing::TestPlugin;
//!
//! pub struct Counter {
//!     seen: u64,
//! }
//!
//! #[bifrost_plugin(name = "counter")]
//! impl Plugin for Counter {
//!     type Config = serde_json::Value;
//!     fn init(_config: serde_json::Value) -> Result<Self, PluginError> {
//!         Ok(Counter { seen: 0 })
//!     }
//!     fn pre_hook(&mut self, _ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
//!         self.seen += 1;
//!         if self.seen > 2 {
//!             return Err(PluginError::new("too many requests"));
//!         }
//!         Ok(PreHook::Continue(req))
//!     }
//! }
//!
//! let mut plugin = TestPlugin::<Counter>::init("{}").unwrap();
//! for _ in 0..2 {
//!     let output = plugin.pre_hook(r#"{"request_id":"r1"}"#, r#"{"model":"m"}"#);
//!     assert_eq!(output.error(), None);
//!     assert_eq!(output["request"]["model"], "m");
//! }
//! let output = plugin.pre_hook("{}", r#"{"model":"m"}"#);
//! assert_eq!(output.error(), Some("too many requests"));
//! assert_eq!(plugin.cleanup(), 0);
//! ```
//!
//! Natively the plugin's state lives in a thread-local slot, one per thread,
//! the way a wasm instance has one: use one `TestPlugin` per test (cargo
//! runs each test on its own thread). This module is not compiled for wasm.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Index;

use serde_json::Value;

use crate::abi::{seed, single};
use crate::Plugin;

/// Which ABI's byte layer the hooks go through.
///
/// ```
/// # use bifrost_plugin_sdk::prelude::*;
/// # pub struct Echo;
/// # #[bifrost_plugin(name = "echo")]
/// # impl Plugin for Echo {
/// #     type Config = serde_json::Value;
/// #     fn init(_config: serde_json::Value) -> Result<Self, PluginError> { Ok(Echo) }
/// # }
/// use bifrost_plugin_sdk::testing::{Abi, TestPlugin};
///
/// let mut plugin = TestPlugin::<Echo>::init_with_abi(Abi::SingleInput, "{}").unwrap();
/// assert_eq!(plugin.abi(), Abi::SingleInput);
/// let output = plugin.pre_hook(r#"{"request_id":"r1"}"#, r#"{"model":"m"}"#);
/// // only the single-input ABI's outputs carry the context back
/// assert_eq!(output["context"]["request_id"], "r1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    /// The seed ABI: one buffer per input; outputs carry no context.
    Seed,
    /// The single-input ABI: one JSON object per hook; outputs carry the
    /// context back.
    SingleInput,
}

impl Abi {
    /// The ABI this build of the SDK exports: [`Abi::SingleInput`] with the
    /// sdk feature `single-input-abi`, else [`Abi::Seed`].
    pub const fn of_this_build() -> Abi {
        if cfg!(feature = "single-input-abi") {
            Abi::SingleInput
        } else {
            Abi::Seed
        }
    }
}

/// `init` did not return 0.
///
/// ```
/// # use bifrost_plugin_sdk::prelude::*;
/// # pub struct Echo;
/// # #[bifrost_plugin(name = "echo")]
/// # impl Plugin for Echo {
/// #     type Config = Vec<String>;
/// #     fn init(_config: Vec<String>) -> Result<Self, PluginError> { Ok(Echo) }
/// # }
/// use bifrost_plugin_sdk::testing::TestPlugin;
///
/// // `Echo`'s `Config` is a list of strings
/// let error = TestPlugin::<Echo>::init(r#"{"not":"a list"}"#).err().unwrap();
/// assert_eq!(error.status, 1);
/// assert!(error.message.starts_with("config is not valid"), "{error}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitError {
    /// What `init` returned to the host: 1 for a configuration that does not
    /// parse as the plugin's `Config`, 2 for an error from the plugin's own
    /// `init`.
    pub status: i32,
    /// The reason, as later hooks report it in their `error` field.
    pub message: String,
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`init` returned {}: {}", self.status, self.message)
    }
}

impl std::error::Error for InitError {}

/// A plugin of type `P`, initialised, whose hooks take the host's JSON text
/// and return the output the host would read. See the [module](self) docs.
///
/// ```
/// # use bifrost_plugin_sdk::prelude::*;
/// # pub struct Echo;
/// # #[bifrost_plugin(name = "echo")]
/// # impl Plugin for Echo {
/// #     type Config = serde_json::Value;
/// #     fn init(_config: serde_json::Value) -> Result<Self, PluginError> { Ok(Echo) }
/// # }
/// use bifrost_plugin_sdk::testing::TestPlugin;
///
/// let mut plugin = TestPlugin::<Echo>::init("").unwrap();
/// let output = plugin.post_hook("{}", r#"{"model":"m","choices":[]}"#, "null");
/// assert_eq!(output.error(), None);
/// assert_eq!(plugin.cleanup(), 0);
/// ```
pub struct TestPlugin<P: Plugin> {
    abi: Abi,
    // The state is per thread: keep the handle on the thread that made it.
    _plugin: PhantomData<(P, *const ())>,
}

impl<P: Plugin> TestPlugin<P> {
    /// Calls `init` with `config` (JSON text; `""` or `"null"` for the
    /// default) through the ABI of this build ([`Abi::of_this_build`]).
    pub fn init(config: impl AsRef<[u8]>) -> Result<Self, InitError> {
        Self::init_with_abi(Abi::of_this_build(), config)
    }

    /// Like [`TestPlugin::init`], with the hooks going through `abi`'s byte
    /// layer (both are compiled natively whatever the features).
    ///
    /// ```
    /// # use bifrost_plugin_sdk::prelude::*;
    /// use bifrost_plugin_sdk::testing::{Abi, InitError, TestPlugin};
    /// # pub struct NeedsKey;
    /// #[derive(serde::Deserialize, Default)]
    /// pub struct Config {
    ///     key: Option<String>,
    /// }
    /// # #[bifrost_plugin(name = "needs-key")]
    /// # impl Plugin for NeedsKey {
    /// #     type Config = Config;
    /// #     fn init(config: Config) -> Result<Self, PluginError> {
    /// #         config.key.ok_or_else(|| PluginError::new("config needs a key")).map(|_| NeedsKey)
    /// #     }
    /// # }
    /// let error = TestPlugin::<NeedsKey>::init_with_abi(Abi::SingleInput, "{}").err();
    /// let expected = InitError { status: 2, message: "init failed: config needs a key".into() };
    /// assert_eq!(error, Some(expected));
    /// let mut plugin = TestPlugin::<NeedsKey>::init_with_abi(Abi::SingleInput, r#"{"key":"k"}"#).unwrap();
    /// let output = plugin.pre_hook(r#"{"seen":true}"#, r#"{"model":"m"}"#);
    /// assert_eq!(output["context"]["seen"], true); // single-input outputs carry the context
    /// ```
    pub fn init_with_abi(abi: Abi, config: impl AsRef<[u8]>) -> Result<Self, InitError> {
        let status = crate::abi::init::<P>(Ok(config.as_ref()));
        if status != 0 {
            // The slot keeps the reason; any hook would report it.
            let message = match crate::runtime::with_plugin::<P, _>(|_| ()) {
                Err(reason) => reason
                    .strip_prefix("plugin is not initialised: ")
                    .map_or(reason.clone(), str::to_string),
                Ok(()) => String::new(),
            };
            return Err(InitError { status, message });
        }
        Ok(TestPlugin {
            abi,
            _plugin: PhantomData,
        })
    }

    /// The ABI the hooks go through.
    pub fn abi(&self) -> Abi {
        self.abi
    }

    /// `http_pre_hook` (seed: `http_transport_intercept`).
    pub fn http_pre_hook(
        &mut self,
        context: impl AsRef<[u8]>,
        request: impl AsRef<[u8]>,
    ) -> Output {
        let (context, request) = (context.as_ref(), request.as_ref());
        match self.abi {
            Abi::Seed => Output::new(
                seed::http_transport_intercept::<P>(Ok(context), Ok(request)),
                "error",
            ),
            Abi::SingleInput => {
                let input = envelope(&[("context", context), ("request", request)], None);
                Output::new(single::http_pre_hook::<P>(Ok(&input)), "error")
            }
        }
    }

    /// `http_post_hook` (single-input ABI only: panics on the seed ABI,
    /// which has no such export).
    pub fn http_post_hook(
        &mut self,
        context: impl AsRef<[u8]>,
        request: impl AsRef<[u8]>,
        response: impl AsRef<[u8]>,
    ) -> Output {
        self.single_input_only("http_post_hook");
        let fields = [
            ("context", context.as_ref()),
            ("request", request.as_ref()),
            ("response", response.as_ref()),
        ];
        Output::new(
            single::http_post_hook::<P>(Ok(&envelope(&fields, None))),
            "error",
        )
    }

    /// `http_stream_chunk_hook` (single-input ABI only: panics on the seed
    /// ABI, which has no such export).
    pub fn http_stream_chunk_hook(
        &mut self,
        context: impl AsRef<[u8]>,
        request: impl AsRef<[u8]>,
        chunk: impl AsRef<[u8]>,
    ) -> Output {
        self.single_input_only("http_stream_chunk_hook");
        let fields = [
            ("context", context.as_ref()),
            ("request", request.as_ref()),
            ("chunk", chunk.as_ref()),
        ];
        let input = envelope(&fields, None);
        Output::new(single::http_stream_chunk_hook::<P>(Ok(&input)), "error")
    }

    /// `pre_hook`.
    pub fn pre_hook(&mut self, context: impl AsRef<[u8]>, request: impl AsRef<[u8]>) -> Output {
        let (context, request) = (context.as_ref(), request.as_ref());
        match self.abi {
            Abi::Seed => Output::new(seed::pre_hook::<P>(Ok(context), Ok(request)), "error"),
            Abi::SingleInput => {
                let input = envelope(&[("context", context), ("request", request)], None);
                Output::new(single::pre_hook::<P>(Ok(&input)), "error")
            }
        }
    }

    /// `post_hook`; pass `""` for an absent response or error. On the
    /// single-input ABI, `has_error` is sent as the host would: true when
    /// `error` is given and is not `null` or `{}`.
    pub fn post_hook(
        &mut self,
        context: impl AsRef<[u8]>,
        response: impl AsRef<[u8]>,
        error: impl AsRef<[u8]>,
    ) -> Output {
        let (context, response, error) = (context.as_ref(), response.as_ref(), error.as_ref());
        match self.abi {
            Abi::Seed => Output::new(
                seed::post_hook::<P>(Ok(context), Ok(response), Ok(error)),
                "error",
            ),
            Abi::SingleInput => {
                let has_error = !matches!(error.trim_ascii(), b"" | b"null" | b"{}");
                let fields = [
                    ("context", context),
                    ("response", response),
                    ("error", error),
                ];
                let input = envelope(&fields, Some(has_error));
                Output::new(single::post_hook::<P>(Ok(&input)), "hook_error")
            }
        }
    }

    /// `cleanup`: 0 on success, 2 when the plugin's `cleanup` fails. Later
    /// hooks report that the plugin was cleaned up.
    pub fn cleanup(self) -> i32 {
        crate::abi::cleanup::<P>()
    }

    fn single_input_only(&self, hook: &str) {
        assert!(
            self.abi == Abi::SingleInput,
            "the seed ABI has no `{hook}` export; test it with \
             TestPlugin::init_with_abi(Abi::SingleInput, …)"
        );
    }
}

/// The single-input ABI's input object: the given fields (empty ones left
/// out), then `has_error` for `post_hook`.
fn envelope(fields: &[(&str, &[u8])], has_error: Option<bool>) -> Vec<u8> {
    let mut out = b"{".to_vec();
    for (name, value) in fields.iter().filter(|(_, v)| !v.trim_ascii().is_empty()) {
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(format!("\"{name}\":").as_bytes());
        out.extend_from_slice(value);
    }
    if let Some(has_error) = has_error {
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(format!("\"has_error\":{has_error}").as_bytes());
    }
    out.push(b'}');
    out
}

/// A hook's output: the exact JSON text the host would read, and it parsed.
/// Index it like a `serde_json::Value`: `output["request"]["model"]`.
///
/// ```
/// # use bifrost_plugin_sdk::prelude::*;
/// # pub struct Echo;
/// # #[bifrost_plugin(name = "echo")]
/// # impl Plugin for Echo {
/// #     type Config = serde_json::Value;
/// #     fn init(_config: serde_json::Value) -> Result<Self, PluginError> { Ok(Echo) }
/// # }
/// use bifrost_plugin_sdk::testing::TestPlugin;
///
/// let mut plugin = TestPlugin::<Echo>::init("").unwrap();
/// let output = plugin.pre_hook("{}", r#"{"model": "m"}"#);
/// assert_eq!(output["request"]["model"], "m");
/// assert_eq!(output.json()["request"], serde_json::json!({"model": "m"}));
/// assert!(output.text().contains(r#"{"model": "m"}"#)); // echoed byte for byte
/// assert_eq!(output.error(), None);
/// let output = plugin.pre_hook("{}", "[1]");
/// assert!(output.error().unwrap().contains("must be a JSON object"));
/// ```
#[derive(Debug, Clone)]
pub struct Output {
    text: String,
    json: Value,
    error_key: &'static str,
}

impl Output {
    fn new(bytes: Vec<u8>, error_key: &'static str) -> Output {
        // The byte layer writes UTF-8 JSON whatever the input; if it did not,
        // that is an SDK bug the test should show loudly.
        let text = String::from_utf8(bytes).expect("the SDK wrote an output that is not UTF-8");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the SDK wrote an output that is not JSON ({e}): {text}"));
        Output {
            text,
            json,
            error_key,
        }
    }

    /// The output exactly as the host would read it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The output, parsed.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The error the plugin reported (`error`, or `hook_error` in the
    /// single-input `post_hook`), if any: the hook's own `Err`, or an input
    /// the SDK could not read.
    pub fn error(&self) -> Option<&str> {
        self.json[self.error_key]
            .as_str()
            .filter(|message| !message.is_empty())
    }
}

impl Index<&str> for Output {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        &self.json[key]
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Config {
        limit: u32,
    }

    struct Limiter {
        limit: u32,
        seen: u32,
    }

    impl Plugin for Limiter {
        type Config = Config;
        fn init(config: Config) -> Result<Self, PluginError> {
            if config.limit == 0 {
                return Err(PluginError::new("limit must be at least 1"));
            }
            Ok(Limiter {
                limit: config.limit,
                seen: 0,
            })
        }
        fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
            self.seen += 1;
            ctx.set("seen", self.seen);
            if self.seen > self.limit {
                return Ok(PreHook::Fail(
                    LlmError::new("over the limit").with_status(429),
                ));
            }
            Ok(PreHook::Continue(req))
        }
        fn post_hook(
            &mut self,
            _ctx: &mut Context,
            response: Option<LlmResponse>,
            error: Option<LlmError>,
        ) -> Result<PostHook, PluginError> {
            if error.is_some() {
                return Err(PluginError::new("saw an error"));
            }
            Ok(PostHook { response, error })
        }
    }

    #[test]
    fn state_lives_across_calls_and_outputs_are_the_hosts_json() {
        let mut plugin = TestPlugin::<Limiter>::init_with_abi(Abi::Seed, r#"{"limit":1}"#).unwrap();
        let first = plugin.pre_hook("{}", r#"{"model":"m"}"#);
        assert_eq!(
            first.text(),
            r#"{"request":{"model":"m"},"short_circuit":null,"error":""}"#
        );
        let second = plugin.pre_hook("{}", r#"{"model":"m"}"#);
        assert_eq!(second["short_circuit"]["error"]["status_code"], 429);
        assert_eq!(second.error(), None);
    }

    #[test]
    fn the_single_input_abi_carries_the_context_and_reports_hook_error() {
        let mut plugin =
            TestPlugin::<Limiter>::init_with_abi(Abi::SingleInput, r#"{"limit":5}"#).unwrap();
        let output = plugin.pre_hook(r#"{"request_id":"r"}"#, r#"{"model":"m"}"#);
        assert_eq!(output["context"]["seen"], 1);
        assert_eq!(output["context"]["request_id"], "r");
        let output = plugin.post_hook("{}", "", r#"{"error":{"message":"upstream"}}"#);
        assert_eq!(output.error(), Some("saw an error"));
        let output = plugin.post_hook("{}", r#"{"id":"x"}"#, "");
        assert_eq!(output.error(), None);
        assert_eq!(output["has_error"], false);
    }

    #[test]
    fn init_errors_carry_status_and_reason() {
        let error = TestPlugin::<Limiter>::init("{}").err().unwrap();
        assert_eq!(error.status, 2);
        assert_eq!(error.message, "init failed: limit must be at least 1");
        let error = TestPlugin::<Limiter>::init(r#"{"limit":"x"}"#)
            .err()
            .unwrap();
        assert_eq!(error.status, 1);
        assert!(error.message.starts_with("config is not valid"), "{error}");
    }

    #[test]
    fn bad_input_is_reported_in_the_error_field() {
        let mut plugin = TestPlugin::<Limiter>::init(r#"{"limit":1}"#).unwrap();
        let output = plugin.pre_hook("{}", "{not json");
        assert!(
            output.error().unwrap().starts_with("request is not"),
            "{output}"
        );
        assert_eq!(output["request"], Value::Null, "nothing broken is echoed");
    }

    #[test]
    fn cleanup_ends_the_plugin() {
        let mut plugin = TestPlugin::<Limiter>::init(r#"{"limit":1}"#).unwrap();
        plugin.pre_hook("{}", "{}");
        assert_eq!(plugin.cleanup(), 0);
        let mut again = TestPlugin::<Limiter>::init(r#"{"limit":1}"#).unwrap();
        assert_eq!(
            again.pre_hook("{}", "{}").error(),
            None,
            "init starts afresh"
        );
    }

    #[test]
    #[should_panic(expected = "the seed ABI has no `http_post_hook` export")]
    fn seed_only_hooks_are_refused_loudly() {
        let mut plugin = TestPlugin::<Limiter>::init_with_abi(Abi::Seed, r#"{"limit":1}"#).unwrap();
        plugin.http_post_hook("{}", "{}", "{}");
    }
}
