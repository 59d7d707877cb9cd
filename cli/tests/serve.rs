//! `bifrost-plugin serve` as a client sees it: real HTTP requests (reqwest,
//! as curl would send them) to a chain of the gallery's plugins and of the
//! chain-probe test plugin, whose marks show the order hooks ran in.

mod serving;

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{json, Value};
use serving::{build, chat, events, folder, gallery, json_of, post_json, probe, Server};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let response = post_json(server, path, body).await;
    let status = response.status().as_u16();
    (status, json_of(response).await)
}

/// The `data` of every server-sent event of a streamed request.
async fn stream(server: &Server, body: &Value) -> Vec<String> {
    let response = post_json(server, "/v1/chat/completions", body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events: Vec<_> = response.bytes_stream().eventsource().collect().await;
    events.into_iter().map(|e| e.unwrap().data).collect()
}

fn content(response: &Value) -> &str {
    response["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn chat_goes_through_the_gallery_chain_and_the_mock() {
    let plugins = vec![
        gallery(
            "model-router",
            json!({"routes": {"gpt-4": "gpt-4o-mini"}, "system_prompt": "Be brief."}),
        ),
        gallery("pii-redactor", json!({})),
    ];
    let server = Server::start("chat", plugins, &[]);
    let (status, body) = post(
        &server,
        "/v1/chat/completions",
        &chat("gpt-4", "mail a@b.com now"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content(&body), "mail [redacted] now");
    assert_eq!(body["model"], "gpt-4o-mini");
    // "Be brief." (2 words, the router's) + 3; the reply's 3.
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8})
    );
    let line = server.wait_for_line("POST /v1/chat/completions 200");
    for hook in [
        "model-router pre_hook",
        "pii-redactor post_hook",
        "model-router http_post_hook",
    ] {
        assert!(line.contains(hook), "{line}");
    }
}

#[tokio::test]
async fn every_endpoint_answers_as_the_mock_says_also_under_openai_v1() {
    let server = Server::start("endpoints", vec![probe("A")], &[]);
    for prefix in ["/v1", "/openai/v1"] {
        let mut two = chat("openai/gpt-4o-mini", "hi there");
        two["n"] = json!(2);
        let (status, body) = post(&server, &format!("{prefix}/chat/completions"), &two).await;
        assert_eq!(status, 200);
        let texts: Vec<_> = body["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["message"]["content"].clone())
            .collect();
        assert_eq!(
            texts,
            [json!("hi there >A <A[A]"), json!("hi there >A <A[A]")]
        );
        // Words of the request and the mock's reply ("hi there >A", twice),
        // before the post hooks marked it.
        assert_eq!(
            body["usage"],
            json!({"prompt_tokens": 3, "completion_tokens": 6, "total_tokens": 9})
        );

        let (_, body) = post(
            &server,
            &format!("{prefix}/completions"),
            &json!({"model": "m", "prompt": "once upon"}),
        )
        .await;
        assert_eq!(body["choices"][0]["text"], "once upon >A <A[A]");

        let (_, body) = post(
            &server,
            &format!("{prefix}/embeddings"),
            &json!({"model": "e", "input": ["a", "b"]}),
        )
        .await;
        assert_eq!(body["data"].as_array().unwrap().len(), 2);
        assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 8);

        let (_, body) = post(
            &server,
            &format!("{prefix}/responses"),
            &json!({"model": "m", "input": "tell me"}),
        )
        .await;
        assert_eq!(body["output"][0]["content"][0]["text"], "tell me >A <A[A]");
        assert_eq!(body["object"], "response");

        let models = client()
            .get(server.url(&format!("{prefix}/models")))
            .send()
            .await
            .unwrap();
        let models = json_of(models).await;
        assert_eq!(models["data"][0]["id"], "openai/mock");
    }
    let health = client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // The model list goes through the LLM hooks too, as Bifrost's core
    // takes a list-models request; health through none.
    let listed = server.wait_for_line("GET /v1/models 200");
    assert!(
        listed.contains("probe-A pre_hook") && listed.contains("probe-A post_hook"),
        "{listed}"
    );
    let health = server.wait_for_line("GET /health");
    assert!(!health.contains("probe-A"), "{health}");
}

