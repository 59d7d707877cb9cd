//! `serve --upstream URL` against a stand-in OpenAI-compatible server (axum,
//! in this process) that shows what it was sent: the chain's request, the
//! client's Authorization header, a stream it notices being dropped; and
//! that stalls when asked to, for the timeout.

mod serving;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{json, Value};
use serving::{chat, events, json_of, probe, Server};

/// What the stand-in saw.
#[derive(Default)]
struct Seen {
    authorization: Mutex<Vec<String>>,
    bodies: Mutex<Vec<Value>>,
    stream_dropped: AtomicBool,
}

/// Sets its flag when the stream it lives in is dropped.
struct DropFlag(Arc<Seen>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.stream_dropped.store(true, Ordering::SeqCst);
    }
}

async fn completions(
    State(seen): State<Arc<Seen>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(auth) = headers.get("authorization") {
        seen.authorization
            .lock()
            .unwrap()
            .push(auth.to_str().unwrap().to_string());
    }
    seen.bodies.lock().unwrap().push(body.clone());
    let text = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .map(|m| m["content"].clone())
        .unwrap_or_default();
    if body["model"] == "stall" {
        std::future::pending::<()>().await;
    }
    if body["model"] == "refuse" {
        let error = json!({"error": {"message": "no such model", "type": "invalid_request_error", "code": "model_not_found"}});
        return (axum::http::StatusCode::NOT_FOUND, Json(error)).into_response();
    }
    if body["stream"] != true {
        return Json(json!({"id": "up-1", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("upstream: {}", text.as_str().unwrap_or(""))}, "finish_reason": "stop"}]}))
        .into_response();
    }
    let forever = text.as_str().is_some_and(|t| t.starts_with("forever"));
    let stall = text.as_str().is_some_and(|t| t.starts_with("stall"));
    let flag = DropFlag(Arc::clone(&seen));
    let chunks = futures_util::stream::unfold((0u32, flag), move |(n, flag)| async move {
        if !forever && n == 2 {
            return None;
        }
        if stall && n == 1 {
            std::future::pending::<()>().await;
        }
        if forever {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let chunk = json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": format!("w{n} ")}, "finish_reason": null}]});
        Some((
            Ok::<_, Infallible>(Event::default().data(chunk.to_string())),
            (n + 1, flag),
        ))
    });
    let done = futures_util::stream::iter([Ok(Event::default().data("[DONE]"))]);
    Sse::new(chunks.chain(done)).into_response()
}

/// A Responses API stream: two events, named as OpenAI names them, the
/// text being the request's `input`.
async fn responses(State(seen): State<Arc<Seen>>, Json(body): Json<Value>) -> Response {
    seen.bodies.lock().unwrap().push(body.clone());
    let text = body["input"].as_str().unwrap_or("").to_string();
    let events = [
        json!({"type": "response.output_text.delta", "item_id": "m1", "output_index": 0,
               "content_index": 0, "delta": format!("upstream: {text}")}),
        json!({"type": "response.completed", "response": {"id": "r1", "object": "response",
               "status": "completed", "output": []}}),
    ];
    let events = events.map(|e| {
        Ok::<_, Infallible>(
            Event::default()
                .event(e["type"].as_str().unwrap())
                .data(e.to_string()),
        )
    });
    // "stall": the first event, then nothing more.
    let stall = text.starts_with("stall");
    let (take, wait) = if stall { (1, usize::MAX) } else { (2, 0) };
    let stalled = futures_util::stream::pending().take(wait);
    Sse::new(futures_util::stream::iter(events).take(take).chain(stalled)).into_response()
}

/// Starts the stand-in; its base URL and what it sees.
async fn stand_in() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/v1/responses", post(responses))
        .route(
            "/v1/models",
            get(|| async {
                Json(json!({"object": "list", "data": [{"id": "up-model", "object": "model"}]}))
            }),
        )
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/v1"), seen)
}

