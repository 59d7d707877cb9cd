//! HTTP requests and responses as the host encodes them: single-valued
//! header and query maps, and bodies as standard, padded base64.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::InputError;

/// An incoming HTTP request, as seen by the HTTP transport hook.
///
/// `body` holds the decoded bytes. Fields this type does not model (such as
/// `path_params`) are kept in [`HttpRequest::extra`].
///
/// ```
/// use bifrost_plugin_sdk::HttpRequest;
/// let mut req = HttpRequest::default();
/// req.headers.insert("Content-Type".into(), "application/json".into());
/// assert_eq!(req.header("content-type"), Some("application/json"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// The HTTP method, e.g. `POST`.
    #[serde(default, deserialize_with = "nullable")]
    pub method: String,
    /// The request path, e.g. `/v1/chat/completions`.
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    /// Headers, with the client's casing; see [`HttpRequest::header`].
    #[serde(default, deserialize_with = "nullable")]
    pub headers: BTreeMap<String, String>,
    /// Query parameters.
    #[serde(default, deserialize_with = "nullable")]
    pub query: BTreeMap<String, String>,
    /// The decoded body.
    #[serde(default, with = "base64_body")]
    pub body: Vec<u8>,
    /// Every other field the host sent, kept for the way back.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HttpRequest {
    /// Reads the request buffer of the HTTP hook.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        super::document::Document::from_bytes(bytes, "http request")?;
        serde_json::from_slice(bytes)
            .map_err(|e| InputError::new(format!("http request is not valid: {e}")))
    }

    /// Reads an optional request buffer: empty and `null` are an empty
    /// request.
    pub(crate) fn from_optional_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        match super::is_absent(bytes) {
            true => Ok(HttpRequest::default()),
            false => Self::from_bytes(bytes),
        }
    }

    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as UTF-8 text, if it is.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// An HTTP response the plugin sends instead of forwarding the request.
///
/// ```
/// use bifrost_plugin_sdk::HttpResponse;
/// let resp = HttpResponse::new(401)
///     .with_header("Content-Type", "application/json")
///     .with_body(r#"{"error":"unauthorized"}"#);
/// assert_eq!(resp.status_code, 401);
/// assert_eq!(resp.header("content-type"), Some("application/json"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// The HTTP status code.
    #[serde(default)]
    pub status_code: u16,
    /// Response headers.
    #[serde(default, deserialize_with = "nullable")]
    pub headers: BTreeMap<String, String>,
    /// The body bytes (base64 on the wire).
    #[serde(default, with = "base64_body")]
    pub body: Vec<u8>,
    /// Every other field, kept for the way back.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HttpResponse {
    /// An empty response with `status_code`.
    pub fn new(status_code: u16) -> Self {
        HttpResponse {
            status_code,
            ..HttpResponse::default()
        }
    }

    /// A JSON response: serialises `body` and sets `Content-Type`.
    ///
    /// ```
    /// use bifrost_plugin_sdk::HttpResponse;
    /// let resp = HttpResponse::json(429, &serde_json::json!({"error": "slow down"}));
    /// assert_eq!(resp.body, br#"{"error":"slow down"}"#);
    /// ```
    pub fn json<T: Serialize + ?Sized>(status_code: u16, body: &T) -> Self {
        // Serialising to memory only fails for maps with non-string keys;
        // the body is then left empty rather than failing the hook.
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        HttpResponse::new(status_code)
            .with_header("Content-Type", "application/json")
            .with_body(bytes)
    }

    /// Reads an optional response buffer: empty and `null` are an empty
    /// response.
    pub(crate) fn from_optional_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        if super::is_absent(bytes) {
            return Ok(HttpResponse::default());
        }
        super::document::Document::from_bytes(bytes, "http response")?;
        serde_json::from_slice(bytes)
            .map_err(|e| InputError::new(format!("http response is not valid: {e}")))
    }

    /// Adds (or replaces) a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Go encodes nil maps and strings as `null`: read them as empty.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Go's `[]byte` in JSON: standard base64 with padding; `null` is empty.
mod base64_body {
    use super::*;

    pub(super) fn serialize<S: Serializer>(body: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(body))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
        match text {
            None => Ok(Vec::new()),
            Some(text) => STANDARD.decode(text.as_bytes()).map_err(|e| {
                serde::de::Error::custom(format_args!("body is not valid base64 ({e})"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_request() {
        let req = HttpRequest::from_bytes(
            br#"{"method":"POST","path":"/v1/chat/completions",
                "headers":{"Content-Type":"application/json"},"query":{},
                "body":"eyJhIjoxfQ==","path_params":{"id":"7"}}"#,
        )
        .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.body, br#"{"a":1}"#);
        assert_eq!(req.extra["path_params"], serde_json::json!({"id": "7"}));
    }

    #[test]
    fn go_nulls_read_as_empty() {
        let req = HttpRequest::from_bytes(
            br#"{"method":null,"path":"/","headers":null,"query":null,"body":null}"#,
        )
        .unwrap();
        assert!(req.method.is_empty() && req.headers.is_empty() && req.body.is_empty());
    }

    #[test]
    fn bad_base64_is_a_clear_error() {
        let err = HttpRequest::from_bytes(br#"{"body":"not base64!"}"#).unwrap_err();
        assert!(
            err.to_string().contains("body is not valid base64"),
            "{err}"
        );
    }

    #[test]
    fn responses_encode_bodies_as_padded_base64() {
        let resp = HttpResponse::new(200).with_body("hi");
        let json = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"status_code": 200, "headers": {}, "body": "aGk="})
        );
    }
}
