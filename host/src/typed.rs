//! Each hook's output as a struct, decoded leniently the way the host's Go
//! `encoding/json` decodes it: missing fields and `null` take the zero
//! value, unknown fields are ignored, a field of the wrong type is an error.
//! Payloads (requests, responses, chunks) stay [`Value`]s: the host passes
//! them on, it does not need to understand them here.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::abi::Abi;
use crate::hook::Hook;

/// A field Go would leave at its zero value when absent or `null`.
pub(crate) fn zero_if_null<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Seed `http_transport_intercept`: `{"response", "error"}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SeedHttpOutput {
    /// A response that short-circuits the request (`None`: continue).
    pub response: Option<Value>,
    /// The plugin's error message ("" = none).
    #[serde(deserialize_with = "zero_if_null")]
    pub error: String,
}

/// Seed `pre_hook`: `{"request", "short_circuit", "error"}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SeedPreOutput {
    /// The (possibly changed) request; `None`: unchanged.
    pub request: Option<Value>,
    /// `{"response"}` or `{"error"}` to answer without calling the provider.
    pub short_circuit: Option<Value>,
    /// The plugin's error message ("" = none).
    #[serde(deserialize_with = "zero_if_null")]
    pub error: String,
}

/// Seed `post_hook`: `{"response", "bifrost_error", "error"}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SeedPostOutput {
    /// The (possibly changed) response.
    pub response: Option<Value>,
    /// The (possibly changed) Bifrost error.
    pub bifrost_error: Option<Value>,
    /// The plugin's error message ("" = none).
    #[serde(deserialize_with = "zero_if_null")]
    pub error: String,
}

/// Single-input `http_pre_hook` / `http_intercept`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct HttpPreOutput {
    /// The context after the hook.
    pub context: Option<Map<String, Value>>,
    /// The (possibly changed) HTTP request.
    pub request: Option<Value>,
    /// A response that short-circuits the request.
    pub response: Option<Value>,
    /// Whether `response` is set.
    #[serde(deserialize_with = "zero_if_null")]
    pub has_response: bool,
    /// The plugin's error message ("" = none).
    #[serde(deserialize_with = "zero_if_null")]
    pub error: String,
}

/// Single-input `http_post_hook`: `{"context", "error"}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct HttpPostOutput {
    /// The context after the hook.
    pub context: Option<Map<String, Value>>,
    /// The plugin's error message ("" = none).
    #[serde(deserialize_with = "zero_if_null")]
    pub error: String,
}

/// Single-input `http_stream_chunk_hook`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct StreamChunkOutput {
    /// The context after the hook.
    pub context: Option<Map<String, Value>>,
    /// The (possibly changed) chunk.
    pub chunk: Option<Value>,
    /// Whether `chunk` is set.
    #[serde(deserialize_with = "zero_if_null")]
    pub has_chunk: bool,
    /// Drop this chunk.
    #[serde(deserialize_with = "zero_if_null")]
    pub skip: bool,
    /// The plugin's error message ("" = none).
    #[serde(deserialize_with = "zero_if_null")]
    pub error: String,
}

/// Single-input `pre_hook`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PreOutput {
    /// The context after the hook.
    pub context: Option<Map<String, Value>>,
    /// The (possibly changed) request; `None`: unchanged.
    pub request: Option<Value>,
    /// `{"response"}` or `{"error"}` to answer without calling the provider.
    pub short_circuit: Option<Value>,
    /// Whether `short_circuit` is set.
    #[serde(deserialize_with = "zero_if_null")]
    pub has_short_circuit: bool,
    /// The plugin's error message ("" = none).
    #[serde(deserialize_with = "zero_if_null")]
    pub error: String,
}

/// Single-input `post_hook`; note the plugin's own message is `hook_error`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PostOutput {
    /// The context after the hook.
    pub context: Option<Map<String, Value>>,
    /// The (possibly changed) response.
    pub response: Option<Value>,
    /// The (possibly changed) Bifrost error.
    pub error: Option<Value>,
    /// Whether `error` is set.
    #[serde(deserialize_with = "zero_if_null")]
    pub has_error: bool,
    /// The plugin's error message ("" = none).
    #[serde(deserialize_with = "zero_if_null")]
    pub hook_error: String,
}

