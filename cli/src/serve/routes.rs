//! The HTTP side: OpenAI's endpoints (also under `/openai/v1`, Bifrost's
//! drop-in path), each LLM request taken through the chain, and one log line
//! per request.
//!
//! The chain runs in the request's own task, on the server's threads: a
//! plugin call is short work for the CPU (tens of microseconds compiled), and
//! handing each stage of a request to a blocking thread (`block_in_place`)
//! cost more than the calls did (some 13 µs of CPU and two or three context
//! switches a hand-off, four a request). Only a request that finds a plugin
//! busy with another request's call (each instance runs one call at a time)
//! hands its thread's other requests on while it waits
//! ([`Pipeline::waiting_with`]): under wasmi, whose calls take milliseconds,
//! waiting in place left a core idle and cost 40% of the requests per second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, request::Parts, HeaderMap};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use bifrost_plugin_host::pipeline::{
    bifrost_request, variant, Kind, LlmPre, Pipeline, Reply, Trip,
};
use serde_json::{json, Map, Value};

use super::answer;
use super::provider::Provider;
use super::stream;

/// The largest request body taken (a larger one is answered 413).
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// What every request shares.
pub struct App {
    pub pipeline: Arc<Pipeline>,
    pub provider: Provider,
    next_id: AtomicU64,
}

impl App {
    pub fn new(pipeline: Arc<Pipeline>, provider: Provider) -> Arc<Self> {
        Arc::new(App {
            pipeline,
            provider,
            next_id: AtomicU64::new(1),
        })
    }

    fn request_id(&self) -> String {
        format!("req-{}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }
}

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    let mut router = Router::new();
    for prefix in ["/v1", "/openai/v1"] {
        for (path, kind) in [
            ("/chat/completions", Kind::Chat),
            ("/completions", Kind::TextCompletion),
            ("/embeddings", Kind::Embedding),
            ("/responses", Kind::Responses),
        ] {
            router = router.route(
                &format!("{prefix}{path}"),
                post(move |State(app): State<Arc<App>>, request: Request| llm(app, kind, request)),
            );
        }
        router = router.route(&format!("{prefix}/models"), get(models));
    }
    router
        .route("/health", get(health))
        .fallback(|request: Request| async move {
            let (status, body) = answer::error(
                404,
                "invalid_request_error",
                format!("no route for {} {}", request.method(), request.uri().path()),
            );
            answer::json(status, &body)
        })
        .with_state(app)
}

/// When a request started and what it was, for its log line.
pub struct Started {
    pub at: Instant,
    pub method: String,
    pub path: String,
}

impl Started {
    fn new(parts: &Parts) -> Self {
        Started {
            at: Instant::now(),
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
        }
    }

