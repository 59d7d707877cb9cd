//! A chain of plugins run the way Bifrost runs them, one request at a time
//! per [`Trip`], without HTTP: the server of `bifrost-plugin serve` drives it,
//! and so can a test or a scenario.
//!
//! For one request: HTTP pre hooks in order ([`Pipeline::http_pre`]) → LLM
//! pre hooks in order ([`Pipeline::llm_pre`]) → the provider (the caller's)
//! → LLM post hooks in reverse ([`Pipeline::llm_post`]) → HTTP post hooks in
//! reverse ([`Pipeline::http_post`]); when streaming, each chunk goes
//! through the LLM post hooks and the stream chunk hooks, in reverse
//! ([`Pipeline::chunk`]), instead of the HTTP post hooks. Plugins run in
//! [`run_order`]: `pre_builtin` before `post_builtin`, then `order`, then
//! file order. A pre hook that short-circuits stops the pre hooks, and only
//! the plugins whose pre hook ran get their post hook. A hook's error is
//! logged and the request goes on; a trap is logged, the plugin is
//! instantiated again with its config, and the hook counts as a
//! pass-through. One context per request, carried from hook to hook on the
//! single-input ABI (seed outputs carry no context back); a hook's writes to
//! the [`RESERVED_CONTEXT_KEYS`] (the request id, …) are dropped and logged,
//! as Bifrost drops them.
//!
//! ```no_run
//! use bifrost_plugin_host::pipeline::{Kind, LlmPre, Pipeline, PluginSpec, Reply, RequestShape, Sink};
//! use serde_json::json;
//! let specs = vec![PluginSpec::new("router", "build/examples/model-router-single-input.wasm")
//!     .with_config(r#"{"routes":{"gpt-4":"gpt-4o-mini"}}"#)];
//! let pipeline = Pipeline::load(specs, RequestShape::Flat, Sink::stderr())?;
//! let mut trip = pipeline.trip("req-1", Kind::Chat, json!({"method": "POST", "path": "/v1/chat/completions"}));
//! assert!(pipeline.http_pre(&mut trip).is_none());
//! let request = json!({"provider": "openai", "model": "gpt-4", "input": [], "params": {}});
//! let reply = match pipeline.llm_pre(&mut trip, request) {
//!     LlmPre::Continue(request) => Reply::response(json!({"model": request["model"]})),
//!     LlmPre::ShortCircuit(reply) => reply,
//! };
//! let reply = pipeline.llm_post(&mut trip, reply);
//! println!("{:?} after {:?}", reply, trip.hooks());
//! # Ok::<(), bifrost_plugin_host::pipeline::LoadError>(())
//! ```

mod events;
mod instance;
#[cfg(feature = "jit")]
mod jit;
mod member;
mod order;
mod passed;
mod shape;
mod trip;

use std::fmt;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::abi::Abi;
use crate::hook::{Hook, Inputs};

pub use events::{Event, Sink};
pub use instance::Runtime;
pub use member::PluginSpec;
pub use order::{run_order, Placement};
pub use shape::{bifrost_request, openai_request, split_model, variant, Kind, RequestShape};
pub use trip::{HookTime, Reply, Trip, RESERVED_CONTEXT_KEYS};

use member::Member;
use passed::Passed;

/// What the HTTP pre hooks decided.
pub type HttpAnswer = Option<Value>;

/// What the LLM pre hooks decided.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmPre {
    /// Call the provider with this request (in the pipeline's shape).
    Continue(Value),
    /// A plugin answered: skip the provider.
    ShortCircuit(Reply),
}

/// What becomes of a streamed chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkOutcome {
    /// Send this chunk (flat, as the client gets it).
    Send(Value),
    /// A stream chunk hook dropped it.
    Skip,
    /// An LLM post hook turned it into this error: end the stream with it.
    Error(Value),
}

/// A plugin of the config could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// Its configured name.
    pub plugin: String,
    /// Why (for a failed `init`, the plugin's own message).
    pub error: crate::Error,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin `{}`: {}", self.plugin, self.error)
    }
}

impl std::error::Error for LoadError {}

/// How a request waits for a plugin instance that another request is
/// calling: given the blocking wait, runs it (see [`Pipeline::waiting_with`]).
pub type Wait = Box<dyn Fn(&mut dyn FnMut()) + Send + Sync>;

/// A loaded chain of plugins, in the order they run. Shared by every
/// request (`&self`); each plugin instance runs one call at a time.
pub struct Pipeline {
    members: Vec<Member>,
    shape: RequestShape,
    sink: Sink,
    wait: Wait,
}

