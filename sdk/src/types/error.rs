//! Bifrost's error value (`BifrostError`): what a provider call failed with,
//! or what a plugin answers a request with instead of calling the provider.

use serde_json::{Map, Value};

use super::document::Document;
use super::InputError;

/// A Bifrost error: `{"status_code", "type", "is_bifrost_error",
/// "error": {"message", "type", "code", …}, …}`.
///
/// Errors from the host keep every field as sent; accessors read the common
/// ones.
///
/// ```
/// use bifrost_plugin_sdk::LlmError;
/// let err = LlmError::new("rate limit exceeded")
///     .with_status(429)
///     .with_type("rate_limit")
///     .with_code("429");
/// assert_eq!(err.message(), Some("rate limit exceeded"));
/// assert_eq!(err.status_code(), Some(429));
/// assert_eq!(err.error_type(), Some("rate_limit"));
/// assert_eq!(err.code().as_deref(), Some("429"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LlmError {
    doc: Document,
}

impl LlmError {
    /// An error with `message`, raised by the plugin (`is_bifrost_error`:
    /// false).
    pub fn new(message: impl Into<String>) -> Self {
        let mut error = Map::new();
        error.insert("message".into(), Value::String(message.into()));
        let mut root = Map::new();
        root.insert("is_bifrost_error".into(), Value::Bool(false));
        root.insert("error".into(), Value::Object(error));
        LlmError {
            doc: Document::from_map(root),
        }
    }

    /// Reads an optional error buffer: empty, `null` and `{}` all mean "no
    /// error" (the host may send any of them). Like the LLM response, an
    /// error is checked when it is used (read or echoed).
    pub(crate) fn from_optional_bytes(bytes: &[u8]) -> Result<Option<Self>, InputError> {
        if super::is_absent(bytes) || super::is_empty_object(bytes) {
            return Ok(None);
        }
        Self::deferred(bytes).map(Some)
    }

    /// Sets the HTTP status code returned to the client.
    #[must_use]
    pub fn with_status(mut self, status_code: u16) -> Self {
        let root = self.doc.map_mut();
        root.insert("status_code".into(), Value::from(status_code));
        self
    }

    /// Sets the error type (`error.type`), e.g. `rate_limit`.
    #[must_use]
    pub fn with_type(mut self, error_type: impl Into<String>) -> Self {
        self.error_field_mut()
            .insert("type".into(), Value::String(error_type.into()));
        self
    }

    /// Sets the error code (`error.code`), e.g. `429`.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.error_field_mut()
            .insert("code".into(), Value::String(code.into()));
        self
    }

    /// Adds `key` with `value` inside `error`, next to its `message`, `type`
    /// and `code` (replacing a member of that name): what a plugin's own
    /// error says beyond them. The value is any of the types JSON values are
    /// built from (`&str`, `String`, integers, floats, `bool`, a `Vec` of
    /// them, …) and is written as given.
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmError;
    /// let err = LlmError::new("prompt rejected")
    ///     .with_type("prompt_rejected")
    ///     .with_error_field("pattern", "ignore previous instructions")
    ///     .with_error_field("score", 0.93);
    /// let json = serde_json::to_value(&err).unwrap();
    /// assert_eq!(json["error"]["pattern"], "ignore previous instructions");
    /// assert_eq!(json["error"]["score"], 0.93);
    /// assert_eq!(json["error"]["type"], "prompt_rejected");
    /// ```
    #[must_use]
    pub fn with_error_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.error_field_mut().insert(key.into(), value.into());
        self
    }

    /// Adds `key` with `value` at the top level of the error, next to
    /// `status_code` and `error` (replacing a member of that name); the
    /// value as in [`LlmError::with_error_field`].
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmError;
    /// let err = LlmError::new("slow down")
    ///     .with_status(429)
    ///     .with_field("retry_after_seconds", 30)
    ///     .with_field("limits", vec!["minute", "day"]);
    /// assert_eq!(err.json()["retry_after_seconds"], 30);
    /// let json = serde_json::to_string(&err).unwrap();
    /// assert!(json.contains(r#""limits":["minute","day"]"#), "{json}");
    /// ```
    #[must_use]
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.doc.map_mut().insert(key.into(), value.into());
        self
    }

    /// The human-readable message (`error.message`).
    pub fn message(&self) -> Option<&str> {
        self.error_field()?.get("message")?.as_str()
    }

    /// The HTTP status code, if set.
    pub fn status_code(&self) -> Option<u16> {
        let code = self.doc.map().get("status_code")?.as_u64()?;
        u16::try_from(code).ok()
    }

    /// The error type: `error.type`, else the top-level `type`.
    pub fn error_type(&self) -> Option<&str> {
        self.error_field()
            .and_then(|e| e.get("type"))
            .or_else(|| self.doc.map().get("type"))
            .and_then(Value::as_str)
    }

    /// The error code (`error.code`); Bifrost accepts a string or a number.
    pub fn code(&self) -> Option<String> {
        match self.error_field()?.get("code")? {
            Value::String(code) => Some(code.clone()),
            Value::Number(code) => Some(code.to_string()),
            _ => None,
        }
    }

    /// Whether Bifrost itself (not the provider) raised the error.
    pub fn is_bifrost_error(&self) -> bool {
        self.doc
            .map()
            .get("is_bifrost_error")
            .and_then(Value::as_bool)
            == Some(true)
    }

    fn error_field(&self) -> Option<&Map<String, Value>> {
        self.doc.map().get("error")?.as_object()
    }

    fn error_field_mut(&mut self) -> &mut Map<String, Value> {
        let slot = self
            .doc
            .map_mut()
            .entry("error")
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        match slot {
            Value::Object(map) => map,
            _ => unreachable!("replaced by an object above"),
        }
    }
}

