//! A streamed answer: server-sent events (axum's `Sse`), each chunk taken
//! through the chain as it comes (a skipped chunk is not sent), ending with
//! `data: [DONE]`. A Responses API stream is framed as OpenAI's (and
//! Bifrost's): each event named by its `type` (`event: response.created`),
//! an error as `event: error`, and no `[DONE]`. A client that goes away
//! stops the stream (and the upstream request with it).

use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use bifrost_plugin_host::pipeline::{variant, ChunkOutcome, Kind, LlmPre, Trip};
use bifrost_plugin_host::responses_stream;
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::answer;
use super::provider::Chunks;
use super::routes::{App, Started};

/// What a streamed request brings besides its trip.
pub struct Start {
    pub include_usage: bool,
    pub authorization: Option<String>,
    pub started: Started,
}

/// Streams the provider's chunks (or a short-circuit response cut into
/// chunks) through the chain.
pub async fn respond(app: Arc<App>, mut trip: Trip, pre: LlmPre, start: Start) -> Response {
    let kind = trip.kind();
    let id = trip.context()["request_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let chunks: Chunks = match pre {
        LlmPre::Continue(request) => {
            let inner = variant(request, "request");
            let streamed = app
                .provider
                .stream(
                    kind,
                    &inner,
                    start.include_usage,
                    start.authorization.as_deref(),
                    &id,
                )
                .await;
            match streamed {
                Ok(chunks) => chunks,
                Err(error) => return refuse(&trip, &error, &start.started),
            }
        }
        LlmPre::ShortCircuit(reply) => match (reply.error, reply.response) {
            (Some(error), _) => return refuse(&trip, &error, &start.started),
            (None, response) => {
                let response = response
                    .map(|r| variant(r, "response"))
                    .unwrap_or(Value::Null);
                Box::pin(futures_util::stream::iter(
                    as_chunks(kind, &response).into_iter().map(Ok),
                ))
            }
        },
    };
    let (events, receiver) = tokio::sync::mpsc::channel::<Event>(16);
    tokio::spawn(async move {
        let mut chunks = chunks;
        let (mut sent, mut note) = (0usize, String::new());
        while let Some(item) = chunks.next().await {
            let outcome = match item {
                Ok(chunk) => app.pipeline.chunk(&mut trip, chunk),
                Err(error) => ChunkOutcome::Error(error),
            };
            let event = match outcome {
                ChunkOutcome::Send(chunk) => sse_event(kind, &chunk),
                ChunkOutcome::Skip => continue,
                ChunkOutcome::Error(error) => {
                    note = "ended by an error".into();
                    let (_, body) = answer::from_bifrost_error(&error);
                    let mut event = Event::default().data(body.to_string());
                    if kind == Kind::Responses {
                        event = event.event("error");
                    }
                    let _ = events.send(event).await;
                    break;
                }
            };
            if events.send(event).await.is_err() {
                note = "the client went away".into();
                break;
            }
            sent += 1;
        }
        if note.is_empty() && kind != Kind::Responses {
            let _ = events.send(Event::default().data("[DONE]")).await;
        }
        let note = match note.is_empty() {
            true => format!("stream, {sent} chunks"),
            false => format!("stream, {sent} chunks, {note}"),
        };
        start.started.log(200, Some(&trip), &note);
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let event = receiver.recv().await?;
        Some((Ok::<_, Infallible>(event), receiver))
    });
    Sse::new(stream).into_response()
}

/// A chunk as a server-sent event; a Responses API event is named by its
/// `type` (as the chain left it).
fn sse_event(kind: Kind, chunk: &Value) -> Event {
    let event = Event::default().data(chunk.to_string());
    match (kind, chunk["type"].as_str()) {
        (Kind::Responses, Some(name)) if !name.contains(['\n', '\r']) => event.event(name),
        _ => event,
    }
}

fn refuse(trip: &Trip, error: &Value, started: &Started) -> Response {
    let (status, body) = answer::from_bifrost_error(error);
    started.log(status, Some(trip), "");
    answer::json(status, &body)
}

/// A whole response (a plugin's short-circuit) as the chunks a stream of it
/// would have: per choice, its text in one chunk, then the stop chunks; for
/// the Responses API, OpenAI's events (one delta per word).
fn as_chunks(kind: Kind, response: &Value) -> Vec<Value> {
    if kind == Kind::Responses {
        return responses_stream::events(response);
    }
    let (object, text_of): (&str, fn(&Value) -> Value) = match kind {
        Kind::TextCompletion => ("text_completion", |c| c["text"].clone()),
        _ => ("chat.completion.chunk", |c| c["message"]["content"].clone()),
    };
    let chunk = |choice: Value| {
        json!({"id": response["id"], "object": object, "created": response["created"],
               "model": response["model"], "choices": [choice]})
    };
    let choices = response["choices"].as_array().cloned().unwrap_or_default();
    let mut chunks = Vec::new();
    for choice in &choices {
        let index = &choice["index"];
        chunks.push(chunk(match kind {
            Kind::TextCompletion => json!({"index": index, "text": text_of(choice), "finish_reason": null}),
            _ => json!({"index": index, "delta": {"role": "assistant", "content": text_of(choice)}, "finish_reason": null}),
        }));
    }
    for choice in &choices {
        let index = &choice["index"];
        chunks.push(chunk(match kind {
            Kind::TextCompletion => json!({"index": index, "text": "", "finish_reason": "stop"}),
            _ => json!({"index": index, "delta": {}, "finish_reason": "stop"}),
        }));
    }
    chunks
}
