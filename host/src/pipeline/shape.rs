//! How an OpenAI-style request becomes the `BifrostRequest` JSON plugins
//! see, and how a response goes to the plugins and back. Bifrost's own JSON
//! for these unions is not public: abi-spec 3.5 lists three candidates, and
//! [`RequestShape`] writes any of them.

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Map, Value};

/// The request kinds `serve` handles (Bifrost's union has many more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `/v1/chat/completions`.
    Chat,
    /// `/v1/completions`.
    TextCompletion,
    /// `/v1/embeddings`.
    Embedding,
    /// `/v1/responses`.
    Responses,
    /// `GET /v1/models`: a list-models request, `{"provider"}`, no input.
    ListModels,
}

impl Kind {
    /// The snake-case stem of the union's field (`chat` → `chat_request`).
    fn snake(self) -> &'static str {
        match self {
            Kind::Chat => "chat",
            Kind::TextCompletion => "text_completion",
            Kind::Embedding => "embedding",
            Kind::Responses => "responses",
            Kind::ListModels => "list_models",
        }
    }

    /// The Go union's field stem (`Chat` → `ChatRequest`).
    fn pascal(self) -> &'static str {
        match self {
            Kind::Chat => "Chat",
            Kind::TextCompletion => "TextCompletion",
            Kind::Embedding => "Embedding",
            Kind::Responses => "Responses",
            Kind::ListModels => "ListModels",
        }
    }

    /// Bifrost's `RequestType` value, also written to `extra_fields`.
    pub fn request_type(self) -> &'static str {
        match self {
            Kind::Chat => "chat_completion",
            Kind::TextCompletion => "text_completion",
            Kind::Embedding => "embedding",
            Kind::Responses => "responses",
            Kind::ListModels => "list_models",
        }
    }

    /// The key of the OpenAI request that holds its input (`input` for
    /// list models, which sends none).
    pub fn input_key(self) -> &'static str {
        match self {
            Kind::Chat => "messages",
            Kind::TextCompletion => "prompt",
            Kind::Embedding | Kind::Responses | Kind::ListModels => "input",
        }
    }
}

/// Which of abi-spec 3.5's shapes the plugins are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestShape {
    /// The documentation's: the inner request itself,
    /// `{"provider","model","input","params"}`; responses as OpenAI's.
    #[default]
    Flat,
    /// `{"chat_request":{…}}`, `{"chat_response":{…}}`.
    Snake,
    /// Go's untagged union: `{"RequestType":"chat_completion","ChatRequest":{…}}`,
    /// `{"ChatResponse":{…}}`.
    Go,
}

impl RequestShape {
    /// Every shape.
    pub const ALL: [RequestShape; 3] = [RequestShape::Flat, RequestShape::Snake, RequestShape::Go];

    /// `flat`, `snake` or `go`.
    pub fn name(self) -> &'static str {
        match self {
            RequestShape::Flat => "flat",
            RequestShape::Snake => "snake",
            RequestShape::Go => "go",
        }
    }

    /// Wraps the inner request in this shape.
    pub fn wrap_request(self, kind: Kind, inner: Value) -> Value {
        match self {
            RequestShape::Flat => inner,
            RequestShape::Snake => json!({ format!("{}_request", kind.snake()): inner }),
            RequestShape::Go => json!({
                "RequestType": kind.request_type(),
                format!("{}Request", kind.pascal()): inner,
            }),
        }
    }

    /// Wraps a response in this shape.
    pub fn wrap_response(self, kind: Kind, inner: Value) -> Value {
        match self {
            RequestShape::Flat => inner,
            RequestShape::Snake => json!({ format!("{}_response", kind.snake()): inner }),
            RequestShape::Go => json!({ format!("{}Response", kind.pascal()): inner }),
        }
    }

    /// Wraps a streamed chunk for the LLM post hooks: as a response, except
    /// that a Responses API event is Bifrost's `ResponsesStreamResponse`
    /// variant (`{"responses_stream_response":{…}}`,
    /// `{"ResponsesStreamResponse":{…}}`; flat, the event itself).
    pub fn wrap_chunk(self, kind: Kind, chunk: Value) -> Value {
        match (self, kind) {
            (RequestShape::Snake, Kind::Responses) => json!({"responses_stream_response": chunk}),
            (RequestShape::Go, Kind::Responses) => json!({"ResponsesStreamResponse": chunk}),
            _ => self.wrap_response(kind, chunk),
        }
    }
}

impl fmt::Display for RequestShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RequestShape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        RequestShape::ALL
            .into_iter()
            .find(|shape| shape.name() == s)
            .ok_or_else(|| format!("unknown request shape `{s}` (expected flat, snake or go)"))
    }
}

/// The variant inside a union value, found as the SDK finds it (abi-spec
/// 3.5): the first key, in sorted order, holding an object and named
/// `…_request` / `…Request` (`suffix` = "request"); without one, the value
/// itself. So a response a plugin built in any shape unwraps the same way.
pub fn variant(value: Value, suffix: &str) -> Value {
    let Value::Object(mut map) = value else {
        return value;
    };
    match variant_key(&map, suffix) {
        Some(key) => map.remove(&key).unwrap_or(Value::Null),
        None => Value::Object(map),
    }
}