#[tokio::test]
async fn a_stream_sends_each_word_through_the_chunk_hooks_then_usage_then_done() {
    let server = Server::start("stream", vec![probe("A"), probe("B")], &[]);
    let mut body = chat("m", "one drop two");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let events = stream(&server, &body).await;
    let (done, chunks) = events.split_last().unwrap();
    assert_eq!(done, "[DONE]");
    let chunks: Vec<Value> = chunks
        .iter()
        .map(|c| serde_json::from_str(c).unwrap())
        .collect();
    let texts: Vec<_> = chunks
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].clone())
        .collect();
    // Request text "one drop two >A >B": one chunk per word; each chunk
    // through the post hooks (B, A) then the chunk hooks (B, A); the probe
    // skips the chunk starting with "drop".
    let word = |w: &str| json!(format!("{w} <B[A,B] <A[A,B]|B|A"));
    assert_eq!(
        texts,
        [
            word("one "),
            word("two "),
            word(">A "),
            word(">B"),
            Value::Null,
            Value::Null
        ]
    );
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[5]["usage"]["completion_tokens"], 5);
}

#[tokio::test]
async fn a_responses_stream_sends_openais_events_each_through_the_chunk_hooks() {
    let server = Server::start("responses-stream", vec![probe("A")], &[]);
    let body = json!({"model": "m", "input": "one drop two", "stream": true});
    let events = events(&server, "/v1/responses", &body).await;
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    // The request text is "one drop two >A": one delta per word, the one
    // starting with "drop" skipped by the probe's chunk hook; no [DONE].
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    assert!(data.iter().zip(&names).all(|(d, name)| d["type"] == *name));
    let deltas: Vec<_> = data[4..7].iter().map(|d| d["delta"].clone()).collect();
    // Each event through the post hook (A) then the chunk hook (A).
    let word = |w: &str| json!(format!("{w} <A[A]|A"));
    assert_eq!(deltas, [word("one "), word("two "), word(">A")]);
    let completed = &data[10]["response"];
    assert_eq!(
        completed["output"][0]["content"][0]["text"],
        "one drop two >A <A[A]|A"
    );
    assert_eq!(completed["usage"]["output_tokens"], 4);
    server.wait_for_line("POST /v1/responses 200");
}

#[tokio::test]
async fn a_short_circuit_response_to_a_responses_stream_is_sent_as_its_events() {
    let cache = gallery("exact-cache", json!({"max_entries": 4}));
    // In the flat shape a string `input` does not tell a Responses request
    // from a text completion, and exact-cache caches only known kinds.
    let server = Server::start(
        "responses-cached",
        vec![cache],
        &["--request-shape", "snake"],
    );
    let request = json!({"model": "m", "input": "cache these words"});
    let (_, first) = post(&server, "/v1/responses", &request).await;
    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let events = events(&server, "/v1/responses", &streamed).await;
    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let deltas: Vec<_> = data
        .iter()
        .filter(|d| d["type"] == "response.output_text.delta")
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["cache ", "these ", "words"]);
    assert_eq!(events[0].event, "response.created");
    let completed = &data.last().unwrap()["response"];
    assert_eq!(completed["output"], first["output"], "the cached response");
    assert_eq!(completed["usage"], first["usage"]);
    server.wait_for_line("exact-cache pre_hook");
}

