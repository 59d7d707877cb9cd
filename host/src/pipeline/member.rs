//! One plugin of a chain: its instance behind a lock (a plugin instance runs
//! one call at a time, as Bifrost's single instance per plugin does), and
//! what the chain does when a call goes wrong: a trap is logged and the
//! plugin instantiated again with its config, any failure is logged, and the
//! hook counts as having passed its inputs through.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::SystemTime;

use crate::abi::Abi;
use crate::error::{Error, Result};
use crate::hook::{Hook, Inputs};

use super::events::{Event, Sink};
use super::instance::{hook_index, Instance, Runtime};
use super::order::Placement;
use super::passed::Passed;
use super::Wait;

/// A plugin as Bifrost's config lists it (`plugins[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    /// The name the config gives it (the plugin's log lines carry it).
    pub name: String,
    /// The `.wasm` file.
    pub path: PathBuf,
    /// The config passed to `init`, as JSON text (empty: none).
    pub config: Vec<u8>,
    /// Its group.
    pub placement: Placement,
    /// Its rank in the group (lower first).
    pub order: i64,
}

impl PluginSpec {
    /// A post-builtin plugin of order 0 with no config.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        PluginSpec {
            name: name.into(),
            path: path.into(),
            config: Vec::new(),
            placement: Placement::default(),
            order: 0,
        }
    }

    /// Sets the config passed to `init`.
    pub fn with_config(mut self, json: impl Into<Vec<u8>>) -> Self {
        self.config = json.into();
        self
    }

    /// Sets the placement and order.
    pub fn placed(mut self, placement: Placement, order: i64) -> Self {
        self.placement = placement;
        self.order = order;
        self
    }
}

/// A loaded, initialised plugin of a chain.
pub(crate) struct Member {
    pub spec: PluginSpec,
    pub abi: Abi,
    /// The runtime it runs on (wasm32-wasip1 plugins stay on wasmi).
    pub runtime: Runtime,
    /// The runtime the chain asked for.
    wanted: Runtime,
    /// The hooks the current instance exports, one bit each (in
    /// [`Hook::ALL`]'s order): a hook it lacks is skipped without waiting
    /// for the lock.
    hooks: AtomicU8,
    slot: Mutex<Slot>,
}

struct Slot {
    guest: Instance,
    /// Where each call's envelope is written (its room kept).
    scratch: Vec<u8>,
    /// The file's modification time when it was loaded (for `--watch`).
    modified: Option<SystemTime>,
}

impl Slot {
    fn new(guest: Instance, modified: Option<SystemTime>) -> Self {
        Slot {
            guest,
            scratch: Vec::new(),
            modified,
        }
    }
}

impl Member {
    /// Reads, instantiates and initialises the plugin; the error says why in
    /// the plugin's own words when `init` fails.
    pub fn load(spec: PluginSpec, runtime: Runtime, sink: &Sink) -> Result<Self> {
        let (guest, modified) = instantiate(&spec, runtime, sink)?;
        Ok(Member {
            spec,
            abi: guest.abi(),
            runtime: guest.runtime(),
            wanted: runtime,
            hooks: AtomicU8::new(hook_bits(&guest)),
            slot: Mutex::new(Slot::new(guest, modified)),
        })
    }

    /// Whether the plugin exports `hook`.
    pub fn has(&self, hook: Hook) -> bool {
        self.hooks.load(Ordering::Relaxed) & (1 << hook_index(hook)) != 0
    }

    /// Calls `hook`; `None` when it did not give a usable output (the
    /// reason is logged): the caller goes on as if it passed its inputs
    /// through. Also `None`, silently, when the plugin lacks the hook.
    /// When another request is calling the plugin, `wait` runs the wait
    /// for it (see [`Pipeline::waiting_with`](super::Pipeline::waiting_with)).
    pub fn call(&self, hook: Hook, input: Inputs<'_>, sink: &Sink, wait: &Wait) -> Option<Passed> {
        let mut slot = self.lock_waiting(wait);
        slot.guest.hook_export(hook)?;
        let abi = slot.guest.abi();
        let Slot { guest, scratch, .. } = &mut *slot;
        let called = guest.call_raw(hook, input, scratch);
        self.forward_log_lines(&mut slot.guest, sink);
        if sink.tracing() {
            let shown = match &called {
                Ok((_, raw)) => String::from_utf8_lossy(raw).into_owned(),
                Err(error) => format!("(failed: {error})"),
            };
            sink.emit(Event::Trace {
                plugin: self.spec.name.clone(),
                hook,
                input: String::from_utf8_lossy(&trace_input(self.abi, hook, input)).into_owned(),
                output: shown,
            });
        }
        let read = called.and_then(|(export, raw)| Passed::read(abi, hook, export, raw));
        match read {
            Ok(mut output) => match output.plugin_error.take() {
                Some(message) => {
                    sink.emit(Event::HookError {
                        plugin: self.spec.name.clone(),
                        hook,
                        message,
                    });
                    None
                }
                None => Some(output),
            },
            Err(error @ Error::Trap { .. }) => {
                sink.emit(Event::Trap {
                    plugin: self.spec.name.clone(),
                    hook,
                    message: error.to_string(),
                });
                // A trapped instance's state is gone: start it afresh.
                match instantiate(&self.spec, self.wanted, sink) {
                    Ok((guest, modified)) => self.replace(&mut slot, Slot::new(guest, modified)),
                    Err(error) => sink.emit(Event::Notice(format!(
                        "plugin `{}` could not be instantiated again: {error}",
                        self.spec.name
                    ))),
                }
                None
            }
            Err(error) => {
                sink.emit(Event::HookError {
                    plugin: self.spec.name.clone(),
                    hook,
                    message: error.to_string(),
                });
                None
            }
        }
    }

