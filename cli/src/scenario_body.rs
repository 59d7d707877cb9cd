//! HTTP bodies in scenario files, written as what they are. On the wire a
//! body is base64 (Go's `[]byte`); in a scenario it is
//!
//! - any JSON value but a string (`"body": {"error": "denied"}`): a JSON
//!   body, sent as its compact text;
//! - a string (`"body": "plain text"`): a text body, sent as its bytes;
//! - `"body_base64": "…"`: the bytes as on the wire (binary bodies, or files
//!   written before bodies could be given as text).
//!
//! An expected body is read the same way and compared with the decoded
//! body: a JSON body as a JSON subset (objects may have more keys), text
//! exactly; `body_base64` (or a `body` string equal to the wire text)
//! compares the base64 itself.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bifrost_plugin_host::{Field, Hook, HookOutput};
use serde_json::Value;

use crate::scenario::{kind, subset_diff};

/// The HTTP values among a hook's inputs: `request` of every HTTP hook, and
/// `response` of `http_post_hook`.
pub fn is_http_input(hook: Hook, field: Field) -> bool {
    match field {
        Field::Request => matches!(
            hook,
            Hook::HttpPreHook | Hook::HttpPostHook | Hook::HttpStreamChunkHook
        ),
        Field::Response => hook == Hook::HttpPostHook,
        _ => false,
    }
}

/// `value` (an HTTP request or response of a scenario) with its body in the
/// wire's base64.
pub fn encode(value: &Value) -> Result<Value, String> {
    let Value::Object(http) = value else {
        return Ok(value.clone());
    };
    let mut http = http.clone();
    let body = http.remove("body");
    let wire = http.remove("body_base64");
    let encoded = match (body, wire) {
        (Some(_), Some(_)) => return Err("give `body` or `body_base64`, not both".into()),
        (None, None) => return Ok(Value::Object(http)),
        (None, Some(Value::String(wire))) => {
            STANDARD
                .decode(&wire)
                .map_err(|e| format!("`body_base64` is not base64: {e}"))?;
            wire
        }
        (None, Some(other)) => {
            return Err(format!(
                "`body_base64` must be a base64 string, got {}",
                kind(&other)
            ))
        }
        (Some(Value::Null), None) => return Ok(Value::Object(http)),
        (Some(Value::String(text)), None) => STANDARD.encode(text),
        (Some(json), None) => STANDARD.encode(json.to_string()),
    };
    http.insert("body".into(), Value::String(encoded));
    Ok(Value::Object(http))
}

/// Every way the output's HTTP bodies differ from those `expect` names
/// (`/request/body: …`); `expect` without its bodies is returned for the
/// ordinary subset check.
pub fn check(expect: &Value, output: &HookOutput) -> (Value, Vec<String>) {
    let mut rest = expect.clone();
    let mut problems = Vec::new();
    for field in [Field::Request, Field::Response] {
        let Some(Value::Object(http)) = rest.get_mut(field.name()) else {
            continue;
        };
        let path = format!("/{}", field.name());
        let wire = output.json()[field.name()]["body"].as_str().unwrap_or("");
        if let Some(want) = http.remove("body_base64") {
            if want.as_str() != Some(wire) {
                problems.push(format!(
                    "{path}/body_base64: expected {want}, got {:?}",
                    wire
                ));
            }
        }
        let Some(want) = http.remove("body") else {
            continue;
        };
        let decoded = output.body(field);
        problems.extend(compare(&path, &want, wire, decoded));
    }
    (rest, problems)
}

/// One expected body against the one sent (`wire`, and `decoded` from it).
fn compare(path: &str, want: &Value, wire: &str, decoded: Option<&[u8]>) -> Vec<String> {
    let at = format!("{path}/body");
    let Some(decoded) = decoded else {
        return vec![format!("{at}: expected a body, got {wire:?} (not base64)")];
    };
    let text = std::str::from_utf8(decoded).ok();
    let shown = || match text {
        Some(text) => format!("{text:?}"),
        None => format!("{} bytes that are not UTF-8 ({wire:?})", decoded.len()),
    };
    match want {
        Value::String(want) if want == wire || Some(want.as_str()) == text => vec![],
        Value::String(want) => vec![format!("{at}: expected {want:?}, got {}", shown())],
        Value::Null if decoded.is_empty() => vec![],
        json => match text.and_then(|t| serde_json::from_str::<Value>(t).ok()) {
            Some(got) => subset_diff(json, &got)
                .into_iter()
                .map(|problem| match problem.strip_prefix("/:") {
                    Some(rest) => format!("{at}:{rest}"),
                    None => format!("{at}{problem}"),
                })
                .collect(),
            None => vec![format!(
                "{at}: expected a JSON body {json}, got {}",
                shown()
            )],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_host::Abi;
    use serde_json::json;

    #[test]
    fn a_body_is_sent_as_base64_whether_given_as_json_text_or_base64() {
        let sent = |value: Value| encode(&value).unwrap()["body"].clone();
        assert_eq!(sent(json!({"body": {"q": "hi"}})), "eyJxIjoiaGkifQ==");
        assert_eq!(sent(json!({"body": "hi"})), "aGk=");
        assert_eq!(sent(json!({"body_base64": "e30="})), "e30=");
        assert_eq!(sent(json!({"body": null, "path": "/"})), Value::Null);
        assert_eq!(
            encode(&json!({"body": "a", "body_base64": "YQ=="})).unwrap_err(),
            "give `body` or `body_base64`, not both"
        );
        assert!(encode(&json!({"body_base64": "not base64!"}))
            .unwrap_err()
            .starts_with("`body_base64` is not base64: "));
    }

    fn output(body: &str) -> HookOutput {
        let raw = format!(
            r#"{{"request":null,"response":{{"status_code":401,"body":"{body}"}},"error":""}}"#
        );
        HookOutput::parse(Abi::Seed, Hook::HttpPreHook, "x", raw.into_bytes()).unwrap()
    }

    #[test]
    fn an_expected_body_is_compared_decoded_and_base64_still_matches() {
        // {"error":"denied","code":1}
        let denied = output("eyJlcnJvciI6ImRlbmllZCIsImNvZGUiOjF9");
        let check_body = |expect: Value| check(&json!({ "response": expect }), &denied).1;
        assert_eq!(
            check_body(json!({"body": {"error": "denied"}})),
            Vec::<String>::new()
        );
        assert_eq!(
            check_body(json!({"body": {"error": "allowed"}})),
            [r#"/response/body/error: expected "allowed", got "denied""#]
        );
        assert_eq!(
            check_body(json!({"body": r#"{"error":"denied","code":1}"#})),
            Vec::<String>::new()
        );
        assert_eq!(
            check_body(json!({"body": "eyJlcnJvciI6ImRlbmllZCIsImNvZGUiOjF9"})),
            Vec::<String>::new()
        );
        assert_eq!(
            check_body(json!({"body_base64": "e30="})),
            [
                r#"/response/body_base64: expected "e30=", got "eyJlcnJvciI6ImRlbmllZCIsImNvZGUiOjF9""#
            ]
        );
        let text = output("aGk=");
        let (rest, problems) = check(
            &json!({"response": {"body": {"a": 1}, "status_code": 401}}),
            &text,
        );
        assert_eq!(
            problems,
            [r#"/response/body: expected a JSON body {"a":1}, got "hi""#]
        );
        assert_eq!(
            rest,
            json!({"response": {"status_code": 401}}),
            "the rest is checked as usual"
        );
    }
}
