//! Properties of the byte layer, over any JSON the host might send:
//! pass-through hooks return it unchanged (byte for byte), typed edits
//! change exactly what they say and nothing else, and any bytes at all give
//! every hook's exact output shape.

use bifrost_plugin_sdk::abi::{seed, single};
use bifrost_plugin_sdk::prelude::*;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Passes everything through (every hook keeps its default).
struct Echo;

impl Plugin for Echo {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(Echo)
    }
}

/// Sets the model and appends a message: the typed edits under test.
struct Edit;

impl Plugin for Edit {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(Edit)
    }
    fn pre_hook(&mut self, ctx: &mut Context, mut req: LlmRequest) -> Result<PreHook, PluginError> {
        req.set_model("edited-model");
        req.push_message(ChatMessage::user("added"));
        ctx.set("edited", true);
        Ok(PreHook::Continue(req))
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(any::<String>(), json_value(), 0..8)
        .prop_map(|m| m.into_iter().collect())
}

/// The same object as compact or pretty text: whitespace must survive too.
fn text(object: &Map<String, Value>, pretty: bool) -> String {
    match pretty {
        true => serde_json::to_string_pretty(object).unwrap(),
        false => serde_json::to_string(object).unwrap(),
    }
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("output is JSON")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seed_pre_hook_returns_any_request_byte_for_byte(req in json_object(), pretty: bool) {
        let req = text(&req, pretty);
        let out = seed::pre_hook::<Echo>(Ok(b"{}"), Ok(req.as_bytes()));
        let expected = format!(r#"{{"request":{req},"short_circuit":null,"error":""}}"#);
        prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn seed_post_hook_returns_any_response_and_error_byte_for_byte(
        resp in json_object(), err in json_object(), pretty: bool,
    ) {
        let (resp, err) = (text(&resp, pretty), text(&err, pretty));
        let out = seed::post_hook::<Echo>(Ok(b"{}"), Ok(resp.as_bytes()), Ok(err.as_bytes()));
        // An empty error object means "no error".
        let err_out = if err.trim() == "{}" { "null".to_string() } else { err.clone() };
        let expected = format!(r#"{{"response":{resp},"bifrost_error":{err_out},"error":""}}"#);
        prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn single_input_hooks_return_any_context_and_request_byte_for_byte(
        ctx in json_object(), req in json_object(), pretty: bool,
    ) {
        // A context the hook leaves alone goes back as it came, laid out as
        // the host laid it out; so does the request.
        let (ctx, req) = (text(&ctx, pretty), text(&req, pretty));
        let input = format!(r#"{{"context":{ctx},"request":{req}}}"#);
        let out = single::pre_hook::<Echo>(Ok(input.as_bytes()));
        let expected = format!(
            r#"{{"context":{ctx},"request":{req},"short_circuit":null,"has_short_circuit":false,"error":""}}"#
        );
        prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn single_input_chunks_pass_through_byte_for_byte(
        ctx in json_object(), chunk in json_object(), pretty: bool,
    ) {
        let (ctx, chunk) = (text(&ctx, pretty), text(&chunk, pretty));
        let input = format!(r#"{{"context":{ctx},"chunk":{chunk}}}"#);
        let out = single::http_stream_chunk_hook::<Echo>(Ok(input.as_bytes()));
        let expected = format!(
            r#"{{"context":{ctx},"chunk":{chunk},"has_chunk":true,"skip":false,"error":""}}"#
        );
        prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn http_requests_round_trip_with_any_headers_and_body(
        headers in prop::collection::btree_map(any::<String>(), any::<String>(), 0..6),
        body in prop::collection::vec(any::<u8>(), 0..256),
        extra in json_object(),
    ) {
        use base64::Engine as _;
        let mut request = extra;
        request.insert("method".into(), json!("POST"));
        request.insert("path".into(), json!("/v1/chat/completions"));
        request.insert("headers".into(), json!(headers));
        request.insert("query".into(), json!({}));
        request.insert("body".into(), json!(base64::engine::general_purpose::STANDARD.encode(&body)));
        let input = json!({"context": {}, "request": request}).to_string();
        let out = parse(&single::http_pre_hook::<Echo>(Ok(input.as_bytes())));
        prop_assert_eq!(&out["request"], &Value::Object(request));
    }

    #[test]
    fn typed_edits_change_only_the_model_and_the_messages(
        mut inner in json_object(),
        messages in prop::collection::vec(json_object(), 0..4),
        shape in 0..3usize,
    ) {
        inner.insert("input".into(), Value::Array(messages.into_iter().map(Value::Object).collect()));
        let wrap = |inner: Value| match shape {
            0 => inner,
            1 => json!({"chat_request": inner, "other": 1}),
            _ => json!({"RequestType": "chat_completion", "ChatRequest": inner, "TextCompletionRequest": null}),
        };
        let input = json!({"context": {"k": "v"}, "request": wrap(Value::Object(inner.clone()))});
        let out = parse(&single::pre_hook::<Edit>(Ok(input.to_string().as_bytes())));

        let mut expected = inner;
        expected.insert("model".into(), json!("edited-model"));
        if let Some(Value::Array(items)) = expected.get_mut("input") {
            items.push(json!({"role": "user", "content": "added"}));
        }
        prop_assert_eq!(&out["request"], &wrap(Value::Object(expected)));
        prop_assert_eq!(&out["context"], &json!({"k": "v", "edited": true}));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_every_hook_gives_its_exact_output_shape(
        a in prop::collection::vec(any::<u8>(), 0..64),
        b in prop::collection::vec(any::<u8>(), 0..64),
        c in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let outputs = [
            ("http_transport_intercept", seed::http_transport_intercept::<Echo>(Ok(&a), Ok(&b))),
            ("seed pre_hook", seed::pre_hook::<Echo>(Ok(&a), Ok(&b))),
            ("seed post_hook", seed::post_hook::<Echo>(Ok(&a), Ok(&b), Ok(&c))),
            ("http_pre_hook", single::http_pre_hook::<Echo>(Ok(&a))),
            ("http_post_hook", single::http_post_hook::<Echo>(Ok(&a))),
            ("http_stream_chunk_hook", single::http_stream_chunk_hook::<Echo>(Ok(&a))),
            ("single pre_hook", single::pre_hook::<Echo>(Ok(&a))),
            ("single post_hook", single::post_hook::<Echo>(Ok(&a))),
        ];
        for (hook, out) in outputs {
            check_shape(hook, &out, &b, &c)?;
        }
    }
}

/// The keys of a JSON object in the order they are written.
fn keys_in_order(bytes: &[u8]) -> Vec<String> {
    struct Keys;
    impl<'de> serde::de::Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<M: serde::de::MapAccess<'de>>(
            self,
            mut map: M,
        ) -> Result<Vec<String>, M::Error> {
            let mut keys = Vec::new();
            while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                keys.push(key);
            }
            Ok(keys)
        }
    }
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.deserialize_map(Keys).expect("an object")
}

/// An output has exactly its hook's keys, in the documented order; a failure
/// (a non-empty reason) carries nulls and `false` (seed) or echoes only what
/// came in; a success (Echo passes everything on) echoes the input's values.
fn check_shape(hook: &str, out: &[u8], b: &[u8], c: &[u8]) -> Result<(), TestCaseError> {
    let keys: &[&str] = match hook {
        "http_transport_intercept" => &["response", "error"],
        "seed pre_hook" => &["request", "short_circuit", "error"],
        "seed post_hook" => &["response", "bifrost_error", "error"],
        "http_pre_hook" => &["context", "request", "response", "has_response", "error"],
        "http_post_hook" => &["context", "error"],
        "http_stream_chunk_hook" => &["context", "chunk", "has_chunk", "skip", "error"],
        "single pre_hook" => &[
            "context",
            "request",
            "short_circuit",
            "has_short_circuit",
            "error",
        ],
        _ => &["context", "response", "error", "has_error", "hook_error"],
    };
    prop_assert_eq!(keys_in_order(out), keys, "{}", hook);
    let value = parse(out);
    let reason = &value[*keys.last().unwrap()];
    prop_assert!(reason.is_string(), "{}: {}", hook, value);
    let failed = reason != "";
    let seed_null = |key: &str| value[key].is_null();
    match hook {
        "http_transport_intercept" => prop_assert!(seed_null("response")),
        "seed pre_hook" if failed => {
            prop_assert!(seed_null("request") && seed_null("short_circuit"))
        }
        "seed pre_hook" => {
            let expected = [
                &br#"{"request":"#[..],
                b,
                br#","short_circuit":null,"error":""}"#,
            ]
            .concat();
            prop_assert_eq!(out, &expected[..]);
        }
        "seed post_hook" if failed => {
            prop_assert!(seed_null("response") && seed_null("bifrost_error"))
        }
        "seed post_hook" => {
            // Absent, blank or null values are none; so is an empty error.
            let none = |v: &[u8]| v.trim_ascii().is_empty() || v.trim_ascii() == b"null";
            prop_assert_eq!(
                &value["response"],
                &if none(b) { Value::Null } else { parse(b) }
            );
            let error = if none(c) || parse(c) == json!({}) {
                Value::Null
            } else {
                parse(c)
            };
            prop_assert_eq!(&value["bifrost_error"], &error);
        }
        _ => {
            // Single-input: a context is always an object, a flag a boolean.
            prop_assert!(value["context"].is_object(), "{}: {}", hook, value);
            for flag in [
                "has_response",
                "has_chunk",
                "skip",
                "has_short_circuit",
                "has_error",
            ] {
                if let Some(v) = value.get(flag) {
                    prop_assert!(v.is_boolean());
                }
            }
            if failed {
                for flag in ["has_response", "skip", "has_short_circuit"] {
                    prop_assert_ne!(value.get(flag), Some(&json!(true)));
                }
                prop_assert!(value.get("short_circuit").is_none_or(Value::is_null));
            }
        }
    }
    Ok(())
}
