//! api-key-guard: a Bifrost WASM plugin that lets an HTTP request through
//! only when it carries one of the configured API keys.
//!
//! Config: `{"header": "x-api-key", "keys": ["…"]}`. `header` is optional
//! (default `x-api-key`, matched case-insensitively); `keys` must list at
//! least one key. A request without the header, or with a key not in
//! `keys`, is answered `401` with a JSON body `{"error": "…"}` that never
//! repeats the key it was sent.

// The SDK's generated exports are the only unsafe code, and they live in the SDK.
#![deny(unsafe_code)]

mod key_set;

use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde::Deserialize;

pub use key_set::KeySet;

/// The header a key is read from when the config names none.
pub const DEFAULT_HEADER: &str = "x-api-key";

/// The plugin's configuration, as Bifrost passes it to `init`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(crate = "bifrost_plugin_sdk::serde", default, deny_unknown_fields)]
pub struct Config {
    /// The request header that carries the key.
    pub header: String,
    /// The accepted keys.
    pub keys: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            header: DEFAULT_HEADER.to_string(),
            keys: Vec::new(),
        }
    }
}

/// The guard: which header to read, and the keys it accepts.
pub struct ApiKeyGuard {
    header: String,
    keys: KeySet,
}

/// A `401` with the JSON body `{"error": message}`.
fn unauthorized(message: &str) -> HttpPreHook {
    HttpPreHook::Respond(HttpResponse::json_error(401, message))
}

#[bifrost_plugin(name = "api-key-guard")]
impl Plugin for ApiKeyGuard {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        if config.header.trim().is_empty() {
            return Err(PluginError::new(
                "config field `header` must be a header name, got an empty string",
            ));
        }
        if config.keys.is_empty() {
            return Err(PluginError::new(
                "config field `keys` must list at least one API key, got none",
            ));
        }
        if config.keys.iter().any(String::is_empty) {
            return Err(PluginError::new(
                "config field `keys` must not contain an empty key",
            ));
        }
        Ok(ApiKeyGuard {
            header: config.header,
            keys: KeySet::new(config.keys),
        })
    }

    fn http_pre_hook(
        &mut self,
        _ctx: &mut Context,
        req: HttpRequest,
    ) -> Result<HttpPreHook, PluginError> {
        // The messages name the header, never a key: what the client sent
        // could be a real key meant for somewhere else.
        Ok(match req.header(&self.header) {
            None => unauthorized(&format!("missing API key (header `{}`)", self.header)),
            Some(key) if !self.keys.contains(key) => unauthorized("invalid API key"),
            Some(_) => HttpPreHook::Continue(req),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Config {
        bifrost_plugin_sdk::serde_json::from_str(json).unwrap()
    }

    fn guard(json: &str) -> ApiKeyGuard {
        ApiKeyGuard::init(config(json)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn request_with(headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = HttpRequest {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            ..HttpRequest::default()
        };
        for (name, value) in headers {
            req.headers.insert(name.to_string(), value.to_string());
        }
        req
    }

    fn call(guard: &mut ApiKeyGuard, req: HttpRequest) -> HttpPreHook {
        guard.http_pre_hook(&mut Context::new(), req).unwrap()
    }

    fn refusal(outcome: HttpPreHook) -> (u16, String) {
        match outcome {
            HttpPreHook::Respond(resp) => {
                assert_eq!(resp.header("content-type"), Some("application/json"));
                (resp.status_code, String::from_utf8(resp.body).unwrap())
            }
            other => panic!("let through: {other:?}"),
        }
    }

    #[test]
    fn the_header_defaults_to_x_api_key() {
        assert_eq!(config(r#"{"keys":["k"]}"#).header, "x-api-key");
        assert_eq!(Config::default().header, DEFAULT_HEADER);
    }

    #[test]
    fn a_known_key_lets_the_request_through_unchanged() {
        let mut guard = guard(r#"{"keys":["k1","k2"]}"#);
        let req = request_with(&[("X-Api-Key", "k2"), ("Accept", "*/*")]);
        assert_eq!(call(&mut guard, req.clone()), HttpPreHook::Continue(req));
    }

    #[test]
    fn a_configured_header_is_read_instead() {
        let mut guard = guard(r#"{"header":"Authorization","keys":["Bearer k"]}"#);
        let through = request_with(&[("authorization", "Bearer k")]);
        assert!(matches!(
            call(&mut guard, through),
            HttpPreHook::Continue(_)
        ));
        let (status, _) = refusal(call(&mut guard, request_with(&[("x-api-key", "k")])));
        assert_eq!(status, 401);
    }

    #[test]
    fn a_missing_header_is_401_naming_the_header() {
        let mut guard = guard(r#"{"keys":["k"]}"#);
        let (status, body) = refusal(call(&mut guard, request_with(&[])));
        assert_eq!(status, 401);
        assert_eq!(body, r#"{"error":"missing API key (header `x-api-key`)"}"#);
    }

    #[test]
    fn an_unknown_key_is_401_and_never_repeated() {
        let mut guard = guard(r#"{"keys":["right-key"]}"#);
        for sent in ["wrong-key", "right-ke", "right-key ", "x"] {
            let (status, body) = refusal(call(&mut guard, request_with(&[("x-api-key", sent)])));
            assert_eq!(status, 401);
            assert_eq!(body, r#"{"error":"invalid API key"}"#);
            assert!(!body.contains(sent), "{body} repeats {sent}");
            assert!(!body.contains("right-key"), "{body} leaks the real key");
        }
    }

    #[test]
    fn init_fails_naming_keys_when_there_are_none() {
        for json in ["{}", r#"{"keys":[]}"#, r#"{"header":"x-key"}"#] {
            let err = ApiKeyGuard::init(config(json)).err().unwrap();
            assert!(err.to_string().contains("`keys`"), "{json}: {err}");
        }
        let err = ApiKeyGuard::init(config(r#"{"keys":["a",""]}"#))
            .err()
            .unwrap();
        assert!(err.to_string().contains("`keys`"), "{err}");
    }

    #[test]
    fn init_fails_naming_header_when_it_is_empty() {
        let err = ApiKeyGuard::init(config(r#"{"header":" ","keys":["k"]}"#))
            .err()
            .unwrap();
        assert!(err.to_string().contains("`header`"), "{err}");
    }
}
