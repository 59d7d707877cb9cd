//! rate-limiter: a Bifrost WASM plugin that lets at most N requests a minute
//! through, and answers the rest `429`, saying how many seconds to wait.
//! It needs a clock, so it is built for `wasm32-wasip1`.
//!
//! Config: `{"requests_per_minute": N, "key": "…"}`. `requests_per_minute`
//! is required (at least 1). `key` says what to count by; without it every
//! request counts against one shared counter:
//! - `"header:NAME"`: the HTTP request's header `NAME` (case-insensitive),
//!   counted in the HTTP hook, which answers an HTTP `429` with a
//!   `Retry-After` header and the body
//!   `{"error": {"type": "rate_limited", "message": "…"}}`;
//! - `"context:NAME"` or `"NAME"`: the context value `NAME`, counted in
//!   `pre_hook`, which fails the request with an LLM error: status `429`,
//!   type `rate_limited`.
//!
//! Requests without the key's value share one counter. The window slides:
//! a request counts for 60 s after it was let through (refused ones never
//! count).
//!
//! Built for `wasm32-unknown-unknown` it still builds, but has no clock:
//! every hook that counts answers the SDK's clear "no clock on this target"
//! error in its `error` field instead of trapping.

// The SDK's generated exports are the only unsafe code, and they live in the SDK.
#![deny(unsafe_code)]

mod window;

use bifrost_plugin_sdk::log::{info, warn};
use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde::{Deserialize, Serialize};
use bifrost_plugin_sdk::time;

pub use window::{Windows, MAX_KEYS, WINDOW};

/// The plugin's configuration, as Bifrost passes it to `init`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(crate = "bifrost_plugin_sdk::serde", default, deny_unknown_fields)]
pub struct Config {
    /// Requests let through per key per minute (at least 1).
    pub requests_per_minute: u32,
    /// What to count by: `header:NAME`, `context:NAME` or `NAME` (a context
    /// key); none: one shared counter.
    pub key: Option<String>,
}

/// What requests are counted by.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    /// One counter for every request (in `pre_hook`).
    Shared,
    /// An HTTP header's value (in the HTTP hook).
    Header(String),
    /// A context value (in `pre_hook`).
    Context(String),
}

impl Key {
    /// Reads the config's `key`.
    /// For the log: `Shared`, `header x-api-key`, `context user`. (Not
    /// `Debug`, whose escaping and Unicode tables would add ~3 KB to the
    /// wasm32-wasip1 build.)
    pub fn described(&self) -> String {
        match self {
            Key::Shared => "Shared".into(),
            Key::Header(name) => format!("header {name}"),
            Key::Context(name) => format!("context {name}"),
        }
    }

    pub fn parse(key: Option<&str>) -> Result<Key, PluginError> {
        let key = match key {
            None => return Ok(Key::Shared),
            Some(key) => key,
        };
        let (parsed, name) = match key.split_once(':') {
            Some(("header", name)) => (Key::Header(name.trim().to_string()), name),
            Some(("context", name)) => (Key::Context(name.trim().to_string()), name),
            _ => (Key::Context(key.trim().to_string()), key),
        };
        if name.trim().is_empty() {
            return Err(PluginError::new(format!(
                "config field `key` must name a header (`header:NAME`) or a context key, got `{key}`"
            )));
        }
        Ok(parsed)
    }
}

/// The limiter: what it counts by, and the requests in each key's window.
pub struct RateLimiter {
    limit: u32,
    key: Key,
    windows: Windows,
}

/// The body of the HTTP hook's `429`.
#[derive(Serialize)]
#[serde(crate = "bifrost_plugin_sdk::serde")]
struct Refusal<'a> {
    error: RefusalError<'a>,
}

#[derive(Serialize)]
#[serde(crate = "bifrost_plugin_sdk::serde")]
struct RefusalError<'a> {
    r#type: &'a str,
    message: &'a str,
}

/// The error type of a refused request.
pub const ERROR_TYPE: &str = "rate_limited";

impl RateLimiter {
    /// Counts a request of `key` now: `Ok(None)` lets it through,
    /// `Ok(Some(message))` refuses it, and `Err` says there is no clock.
    fn admit(&mut self, key: Option<&str>) -> Result<Option<(String, u64)>, PluginError> {
        let now = time::unix_time()?;
        let Err(wait) = self.windows.admit(key, now) else {
            return Ok(None);
        };
        // Whole seconds, rounded up: waiting that long is always enough.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let message = format!(
            "rate limit of {} requests per minute exceeded; retry in {seconds} s",
            self.limit
        );
        warn!("{}: {message}", key.unwrap_or("(shared counter)"));
        Ok(Some((message, seconds)))
    }
}

#[bifrost_plugin(name = "rate-limiter")]
impl Plugin for RateLimiter {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        if config.requests_per_minute == 0 {
            return Err(PluginError::new(
                "config field `requests_per_minute` must be at least 1",
            ));
        }
        let key = Key::parse(config.key.as_deref())?;
        info!(
            "{} requests per minute, counted by {}",
            config.requests_per_minute,
            key.described()
        );
        Ok(RateLimiter {
            limit: config.requests_per_minute,
            key,
            windows: Windows::new(config.requests_per_minute as usize),
        })
    }

    fn http_pre_hook(
        &mut self,
        _ctx: &mut Context,
        req: HttpRequest,
    ) -> Result<HttpPreHook, PluginError> {
        let Key::Header(name) = &self.key else {
            return Ok(HttpPreHook::Continue(req));
        };
        let value = req.header(name).map(str::to_string);
        match self.admit(value.as_deref())? {
            None => Ok(HttpPreHook::Continue(req)),
            Some((message, seconds)) => {
                let body = Refusal {
                    error: RefusalError {
                        r#type: ERROR_TYPE,
                        message: &message,
                    },
                };
                let response =
                    HttpResponse::json(429, &body).with_header("Retry-After", seconds.to_string());
                Ok(HttpPreHook::Respond(response))
            }
        }
    }

    fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        let value = match &self.key {
            Key::Header(_) => return Ok(PreHook::Continue(req)),
            Key::Shared => None,
            Key::Context(name) => ctx.get_str(name),
        };
        match self.admit(value)? {
            None => Ok(PreHook::Continue(req)),
            Some((message, _)) => Ok(PreHook::Fail(
                LlmError::new(message)
                    .with_status(429)
                    .with_type(ERROR_TYPE),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_names_a_header_or_a_context_value() {
        assert_eq!(Key::parse(None).unwrap(), Key::Shared);
        assert_eq!(
            Key::parse(Some("header:X-Api-Key")).unwrap(),
            Key::Header("X-Api-Key".into())
        );
        assert_eq!(
            Key::parse(Some("context:user")).unwrap(),
            Key::Context("user".into())
        );
        assert_eq!(
            Key::parse(Some("user")).unwrap(),
            Key::Context("user".into())
        );
        let error = Key::parse(Some("header: ")).unwrap_err();
        assert!(error.message().contains("must name a header"), "{error}");
    }
}