fn variant_key(map: &Map<String, Value>, suffix: &str) -> Option<String> {
    let snake = format!("_{suffix}");
    let mut pascal = suffix.to_string();
    pascal[..1].make_ascii_uppercase();
    let mut keys: Vec<&String> = map
        .iter()
        .filter(|(key, value)| {
            value.is_object()
                && (key.ends_with(&snake)
                    || (key.starts_with(|c: char| c.is_ascii_uppercase())
                        && key.ends_with(&pascal)))
        })
        .map(|(key, _)| key)
        .collect();
    keys.sort();
    keys.first().map(|key| key.to_string())
}

/// The inner `BifrostRequest` of an OpenAI request: `provider` and `model`
/// from `model` (`openai/gpt-4o-mini`; a bare model means `openai`), `input`
/// from the kind's input key, every other field but `stream` in `params`.
pub fn bifrost_request(kind: Kind, openai: &Map<String, Value>) -> Value {
    let model = openai.get("model").and_then(Value::as_str).unwrap_or("");
    let (provider, model) = split_model(model);
    let mut params = Map::new();
    for (key, value) in openai {
        if !matches!(key.as_str(), "model" | "stream") && key != kind.input_key() {
            params.insert(key.clone(), value.clone());
        }
    }
    json!({
        "provider": provider,
        "model": model,
        "input": openai.get(kind.input_key()).cloned().unwrap_or(Value::Null),
        "params": params,
    })
}

/// `provider/model` split at the first `/`; a bare model is OpenAI's.
pub fn split_model(model: &str) -> (&str, &str) {
    match model.split_once('/') {
        Some((provider, model)) if !provider.is_empty() => (provider, model),
        _ => ("openai", model),
    }
}

/// The OpenAI request an inner `BifrostRequest` stands for (what an
/// OpenAI-compatible upstream is sent): `params`, then the model (with its
/// provider in front unless it is `openai`) and the input.
pub fn openai_request(kind: Kind, inner: &Value) -> Map<String, Value> {
    let mut out = match inner.get("params") {
        Some(Value::Object(params)) => params.clone(),
        _ => Map::new(),
    };
    let model = inner.get("model").and_then(Value::as_str).unwrap_or("");
    let model = match inner.get("provider").and_then(Value::as_str) {
        Some(provider) if provider != "openai" && !provider.is_empty() => {
            format!("{provider}/{model}")
        }
        _ => model.to_string(),
    };
    out.insert("model".into(), Value::String(model));
    let input = inner.get("input").cloned().unwrap_or(Value::Null);
    out.insert(kind.input_key().into(), input);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_chat_request_becomes_the_documented_flat_shape() {
        let openai = object(json!({
            "model": "anthropic/claude", "messages": [{"role": "user", "content": "hi"}],
            "stream": true, "temperature": 0.5
        }));
        assert_eq!(
            bifrost_request(Kind::Chat, &openai),
            json!({"provider": "anthropic", "model": "claude",
                   "input": [{"role": "user", "content": "hi"}],
                   "params": {"temperature": 0.5}})
        );
        let bare = object(json!({"model": "gpt-4o-mini", "prompt": "once"}));
        let inner = bifrost_request(Kind::TextCompletion, &bare);
        assert_eq!(inner["provider"], "openai");
        assert_eq!(inner["input"], "once");
    }

    #[test]
    fn each_shape_wraps_and_unwraps_to_the_same_inner_value() {
        let inner = json!({"model": "m", "input": []});
        for shape in RequestShape::ALL {
            let wrapped = shape.wrap_request(Kind::Chat, inner.clone());
            assert_eq!(variant(wrapped, "request"), inner, "{shape}");
            let wrapped = shape.wrap_response(Kind::Embedding, inner.clone());
            assert_eq!(variant(wrapped, "response"), inner, "{shape}");
        }
        for shape in RequestShape::ALL {
            let event = json!({"type": "response.output_text.delta", "delta": "hi"});
            let wrapped = shape.wrap_chunk(Kind::Responses, event.clone());
            assert_eq!(variant(wrapped, "response"), event, "{shape}");
        }
        assert_eq!(
            RequestShape::Go.wrap_chunk(Kind::Responses, json!({})),
            json!({"ResponsesStreamResponse": {}})
        );
        let go = RequestShape::Go.wrap_request(Kind::TextCompletion, json!({}));
        assert_eq!(
            go,
            json!({"RequestType": "text_completion", "TextCompletionRequest": {}})
        );
    }

    #[test]
    fn the_openai_request_puts_a_non_openai_provider_back_in_the_model() {
        let inner = json!({"provider": "groq", "model": "llama", "input": "x",
                           "params": {"n": 2}});
        assert_eq!(
            Value::Object(openai_request(Kind::Embedding, &inner)),
            json!({"n": 2, "model": "groq/llama", "input": "x"})
        );
        let inner = json!({"provider": "openai", "model": "gpt", "input": []});
        assert_eq!(openai_request(Kind::Chat, &inner)["model"], "gpt");
    }
}
