//! One plugin instance under the runtime the chain was asked for: wasmi (the
//! local host's interpreter, with WASI and captured log lines) or, with the
//! crate feature `jit`, wasmtime (compiled, as Bifrost's own host runs
//! plugins; `wasm32-wasip1` plugins stay on wasmi).

use std::fmt;
use std::str::FromStr;

use crate::abi::Abi;
use crate::error::{Error, Result};
use crate::guest::{FreeMode, Guest};
use crate::hook::{Hook, Inputs};
use crate::module::ModuleInfo;

/// Which WebAssembly runtime a chain runs its plugins on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Runtime {
    /// wasmi, an interpreter: starts at once, every plugin kind.
    #[default]
    Wasmi,
    /// wasmtime (Cranelift), compiled: some 30 times faster per call, a
    /// compile at load; only with the crate feature `jit`, and only for
    /// plugins that import nothing (the others stay on wasmi).
    Wasmtime,
}

impl Runtime {
    /// Whether this build can run it.
    pub fn available(self) -> bool {
        self == Runtime::Wasmi || cfg!(feature = "jit")
    }

    /// `wasmi` or `wasmtime`.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Wasmi => "wasmi",
            Runtime::Wasmtime => "wasmtime",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Runtime {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "wasmi" => Ok(Runtime::Wasmi),
            "wasmtime" => Ok(Runtime::Wasmtime),
            other => Err(format!(
                "unknown runtime `{other}` (expected wasmi or wasmtime)"
            )),
        }
    }
}

/// A loaded plugin instance, with the export of each hook looked up once.
pub(crate) struct Instance {
    engine: Engine,
    abi: Abi,
    /// The export implementing each hook, in [`Hook::ALL`]'s order.
    exports: [Option<&'static str>; 5],
}

/// The runtime holding the instance.
enum Engine {
    Wasmi(Box<Guest>),
    #[cfg(feature = "jit")]
    Jit(Box<super::jit::JitGuest>),
}

impl Instance {
    /// Instantiates `wasm` (not yet initialised) on `runtime`.
    pub fn load(wasm: &[u8], runtime: Runtime) -> Result<Self> {
        let (engine, abi) = match runtime {
            #[cfg(feature = "jit")]
            Runtime::Wasmtime if ModuleInfo::parse(wasm)?.imports().is_empty() => {
                let jit = super::jit::JitGuest::load(&jit_engine(), wasm)?;
                let abi = jit.abi();
                (Engine::Jit(Box::new(jit)), abi)
            }
            _ => {
                let guest = Guest::load(wasm, FreeMode::All)?;
                let abi = guest.abi().ok_or(Error::UnknownAbi)?;
                (Engine::Wasmi(Box::new(guest)), abi)
            }
        };
        let info = match &engine {
            Engine::Wasmi(guest) => guest.info(),
            #[cfg(feature = "jit")]
            Engine::Jit(jit) => jit.info(),
        };
        let exports = Hook::ALL.map(|hook| {
            hook.exports(abi)
                .iter()
                .copied()
                .find(|name| info.has_func(name))
        });
        Ok(Instance {
            engine,
            abi,
            exports,
        })
    }

    /// The runtime it actually runs on.
    pub fn runtime(&self) -> Runtime {
        match self.engine {
            Engine::Wasmi(_) => Runtime::Wasmi,
            #[cfg(feature = "jit")]
            Engine::Jit(_) => Runtime::Wasmtime,
        }
    }

    pub fn abi(&self) -> Abi {
        self.abi
    }

    fn info(&self) -> &ModuleInfo {
        match &self.engine {
            Engine::Wasmi(guest) => guest.info(),
            #[cfg(feature = "jit")]
            Engine::Jit(jit) => jit.info(),
        }
    }

    pub fn has_func(&self, name: &str) -> bool {
        self.info().has_func(name)
    }

    /// The export implementing `hook`, if the plugin has one.
    pub fn hook_export(&self, hook: Hook) -> Option<&'static str> {
        self.exports[hook_index(hook)]
    }

    pub fn init(&mut self, config: &[u8]) -> Result<i32> {
        match &mut self.engine {
            Engine::Wasmi(guest) => guest.init(config),
            #[cfg(feature = "jit")]
            Engine::Jit(jit) => jit.init(config),
        }
    }

    pub fn cleanup(&mut self) -> Result<i32> {
        match &mut self.engine {
            Engine::Wasmi(guest) => guest.cleanup(),
            #[cfg(feature = "jit")]
            Engine::Jit(jit) => Ok(jit.call("cleanup", &[])? as i32),
        }
    }

    /// Calls `hook` as the host does for the plugin's ABI and returns the
    /// export called and its output's bytes, unread; a single-input
    /// envelope is written in `scratch`.
    pub fn call_raw(
        &mut self,
        hook: Hook,
        input: Inputs<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(&'static str, Vec<u8>)> {
        let abi = self.abi;
        let export = self.hook_export(hook).ok_or_else(|| Error::MissingExport {
            export: hook.name().into(),
        })?;
        let raw = match &mut self.engine {
            Engine::Wasmi(guest) => match abi {
                Abi::Seed => guest.hook(export, &input.buffers(hook))?,
                Abi::SingleInput => {
                    input.write_envelope(hook, scratch);
                    guest.hook(export, &[scratch])?
                }
            },
            #[cfg(feature = "jit")]
            Engine::Jit(jit) => match abi {
                Abi::Seed => jit.hook(export, &input.buffers(hook))?,
                Abi::SingleInput => {
                    input.write_envelope(hook, scratch);
                    jit.hook(export, &[scratch])?
                }
            },
        };
        Ok((export, raw))
    }

    /// What the plugin printed since the last take (stdout, then stderr).
    pub fn take_printed(&mut self) -> [Vec<u8>; 2] {
        match &mut self.engine {
            Engine::Wasmi(guest) => [guest.take_stdout(), guest.take_stderr()],
            #[cfg(feature = "jit")]
            Engine::Jit(_) => [Vec::new(), Vec::new()],
        }
    }

    /// Why `init` failed, in the plugin's words.
    pub fn init_failure_reason(&mut self) -> Option<String> {
        match &mut self.engine {
            Engine::Wasmi(guest) => guest.init_failure_reason(),
            #[cfg(feature = "jit")]
            Engine::Jit(_) => {
                let input = crate::HookInput::new().with_context("{}");
                let (export, raw) = self
                    .call_raw(Hook::PostHook, input.inputs(), &mut Vec::new())
                    .ok()?;
                crate::HookOutput::parse(self.abi, Hook::PostHook, export, raw)
                    .ok()?
                    .init_failure_reason()
            }
        }
    }
}

/// `hook`'s place in [`Hook::ALL`].
pub(crate) fn hook_index(hook: Hook) -> usize {
    match hook {
        Hook::HttpPreHook => 0,
        Hook::PreHook => 1,
        Hook::PostHook => 2,
        Hook::HttpStreamChunkHook => 3,
        Hook::HttpPostHook => 4,
    }
}

/// One engine for every compiled plugin (it holds the compiler's settings
/// and caches).
#[cfg(feature = "jit")]
fn jit_engine() -> wasmtime::Engine {
    use std::sync::OnceLock;
    static ENGINE: OnceLock<wasmtime::Engine> = OnceLock::new();
    ENGINE.get_or_init(wasmtime::Engine::default).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hooks_index_is_its_place_in_the_list_of_all_hooks() {
        for (place, hook) in Hook::ALL.into_iter().enumerate() {
            assert_eq!(hook_index(hook), place, "{hook}");
        }
    }
}
