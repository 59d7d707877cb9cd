//! A loaded plugin instance and the byte-level protocol every hook shares:
//! allocate each input in the guest, write it, call, unpack
//! `(ptr << 32) | len`, read the output, free according to a [`FreeMode`].

use std::path::Path;

use wasmi::{Engine, Func, Instance, Linker, Memory, Module, Store, Val, ValType};

use crate::abi::{Abi, Signature};
use crate::alloc::Allocator;
use crate::error::{Error, Result};
use crate::module::{compile, ExportType, ModuleInfo};
use crate::wasi::{self, Clock, HostState, Wasi};

/// How the host treats the buffers it exchanges with the plugin. The real
/// host's behaviour is not public, so a plugin must be right under all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeMode {
    /// Frees every input after the call and the output after reading it.
    All,
    /// Frees the inputs only; outputs are left to the plugin.
    InputsOnly,
    /// Frees nothing.
    Nothing,
}

/// A plugin compiled once, for many fresh instances that count fuel (as
/// [`Guest::load_metered`]'s do): a test that stops a call at every
/// instruction needs a fresh instance for each. Compiled eagerly, so every
/// instance burns the same fuel for the same calls (a function compiled
/// lazily charges for its compilation at its first call).
pub struct MeteredPlugin {
    engine: Engine,
    module: Module,
    free_mode: FreeMode,
}

impl MeteredPlugin {
    /// Compiles `wasm` (binary or text).
    pub fn new(wasm: &[u8], free_mode: FreeMode) -> Result<Self> {
        let mut config = wasmi::Config::default();
        config.consume_fuel(true);
        config.compilation_mode(wasmi::CompilationMode::Eager);
        let engine = Engine::new(&config);
        let module = compile(&engine, wasm)?;
        Ok(MeteredPlugin {
            engine,
            module,
            free_mode,
        })
    }

    /// A fresh instance, with unlimited fuel.
    pub fn instantiate(&self) -> Result<Guest> {
        let mut guest = Guest::instantiate(&self.engine, &self.module, self.free_mode)?;
        guest.set_fuel(u64::MAX)?;
        Ok(guest)
    }
}

/// A loaded plugin instance.
pub struct Guest {
    store: Store<HostState>,
    wasi: Wasi,
    instance: Instance,
    memory: Memory,
    info: ModuleInfo,
    abi: Option<Abi>,
    allocator: Allocator,
    free_mode: FreeMode,
}

impl Guest {
    /// Compiles and instantiates `wasm` (binary or text) as the host does,
    /// and detects its ABI from its exports ([`Guest::abi`] is `None` if
    /// they show neither). A `wasm32-unknown-unknown` plugin imports
    /// nothing; a `wasm32-wasip1` plugin gets WASI preview 1 (wasmi's own,
    /// `wasmi_wasi`) with its stdout and stderr captured
    /// ([`Guest::take_stderr`]) and a clock the caller controls
    /// ([`Guest::clock`]). Any other import is refused, by name.
    pub fn load(wasm: &[u8], free_mode: FreeMode) -> Result<Self> {
        Self::load_on(Engine::default(), wasm, free_mode)
    }

    /// [`Guest::load`] on an engine that counts fuel (about one unit per
    /// instruction), so a test can stop a call at any instruction with
    /// [`Guest::set_fuel`], as a host's fuel or time limit would. Starts
    /// with unlimited fuel.
    pub fn load_metered(wasm: &[u8], free_mode: FreeMode) -> Result<Self> {
        let mut config = wasmi::Config::default();
        config.consume_fuel(true);
        let mut guest = Self::load_on(Engine::new(&config), wasm, free_mode)?;
        guest.set_fuel(u64::MAX)?;
        Ok(guest)
    }

    /// Fuel left before calls trap (only for a [`Guest::load_metered`]
    /// guest).
    pub fn fuel(&self) -> Result<u64> {
        self.store.get_fuel().map_err(|_| Error::NotMetered)
    }

