//! A local stand-in for the Bifrost WASM host: loads a plugin `.wasm` into a
//! real WebAssembly runtime (wasmi) and calls its exports exactly as
//! abi-spec.md says the host does: `plugin_malloc` each input, write it,
//! call the hook, unpack `(ptr << 32) | len`, read the output, then free (or
//! not) according to a [`FreeMode`].
//!
//! Used by the SDK's conformance tests; plugin authors can use it the same
//! way.
//!
//! ```no_run
//! use bifrost_plugin_host::{FreeMode, Guest};
//! let wasm = std::fs::read("build/hello-world.wasm").unwrap();
//! let mut guest = Guest::load(&wasm, FreeMode::All).unwrap();
//! assert_eq!(guest.init(b"{}").unwrap(), 0);
//! let out = guest.pre_hook(br#"{"request_id":"1"}"#, br#"{"model":"m"}"#).unwrap();
//! println!("{}", String::from_utf8_lossy(&out));
//! ```

use std::fmt;

use wasmi::{Engine, Instance, Linker, Memory, Module, Store, Val, ValType};

/// How the host treats the buffers it exchanges with the plugin. The real
/// host's behaviour is not public, so the SDK must be right under all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeMode {
    /// Frees every input after the call and the output after reading it.
    All,
    /// Frees the inputs only; outputs are left to the plugin.
    InputsOnly,
    /// Frees nothing.
    Nothing,
}

/// A failure of the host side: a missing export, a trap, an output that
/// cannot be read. The message names the export involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Result of host operations.
pub type Result<T> = std::result::Result<T, Error>;

/// The wasm type of one export: `func (params) -> (results)` or `memory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportType {
    /// A function with these parameter and result types.
    Func(Vec<ValType>, Vec<ValType>),
    /// A linear memory.
    Memory,
    /// A table or global.
    Other,
}

/// A loaded plugin instance.
pub struct Guest {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
    module: Module,
    free_mode: FreeMode,
}

