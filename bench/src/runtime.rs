//! The runtimes a plugin is timed under, behind one interface: wasmi (the
//! `host/` crate's `Guest`, an interpreter) and, with `--features jit`,
//! wasmtime (Cranelift, a compiling runtime like the wazero compiler a Go
//! host most likely uses).

use bifrost_plugin_host::{FreeMode, Guest};

/// A loaded, initialised plugin that hooks can be called on as the host
/// calls them: inputs written into buffers from the guest's allocator, the
/// output read, everything freed.
pub trait Runtime {
    /// Calls `export` with one buffer per input and returns its output.
    fn hook(&mut self, export: &str, inputs: &[&[u8]]) -> Result<Vec<u8>, String>;
}

/// Which runtime, as named in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Wasmi,
    #[cfg(feature = "jit")]
    Wasmtime,
}

impl Engine {
    /// The runtimes this build of the bench has.
    pub fn all() -> Vec<Engine> {
        vec![
            Engine::Wasmi,
            #[cfg(feature = "jit")]
            Engine::Wasmtime,
        ]
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Wasmi => "wasmi",
            #[cfg(feature = "jit")]
            Engine::Wasmtime => "wasmtime",
        }
    }

    /// Loads `wasm` and calls `init(config)`, which must succeed.
    pub fn load(self, wasm: &[u8], config: &[u8]) -> Result<Box<dyn Runtime>, String> {
        match self {
            Engine::Wasmi => Ok(Box::new(wasmi_guest(wasm, config)?)),
            #[cfg(feature = "jit")]
            Engine::Wasmtime => Ok(Box::new(crate::jit::JitGuest::load(wasm, config)?)),
        }
    }
}

/// A wasmi guest that frees everything, initialised with `config`.
pub fn wasmi_guest(wasm: &[u8], config: &[u8]) -> Result<Guest, String> {
    let mut guest = Guest::load(wasm, FreeMode::All).map_err(|e| e.to_string())?;
    match guest.init(config).map_err(|e| e.to_string())? {
        0 => Ok(guest),
        status => Err(format!("init returned {status}")),
    }
}

impl Runtime for Guest {
    fn hook(&mut self, export: &str, inputs: &[&[u8]]) -> Result<Vec<u8>, String> {
        Guest::hook(self, export, inputs).map_err(|e| e.to_string())
    }
}
