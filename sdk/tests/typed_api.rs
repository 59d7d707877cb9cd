//! The typed API for what real plugins do (texts, choices, usage, kinds,
//! messages), through the byte layer of both ABIs: what a hook does not
//! change goes back byte for byte, what it changes lands in place.

use bifrost_plugin_sdk::abi::{seed, single};
use bifrost_plugin_sdk::prelude::*;
use serde_json::{json, Value};

/// Visits every text; upper-cases the ones that contain "shout", leaves the
/// rest (setting them to themselves).
struct Shouter;

fn shout<'a>(texts: impl Iterator<Item = TextMut<'a>>) {
    for mut text in texts {
        let new = match text.contains("shout") {
            true => text.to_uppercase(),
            false => text.to_string(),
        };
        text.set(new);
    }
}

impl Plugin for Shouter {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(Shouter)
    }

    fn http_stream_chunk_hook(
        &mut self,
        _ctx: &mut Context,
        _req: &HttpRequest,
        mut chunk: StreamChunk,
    ) -> Result<StreamChunkHook, PluginError> {
        shout(chunk.texts_mut());
        Ok(StreamChunkHook::Continue(chunk))
    }

    fn pre_hook(
        &mut self,
        _ctx: &mut Context,
        mut req: LlmRequest,
    ) -> Result<PreHook, PluginError> {
        shout(req.texts_mut());
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        _ctx: &mut Context,
        mut response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        if let Some(response) = response.as_mut() {
            shout(response.texts_mut());
        }
        Ok(PostHook::new(response, error))
    }
}

/// Requests of every kind that carries text, in odd spacing and key order
/// that only a verbatim echo keeps.
const REQUESTS: [&str; 5] = [
    r#"{"chat_request":{ "model":"m", "input":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/a.png"}}]},{"role":"assistant","content":"ok"}],"params":{"temperature":1.50}}}"#,
    r#"{"RequestType":"text_completion","ChatRequest":null,"TextCompletionRequest":{"model":"m","input":["a","b"]}}"#,
    r#"{"responses_request":{"model":"m","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"q"}]}]}}"#,
    r#"{"embedding_request":{"model":"e","input":"embed me"}}"#,
    r#"{"model":"m","messages":[{"role":"user","content":"flat \u00e9"}]}"#,
];

const RESPONSES: [&str; 3] = [
    r#"{"chat_response":{"choices":[{"index":0,"message":{"role":"assistant","content":"one"}},{"index":1,"message":{"role":"assistant","content":[{"type":"text","text":"two"}]}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}}"#,
    r#"{"object":"text_completion","choices":[{"index":0,"text":"done","finish_reason":"stop"}]}"#,
    r#"{"ResponsesResponse":{"output":[{"type":"message","content":[{"type":"output_text","text":"out"}]}],"usage":{"input_tokens":4,"output_tokens":5}}}"#,
];

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn visiting_texts_without_changing_them_echoes_requests_byte_for_byte_on_both_abis() {
    for request in REQUESTS {
        let out = seed::pre_hook::<Shouter>(Ok(b"{}"), Ok(request.as_bytes()));
        assert!(
            contains(&out, request),
            "seed: {}",
            String::from_utf8_lossy(&out)
        );
        let input = format!(r#"{{"context":{{}},"request":{request}}}"#);
        let out = single::pre_hook::<Shouter>(Ok(input.as_bytes()));
        assert!(
            contains(&out, request),
            "single: {}",
            String::from_utf8_lossy(&out)
        );
    }
}

#[test]
fn visiting_texts_without_changing_them_echoes_responses_and_chunks_byte_for_byte() {
    for response in RESPONSES {
        let out = seed::post_hook::<Shouter>(Ok(b"{}"), Ok(response.as_bytes()), Ok(b""));
        assert!(
            contains(&out, response),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
    let chunk =
        r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}"#;
    let input = format!(r#"{{"context":{{}},"chunk":{chunk}}}"#);
    let out = single::http_stream_chunk_hook::<Shouter>(Ok(input.as_bytes()));
    assert!(contains(&out, chunk), "{}", String::from_utf8_lossy(&out));
}

#[test]
fn a_changed_text_is_edited_in_place_and_image_blocks_stay() {
    let request = r#"{"chat_request":{"model":"m","input":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}},{"type":"text","text":"please shout"}]}],"params":{"n":1}}}"#;
    let out = seed::pre_hook::<Shouter>(Ok(b"{}"), Ok(request.as_bytes()));
    let out: Value = serde_json::from_slice(&out).unwrap();
    let mut expected: Value = serde_json::from_str(request).unwrap();
    expected["chat_request"]["input"][0]["content"][1]["text"] = json!("PLEASE SHOUT");
    assert_eq!(out["request"], expected);

    let chunk = json!({"context": {}, "chunk": {"choices": [
        {"index": 0, "delta": {"content": "shout"}}, {"index": 1, "delta": {"content": "quiet"}}]}});
    let out = single::http_stream_chunk_hook::<Shouter>(Ok(chunk.to_string().as_bytes()));
    let out: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(out["chunk"]["choices"][0]["delta"]["content"], "SHOUT");
    assert_eq!(out["chunk"]["choices"][1]["delta"]["content"], "quiet");
}

#[test]
fn every_choice_of_a_response_is_visited_not_only_the_first() {
    let response = json!({"choices": [
        {"index": 0, "message": {"role": "assistant", "content": "fine"}},
        {"index": 1, "message": {"role": "assistant", "content": "shout it"}}]});
    let out = seed::post_hook::<Shouter>(Ok(b"{}"), Ok(response.to_string().as_bytes()), Ok(b""));
    let out: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        out["response"]["choices"][1]["message"]["content"],
        "SHOUT IT"
    );
    assert_eq!(out["response"]["choices"][0]["message"]["content"], "fine");
}

fn request(text: &str) -> LlmRequest {
    serde_json::from_str(text).unwrap()
}

fn response(text: &str) -> LlmResponse {
    serde_json::from_str(text).unwrap()
}

#[test]
fn texts_cover_every_kind_that_carries_text() {
    let found: Vec<Vec<String>> = REQUESTS
        .iter()
        .map(|r| request(r).texts().map(|t| t.to_string()).collect())
        .collect();
    assert_eq!(
        found,
        [
            vec!["hi", "ok"],
            vec!["a", "b"],
            vec!["q"],
            vec!["embed me"],
            vec!["flat é"]
        ]
    );
    let found: Vec<Vec<String>> = RESPONSES
        .iter()
        .map(|r| response(r).texts().map(|t| t.to_string()).collect())
        .collect();
    assert_eq!(found, [vec!["one", "two"], vec!["done"], vec!["out"]]);
}

#[test]
fn kinds_are_named_by_the_union_key_or_the_flat_fields() {
    let kinds: Vec<RequestKind> = REQUESTS.iter().map(|r| request(r).kind()).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::Chat,
            RequestKind::TextCompletion,
            RequestKind::Responses,
            RequestKind::Embedding,
            RequestKind::Chat
        ]
    );
    let kinds: Vec<ResponseKind> = RESPONSES.iter().map(|r| response(r).kind()).collect();
    assert_eq!(
        kinds,
        [
            ResponseKind::Chat,
            ResponseKind::TextCompletion,
            ResponseKind::Responses
        ]
    );
}