super::document::document_view!(LlmError, "error");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_error_can_be_empty_null_or_an_empty_object() {
        for input in [&b""[..], b"null", b" null ", b"{}"] {
            assert_eq!(
                LlmError::from_optional_bytes(input).unwrap(),
                None,
                "{input:?}"
            );
        }
    }

    #[test]
    fn host_errors_keep_unknown_fields_and_read_numeric_codes() {
        let text = br#"{"is_bifrost_error":true,"status_code":503,
            "error":{"message":"down","code":503},"extra_fields":{"provider":"openai"}}"#;
        let err = LlmError::from_optional_bytes(text).unwrap().unwrap();
        assert_eq!(err.code().as_deref(), Some("503"));
        assert_eq!(err.status_code(), Some(503));
        assert!(err.is_bifrost_error());
        assert_eq!(serde_json::to_vec(&err).unwrap(), text);
    }

    #[test]
    fn fields_of_its_own_are_written_as_given_at_the_top_and_inside_error() {
        let err = LlmError::new("prompt rejected")
            .with_status(403)
            .with_type("prompt_rejected")
            .with_error_field("pattern", "(?i)jailbreak")
            .with_error_field("hits", 2u32)
            .with_error_field("message", "replaced")
            .with_field("blocked", true)
            .with_field("phrases", vec!["a", "b"]);
        let written: Value = serde_json::from_slice(&err.into_json().unwrap()).unwrap();
        assert_eq!(
            written,
            serde_json::json!({
                "status_code": 403,
                "is_bifrost_error": false,
                "blocked": true,
                "phrases": ["a", "b"],
                "error": {"message": "replaced", "type": "prompt_rejected",
                          "pattern": "(?i)jailbreak", "hits": 2}
            })
        );
    }

    #[test]
    fn fields_added_to_a_host_error_keep_the_host_s_own() {
        let text = br#"{"error":"not an object","status_code":500,"x":1}"#;
        let err = LlmError::from_optional_bytes(text).unwrap().unwrap();
        assert_eq!(err.json()["x"], 1);
        let err = err
            .with_error_field("reason", "upstream")
            .with_field("x", 2);
        let written: Value = serde_json::from_slice(&err.into_json().unwrap()).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"error": {"reason": "upstream"}, "status_code": 500, "x": 2})
        );
    }

    #[test]
    fn a_wrong_type_is_reported() {
        let err = LlmError::from_optional_bytes(b"\"boom\"").unwrap_err();
        assert_eq!(err.to_string(), "error must be a JSON object, got a string");
    }
}