    /// Instantiates the plugin again if its file changed since it was
    /// loaded; the old instance stays when the new one fails. Returns
    /// whether it was replaced.
    pub fn reload_if_changed(&self, sink: &Sink) -> bool {
        let modified = modified(&self.spec.path);
        if modified.is_none() || modified == self.lock().modified {
            return false;
        }
        match instantiate(&self.spec, self.wanted, sink) {
            Ok((guest, modified)) => {
                let mut slot = self.lock();
                cleanup(&self.spec.name, &mut slot.guest, sink);
                self.replace(&mut slot, Slot::new(guest, modified));
                sink.emit(Event::Notice(format!(
                    "plugin `{}` reloaded from {}",
                    self.spec.name,
                    self.spec.path.display()
                )));
                true
            }
            Err(error) => {
                // Do not retry the same broken file on every poll.
                self.lock().modified = modified;
                sink.emit(Event::Notice(format!(
                    "plugin `{}` not reloaded: {error}",
                    self.spec.name
                )));
                false
            }
        }
    }

    /// Calls the plugin's `cleanup`, as the host does at shutdown.
    pub fn cleanup(&self, sink: &Sink) {
        let mut slot = self.lock();
        cleanup(&self.spec.name, &mut slot.guest, sink);
    }

    /// Puts a new instance in the slot (held locked).
    fn replace(&self, slot: &mut Slot, new: Slot) {
        self.hooks.store(hook_bits(&new.guest), Ordering::Relaxed);
        *slot = new;
    }

    /// The lock at once if it is free, else through `wait`.
    fn lock_waiting(&self, wait: &Wait) -> MutexGuard<'_, Slot> {
        match self.slot.try_lock() {
            Ok(slot) => slot,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                let mut slot = None;
                wait(&mut || slot = Some(self.lock()));
                slot.unwrap_or_else(|| self.lock())
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A plugin call never panics while holding the lock (traps are
        // errors), so a poisoned lock still guards a usable instance.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn forward_log_lines(&self, guest: &mut Instance, sink: &Sink) {
        forward_log_lines(&self.spec.name, guest, sink);
    }
}

/// The hooks `guest` exports, one bit each.
fn hook_bits(guest: &Instance) -> u8 {
    Hook::ALL
        .iter()
        .filter(|hook| guest.hook_export(**hook).is_some())
        .fold(0, |bits, hook| bits | 1 << hook_index(*hook))
}

/// What the plugin was sent, for `--trace`: the envelope, or the seed
/// buffers one per line.
fn trace_input(abi: Abi, hook: Hook, input: Inputs<'_>) -> Vec<u8> {
    match abi {
        Abi::SingleInput => {
            let mut envelope = Vec::new();
            input.write_envelope(hook, &mut envelope);
            envelope
        }
        Abi::Seed => input.buffers(hook).join(&b'\n'),
    }
}

fn forward_log_lines(name: &str, guest: &mut Instance, sink: &Sink) {
    for printed in guest.take_printed() {
        for line in String::from_utf8_lossy(&printed).lines() {
            sink.emit(Event::PluginLine {
                plugin: name.to_string(),
                line: line.to_string(),
            });
        }
    }
}

fn cleanup(name: &str, guest: &mut Instance, sink: &Sink) {
    if !guest.has_func("cleanup") {
        return;
    }
    let status = guest.cleanup();
    forward_log_lines(name, guest, sink);
    match status {
        Ok(0) => {}
        Ok(status) => sink.emit(Event::Notice(format!(
            "plugin `{name}`: cleanup returned {status}"
        ))),
        Err(error) => sink.emit(Event::Notice(format!("plugin `{name}`: {error}"))),
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Loads the file on `runtime` and runs `init` with the spec's config.
fn instantiate(
    spec: &PluginSpec,
    runtime: Runtime,
    sink: &Sink,
) -> Result<(Instance, Option<SystemTime>)> {
    let modified = modified(&spec.path);
    let wasm = std::fs::read(&spec.path).map_err(|e| Error::Io {
        path: spec.path.clone(),
        message: e.to_string(),
    })?;
    let mut guest = Instance::load(&wasm, runtime)?;
    if guest.has_func("init") {
        let status = guest.init(&spec.config);
        forward_log_lines(&spec.name, &mut guest, sink);
        match status? {
            0 => {}
            status => {
                let reason = guest
                    .init_failure_reason()
                    .unwrap_or_else(|| "the plugin gave no reason".into());
                return Err(Error::Init {
                    status,
                    message: reason,
                });
            }
        }
    }
    Ok((guest, modified))
}