    /// Sets the fuel the next calls may burn; a call that runs out traps
    /// (only for a [`Guest::load_metered`] guest).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.set_fuel(fuel).map_err(|_| Error::NotMetered)
    }

    fn load_on(engine: Engine, wasm: &[u8], free_mode: FreeMode) -> Result<Self> {
        let module = compile(&engine, wasm)?;
        Self::instantiate(&engine, &module, free_mode)
    }

    fn instantiate(engine: &Engine, module: &Module, free_mode: FreeMode) -> Result<Self> {
        let info = ModuleInfo::of(module);
        let unprovided = wasi::unprovided(info.imports());
        if !unprovided.is_empty() {
            let imports = unprovided.iter().map(ToString::to_string).collect();
            return Err(Error::Imports(imports));
        }
        let (wasi, state) = Wasi::new(Clock::default());
        let mut store = Store::new(engine, state);
        let mut linker = Linker::<HostState>::new(engine);
        if !info.imports().is_empty() {
            wasi::link(&mut linker)?;
        }
        let instance = linker
            .instantiate_and_start(&mut store, module)
            .map_err(|e| Error::Instantiate(e.to_string()))?;
        let memory = instance
            .get_memory(&store, "memory")
            .ok_or(Error::NoMemory)?;
        let abi = Abi::detect(&info);
        Ok(Guest {
            allocator: Allocator::resolve(&info, abi),
            store,
            wasi,
            instance,
            memory,
            info,
            abi,
            free_mode,
        })
    }

    /// [`Guest::load`], with the ABI given rather than detected.
    pub fn load_with_abi(wasm: &[u8], abi: Abi, free_mode: FreeMode) -> Result<Self> {
        let mut guest = Self::load(wasm, free_mode)?;
        guest.abi = Some(abi);
        guest.allocator = Allocator::resolve(&guest.info, Some(abi));
        Ok(guest)
    }

    /// Reads a `.wasm` (or `.wat`) file and [loads](Guest::load) it.
    pub fn from_file(path: impl AsRef<Path>, free_mode: FreeMode) -> Result<Self> {
        let path = path.as_ref();
        let wasm = std::fs::read(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::load(&wasm, free_mode)
    }

    /// The ABI the host speaks to this module, if known.
    pub fn abi(&self) -> Option<Abi> {
        self.abi
    }

    /// The module's declarations.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// Every export with its type, sorted by name.
    pub fn exports(&self) -> Vec<(String, ExportType)> {
        self.info.exports().to_vec()
    }

    /// Number of imports the module declares (0 for a
    /// `wasm32-unknown-unknown` plugin; WASI functions only, once loaded).
    pub fn import_count(&self) -> usize {
        self.info.imports().len()
    }

    /// The plugin's clock (WASI `clock_time_get`): real time until the
    /// caller fixes or moves it, so time windows test deterministically.
    pub fn clock(&self) -> &Clock {
        &self.wasi.clock
    }

    /// What the plugin wrote to stdout since the last take.
    pub fn take_stdout(&mut self) -> Vec<u8> {
        self.wasi.stdout.take()
    }

    /// What the plugin wrote to stderr (where the SDK logs) since the last
    /// take.
    pub fn take_stderr(&mut self) -> Vec<u8> {
        self.wasi.stderr.take()
    }

    /// The lines the plugin wrote to stderr since the last take (its log
    /// records, with the SDK's logger), without their line ends.
    pub fn take_log_lines(&mut self) -> Vec<String> {
        let stderr = self.take_stderr();
        String::from_utf8_lossy(&stderr)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The guest's linear memory size in bytes. It only grows: compare it
    /// before and after many calls to see a leak.
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// The value of the exported `i32` global `name` (a plugin exports
    /// `__heap_base` and `__data_end`), or `None`.
    pub fn global_i32(&self, name: &str) -> Option<i32> {
        match self
            .instance
            .get_global(&self.store, name)?
            .get(&self.store)
        {
            Val::I32(value) => Some(value),
            _ => None,
        }
    }

    /// Grows the guest's memory by `pages` (64 KiB each) from the host's
    /// side, as a host may before writing a large input; returns the new
    /// size in bytes.
    pub fn grow_memory(&mut self, pages: u64) -> Result<usize> {
        self.memory
            .grow(&mut self.store, pages)
            .map_err(|e| Error::Memory(format!("cannot grow memory by {pages} pages: {e}")))?;
        Ok(self.memory_size())
    }

    /// How buffers are freed.
    pub fn free_mode(&self) -> FreeMode {
        self.free_mode
    }

    /// Changes how buffers are freed from now on.
    pub fn set_free_mode(&mut self, free_mode: FreeMode) {
        self.free_mode = free_mode;
    }

    /// Calls `get_name` and reads the name.
    pub fn name(&mut self) -> Result<String> {
        self.check_signature("get_name", Signature::GET_NAME)?;
        let packed = self.call("get_name", &[])?;
        let bytes = self.read_packed("get_name", packed)?;
        String::from_utf8(bytes).map_err(|e| Error::OutputNotUtf8 {
            export: "get_name".into(),
            message: e.to_string(),
        })
    }

    /// Calls `init` with `config` (empty = pointer and length 0) and returns
    /// its status (0 = success).
    pub fn init(&mut self, config: &[u8]) -> Result<i32> {
        self.check_signature("init", Signature::INIT)?;
        let (ptr, len) = self.write_input("init", config)?;
        let status = self.call("init", &[ptr as i32, len as i32])?;
        self.free_inputs(&[(ptr, len)])?;
        Ok(status as i32)
    }

    /// Calls `cleanup` and returns its status (0 = success).
    pub fn cleanup(&mut self) -> Result<i32> {
        self.check_signature("cleanup", Signature::CLEANUP)?;
        Ok(self.call("cleanup", &[])? as i32)
    }

    /// Seed ABI: calls `http_transport_intercept(ctx, req)` and returns its output.
    pub fn http_transport_intercept(&mut self, ctx: &[u8], req: &[u8]) -> Result<Vec<u8>> {
        self.hook("http_transport_intercept", &[ctx, req])
    }

    /// Seed ABI: calls `pre_hook(ctx, req)` and returns its output.
    pub fn pre_hook(&mut self, ctx: &[u8], req: &[u8]) -> Result<Vec<u8>> {
        self.hook("pre_hook", &[ctx, req])
    }

    /// Seed ABI: calls `post_hook(ctx, resp, err)` and returns its output.
    pub fn post_hook(&mut self, ctx: &[u8], resp: &[u8], err: &[u8]) -> Result<Vec<u8>> {
        self.hook("post_hook", &[ctx, resp, err])
    }

    /// Calls a hook export with one buffer per input: writes each into a
    /// buffer from the guest's allocator (an empty input is passed as
    /// pointer 0, length 0), calls `export`, reads the packed output and
    /// frees per the [`FreeMode`]. Checks first that `export` has the type
    /// such a call needs.
    pub fn hook(&mut self, export: &str, inputs: &[&[u8]]) -> Result<Vec<u8>> {
        self.check_signature(export, Signature::hook(inputs.len()))?;
        let mut buffers = Vec::with_capacity(inputs.len());
        for input in inputs {
            buffers.push(self.write_input(export, input)?);
        }
        let args: Vec<i32> = buffers
            .iter()
            .flat_map(|&(p, l)| [p as i32, l as i32])
            .collect();
        let packed = self.call(export, &args)?;
        let output = self.read_packed(export, packed)?;
        self.free_inputs(&buffers)?;
        if self.free_mode == FreeMode::All {
            self.free_sized((packed as u64 >> 32) as u32, packed as u32)?;
        }
        Ok(output)
    }

    /// Calls `export` with raw `i32` arguments and returns its result (0 for
    /// none), so tests can pass any pointer the real host might.
    pub fn call(&mut self, export: &str, args: &[i32]) -> Result<i64> {
        let func = self.func(export)?;
        let ty = func.ty(&self.store);
        let fits = ty.params().len() == args.len()
            && ty.params().iter().all(|p| *p == ValType::I32)
            && matches!(ty.results(), [] | [ValType::I32 | ValType::I64]);
        if !fits {
            return Err(Error::WrongSignature {
                export: export.into(),
                expected: format!(
                    "a func of {} i32 parameter(s) returning nothing, i32 or i64",
                    args.len()
                ),
                found: ExportType::Func(ty.params().to_vec(), ty.results().to_vec()).to_string(),
            });
        }
        let params: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        let mut results = vec![Val::I64(0); ty.results().len()];
        func.call(&mut self.store, &params, &mut results)
            .map_err(|e| Error::Trap {
                export: export.into(),
                message: match e.i32_exit_status() {
                    Some(status) => format!("the plugin called WASI `proc_exit({status})`"),
                    None => e.to_string().trim_end().to_string(),
                },
            })?;
        Ok(match results.first() {
            Some(Val::I64(v)) => *v,
            Some(Val::I32(v)) => *v as i64,
            _ => 0,
        })
    }

    /// Allocates `size` bytes with the guest's allocator (`plugin_malloc`,
    /// or `malloc`; single-input prefers `malloc`, as the docs' host does).
    pub fn malloc(&mut self, size: u32) -> Result<u32> {
        let malloc = self.allocator.malloc;
        self.check_signature(malloc, Signature::MALLOC)?;
        Ok(self.call(malloc, &[size as i32])? as u32)
    }

    /// Frees `ptr` with the guest's free export (`plugin_free`, or `free`; a
    /// two-argument `free(ptr, size)` gets size 0: use [`Guest::free_sized`]
    /// when the size is known). Does nothing if the module exports none.
    pub fn free(&mut self, ptr: u32) -> Result<()> {
        self.free_sized(ptr, 0)
    }

    /// Frees the `size`-byte buffer at `ptr` with the guest's free export
    /// (`size` is passed only to a two-argument `free`).
    pub fn free_sized(&mut self, ptr: u32, size: u32) -> Result<()> {
        let Some(free) = self.allocator.free else {
            return Ok(());
        };
        let args = [ptr as i32, size as i32];
        let args = if free.sized { &args[..] } else { &args[..1] };
        self.call(free.name, args).map(drop)
    }

    /// Reads `len` bytes at `ptr` of the guest's memory.
    pub fn read(&self, ptr: u32, len: u32) -> Result<Vec<u8>> {
        let mut bytes = vec![0; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut bytes)
            .map_err(|e| Error::Memory(format!("cannot read [{ptr}, +{len}): {e}")))?;
        Ok(bytes)
    }

    /// Writes `bytes` at `ptr` of the guest's memory.
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .map_err(|e| Error::Memory(format!("cannot write [{ptr}, +{}): {e}", bytes.len())))
    }

    /// Reads the output a packed `(ptr << 32) | len` result points at; 0
    /// and outputs outside memory are errors naming `export`.
    pub fn read_packed(&self, export: &str, packed: i64) -> Result<Vec<u8>> {
        if packed == 0 {
            return Err(Error::NoOutput {
                export: export.into(),
            });
        }
        let (ptr, len) = ((packed as u64 >> 32) as u32, packed as u32);
        let memory_size = self.memory_size();
        if ptr as usize + len as usize > memory_size {
            return Err(Error::OutputOutOfBounds {
                export: export.into(),
                ptr,
                len,
                memory_size,
            });
        }
        self.read(ptr, len)
    }

    /// Fails with [`Error::WrongSignature`] unless `export` is a function of
    /// type `expected`.
    pub(crate) fn check_signature(&self, export: &str, expected: Signature) -> Result<()> {
        match self.info.export(export) {
            None => Err(Error::MissingExport {
                export: export.into(),
            }),
            Some(found) if !expected.matches(found) => Err(Error::WrongSignature {
                export: export.into(),
                expected: expected.to_string(),
                found: found.to_string(),
            }),
            Some(_) => Ok(()),
        }
    }

    fn func(&self, export: &str) -> Result<Func> {
        self.instance
            .get_func(&self.store, export)
            .ok_or_else(|| Error::MissingExport {
                export: export.into(),
            })
    }

    fn write_input(&mut self, export: &str, bytes: &[u8]) -> Result<(u32, u32)> {
        if bytes.is_empty() {
            return Ok((0, 0));
        }
        let len = u32::try_from(bytes.len())
            .map_err(|_| Error::Memory(format!("an input of `{export}` is over 4 GiB")))?;
        let ptr = self.malloc(len)?;
        if ptr == 0 {
            return Err(Error::AllocationFailed {
                allocator: self.allocator.malloc.into(),
                size: len,
                export: export.into(),
            });
        }
        self.write(ptr, bytes)?;
        Ok((ptr, len))
    }

    fn free_inputs(&mut self, buffers: &[(u32, u32)]) -> Result<()> {
        if self.free_mode == FreeMode::Nothing {
            return Ok(());
        }
        for &(ptr, len) in buffers.iter().filter(|(p, _)| *p != 0) {
            self.free_sized(ptr, len)?;
        }
        Ok(())
    }
}