#[tokio::test]
async fn a_plugins_writes_to_reserved_context_keys_are_dropped_and_logged() {
    let mut forger = probe("F");
    forger["config"]["set"] = json!({"request_id": "forged", "x-bf-vk": "vk", "mine": "ok"});
    let server = Server::start("reserved", vec![forger, probe("B")], &["--trace"]);
    let (status, body) = post(&server, "/v1/chat/completions", &chat("m", "hi")).await;
    assert_eq!(status, 200);
    assert_eq!(content(&body), "hi >F >B <B[F,B] <F[F,B]");
    server.wait_for_line(
        "[probe-F] pre_hook wrote reserved context keys (dropped, as Bifrost does): request_id, x-bf-vk",
    );
    // The next plugin was sent the request id serve set, and the key that
    // is not reserved.
    let sent_to_b = server.wait_for_line("[probe-B] pre_hook <- ");
    assert!(sent_to_b.contains(r#""request_id":"req-1""#), "{sent_to_b}");
    assert!(
        sent_to_b.contains(r#""mine":"ok""#) && !sent_to_b.contains("vk"),
        "{sent_to_b}"
    );
}

#[tokio::test]
async fn plugins_run_by_placement_and_order_and_post_hooks_unwind_in_reverse() {
    let mut early = probe("B");
    early["placement"] = json!("pre_builtin");
    let mut first_of_post = probe("C");
    first_of_post["order"] = json!(-1);
    let server = Server::start("order", vec![probe("A"), early, first_of_post], &[]);
    let (_, body) = post(&server, "/v1/chat/completions", &chat("m", "hi")).await;
    // Pre hooks B, C, A; the context carries the chain from plugin to plugin;
    // post hooks A, C, B.
    assert_eq!(content(&body), "hi >B >C >A <A[B,C,A] <C[B,C,A] <B[B,C,A]");
}

#[tokio::test]
async fn short_circuits_become_status_codes_with_openai_error_bodies() {
    let plugins = vec![
        gallery(
            "content-guardrail",
            json!({"blocked_phrases": ["forbidden"], "message": "blocked"}),
        ),
        gallery("token-budget", json!({"max_total_tokens": 5})),
    ];
    let server = Server::start("short-circuit", plugins, &[]);
    let (status, body) = post(
        &server,
        "/v1/chat/completions",
        &chat("m", "a forbidden word"),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": {"message": "blocked", "type": "content_blocked", "code": null}})
    );
    let (status, _) = post(
        &server,
        "/v1/chat/completions",
        &chat("m", "three words here"),
    )
    .await;
    assert_eq!(
        status, 200,
        "6 tokens spent: the budget of 5 is now exceeded"
    );
    let (status, body) = post(&server, "/v1/chat/completions", &chat("m", "more")).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["type"], "budget_exceeded");
}

#[tokio::test]
async fn an_http_pre_hook_answer_is_sent_as_it_is() {
    let server = Server::start(
        "http-answer",
        vec![gallery("api-key-guard", json!({"keys": ["k1"]}))],
        &[],
    );
    let refused = client()
        .post(server.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(chat("m", "hi").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body = json_of(refused).await;
    assert!(
        body["error"].as_str().unwrap().contains("x-api-key"),
        "{body}"
    );
    let allowed = client()
        .post(server.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("x-api-key", "k1")
        .body(chat("m", "hi").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    // `/v1/models` is one of Bifrost's inference routes: the HTTP hooks see
    // it. `/health` is not: no plugin runs on it.
    for prefix in ["/v1", "/openai/v1"] {
        let models = |key: Option<&'static str>| {
            let mut request = client().get(server.url(&format!("{prefix}/models")));
            if let Some(key) = key {
                request = request.header("x-api-key", key);
            }
            request.send()
        };
        assert_eq!(models(None).await.unwrap().status(), 401, "{prefix}");
        let listed = json_of(models(Some("k1")).await.unwrap()).await;
        assert_eq!(listed["data"][0]["id"], "openai/mock");
    }
    let health = client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    server.wait_for_line("GET /v1/models 401");
    server.wait_for_line("GET /v1/models 200");
}

#[tokio::test]
async fn a_trapping_plugin_is_instantiated_again_and_the_request_goes_on() {
    let panicky = json!({"path": build("test/panicking.wasm"), "name": "panicky"});
    let server = Server::start("trap", vec![panicky, probe("A")], &[]);
    let (status, body) = post(&server, "/v1/chat/completions", &chat("panic", "hi")).await;
    assert_eq!(status, 200);
    assert_eq!(content(&body), "hi >A <A[A]");
    server.wait_for_line("[panicky] pre_hook trapped (plugin instantiated again, passed through)");
    // The new instance counts from 1: its first request's model is call-1.
    let (_, body) = post(&server, "/v1/chat/completions", &chat("m", "hi")).await;
    assert_eq!(body["model"], "call-1");
}

#[tokio::test]
async fn bad_requests_get_openai_errors_and_serve_goes_on() {
    let server = Server::start("bad-inputs", vec![probe("A")], &[]);
    let send = |content_type: &'static str, body: Vec<u8>| {
        client()
            .post(server.url("/v1/chat/completions"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let malformed = send("application/json", b"{\"model\":".to_vec())
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body = json_of(malformed).await;
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let not_json = send("text/plain", b"hello".to_vec()).await.unwrap();
    assert_eq!(not_json.status(), 415);
    let not_object = send("application/json", b"[1]".to_vec()).await.unwrap();
    assert_eq!(not_object.status(), 400);
    // 64 MiB: refused once the limit is read (the client may see the
    // connection close before the answer).
    let huge = send("application/json", vec![b' '; 64 << 20]).await;
    if let Ok(response) = huge {
        assert_eq!(response.status(), 413);
    }
    let unknown = client()
        .get(server.url("/v2/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let (status, body) = post(&server, "/v1/chat/completions", &chat("m", "still here")).await;
    assert_eq!((status, content(&body)), (200, "still here >A <A[A]"));
    server.wait_for_line("413");
}

#[tokio::test]
async fn concurrent_requests_each_get_their_own_answer() {
    let server = Server::start("concurrent", vec![probe("A"), probe("B")], &[]);
    let requests = (0..16).map(|i| {
        let server = &server;
        async move {
            (
                i,
                post(server, "/v1/chat/completions", &chat("m", &format!("n{i}"))).await,
            )
        }
    });
    for (i, (status, body)) in futures_util::future::join_all(requests).await {
        assert_eq!(status, 200);
        assert_eq!(content(&body), format!("n{i} >A >B <B[A,B] <A[A,B]"));
    }
}

#[test]
fn failures_before_listening_exit_1_with_the_reason() {
    let dir = folder("refused");
    let cases = [
        ("not json", "not a JSON object"),
        (
            r#"{"plugins":[{"path":"missing.wasm","name":"gone"}]}"#,
            "plugin `gone`: cannot read",
        ),
        (
            &*json!({"plugins": [{"path": build("test/panicking.wasm"), "name": "picky",
                                  "config": {"init_error": "the key is missing"}}]})
            .to_string(),
            "the key is missing",
        ),
    ];
    for (text, expected) in cases {
        let config = dir.join("config.json");
        std::fs::write(&config, text).unwrap();
        let refused = Server::start_file(&config, &[])
            .err()
            .expect("serve refuses");
        assert_eq!(refused.code, Some(1), "{text}");
        assert_eq!(refused.stdout, "", "nothing listened");
        assert!(
            refused.stderr.contains(expected),
            "{text}: {}",
            refused.stderr
        );
    }
    let missing = Server::start_file(&dir.join("none.json"), &[])
        .err()
        .unwrap();
    assert!(
        missing.stderr.contains("cannot read --config file "),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn sigterm_stops_serve_cleanly_after_each_plugins_cleanup() {
    let panicky = json!({"path": build("test/panicking.wasm"), "name": "panicky",
                         "config": {"cleanup_error": "cannot flush"}});
    let server = Server::start("shutdown", vec![panicky], &[]);
    let (status, _) = post(&server, "/v1/chat/completions", &chat("m", "hi")).await;
    assert_eq!(status, 200);
    let (status, log) = server.stop();
    assert!(status.success(), "{log:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("plugin `panicky`: cleanup returned")),
        "{log:?}"
    );
}

#[tokio::test]
async fn trace_prints_every_hook_input_and_output_in_the_chosen_shape() {
    let server = Server::start(
        "trace",
        vec![probe("A")],
        &["--trace", "--request-shape", "snake"],
    );
    let (_, body) = post(&server, "/v1/chat/completions", &chat("m", "hi")).await;
    assert_eq!(content(&body), "hi >A <A[A]");
    let line = server.wait_for_line("[probe-A] pre_hook <- ");
    assert!(line.contains(r#""chat_request":{"#), "{line}");
    server.wait_for_line("[probe-A] post_hook -> ");
}

#[tokio::test]
async fn watch_instantiates_a_plugin_again_when_its_file_changes() {
    let dir = folder("watch-files");
    let wasm = dir.join("probe.wasm");
    std::fs::copy(build("test/chain-probe-single-input.wasm"), &wasm).unwrap();
    let entry = json!({"path": wasm, "name": "probe", "config": {"tag": "A"}});
    let server = Server::start("watch", vec![entry], &["--watch"]);
    let (_, body) = post(&server, "/v1/chat/completions", &chat("m", "hi")).await;
    assert_eq!(content(&body), "hi >A <A[A]");
    // The seed build of the same plugin: its context does not come back.
    std::thread::sleep(Duration::from_millis(1100)); // a new modification time
    std::fs::copy(build("test/chain-probe.wasm"), &wasm).unwrap();
    server.wait_for_line("plugin `probe` reloaded");
    let (_, body) = post(&server, "/v1/chat/completions", &chat("m", "hi")).await;
    assert_eq!(content(&body), "hi >A <A[]");
}
