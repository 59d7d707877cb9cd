//! Where requests go once the plugins let them through: the mock (the
//! default; `bifrost_plugin_host::mock`), or an OpenAI-compatible server
//! (`--upstream URL`: `URL/chat/completions`, …), streaming included, with
//! the client's `Authorization` header passed on. An upstream that does not
//! connect, answer, or send the next chunk of a stream within
//! `--upstream-timeout` is a 504.

use std::pin::Pin;
use std::time::Duration;

use bifrost_plugin_host::mock;
use bifrost_plugin_host::pipeline::{openai_request, Kind};
use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};

/// A stream of chunks (flat JSON) or the error that ended it.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<Value, Value>> + Send>>;

/// The provider behind the chain.
#[derive(Clone)]
pub enum Provider {
    /// Deterministic answers.
    Mock,
    /// An OpenAI-compatible server.
    Upstream {
        /// Its base URL, without a trailing `/` (`http://host:port/v1`).
        base: String,
        /// The client (a pool of connections).
        client: reqwest::Client,
        /// How long to wait to connect, for an answer, for the next chunk.
        timeout: Duration,
    },
}

/// A `BifrostError` as the post hooks see it.
pub fn bifrost_error(status: u16, kind: &str, message: impl Into<String>) -> Value {
    json!({
        "is_bifrost_error": true,
        "status_code": status,
        "error": {"type": kind, "message": message.into()},
    })
}

impl Provider {
    /// Forwards to `url` (the mock when `None`), waiting at most `timeout`
    /// to connect, for an answer, and between two chunks of a stream.
    pub fn new(upstream: Option<&str>, timeout: Duration) -> Result<Self, String> {
        let Some(url) = upstream else {
            return Ok(Provider::Mock);
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "--upstream must be an http:// or https:// URL, got `{url}`"
            ));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Provider::Upstream {
            base: url.trim_end_matches('/').to_string(),
            client,
            timeout,
        })
    }

    /// The provider's answer to `inner` (the flat `BifrostRequest` the
    /// plugins left), or a `BifrostError`.
    pub async fn complete(
        &self,
        kind: Kind,
        inner: &Value,
        authorization: Option<&str>,
        id: &str,
    ) -> Result<Value, Value> {
        match self {
            Provider::Mock => Ok(mock::reply(kind, inner, id)),
            Provider::Upstream {
                base,
                client,
                timeout,
            } => {
                let body = Value::Object(openai_request(kind, inner));
                let answer = async {
                    let response = send(client, base, kind, &body, authorization, *timeout).await?;
                    json_body(response).await.map_err(|e| {
                        bifrost_error(502, "upstream_error", format!("upstream answered: {e}"))
                    })
                };
                within(*timeout, answer).await
            }
        }
    }

    /// The provider's stream for `inner`: chunks as they come.
    pub async fn stream(
        &self,
        kind: Kind,
        inner: &Value,
        include_usage: bool,
        authorization: Option<&str>,
        id: &str,
    ) -> Result<Chunks, Value> {
        match self {
            Provider::Mock => match mock::stream(kind, inner, id, include_usage) {
                Some(chunks) => Ok(Box::pin(futures_util::stream::iter(
                    chunks.into_iter().map(Ok),
                ))),
                None => Err(bifrost_error(
                    400,
                    "invalid_request_error",
                    "the mock provider does not stream embeddings",
                )),
            },
            Provider::Upstream {
                base,
                client,
                timeout,
            } => {
                let mut body = openai_request(kind, inner);
                body.insert("stream".into(), Value::Bool(true));
                // The Responses API has no `include_usage`: its stream always
                // ends with the usage.
                if include_usage && kind != Kind::Responses {
                    body.insert("stream_options".into(), json!({"include_usage": true}));
                }
                let body = Value::Object(body);
                let response = within(
                    *timeout,
                    send(client, base, kind, &body, authorization, *timeout),
                )
                .await?;
                let timeout = *timeout;
                let events = response.bytes_stream().eventsource();
                let chunks = events
                    .take_while(|event| {
                        let done = matches!(event, Ok(e) if e.data.trim() == "[DONE]");
                        std::future::ready(!done)
                    })
                    .map(move |event| match event {
                        Ok(event) => serde_json::from_str::<Value>(&event.data).map_err(|e| {
                            bifrost_error(
                                502,
                                "upstream_error",
                                format!("upstream sent a chunk that is not JSON: {e}"),
                            )
                        }),
                        Err(eventsource_stream::EventStreamError::Transport(e))
                            if e.is_timeout() =>
                        {
                            Err(timed_out(timeout))
                        }
                        Err(e) => Err(bifrost_error(
                            502,
                            "upstream_error",
                            format!("upstream stream failed: {e}"),
                        )),
                    });
                Ok(Box::pin(chunks))
            }
        }
    }

    /// `GET /v1/models`: the mock's one model, or the upstream's list.
    pub async fn models(&self, authorization: Option<&str>) -> Result<Value, Value> {
        match self {
            Provider::Mock => Ok(mock::reply(Kind::ListModels, &Value::Null, "")),
            Provider::Upstream {
                base,
                client,
                timeout,
            } => {
                let mut request = client.get(format!("{base}/models"));
                if let Some(authorization) = authorization {
                    request = request.header(reqwest::header::AUTHORIZATION, authorization);
                }
                let answer = async {
                    let response = request
                        .send()
                        .await
                        .map_err(|e| unreachable_upstream(e, *timeout))?;
                    let response = check_status(response).await?;
                    json_body(response)
                        .await
                        .map_err(|e| bifrost_error(502, "upstream_error", e))
                };
                within(*timeout, answer).await
            }
        }
    }
}

