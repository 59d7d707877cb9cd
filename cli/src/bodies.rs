//! HTTP bodies shown as what they are: on the wire a body is base64 (Go's
//! `[]byte`), which no one can read. `run` shows a UTF-8 body as its text,
//! or, when it is JSON, as the JSON value itself; `--raw` keeps the bytes as
//! sent. Everything else in the output keeps its key order and number text.

use bifrost_plugin_host::{Field, HookOutput};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// A JSON object's members in their order, each value as its exact text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

impl Members {
    fn parse(text: &str) -> Option<Members> {
        serde_json::from_str(text).ok()
    }

    fn to_json(&self) -> String {
        let members: Vec<String> = self
            .0
            .iter()
            .map(|(key, value)| format!("{}:{}", json_string(key), value.get()))
            .collect();
        format!("{{{}}}", members.join(","))
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// The output's JSON text with every UTF-8 HTTP body decoded (a JSON body
/// as its value, other text as a string), and whether any was. Bodies that
/// are empty or not UTF-8 stay as sent.
pub fn decode_bodies(output: &HookOutput) -> (String, bool) {
    let text = String::from_utf8_lossy(output.raw()).into_owned();
    let Some(mut top) = Members::parse(&text) else {
        return (text, false);
    };
    let mut decoded = false;
    for (key, value) in &mut top.0 {
        let field = match key.as_str() {
            "request" => Field::Request,
            "response" => Field::Response,
            _ => continue,
        };
        let Some(body) = output.body_text(field).filter(|b| !b.is_empty()) else {
            continue;
        };
        let Some(mut http) = Members::parse(value.get()) else {
            continue;
        };
        let shown = match serde_json::from_str::<&RawValue>(body) {
            Ok(json) => json.get().trim().to_string(),
            Err(_) => json_string(body),
        };
        for (name, old) in &mut http.0 {
            if name == "body" {
                if let Ok(new) = RawValue::from_string(shown.clone()) {
                    *old = new;
                    decoded = true;
                }
            }
        }
        if let Ok(new) = RawValue::from_string(http.to_json()) {
            *value = new;
        }
    }
    (if decoded { top.to_json() } else { text }, decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_host::{Abi, Hook};

    fn decode(abi: Abi, hook: Hook, raw: &str) -> (String, bool) {
        let output = HookOutput::parse(abi, hook, "x", raw.as_bytes().to_vec()).unwrap();
        decode_bodies(&output)
    }

    #[test]
    fn a_json_body_is_shown_as_json_and_the_rest_is_untouched() {
        // body: {"answer": 1.50}
        let raw = r#"{"response":{"status_code":200,"body":"eyJhbnN3ZXIiOiAxLjUwfQ==","z":1.0},"error":""}"#;
        let (text, decoded) = decode(Abi::Seed, Hook::HttpPreHook, raw);
        assert!(decoded);
        assert_eq!(
            text,
            r#"{"response":{"status_code":200,"body":{"answer": 1.50},"z":1.0},"error":""}"#
        );
    }

    #[test]
    fn a_text_body_is_a_string_and_binary_stays_base64() {
        // body: hi "there"
        let raw = r#"{"request":{"body":"aGkgInRoZXJlIg=="},"response":{"body":"/w=="}}"#;
        let (text, decoded) = decode(Abi::SingleInput, Hook::HttpPreHook, raw);
        assert!(decoded);
        assert_eq!(
            text,
            r#"{"request":{"body":"hi \"there\""},"response":{"body":"/w=="}}"#
        );
        let raw = r#"{"request":{"body":""},"response":null}"#;
        assert_eq!(
            decode(Abi::SingleInput, Hook::HttpPreHook, raw),
            (raw.into(), false)
        );
    }
}