#[test]
fn usage_reads_chat_and_responses_names_and_choices_list_them_all() {
    let usages: Vec<Option<Usage>> = RESPONSES.iter().map(|r| response(r).usage()).collect();
    assert_eq!(
        usages,
        [Some(Usage::new(1, 2)), None, Some(Usage::new(4, 5))]
    );
    let chat = response(RESPONSES[0]);
    let choices: Vec<(u64, Option<&str>)> = chat.choices().map(|c| (c.index(), c.text())).collect();
    assert_eq!(choices, [(0, Some("one")), (1, Some("two"))]);
    let completion = response(RESPONSES[1]);
    assert_eq!(completion.text(), Some("done"));
    assert_eq!(
        completion.choices().next().unwrap().finish_reason(),
        Some("stop")
    );
    assert!(chat.is_unchanged(), "reading is not editing");
}

#[test]
fn messages_are_inserted_and_removed_in_the_hosts_shape() {
    let mut req = request(REQUESTS[0]);
    assert_eq!(req.message_count(), 2);
    req.insert_message(0, ChatMessage::system("sys"));
    let removed = req.remove_message(2).unwrap();
    assert_eq!(removed.text(), Some("ok"));
    let roles: Vec<_> = req.messages().map(|m| m.role().unwrap()).collect();
    assert_eq!(roles, ["system", "user"]);
    assert_eq!(req.message(1).unwrap().texts().collect::<Vec<_>>(), ["hi"]);
    let out = serde_json::to_value(&req).unwrap();
    assert_eq!(out["chat_request"]["input"][0]["content"], "sys");
    assert_eq!(out["chat_request"]["params"]["temperature"], 1.5);

    let mut untouched = request(REQUESTS[0]);
    assert_eq!(untouched.remove_message(9), None);
    assert!(untouched.is_unchanged());
}

#[test]
fn identity_ignores_shape_key_order_ids_and_fallbacks_but_not_what_is_asked() {
    let a = request(
        r#"{"chat_request":{"provider":"openai","model":"m","input":[{"role":"user","content":"Hi"}],"params":{"temperature":0.5}}}"#,
    );
    let b = request(
        r#"{"RequestType":"chat_completion","ChatRequest":{"params":{"temperature":0.50},"input":[{"content":"Hi","role":"user"}],"model":"m","provider":"openai","fallbacks":[{"provider":"x","model":"y"}]}}"#,
    );
    assert_eq!(a.identity(), b.identity());
    for changed in [
        r#"{"chat_request":{"provider":"openai","model":"m","input":[{"role":"user","content":"Hi!"}],"params":{"temperature":0.5}}}"#,
        r#"{"chat_request":{"provider":"openai","model":"m","input":[{"role":"user","content":"Hi"}],"params":{"temperature":0.6}}}"#,
        r#"{"chat_request":{"provider":"anthropic","model":"m","input":[{"role":"user","content":"Hi"}],"params":{"temperature":0.5}}}"#,
        r#"{"embedding_request":{"provider":"openai","model":"m","input":[{"role":"user","content":"Hi"}],"params":{"temperature":0.5}}}"#,
    ] {
        assert_ne!(a.identity(), request(changed).identity(), "{changed}");
    }
}

#[test]
fn http_json_bodies_without_serde_json_in_the_plugin() {
    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Body {
        model: String,
    }
    let mut req = HttpRequest::default();
    req.set_body_json(&Body { model: "m".into() });
    assert_eq!(req.body_json::<Body>().unwrap(), Body { model: "m".into() });
    req.body = br#"{"model": 7}"#.to_vec();
    let err = req.body_json::<Body>().unwrap_err();
    assert_eq!(
        err.message(),
        "body is not the expected JSON: `model`: invalid type: integer, expected a string"
    );
    let resp = HttpResponse::json_error(401, "bad \"key\"\n");
    assert_eq!(
        serde_json::from_slice::<Value>(&resp.body).unwrap(),
        json!({"error": "bad \"key\"\n"})
    );
}
