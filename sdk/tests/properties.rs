//! Properties of the byte layer, over any JSON the host might send:
//! pass-through hooks return it unchanged (byte for byte), and typed edits
//! change exactly what they say and nothing else.

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
    fn single_input_hooks_return_any_context_and_request_unchanged(
        ctx in json_object(), req in json_object(),
    ) {
        let input = json!({"context": ctx, "request": req}).to_string();
        let out = parse(&single::pre_hook::<Echo>(Ok(input.as_bytes())));
        prop_assert_eq!(&out["context"], &Value::Object(ctx));
        prop_assert_eq!(&out["request"], &Value::Object(req));
        prop_assert_eq!(&out["error"], "");
    }

    #[test]
    fn single_input_chunks_pass_through_unchanged(ctx in json_object(), chunk in json_object()) {
        let chunk_text = text(&chunk, false);
        let input = format!(r#"{{"context":{},"chunk":{chunk_text}}}"#, text(&ctx, false));
        let out = single::http_stream_chunk_hook::<Echo>(Ok(input.as_bytes()));
        let verbatim = format!(r#""chunk":{chunk_text},"has_chunk":true"#);
        prop_assert!(String::from_utf8_lossy(&out).contains(&verbatim));
        prop_assert_eq!(&parse(&out)["context"], &Value::Object(ctx));
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
    fn arbitrary_bytes_never_panic_and_always_give_the_output_shape(
        a in prop::collection::vec(any::<u8>(), 0..64),
        b in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let seed_out = parse(&seed::pre_hook::<Echo>(Ok(&a), Ok(&b)));
        prop_assert!(seed_out["error"].is_string());
        let post_out = parse(&seed::post_hook::<Echo>(Ok(&a), Ok(&b), Ok(&a)));
        prop_assert!(post_out["error"].is_string());
        let single_out = parse(&single::post_hook::<Echo>(Ok(&a)));
        prop_assert!(single_out["hook_error"].is_string() && single_out["context"].is_object());
    }
}