impl Guest {
    /// Compiles and instantiates `wasm` with no imports, as the host does for
    /// a `wasm32-unknown-unknown` plugin.
    pub fn load(wasm: &[u8], free_mode: FreeMode) -> Result<Self> {
        let engine = Engine::default();
        let module =
            Module::new(&engine, wasm).map_err(|e| Error(format!("invalid module: {e}")))?;
        let mut store = Store::new(&engine, ());
        let linker = Linker::<()>::new(&engine);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| Error(format!("cannot instantiate: {e}")))?;
        let memory = instance
            .get_memory(&store, "memory")
            .ok_or_else(|| Error("the module does not export `memory`".into()))?;
        Ok(Guest {
            store,
            instance,
            memory,
            module,
            free_mode,
        })
    }

    /// Every export with its type, sorted by name.
    pub fn exports(&self) -> Vec<(String, ExportType)> {
        let mut exports: Vec<_> = self
            .module
            .exports()
            .map(|export| {
                let ty = match export.ty() {
                    wasmi::ExternType::Func(f) => {
                        ExportType::Func(f.params().to_vec(), f.results().to_vec())
                    }
                    wasmi::ExternType::Memory(_) => ExportType::Memory,
                    _ => ExportType::Other,
                };
                (export.name().to_string(), ty)
            })
            .collect();
        exports.sort_by(|a, b| a.0.cmp(&b.0));
        exports
    }

    /// Number of imports the module declares.
    pub fn import_count(&self) -> usize {
        self.module.imports().count()
    }

    /// The guest's linear memory size in bytes.
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
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
        let packed = self.call("get_name", &[])?;
        let bytes = self.read_packed("get_name", packed)?;
        String::from_utf8(bytes).map_err(|e| Error(format!("get_name: not UTF-8: {e}")))
    }

    /// Calls `init` with `config` (empty = pointer and length 0).
    pub fn init(&mut self, config: &[u8]) -> Result<i32> {
        let (ptr, len) = self.write_input("init", config)?;
        let status = self.call("init", &[ptr, len])?;
        self.free_inputs(&[(ptr, len)])?;
        Ok(status as i32)
    }

    /// Calls `cleanup`.
    pub fn cleanup(&mut self) -> Result<i32> {
        Ok(self.call("cleanup", &[])? as i32)
    }

    /// Calls `http_transport_intercept(ctx, req)` and returns its output.
    pub fn http_transport_intercept(&mut self, ctx: &[u8], req: &[u8]) -> Result<Vec<u8>> {
        self.hook("http_transport_intercept", &[ctx, req])
    }

    /// Calls `pre_hook(ctx, req)` and returns its output.
    pub fn pre_hook(&mut self, ctx: &[u8], req: &[u8]) -> Result<Vec<u8>> {
        self.hook("pre_hook", &[ctx, req])
    }

    /// Calls `post_hook(ctx, resp, err)` and returns its output.
    pub fn post_hook(&mut self, ctx: &[u8], resp: &[u8], err: &[u8]) -> Result<Vec<u8>> {
        self.hook("post_hook", &[ctx, resp, err])
    }

    /// Calls a multi-buffer hook: writes each input into a `plugin_malloc`ed
    /// buffer (an empty input is passed as pointer 0, length 0), calls
    /// `export`, reads the packed output and frees per the [`FreeMode`].
    pub fn hook(&mut self, export: &str, inputs: &[&[u8]]) -> Result<Vec<u8>> {
        let mut buffers = Vec::with_capacity(inputs.len());
        for input in inputs {
            buffers.push(self.write_input(export, input)?);
        }
        let args: Vec<i32> = buffers.iter().flat_map(|&(p, l)| [p, l]).collect();
        let packed = self.call(export, &args)?;
        let output = self.read_packed(export, packed)?;
        self.free_inputs(&buffers)?;
        if self.free_mode == FreeMode::All {
            self.free((packed >> 32) as u32)?;
        }
        Ok(output)
    }

    /// Calls `export` with raw `i32` arguments and returns its result (0 for
    /// none), so tests can pass any pointer the real host might.
    pub fn call(&mut self, export: &str, args: &[i32]) -> Result<i64> {
        let func = self
            .instance
            .get_func(&self.store, export)
            .ok_or_else(|| Error(format!("the module does not export `{export}`")))?;
        let params: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        let results_len = func.ty(&self.store).results().len();
        let mut results = vec![Val::I64(0); results_len];
        func.call(&mut self.store, &params, &mut results)
            .map_err(|e| Error(format!("`{export}` trapped: {e}")))?;
        Ok(match results.first() {
            Some(Val::I64(v)) => *v,
            Some(Val::I32(v)) => *v as i64,
            None => 0,
            Some(other) => return Err(Error(format!("`{export}` returned {other:?}"))),
        })
    }

    /// `plugin_malloc(size)`.
    pub fn malloc(&mut self, size: u32) -> Result<u32> {
        Ok(self.call("plugin_malloc", &[size as i32])? as u32)
    }

    /// `plugin_free(ptr)`.
    pub fn free(&mut self, ptr: u32) -> Result<()> {
        self.call("plugin_free", &[ptr as i32]).map(drop)
    }

    /// Reads `len` bytes at `ptr` of the guest's memory.
    pub fn read(&self, ptr: u32, len: u32) -> Result<Vec<u8>> {
        let mut bytes = vec![0; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut bytes)
            .map_err(|e| Error(format!("cannot read [{ptr}, +{len}): {e}")))?;
        Ok(bytes)
    }

    /// Writes `bytes` at `ptr` of the guest's memory.
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .map_err(|e| Error(format!("cannot write [{ptr}, +{}): {e}", bytes.len())))
    }

    /// Reads the output a packed `(ptr << 32) | len` result points at.
    pub fn read_packed(&self, export: &str, packed: i64) -> Result<Vec<u8>> {
        if packed == 0 {
            return Err(Error(format!("`{export}` returned 0 (no output)")));
        }
        let (ptr, len) = ((packed as u64 >> 32) as u32, packed as u32);
        self.read(ptr, len)
            .map_err(|e| Error(format!("`{export}` output: {e}")))
    }

    fn write_input(&mut self, export: &str, bytes: &[u8]) -> Result<(i32, i32)> {
        if bytes.is_empty() {
            return Ok((0, 0));
        }
        let len = u32::try_from(bytes.len()).map_err(|_| Error("input over 4 GiB".into()))?;
        let ptr = self.malloc(len)?;
        if ptr == 0 {
            return Err(Error(format!(
                "plugin_malloc({len}) failed before `{export}`"
            )));
        }
        self.write(ptr, bytes)?;
        Ok((ptr as i32, len as i32))
    }

    fn free_inputs(&mut self, buffers: &[(i32, i32)]) -> Result<()> {
        if self.free_mode == FreeMode::Nothing {
            return Ok(());
        }
        for &(ptr, _) in buffers.iter().filter(|(p, _)| *p != 0) {
            self.free(ptr as u32)?;
        }
        Ok(())
    }
}
