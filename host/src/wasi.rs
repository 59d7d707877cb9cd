//! WASI preview 1 for `wasm32-wasip1` plugins, from wasmi's own
//! implementation (`wasmi_wasi`), set up as a test host wants it: the
//! plugin's stdout and stderr are captured (bounded), its clock is a
//! [`Clock`] the test can fix and move, and it gets no files, no
//! environment, no arguments. Any import outside `wasi_snapshot_preview1`
//! is refused by name.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use wasmi::{Engine, Linker, Module, Store};
use wasmi_wasi::wasi_common::pipe::WritePipe;
use wasmi_wasi::wasi_common::{Table, WasiClocks, WasiMonotonicClock, WasiSystemClock};
use wasmi_wasi::WasiCtx;

use crate::error::{Error, Result};
use crate::module::{type_name, ExportType, Import};

/// The import module of WASI preview 1: the only one a plugin may import from.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// How much of each of stdout and stderr is kept between two reads; the
/// rest is counted and reported, so a plugin that prints in a loop cannot
/// exhaust the host's memory.
pub const CAPTURE_LIMIT: usize = 1 << 20;

/// What a plugin's store holds: its WASI context.
pub(crate) struct HostState {
    wasi: WasiCtx,
}

/// The WASI side of one guest: its context and the host's handles on it.
pub(crate) struct Wasi {
    pub(crate) stdout: Capture,
    pub(crate) stderr: Capture,
    pub(crate) clock: Clock,
}

impl Wasi {
    /// A context with captured stdout/stderr and `clock`, and the handles.
    pub(crate) fn new(clock: Clock) -> (Self, HostState) {
        let (stdout, stderr) = (Capture::default(), Capture::default());
        let clocks = WasiClocks::new()
            .with_system(clock.clone())
            .with_monotonic(clock.clone());
        let ctx = WasiCtx::new(
            wasmi_wasi::sync::random_ctx(),
            clocks,
            wasmi_wasi::sync::sched::sched_ctx(),
            Table::new(),
        );
        ctx.set_stdout(Box::new(WritePipe::from_shared(stdout.0.clone())));
        ctx.set_stderr(Box::new(WritePipe::from_shared(stderr.0.clone())));
        let wasi = Wasi {
            stdout,
            stderr,
            clock,
        };
        (wasi, HostState { wasi: ctx })
    }
}

/// Adds WASI preview 1 to `linker`.
pub(crate) fn link(linker: &mut Linker<HostState>) -> Result<()> {
    wasmi_wasi::add_to_linker(linker, |state: &mut HostState| &mut state.wasi)
        .map_err(|e| Error::Instantiate(format!("cannot link WASI: {e}")))
}

/// The imports the host does not provide: anything outside
/// `wasi_snapshot_preview1`, and any name or type there that WASI preview 1
/// does not have. Each is tried against the real WASI linker.
pub(crate) fn unprovided(imports: &[Import]) -> Vec<Import> {
    if imports.is_empty() {
        return Vec::new();
    }
    let engine = Engine::default();
    let (_, state) = Wasi::new(Clock::default());
    let mut store = Store::new(&engine, state);
    let mut linker = Linker::new(&engine);
    let linked = link(&mut linker).is_ok();
    imports
        .iter()
        .filter(|import| !(linked && provided(&engine, &mut store, &linker, import)))
        .cloned()
        .collect()
}

fn provided(
    engine: &Engine,
    store: &mut Store<HostState>,
    linker: &Linker<HostState>,
    import: &Import,
) -> bool {
    let ExportType::Func(params, results) = &import.ty else {
        return false;
    };
    // WASI's names are snake_case: anything else is not one of them (and
    // would need escaping in the probe below).
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if import.module != WASI_MODULE || !plain(&import.name) {
        return false;
    }
    let list = |types: &[wasmi::ValType]| {
        let names: Vec<&str> = types.iter().map(|t| type_name(*t)).collect();
        names.join(" ")
    };
    let probe = format!(
        "(module (import \"{WASI_MODULE}\" \"{}\" (func (param {}) (result {}))))",
        import.name,
        list(params),
        list(results)
    );
    Module::new(engine, probe.as_bytes())
        .and_then(|module| linker.instantiate_and_start(&mut *store, &module))
        .is_ok()
}

/// A stream the plugin writes (stdout or stderr), kept for the host to read.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<RwLock<Captured>>);

#[derive(Default)]
pub(crate) struct Captured {
    bytes: Vec<u8>,
    dropped: usize,
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = CAPTURE_LIMIT.saturating_sub(self.bytes.len());
        let kept = buf.len().min(room);
        self.bytes.extend_from_slice(&buf[..kept]);
        self.dropped += buf.len() - kept;
        // Everything is accepted: a plugin is never told its output failed.
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Everything written since the last take; if more than
    /// [`CAPTURE_LIMIT`] was written, a last line says how much was dropped.
    pub(crate) fn take(&self) -> Vec<u8> {
        let mut captured = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let mut bytes = std::mem::take(&mut captured.bytes);
        let dropped = std::mem::take(&mut captured.dropped);
        if dropped > 0 {
            let marker =
                format!("\n[host: {dropped} more bytes dropped, over the capture limit]\n");
            bytes.extend_from_slice(marker.as_bytes());
        }
        bytes
    }
}

/// The plugin's clock: real time until a test [fixes](Clock::set) or
/// [moves](Clock::advance) it, then frozen except for what the test does.
/// Both the real-time and the monotonic WASI clocks follow it. Clones share
/// the one clock.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use bifrost_plugin_host::Clock;
/// let clock = Clock::default();
/// clock.set(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(clock.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_061));
/// ```
#[derive(Clone, Default, Debug)]
pub struct Clock(Arc<Mutex<Option<Fixed>>>);

#[derive(Debug, Clone, Copy)]
struct Fixed {
    wall: SystemTime,
    monotonic: Instant,
}

impl Clock {
    /// The time the plugin reads now.
    pub fn now(&self) -> SystemTime {
        self.fixed().map_or_else(SystemTime::now, |f| f.wall)
    }

    /// Freezes the plugin's time at `at`.
    pub fn set(&self, at: SystemTime) {
        let monotonic = self.monotonic();
        *self.lock() = Some(Fixed {
            wall: at,
            monotonic,
        });
    }

    /// Moves the plugin's time forward by `by` (freezing it first at the
    /// real time if it was not fixed).
    pub fn advance(&self, by: Duration) {
        let mut fixed = self.lock();
        let f = fixed.get_or_insert_with(|| Fixed {
            wall: SystemTime::now(),
            monotonic: Instant::now(),
        });
        f.wall += by;
        f.monotonic += by;
    }

    fn monotonic(&self) -> Instant {
        self.fixed().map_or_else(Instant::now, |f| f.monotonic)
    }

    fn fixed(&self) -> Option<Fixed> {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Fixed>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

const RESOLUTION: Duration = Duration::from_micros(1);

impl WasiSystemClock for Clock {
    fn resolution(&self) -> Duration {
        RESOLUTION
    }

    fn now(&self, _precision: Duration) -> cap_std::time::SystemTime {
        cap_std::time::SystemTime::from_std(Clock::now(self))
    }
}

impl WasiMonotonicClock for Clock {
    fn resolution(&self) -> Duration {
        RESOLUTION
    }

    fn now(&self, _precision: Duration) -> cap_std::time::Instant {
        cap_std::time::Instant::from_std(self.monotonic())
    }
}
