//! What the client gets: OpenAI-style error bodies, a `BifrostError` turned
//! into an HTTP status and body, and an HTTP pre hook's answer sent as it is.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

/// `{"error":{"message","type","code"}}` with `status`.
pub fn error(status: u16, kind: &str, message: impl Into<String>) -> (u16, Value) {
    let body = json!({"error": {"message": message.into(), "type": kind, "code": null}});
    (status, body)
}

/// A `BifrostError` as the client sees it: its `status_code` (500 when it
/// has none) and OpenAI's error body.
pub fn from_bifrost_error(error: &Value) -> (u16, Value) {
    let status = error["status_code"]
        .as_u64()
        .filter(|s| (400..=599).contains(s))
        .unwrap_or(500) as u16;
    let inner = &error["error"];
    let message = inner["message"].as_str().unwrap_or("the request failed");
    let body = json!({"error": {
        "message": message,
        "type": inner.get("type").cloned().unwrap_or(Value::Null),
        "code": inner.get("code").cloned().unwrap_or(Value::Null),
    }});
    (status, body)
}

/// A JSON response.
pub fn json(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// An HTTP pre hook's response (`{"status_code","headers","body"}`, body in
/// base64), sent as it is; status 0 (Go's zero value) means 200.
pub fn http_answer(answer: &Value) -> (u16, Response) {
    let status = match answer["status_code"].as_u64() {
        None | Some(0) => 200,
        Some(status) => status.min(599) as u16,
    };
    let body = match &answer["body"] {
        Value::String(text) => base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_else(|_| text.clone().into_bytes()),
        _ => Vec::new(),
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (code, body).into_response();
    if let Some(headers) = answer["headers"].as_object() {
        for (name, value) in headers {
            let value = match value {
                Value::String(text) => text.clone(),
                Value::Array(values) => values
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => continue,
            };
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    (status, response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bifrost_error_keeps_its_status_type_and_code() {
        let error = json!({"status_code": 403, "error": {"message": "no", "type": "content_blocked", "code": "x"}});
        assert_eq!(
            from_bifrost_error(&error),
            (
                403,
                json!({"error": {"message": "no", "type": "content_blocked", "code": "x"}})
            )
        );
        let bare = json!({"error": {"message": "boom"}});
        assert_eq!(from_bifrost_error(&bare).0, 500);
        assert_eq!(from_bifrost_error(&json!({"status_code": 200})).0, 500);
    }

    #[test]
    fn an_http_answer_is_decoded_from_base64_with_its_headers() {
        let answer =
            json!({"status_code": 429, "headers": {"Retry-After": "7"}, "body": "eyJhIjoxfQ=="});
        let (status, response) = http_answer(&answer);
        assert_eq!(status, 429);
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "7");
        assert_eq!(http_answer(&json!({"status_code": 0})).0, 200);
    }
}