impl Pipeline {
    /// Loads and initialises every plugin (stopping at the first that
    /// fails), in run order, on wasmi.
    pub fn load(
        specs: Vec<PluginSpec>,
        shape: RequestShape,
        sink: Sink,
    ) -> Result<Self, LoadError> {
        Self::load_on(Runtime::Wasmi, specs, shape, sink)
    }

    /// [`Pipeline::load`] on `runtime` (see [`Runtime`]: wasmtime needs the
    /// crate feature `jit`; plugins that import WASI stay on wasmi).
    pub fn load_on(
        runtime: Runtime,
        specs: Vec<PluginSpec>,
        shape: RequestShape,
        sink: Sink,
    ) -> Result<Self, LoadError> {
        let keys: Vec<_> = specs.iter().map(|s| (s.placement, s.order)).collect();
        let mut specs: Vec<Option<PluginSpec>> = specs.into_iter().map(Some).collect();
        let mut members = Vec::with_capacity(specs.len());
        for index in run_order(&keys) {
            let spec = specs[index].take().expect("each index once");
            let plugin = spec.name.clone();
            members.push(
                Member::load(spec, runtime, &sink).map_err(|error| LoadError { plugin, error })?,
            );
        }
        Ok(Pipeline {
            members,
            shape,
            sink,
            wait: Box::new(|wait| wait()),
        })
    }

    /// Sets how a request waits for a plugin instance that another request
    /// is calling (each instance runs one call at a time): `wait` is given
    /// the blocking wait and runs it; by default the thread just blocks. A
    /// call that finds the plugin free never goes through `wait`. An async
    /// server that runs the chain on its own threads can pass, say, tokio's
    /// `block_in_place`, so that its other requests go on meanwhile.
    ///
    /// ```no_run
    /// # use bifrost_plugin_host::pipeline::{Pipeline, RequestShape, Sink};
    /// # fn block_in_place(f: impl FnOnce()) { f() }
    /// let pipeline = Pipeline::load(vec![], RequestShape::Flat, Sink::stderr())?
    ///     .waiting_with(|wait| block_in_place(wait));
    /// # Ok::<(), bifrost_plugin_host::pipeline::LoadError>(())
    /// ```
    pub fn waiting_with(mut self, wait: impl Fn(&mut dyn FnMut()) + Send + Sync + 'static) -> Self {
        self.wait = Box::new(wait);
        self
    }

    /// The plugins in run order: name, ABI and the runtime each runs on.
    pub fn plugins(&self) -> Vec<(&str, Abi, Runtime)> {
        self.members
            .iter()
            .map(|m| (m.spec.name.as_str(), m.abi, m.runtime))
            .collect()
    }

    /// The shape requests and responses are sent to plugins in.
    pub fn shape(&self) -> RequestShape {
        self.shape
    }

    /// Where events go.
    pub fn sink(&self) -> &Sink {
        &self.sink
    }

    /// Starts a request: its context holds `request_id`; `http_request` is
    /// the HTTP request as the HTTP hooks see it (`{"method","path",
    /// "headers","query","body"}`, body in base64).
    pub fn trip(&self, request_id: &str, kind: Kind, http_request: Value) -> Trip {
        Trip::new(request_id, kind, http_request)
    }

    /// Runs the HTTP pre hooks in order. `Some(response)`: a plugin
    /// answered (an HTTP response `{"status_code","headers","body"}`), to be
    /// sent to the client as it is. Otherwise the trip's HTTP request is what
    /// the plugins left.
    pub fn http_pre(&self, trip: &mut Trip) -> HttpAnswer {
        let mut request = Carried::new(&trip.http_request);
        let mut answer = None;
        for (index, member) in self.members.iter().enumerate() {
            let input = Inputs {
                request: Some(&request.text),
                ..Inputs::default()
            };
            let Some(output) = self.call(member, Hook::HttpPreHook, input, trip) else {
                continue;
            };
            if output.answered {
                let response = output.response.as_deref().unwrap_or(b"null");
                if let Some(response) = self.read(member, Hook::HttpPreHook, response) {
                    answer = Some(response);
                    break;
                }
                continue;
            }
            if let Some(changed) = output.request.filter(|r| is_object(r)) {
                request.pass(changed, index);
            }
        }
        if let Some(request) = self.settle(request, Hook::HttpPreHook) {
            trip.http_request = request;
        }
        answer
    }

