//! One request's journey through a chain: its context, the HTTP request the
//! HTTP hooks see, how far the LLM pre hooks got, and how long each hook took.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::hook::Hook;

use super::shape::Kind;

/// Context keys no plugin may write: `request_id` (the request id as the
/// chain sets it, spelled as Bifrost's documentation shows it) and the keys
/// Bifrost's own context refuses plugin writes to (`reservedKeys` in its
/// `core/schemas/context.go`), by their string values. A hook that sets,
/// changes or removes one is logged and the key keeps its value.
pub const RESERVED_CONTEXT_KEYS: [&str; 14] = [
    "request_id",
    "request-id",
    "fallback-request-id",
    "x-bf-vk",
    "x-bf-api-key",
    "x-bf-api-key-id",
    "bifrost-selected-key-id",
    "bifrost-selected-key-name",
    "bifrost-number-of-retries",
    "bifrost-fallback-index",
    "bifrost-skip-key-selection",
    "bifrost-extra-url-path",
    "bifrost-defer-trace-completion",
    "bifrost-attempt-trail",
];

/// An LLM reply: a response, an error (a `BifrostError`), both or neither.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    /// The response, in the pipeline's shape.
    pub response: Option<Value>,
    /// The error.
    pub error: Option<Value>,
}

impl Reply {
    /// A response and no error.
    pub fn response(response: Value) -> Self {
        Reply {
            response: Some(response),
            error: None,
        }
    }

    /// An error and no response.
    pub fn error(error: Value) -> Self {
        Reply {
            response: None,
            error: Some(error),
        }
    }

    /// From two JSON fields where `null` (and, for the error, `{}`) means
    /// none, as the ABIs write them.
    pub fn from_pair(response: Option<Value>, error: Option<Value>) -> Self {
        let is_empty = |v: &Value| v.is_null() || v.as_object().is_some_and(Map::is_empty);
        Reply {
            response: response.filter(|r| !r.is_null()),
            error: error.filter(|e| !is_empty(e)),
        }
    }
}

/// How long one plugin's hook took over a request (summed over calls: a
/// stream calls its chunk hooks once per chunk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookTime {
    /// The plugin's configured name.
    pub plugin: String,
    /// The hook.
    pub hook: Hook,
    /// How many calls.
    pub calls: u32,
    /// Their total time.
    pub elapsed: Duration,
}

/// A request in a chain.
#[derive(Debug, Clone)]
pub struct Trip {
    pub(super) context: Map<String, Value>,
    /// The context as JSON text, as the hooks are sent it.
    context_text: Vec<u8>,
    pub(super) kind: Kind,
    /// The HTTP request the HTTP hooks see (changed by single-input HTTP
    /// pre hooks).
    pub http_request: Value,
    pub(super) llm_ran: usize,
    hooks: Vec<HookTime>,
}

impl Trip {
    pub(super) fn new(request_id: &str, kind: Kind, http_request: Value) -> Self {
        let mut context = Map::new();
        context.insert("request_id".into(), Value::String(request_id.into()));
        Trip {
            context_text: super::context_json(&context),
            context,
            kind,
            http_request,
            llm_ran: 0,
            hooks: Vec::new(),
        }
    }

    /// The request's context as it stands.
    pub fn context(&self) -> &Map<String, Value> {
        &self.context
    }

    /// The request kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Each hook that ran, in the order it first ran, with its time.
    pub fn hooks(&self) -> &[HookTime] {
        &self.hooks
    }

    /// Takes the context a hook sent back, except that every key of
    /// [`RESERVED_CONTEXT_KEYS`] keeps the value it had (or stays absent):
    /// Bifrost drops plugins' writes to its reserved keys while the pipelines
    /// run. Returns the reserved keys the hook tried to set, change or remove.
    pub(super) fn take_context(&mut self, sent_back: Map<String, Value>) -> Vec<&'static str> {
        let refused: Vec<&'static str> = RESERVED_CONTEXT_KEYS
            .into_iter()
            .filter(|key| sent_back.get(*key) != self.context.get(*key))
            .collect();
        let mut context = sent_back;
        for key in &refused {
            match self.context.get(*key) {
                Some(value) => context.insert((*key).to_string(), value.clone()),
                None => context.remove(*key),
            };
        }
        self.context_text = super::context_json(&context);
        self.context = context;
        refused
    }

    /// The context as JSON text, written once each time it changes.
    pub(super) fn context_json(&self) -> &[u8] {
        &self.context_text
    }

    pub(super) fn record(&mut self, plugin: &str, hook: Hook, elapsed: Duration) {
        match self
            .hooks
            .iter_mut()
            .find(|h| h.hook == hook && h.plugin == plugin)
        {
            Some(time) => {
                time.calls += 1;
                time.elapsed += elapsed;
            }
            None => self.hooks.push(HookTime {
                plugin: plugin.to_string(),
                hook,
                calls: 1,
                elapsed,
            }),
        }
    }
}
