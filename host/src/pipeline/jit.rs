//! A plugin compiled by wasmtime (Cranelift), for chains that must be fast:
//! the same byte-level calls as [`Guest`](crate::Guest) under wasmi (each
//! input in a buffer from the plugin's allocator, the packed output read,
//! every buffer freed), without WASI (a `wasm32-wasip1` plugin stays on
//! wasmi).

use wasmtime::{Engine, Func, Instance, Memory, Module, Store, Val};

use crate::abi::Abi;
use crate::alloc::Allocator;
use crate::error::{Error, Result};
use crate::module::ModuleInfo;

/// A compiled, instantiated plugin.
pub(crate) struct JitGuest {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
    allocator: Allocator,
    info: ModuleInfo,
    abi: Abi,
}

impl JitGuest {
    /// Compiles and instantiates `wasm` on `engine`; it must import nothing
    /// and show its ABI.
    pub fn load(engine: &Engine, wasm: &[u8]) -> Result<Self> {
        let info = ModuleInfo::parse(wasm)?;
        if !info.imports().is_empty() {
            let imports = info.imports().iter().map(ToString::to_string).collect();
            return Err(Error::Imports(imports));
        }
        let abi = Abi::detect(&info).ok_or(Error::UnknownAbi)?;
        let module = Module::new(engine, wasm).map_err(|e| Error::InvalidModule(e.to_string()))?;
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module, &[])
            .map_err(|e| Error::Instantiate(e.to_string()))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or(Error::NoMemory)?;
        Ok(JitGuest {
            allocator: Allocator::resolve(&info, Some(abi)),
            store,
            instance,
            memory,
            info,
            abi,
        })
    }

    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    pub fn abi(&self) -> Abi {
        self.abi
    }

    /// Calls `export` with `i32` arguments; its `i64`/`i32` result, or 0.
    pub fn call(&mut self, export: &str, args: &[i32]) -> Result<i64> {
        let func = self.func(export)?;
        let params: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        let mut results = vec![Val::I64(0); func.ty(&self.store).results().len()];
        func.call(&mut self.store, &params, &mut results)
            .map_err(|e| Error::Trap {
                export: export.into(),
                message: e.to_string(),
            })?;
        Ok(match results.first() {
            Some(Val::I64(v)) => *v,
            Some(Val::I32(v)) => i64::from(*v),
            _ => 0,
        })
    }

    /// `init(config)`'s status.
    pub fn init(&mut self, config: &[u8]) -> Result<i32> {
        let (ptr, len) = self.write_input("init", config)?;
        let status = self.call("init", &[ptr as i32, len as i32])?;
        self.free(ptr, len)?;
        Ok(status as i32)
    }

    /// A hook call: inputs written, the output read, every buffer freed.
    pub fn hook(&mut self, export: &str, inputs: &[&[u8]]) -> Result<Vec<u8>> {
        let mut buffers = Vec::with_capacity(inputs.len());
        for input in inputs {
            buffers.push(self.write_input(export, input)?);
        }
        let args: Vec<i32> = buffers
            .iter()
            .flat_map(|&(p, l)| [p as i32, l as i32])
            .collect();
        let packed = self.call(export, &args)?;
        if packed == 0 {
            return Err(Error::NoOutput {
                export: export.into(),
            });
        }
        let (ptr, len) = ((packed as u64 >> 32) as u32, packed as u32);
        let memory_size = self.memory.data_size(&self.store);
        if ptr as usize + len as usize > memory_size {
            return Err(Error::OutputOutOfBounds {
                export: export.into(),
                ptr,
                len,
                memory_size,
            });
        }
        let mut output = vec![0; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut output)
            .map_err(|e| Error::Memory(e.to_string()))?;
        for (p, l) in buffers {
            self.free(p, l)?;
        }
        self.free(ptr, len)?;
        Ok(output)
    }

    fn func(&mut self, export: &str) -> Result<Func> {
        self.instance
            .get_func(&mut self.store, export)
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
        let ptr = self.call(self.allocator.malloc, &[len as i32])? as u32;
        if ptr == 0 {
            return Err(Error::AllocationFailed {
                allocator: self.allocator.malloc.into(),
                size: len,
                export: export.into(),
            });
        }
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .map_err(|e| Error::Memory(e.to_string()))?;
        Ok((ptr, len))
    }

    fn free(&mut self, ptr: u32, len: u32) -> Result<()> {
        let Some(free) = &self.allocator.free else {
            return Ok(());
        };
        if ptr == 0 {
            return Ok(());
        }
        let (name, sized) = (free.name, free.sized);
        let args = [ptr as i32, len as i32];
        self.call(name, if sized { &args[..] } else { &args[..1] })
            .map(drop)
    }
}