    /// Runs the LLM pre hooks in order on `request` (a `BifrostRequest` in
    /// the pipeline's shape) until one short-circuits.
    pub fn llm_pre(&self, trip: &mut Trip, request: Value) -> LlmPre {
        let mut carried = Carried::new(&request);
        for (index, member) in self.members.iter().enumerate() {
            trip.llm_ran = index + 1;
            let input = Inputs {
                request: Some(&carried.text),
                ..Inputs::default()
            };
            let Some(output) = self.call(member, Hook::PreHook, input, trip) else {
                continue;
            };
            if let Some(short_circuit) = output.short_circuit {
                if let Some(short_circuit) = self.read(member, Hook::PreHook, &short_circuit) {
                    return LlmPre::ShortCircuit(Reply::from_pair(
                        short_circuit.get("response").cloned(),
                        short_circuit.get("error").cloned(),
                    ));
                }
                continue;
            }
            if let Some(changed) = output.request.filter(|r| is_object(r)) {
                carried.pass(changed, index);
            }
        }
        LlmPre::Continue(self.settle(carried, Hook::PreHook).unwrap_or(request))
    }

    /// Runs the LLM post hooks of the plugins whose pre hook ran, in
    /// reverse, on the provider's (or the short-circuit's) reply.
    pub fn llm_post(&self, trip: &mut Trip, reply: Reply) -> Reply {
        let text = |value: &Option<Value>| value.as_ref().map(json_bytes);
        let before = (text(&reply.response), text(&reply.error));
        let (mut response, mut error) = before.clone();
        let mut last = None;
        for member in self.members[..trip.llm_ran].iter().rev() {
            let input = Inputs {
                response: response.as_deref(),
                error: error.as_deref(),
                ..Inputs::default()
            };
            let Some(output) = self.call(member, Hook::PostHook, input, trip) else {
                continue;
            };
            response = output.response;
            error = output.error.filter(|e| !is_empty_object(e));
            last = Some(member);
        }
        let Some(member) = last else {
            return reply;
        };
        // Each part parsed only if a plugin changed its text.
        let read = |text: Option<Vec<u8>>| match text {
            None => Some(None),
            Some(text) => self.read(member, Hook::PostHook, &text).map(Some),
        };
        let new_response = (response != before.0).then(|| read(response));
        let new_error = (error != before.1).then(|| read(error));
        if matches!(new_response, Some(None)) || matches!(new_error, Some(None)) {
            return reply;
        }
        let mut reply = reply;
        if let Some(Some(response)) = new_response {
            reply.response = response;
        }
        if let Some(Some(error)) = new_error {
            reply.error = error;
        }
        reply
    }

    /// Runs the HTTP post hooks in reverse with the HTTP response the
    /// client gets (`{"status_code","headers","body"}`); they can change the
    /// context, not the response.
    pub fn http_post(&self, trip: &mut Trip, response: &Value) {
        let (request, response) = (json_bytes(&trip.http_request), json_bytes(response));
        for member in self.members.iter().rev() {
            let input = Inputs {
                request: Some(&request),
                response: Some(&response),
                ..Inputs::default()
            };
            self.call(member, Hook::HttpPostHook, input, trip);
        }
    }

    /// One streamed chunk (flat, as the provider sent it; for the Responses
    /// API, each event, lifecycle events included): through the LLM post
    /// hooks of the plugins whose pre hook ran (wrapped in the pipeline's
    /// shape, [`RequestShape::wrap_chunk`]), then every stream chunk hook,
    /// both in reverse.
    pub fn chunk(&self, trip: &mut Trip, chunk: Value) -> ChunkOutcome {
        let wrapped = self.shape.wrap_chunk(trip.kind, chunk);
        let reply = self.llm_post(trip, Reply::response(wrapped));
        let chunk = match reply {
            Reply {
                error: Some(error), ..
            } => return ChunkOutcome::Error(error),
            Reply {
                response: Some(response),
                ..
            } => variant(response, "response"),
            Reply { .. } => return ChunkOutcome::Skip,
        };
        let request = json_bytes(&trip.http_request);
        let mut carried = Carried::new(&chunk);
        for (index, member) in self.members.iter().enumerate().rev() {
            let input = Inputs {
                request: Some(&request),
                chunk: Some(&carried.text),
                ..Inputs::default()
            };
            let Some(output) = self.call(member, Hook::HttpStreamChunkHook, input, trip) else {
                continue;
            };
            if output.skip {
                return ChunkOutcome::Skip;
            }
            if let Some(changed) = output.chunk {
                carried.pass(changed, index);
            }
        }
        ChunkOutcome::Send(
            self.settle(carried, Hook::HttpStreamChunkHook)
                .unwrap_or(chunk),
        )
    }