async fn send(server: &Server, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer sk-test")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// serve goes on: the next request gets the upstream's answer.
async fn answers_the_next_request(server: &Server) {
    let after = json_of(send(server, &chat("m", "next")).await).await;
    assert_eq!(
        after["choices"][0]["message"]["content"],
        "upstream: next >A <A[A]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_upstream_as_the_chain_left_them_with_the_clients_authorization() {
    let (upstream, seen) = stand_in().await;
    let server = Server::start("upstream", vec![probe("A")], &["--upstream", &upstream]);
    let response = json_of(send(&server, &chat("groq/llama", "hi")).await).await;
    assert_eq!(
        response["choices"][0]["message"]["content"],
        "upstream: hi >A <A[A]"
    );
    let body = seen.bodies.lock().unwrap()[0].clone();
    assert_eq!(
        body,
        json!({"model": "groq/llama", "messages": [{"role": "user", "content": "hi >A"}]}),
        "the provider goes back into the model; stream is not sent"
    );
    assert_eq!(*seen.authorization.lock().unwrap(), ["Bearer sk-test"]);

    let refused = send(&server, &chat("refuse", "hi")).await;
    assert_eq!(refused.status(), 404);
    assert_eq!(json_of(refused).await["error"]["code"], "model_not_found");

    let models = reqwest::get(server.url("/v1/models")).await.unwrap();
    assert_eq!(json_of(models).await["data"][0]["id"], "up-model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_stream_goes_through_the_chunk_hooks() {
    let (upstream, seen) = stand_in().await;
    let server = Server::start(
        "upstream-stream",
        vec![probe("A")],
        &["--upstream", &upstream],
    );
    let mut body = chat("m", "hi");
    body["stream"] = json!(true);
    let events: Vec<_> = send(&server, &body)
        .await
        .bytes_stream()
        .eventsource()
        .collect()
        .await;
    let data: Vec<String> = events.into_iter().map(|e| e.unwrap().data).collect();
    let texts: Vec<Value> = data[..2]
        .iter()
        .map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["choices"][0]["delta"]["content"].clone()
        })
        .collect();
    assert_eq!(texts, [json!("w0  <A[A]|A"), json!("w1  <A[A]|A")]);
    assert_eq!(data[2..], ["[DONE]"]);
    assert_eq!(seen.bodies.lock().unwrap()[0]["stream"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_mid_stream_stops_the_upstream_stream() {
    let (upstream, seen) = stand_in().await;
    let server = Server::start("disconnect", vec![probe("A")], &["--upstream", &upstream]);
    let mut body = chat("m", "forever");
    body["stream"] = json!(true);
    {
        let mut events = send(&server, &body).await.bytes_stream().eventsource();
        for _ in 0..3 {
            assert!(events.next().await.unwrap().is_ok());
        }
    } // the client goes away
    server.wait_for_line("the client went away");
    for _ in 0..500 {
        if seen.stream_dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        seen.stream_dropped.load(Ordering::SeqCst),
        "serve let go of the upstream stream"
    );
    answers_the_next_request(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_stalls_is_a_504_after_the_timeout() {
    let (upstream, _) = stand_in().await;
    let server = Server::start(
        "upstream-timeout",
        vec![probe("A")],
        &["--upstream", &upstream, "--upstream-timeout", "0.5"],
    );
    let stalled = send(&server, &chat("stall", "hi")).await;
    assert_eq!(stalled.status(), 504);
    let body = json_of(stalled).await;
    assert_eq!(body["error"]["type"], "timeout_error");
    assert_eq!(body["error"]["code"], "upstream_timeout");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("within 0.5 s"),
        "{body}"
    );

    // A stream whose next chunk does not come: the chunks so far, then the
    // error, and no [DONE].
    let mut body = chat("m", "stall after one");
    body["stream"] = json!(true);
    let data: Vec<String> = events(&server, "/v1/chat/completions", &body)
        .await
        .into_iter()
        .map(|e| e.data)
        .collect();
    assert_eq!(data.len(), 2, "{data:?}");
    let first: Value = serde_json::from_str(&data[0]).unwrap();
    assert_eq!(first["choices"][0]["delta"]["content"], "w0  <A[A]|A");
    let error: Value = serde_json::from_str(&data[1]).unwrap();
    assert_eq!(error["error"]["code"], "upstream_timeout");

    // A Responses stream ends with the error as an `error` event.
    let body = json!({"model": "m", "input": "stall", "stream": true});
    let events = events(&server, "/v1/responses", &body).await;
    let names: Vec<_> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["response.output_text.delta", "error"]);
    let error: Value = serde_json::from_str(&events[1].data).unwrap();
    assert_eq!(error["error"]["code"], "upstream_timeout");

    answers_the_next_request(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_responses_stream_keeps_its_event_names_through_the_chunk_hooks() {
    let (upstream, seen) = stand_in().await;
    let server = Server::start(
        "upstream-responses",
        vec![probe("A")],
        &["--upstream", &upstream],
    );
    let body = json!({"model": "m", "input": "hi", "stream": true});
    let events = events(&server, "/v1/responses", &body).await;
    let names: Vec<_> = events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(names, ["response.output_text.delta", "response.completed"]);
    let delta: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(delta["delta"], "upstream: hi >A <A[A]|A");
    let sent = seen.bodies.lock().unwrap()[0].clone();
    assert_eq!(sent["stream"], true);
    assert!(sent.get("stream_options").is_none(), "{sent}");
}