/// A hook's output, decoded by its ABI and hook.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedOutput {
    /// Seed `http_transport_intercept`.
    SeedHttp(SeedHttpOutput),
    /// Seed `pre_hook`.
    SeedPre(SeedPreOutput),
    /// Seed `post_hook`.
    SeedPost(SeedPostOutput),
    /// Single-input `http_pre_hook` / `http_intercept`.
    HttpPre(HttpPreOutput),
    /// Single-input `http_post_hook`.
    HttpPost(HttpPostOutput),
    /// Single-input `http_stream_chunk_hook`.
    StreamChunk(StreamChunkOutput),
    /// Single-input `pre_hook`.
    Pre(PreOutput),
    /// Single-input `post_hook`.
    Post(PostOutput),
}

impl TypedOutput {
    /// Decodes `value` as `hook`'s output in `abi`; the error says what the
    /// host's decoder would reject.
    pub fn decode(abi: Abi, hook: Hook, value: &Value) -> Result<Self, String> {
        if !value.is_object() {
            return Err(format!("expected a JSON object, got {}", kind(value)));
        }
        fn de<T: for<'de> Deserialize<'de>>(value: &Value) -> Result<T, String> {
            T::deserialize(value).map_err(|e| e.to_string())
        }
        Ok(match (abi, hook) {
            (Abi::Seed, Hook::HttpPreHook) => TypedOutput::SeedHttp(de(value)?),
            (Abi::Seed, Hook::PreHook) => TypedOutput::SeedPre(de(value)?),
            (Abi::Seed, Hook::PostHook) => TypedOutput::SeedPost(de(value)?),
            (Abi::Seed, other) => return Err(format!("the seed ABI has no `{other}` hook")),
            (Abi::SingleInput, Hook::HttpPreHook) => TypedOutput::HttpPre(de(value)?),
            (Abi::SingleInput, Hook::HttpPostHook) => TypedOutput::HttpPost(de(value)?),
            (Abi::SingleInput, Hook::HttpStreamChunkHook) => TypedOutput::StreamChunk(de(value)?),
            (Abi::SingleInput, Hook::PreHook) => TypedOutput::Pre(de(value)?),
            (Abi::SingleInput, Hook::PostHook) => TypedOutput::Post(de(value)?),
        })
    }

    /// The error the plugin reported (`error`, or the single-input
    /// post-hook's `hook_error`), if not empty.
    pub fn plugin_error(&self) -> Option<&str> {
        let message = match self {
            TypedOutput::SeedHttp(o) => &o.error,
            TypedOutput::SeedPre(o) => &o.error,
            TypedOutput::SeedPost(o) => &o.error,
            TypedOutput::HttpPre(o) => &o.error,
            TypedOutput::HttpPost(o) => &o.error,
            TypedOutput::StreamChunk(o) => &o.error,
            TypedOutput::Pre(o) => &o.error,
            TypedOutput::Post(o) => &o.hook_error,
        };
        Some(message.as_str()).filter(|m| !m.is_empty())
    }

    /// The context the plugin sent back (single-input only).
    pub fn context(&self) -> Option<&Map<String, Value>> {
        match self {
            TypedOutput::HttpPre(o) => o.context.as_ref(),
            TypedOutput::HttpPost(o) => o.context.as_ref(),
            TypedOutput::StreamChunk(o) => o.context.as_ref(),
            TypedOutput::Pre(o) => o.context.as_ref(),
            TypedOutput::Post(o) => o.context.as_ref(),
            _ => None,
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_and_null_fields_take_go_zero_values() {
        let out = TypedOutput::decode(Abi::SingleInput, Hook::PreHook, &json!({"error": null}));
        assert_eq!(out, Ok(TypedOutput::Pre(PreOutput::default())));
    }

    #[test]
    fn a_field_of_the_wrong_type_or_a_non_object_is_rejected() {
        let err = TypedOutput::decode(Abi::Seed, Hook::PreHook, &json!({"error": 5})).unwrap_err();
        assert!(
            err.contains("invalid type: integer `5`, expected a string"),
            "{err}"
        );
        let err = TypedOutput::decode(Abi::Seed, Hook::PreHook, &json!([1])).unwrap_err();
        assert_eq!(err, "expected a JSON object, got an array");
        let err = TypedOutput::decode(Abi::SingleInput, Hook::PostHook, &json!({"context": 1}));
        assert!(err.unwrap_err().contains("expected a map"));
    }

    #[test]
    fn the_plugin_error_is_hook_error_for_the_single_input_post_hook() {
        let value = json!({"error": {"message": "upstream"}, "hook_error": "mine"});
        let out = TypedOutput::decode(Abi::SingleInput, Hook::PostHook, &value).unwrap();
        assert_eq!(out.plugin_error(), Some("mine"));
        let out = TypedOutput::decode(Abi::Seed, Hook::PostHook, &json!({"error": ""})).unwrap();
        assert_eq!(out.plugin_error(), None);
    }
}
