//! What a chain reports as it runs: plugins' log lines, hook errors, traps,
//! and (when tracing) every hook's input and output. A [`Sink`] receives
//! them; `serve` prints them, tests collect them.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::hook::Hook;

/// Something worth telling the person running the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A line the plugin wrote (its log records, on wasm32-wasip1).
    PluginLine {
        /// The plugin's configured name.
        plugin: String,
        /// The line, without its end.
        line: String,
    },
    /// A hook reported an error, or its output could not be used: the
    /// request went on as if the hook had passed it through.
    HookError {
        /// The plugin's configured name.
        plugin: String,
        /// The hook.
        hook: Hook,
        /// The plugin's message or the host's reason.
        message: String,
    },
    /// A hook trapped: the plugin was instantiated again with its config,
    /// and the request went on as if the hook had passed it through.
    Trap {
        /// The plugin's configured name.
        plugin: String,
        /// The hook.
        hook: Hook,
        /// The trap.
        message: String,
    },
    /// A hook sent back the context with reserved keys set, changed or
    /// removed ([`RESERVED_CONTEXT_KEYS`](super::RESERVED_CONTEXT_KEYS)):
    /// those writes were dropped, as Bifrost drops them, and the rest of the
    /// context taken.
    ReservedContext {
        /// The plugin's configured name.
        plugin: String,
        /// The hook.
        hook: Hook,
        /// The reserved keys it tried to write.
        keys: Vec<String>,
    },
    /// A hook's input and output (only when tracing).
    Trace {
        /// The plugin's configured name.
        plugin: String,
        /// The hook.
        hook: Hook,
        /// What it was sent.
        input: String,
        /// What it returned.
        output: String,
    },
    /// Anything else (a reload, a failed cleanup).
    Notice(String),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::PluginLine { plugin, line } => write!(f, "[{plugin}] {line}"),
            Event::HookError {
                plugin,
                hook,
                message,
            } => write!(f, "[{plugin}] {hook} error (passed through): {message}"),
            Event::Trap {
                plugin,
                hook,
                message,
            } => write!(
                f,
                "[{plugin}] {hook} trapped (plugin instantiated again, passed through): {message}"
            ),
            Event::ReservedContext { plugin, hook, keys } => write!(
                f,
                "[{plugin}] {hook} wrote reserved context keys (dropped, as Bifrost does): {}",
                keys.join(", ")
            ),
            Event::Trace {
                plugin,
                hook,
                input,
                output,
            } => write!(
                f,
                "[{plugin}] {hook} <- {input}\n[{plugin}] {hook} -> {output}"
            ),
            Event::Notice(message) => f.write_str(message),
        }
    }
}

type Receiver = dyn Fn(Event) + Send + Sync;

/// Where events go, and whether traces are wanted.
#[derive(Clone)]
pub struct Sink {
    receiver: Arc<Receiver>,
    tracing: bool,
}

impl Sink {
    /// Sends each event to `receiver`.
    pub fn new(receiver: impl Fn(Event) + Send + Sync + 'static) -> Self {
        Sink {
            receiver: Arc::new(receiver),
            tracing: false,
        }
    }

    /// Prints each event on stderr.
    pub fn stderr() -> Self {
        Sink::new(|event| eprintln!("{event}"))
    }

    /// Collects events into a list (for tests), returned alongside.
    pub fn collect() -> (Self, Arc<Mutex<Vec<Event>>>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&events);
        let sink =
            Sink::new(move |event| into.lock().unwrap_or_else(|e| e.into_inner()).push(event));
        (sink, events)
    }

    /// Also reports every hook's input and output.
    pub fn with_tracing(mut self, tracing: bool) -> Self {
        self.tracing = tracing;
        self
    }

    /// Whether traces are wanted.
    pub fn tracing(&self) -> bool {
        self.tracing
    }

    /// Reports `event`.
    pub fn emit(&self, event: Event) {
        (self.receiver)(event)
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("tracing", &self.tracing)
            .finish()
    }
}