    /// One line per request: method, path, status, time, then each hook
    /// that ran with its time (and its call count when more than one).
    pub fn log(&self, status: u16, trip: Option<&Trip>, note: &str) {
        let millis = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let mut line = format!(
            "{} {} {status} {:.2} ms",
            self.method,
            self.path,
            millis(self.at.elapsed())
        );
        if !note.is_empty() {
            line.push_str(&format!(" ({note})"));
        }
        if let Some(trip) = trip {
            let hooks: Vec<String> = trip
                .hooks()
                .iter()
                .map(|h| match h.calls {
                    1 => format!("{} {} {:.2} ms", h.plugin, h.hook, millis(h.elapsed)),
                    n => format!("{} {} x{n} {:.2} ms", h.plugin, h.hook, millis(h.elapsed)),
                })
                .collect();
            if !hooks.is_empty() {
                line.push_str(&format!(" | {}", hooks.join(", ")));
            }
        }
        eprintln!("{line}");
    }
}

/// `GET /health`: no plugin runs on it, as in Bifrost, which registers it
/// with its API routes, outside the middleware that runs the HTTP hooks.
async fn health(request: Request) -> Response {
    let started = Started::new(&request.into_parts().0);
    started.log(200, None, "no plugins run on /health");
    answer::json(200, &json!({"status": "ok"}))
}

/// `GET /v1/models`, through the whole chain as Bifrost takes it: its
/// transport registers the route with the inference routes, whose middleware
/// runs the HTTP hooks, and its core takes a list-models request through the
/// LLM hooks like any other (`{"provider":"openai"}`, the union's
/// `ListModelsRequest`).
async fn models(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let started = Started::new(&parts);
    let id = app.request_id();
    let pipeline = &app.pipeline;
    let http = http_request(&parts, &Bytes::new());
    let mut trip = pipeline.trip(&id, Kind::ListModels, http);
    if let Some(answer) = pipeline.http_pre(&mut trip) {
        return hook_answer(&answer, &trip, &started);
    }
    let shape = pipeline.shape();
    let request = shape.wrap_request(Kind::ListModels, json!({"provider": "openai"}));
    let reply = match pipeline.llm_pre(&mut trip, request) {
        LlmPre::Continue(_) => match app.provider.models(authorization(&parts.headers)).await {
            Ok(list) => Reply::response(shape.wrap_response(Kind::ListModels, list)),
            Err(error) => Reply::error(error),
        },
        LlmPre::ShortCircuit(reply) => reply,
    };
    let reply = pipeline.llm_post(&mut trip, reply);
    let (status, body) = reply_answer(reply);
    respond(pipeline, &mut trip, status, &body, &started)
}

/// An HTTP pre hook's answer, sent as it is.
fn hook_answer(answer: &Value, trip: &Trip, started: &Started) -> Response {
    let (status, response) = answer::http_answer(answer);
    started.log(status, Some(trip), "answered by an HTTP pre hook");
    response
}

/// The HTTP post hooks (in reverse) with the response, the log line, then
/// the response.
fn respond(
    pipeline: &Pipeline,
    trip: &mut Trip,
    status: u16,
    body: &Value,
    started: &Started,
) -> Response {
    let text = body.to_string();
    let http_response = json!({
        "status_code": status,
        "headers": {"content-type": "application/json"},
        "body": base64::engine::general_purpose::STANDARD.encode(&text),
    });
    pipeline.http_post(trip, &http_response);
    started.log(status, Some(trip), "");
    answer::json(status, body)
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// An LLM request: HTTP pre hooks, then the body read as OpenAI's request,
/// LLM pre hooks, the provider, LLM post hooks, HTTP post hooks (or, for a
/// stream, each chunk through the post and chunk hooks).
async fn llm(app: Arc<App>, kind: Kind, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let started = Started::new(&parts);
    let fail = |status: u16, kind: &str, message: String, trip: Option<&Trip>| {
        let (status, body) = answer::error(status, kind, message);
        started.log(status, trip, "");
        answer::json(status, &body)
    };
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let message = format!(
                "the request body is over {} MiB (or was cut off)",
                BODY_LIMIT >> 20
            );
            return fail(413, "invalid_request_error", message, None);
        }
    };
    let id = app.request_id();
    let pipeline = &app.pipeline;
    let mut trip = pipeline.trip(&id, kind, http_request(&parts, &bytes));
    if let Some(answer) = pipeline.http_pre(&mut trip) {
        return hook_answer(&answer, &trip, &started);
    }
    if !is_json(&parts.headers) {
        let message = "the request body must be JSON (Content-Type: application/json)".to_string();
        return fail(415, "invalid_request_error", message, Some(&trip));
    }
    let openai =
        match serde_json::from_slice::<Map<String, Value>>(&body_after_hooks(&trip, &bytes)) {
            Ok(openai) => openai,
            Err(e) => {
                let message = format!("the request body is not a JSON object: {e}");
                return fail(400, "invalid_request_error", message, Some(&trip));
            }
        };
    let streaming = openai.get("stream") == Some(&Value::Bool(true));
    let include_usage = openai
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        == Some(&Value::Bool(true));
    let shape = pipeline.shape();
    let request = shape.wrap_request(kind, bifrost_request(kind, &openai));
    let pre = pipeline.llm_pre(&mut trip, request);
    let authorization = authorization(&parts.headers).map(str::to_string);
    if streaming {
        let start = stream::Start {
            include_usage,
            authorization,
            started,
        };
        return stream::respond(Arc::clone(&app), trip, pre, start).await;
    }
    let reply = match pre {
        LlmPre::Continue(request) => {
            let inner = variant(request, "request");
            match app
                .provider
                .complete(kind, &inner, authorization.as_deref(), &id)
                .await
            {
                Ok(response) => Reply::response(
                    shape.wrap_response(kind, with_extra_fields(response, kind, &inner)),
                ),
                Err(error) => Reply::error(error),
            }
        }
        LlmPre::ShortCircuit(reply) => reply,
    };
    let reply = pipeline.llm_post(&mut trip, reply);
    let (status, body) = reply_answer(reply);
    respond(pipeline, &mut trip, status, &body, &started)
}

/// The status and body the client gets for what the LLM post hooks left.
fn reply_answer(reply: Reply) -> (u16, Value) {
    match reply {
        Reply {
            error: Some(error), ..
        } => answer::from_bifrost_error(&error),
        Reply {
            response: Some(response),
            ..
        } => (200, variant(response, "response")),
        Reply { .. } => answer::error(
            500,
            "server_error",
            "the plugins left neither a response nor an error",
        ),
    }
}

/// The HTTP request as the HTTP hooks see it (Bifrost's `HTTPRequest`):
/// `method`, `path`, `headers` (repeated ones joined by `, `), `query`,
/// `body` in base64 (Go's `[]byte`).
fn http_request(parts: &Parts, body: &Bytes) -> Value {
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(before)) => {
                before.push_str(", ");
                before.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    let query: Map<String, Value> = parts
        .uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "headers": headers,
        "query": query,
        "body": base64::engine::general_purpose::STANDARD.encode(body),
    })
}

/// The body as the HTTP pre hooks left it (a single-input plugin may
/// rewrite it).
fn body_after_hooks(trip: &Trip, original: &Bytes) -> Vec<u8> {
    trip.http_request["body"]
        .as_str()
        .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
        .unwrap_or_else(|| original.to_vec())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// Bifrost fills `extra_fields` of a response before the post hooks.
pub fn with_extra_fields(mut response: Value, kind: Kind, inner: &Value) -> Value {
    if let Value::Object(map) = &mut response {
        map.insert(
            "extra_fields".into(),
            json!({
                "request_type": kind.request_type(),
                "provider": inner["provider"],
                "model_requested": inner["model"],
            }),
        );
    }
    response
}