fn endpoint(kind: Kind) -> &'static str {
    match kind {
        Kind::Chat => "chat/completions",
        Kind::TextCompletion => "completions",
        Kind::Embedding => "embeddings",
        Kind::Responses => "responses",
        Kind::ListModels => "models",
    }
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    kind: Kind,
    body: &Value,
    authorization: Option<&str>,
    timeout: Duration,
) -> Result<reqwest::Response, Value> {
    let mut request = client
        .post(format!("{base}/{}", endpoint(kind)))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(body).unwrap_or_default());
    if let Some(authorization) = authorization {
        request = request.header(reqwest::header::AUTHORIZATION, authorization);
    }
    let response = request
        .send()
        .await
        .map_err(|e| unreachable_upstream(e, timeout))?;
    check_status(response).await
}

/// The response's body read as JSON.
async fn json_body(response: reqwest::Response) -> Result<Value, String> {
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))
}

/// `answer`, or a 504 when it takes longer than `timeout`.
async fn within<T>(
    timeout: Duration,
    answer: impl std::future::Future<Output = Result<T, Value>>,
) -> Result<T, Value> {
    tokio::time::timeout(timeout, answer)
        .await
        .unwrap_or_else(|_| Err(timed_out(timeout)))
}

/// The `BifrostError` of an upstream that took longer than `timeout`.
fn timed_out(timeout: Duration) -> Value {
    let mut error = bifrost_error(
        504,
        "timeout_error",
        format!(
            "the upstream did not answer within {} s (--upstream-timeout)",
            timeout.as_secs_f64()
        ),
    );
    error["error"]["code"] = json!("upstream_timeout");
    error
}

fn unreachable_upstream(error: reqwest::Error, timeout: Duration) -> Value {
    if error.is_timeout() {
        return timed_out(timeout);
    }
    bifrost_error(
        502,
        "upstream_error",
        format!("cannot reach the upstream: {error}"),
    )
}

/// An upstream error status becomes a `BifrostError` with the upstream's
/// status and, when its body is OpenAI's `{"error":{…}}`, its message.
async fn check_status(response: reqwest::Response) -> Result<reqwest::Response, Value> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = json_body(response).await.unwrap_or(Value::Null);
    let mut error = bifrost_error(
        status.as_u16(),
        "upstream_error",
        format!("the upstream answered {status}"),
    );
    if let Some(upstream) = body.get("error").filter(|e| e.is_object()) {
        error["error"] = upstream.clone();
    }
    Err(error)
}