    /// LLM pre hooks, `provider` unless a plugin short-circuited, LLM post
    /// hooks: the non-streaming middle of a request.
    pub fn complete(
        &self,
        trip: &mut Trip,
        request: Value,
        provider: impl FnOnce(&Value) -> Reply,
    ) -> Reply {
        let reply = match self.llm_pre(trip, request) {
            LlmPre::Continue(request) => provider(&request),
            LlmPre::ShortCircuit(reply) => reply,
        };
        self.llm_post(trip, reply)
    }

    /// Instantiates again each plugin whose file changed; returns the names
    /// of those reloaded.
    pub fn reload_changed(&self) -> Vec<String> {
        self.members
            .iter()
            .filter(|m| m.reload_if_changed(&self.sink))
            .map(|m| m.spec.name.clone())
            .collect()
    }

    /// Calls every plugin's `cleanup`, as Bifrost does at shutdown.
    pub fn cleanup(&self) {
        for member in &self.members {
            member.cleanup(&self.sink);
        }
    }

    /// Calls one hook with the trip's context and `input`, timing it and
    /// taking the context it sends back.
    fn call(
        &self,
        member: &Member,
        hook: Hook,
        input: Inputs<'_>,
        trip: &mut Trip,
    ) -> Option<Passed> {
        if !member.has(hook) {
            return None;
        }
        let started = Instant::now();
        let input = Inputs {
            context: Some(trip.context_json()),
            ..input
        };
        let output = member.call(hook, input, &self.sink, &self.wait);
        trip.record(&member.spec.name, hook, started.elapsed());
        let mut output = output?;
        // A context sent back as it was sent (the SDK sends back a context
        // its hook left alone as the host's text) is not read again.
        let context = output.context.take();
        if let Some(context) = context.filter(|text| text != trip.context_json()) {
            let Some(Value::Object(context)) = self.read(member, hook, &context) else {
                return Some(output);
            };
            let refused = trip.take_context(context);
            if !refused.is_empty() {
                self.sink.emit(Event::ReservedContext {
                    plugin: member.spec.name.clone(),
                    hook,
                    keys: refused.iter().map(|k| k.to_string()).collect(),
                });
            }
        }
        Some(output)
    }

    /// A value a plugin passed on, parsed; when the host cannot take it (a
    /// number beyond `f64`, say), the plugin's hook error, and `None`.
    fn read(&self, member: &Member, hook: Hook, text: &[u8]) -> Option<Value> {
        match serde_json::from_slice(text) {
            Ok(value) => Some(value),
            Err(error) => {
                self.sink.emit(Event::HookError {
                    plugin: member.spec.name.clone(),
                    hook,
                    message: format!("its output could not be read: {error}"),
                });
                None
            }
        }
    }

    /// The value the hooks left, parsed once at the end: `None` when no
    /// plugin changed its text (or the last change cannot be read, which
    /// is that plugin's hook error).
    fn settle(&self, carried: Carried, hook: Hook) -> Option<Value> {
        let index = carried.changed_by?;
        if carried.text == carried.original {
            return None;
        }
        self.read(&self.members[index], hook, &carried.text)
    }
}

/// A value on its way through a chain's hooks, as JSON text: each plugin
/// is sent the text the previous one passed on, not a tree the host parsed
/// and wrote again.
struct Carried {
    /// The caller's value, written once.
    original: Vec<u8>,
    /// What the hooks left.
    text: Vec<u8>,
    /// The index of the plugin that last passed it on.
    changed_by: Option<usize>,
}

impl Carried {
    fn new(value: &Value) -> Self {
        let original = json_bytes(value);
        Carried {
            text: original.clone(),
            original,
            changed_by: None,
        }
    }

    fn pass(&mut self, text: Vec<u8>, by: usize) {
        self.text = text;
        self.changed_by = Some(by);
    }
}

/// Whether JSON text (as a plugin wrote a value, no space before it) is
/// an object.
fn is_object(text: &[u8]) -> bool {
    text.first() == Some(&b'{')
}

/// `{}`, with or without space inside: an error that is none.
fn is_empty_object(text: &[u8]) -> bool {
    text.first() == Some(&b'{')
        && text.last() == Some(&b'}')
        && text[1..text.len() - 1].iter().all(u8::is_ascii_whitespace)
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The context as JSON text.
fn context_json(context: &Map<String, Value>) -> Vec<u8> {
    serde_json::to_vec(context).unwrap_or_default()
}
