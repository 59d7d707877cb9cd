//! A plugin compiled by wasmtime (Cranelift), for chains that must be fast:
//! the same byte-level calls as [`Guest`](crate::Guest) under wasmi (each
//! input in a buffer from the plugin's allocator, the packed output read,
//! every buffer freed), without WASI (a `wasm32-wasip1` plugin stays on
//! wasmi).

use wasmtime::{Engine, Func, Instance, Memory, Module, Store, TypedFunc, Val, ValType};

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
    /// The exports called so far, each looked up (and typed) once.
    called: Vec<(String, Export)>,
}

/// An export as the host calls it: typed when its signature is one of the
/// ABI's (no argument vectors, no checks on every call), else untyped.
enum Export {
    /// `malloc(len) -> ptr`.
    OneToI32(TypedFunc<i32, i32>),
    /// Unsized `free(ptr)`.
    OneToNone(TypedFunc<i32, ()>),
    /// Sized `free(ptr, len)`.
    TwoToNone(TypedFunc<(i32, i32), ()>),
    /// A single-input hook or `init(ptr, len) -> packed`.
    TwoToI64(TypedFunc<(i32, i32), i64>),
    /// `init(ptr, len) -> status`.
    TwoToI32(TypedFunc<(i32, i32), i32>),
    /// Any other, and its number of results.
    Untyped(Func, usize),
}

impl Export {
    fn new(func: Func, store: &Store<()>) -> Self {
        let ty = func.ty(store);
        let params: Vec<ValType> = ty.params().collect();
        let results: Vec<ValType> = ty.results().collect();
        let is_i32 = |t: &ValType| matches!(t, ValType::I32);
        let typed = match (params.as_slice(), results.as_slice()) {
            ([p], [r]) if is_i32(p) && is_i32(r) => func.typed(store).ok().map(Export::OneToI32),
            ([p], []) if is_i32(p) => func.typed(store).ok().map(Export::OneToNone),
            ([p, q], rs) if is_i32(p) && is_i32(q) => match rs {
                [] => func.typed(store).ok().map(Export::TwoToNone),
                [ValType::I64] => func.typed(store).ok().map(Export::TwoToI64),
                [r] if is_i32(r) => func.typed(store).ok().map(Export::TwoToI32),
                _ => None,
            },
            _ => None,
        };
        typed.unwrap_or(Export::Untyped(func, results.len()))
    }
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
            called: Vec::new(),
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
        let found = self.export(export)?;
        let store = &mut self.store;
        // Borrowed, not cloned: a typed function holds its type, whose
        // clone and drop showed in the profile.
        let called = match (&self.called[found].1, args) {
            (Export::OneToI32(f), &[a]) => f.call(store, a).map(i64::from),
            (Export::OneToNone(f), &[a]) => f.call(store, a).map(|()| 0),
            (Export::TwoToNone(f), &[a, b]) => f.call(store, (a, b)).map(|()| 0),
            (Export::TwoToI64(f), &[a, b]) => f.call(store, (a, b)),
            (Export::TwoToI32(f), &[a, b]) => f.call(store, (a, b)).map(i64::from),
            (export, _) => Self::call_untyped(store, export, args),
        };
        called.map_err(|e| Error::Trap {
            export: export.into(),
            message: e.to_string(),
        })
    }

    /// The untyped way, for any signature (a wrong one is the call's error).
    fn call_untyped(store: &mut Store<()>, export: &Export, args: &[i32]) -> wasmtime::Result<i64> {
        let (func, results) = match export {
            Export::Untyped(func, results) => (*func, *results),
            Export::OneToI32(f) => (*f.func(), 1),
            Export::OneToNone(f) => (*f.func(), 0),
            Export::TwoToNone(f) => (*f.func(), 0),
            Export::TwoToI64(f) => (*f.func(), 1),
            Export::TwoToI32(f) => (*f.func(), 1),
        };
        let params: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        let mut results = vec![Val::I64(0); results];
        func.call(store, &params, &mut results)?;
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
        // In bounds (checked above): copied once, not zeroed first.
        let output = self.memory.data(&self.store)[ptr as usize..][..len as usize].to_vec();
        for (p, l) in buffers {
            self.free(p, l)?;
        }
        self.free(ptr, len)?;
        Ok(output)
    }

    /// The place in `called` of the export `name`, looked up the first
    /// time it is called.
    fn export(&mut self, name: &str) -> Result<usize> {
        if let Some(found) = self.called.iter().position(|(n, _)| n == name) {
            return Ok(found);
        }
        let func = self
            .instance
            .get_func(&mut self.store, name)
            .ok_or_else(|| Error::MissingExport {
                export: name.into(),
            })?;
        let export = Export::new(func, &self.store);
        self.called.push((name.to_string(), export));
        Ok(self.called.len() - 1)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A single-input plugin whose hook echoes its input (packed pointer
    /// and length) with a bump allocator, and exports of other signatures.
    const ECHO: &str = r#"(module
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 1024))
        (func (export "malloc") (param $len i32) (result i32)
            (local $ptr i32)
            (local.set $ptr (global.get $next))
            (global.set $next (i32.add (global.get $next) (local.get $len)))
            (local.get $ptr))
        (func (export "free") (param i32 i32))
        (func (export "http_pre_hook") (param $ptr i32) (param $len i32) (result i64)
            (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
                    (i64.extend_i32_u (local.get $len))))
        (func (export "three") (param i32 i32 i32) (result i32)
            (i32.add (local.get 0) (i32.add (local.get 1) (local.get 2))))
        (func (export "trap") (param i32) (result i32) unreachable))"#;

    fn echo() -> JitGuest {
        let wasm = wat::parse_str(ECHO).unwrap();
        JitGuest::load(&Engine::default(), &wasm).unwrap()
    }

    #[test]
    fn typed_and_untyped_exports_are_called_alike() {
        let mut guest = echo();
        assert_eq!(
            guest.hook("http_pre_hook", &[b"{\"a\":1}"]).unwrap(),
            b"{\"a\":1}"
        );
        assert_eq!(guest.hook("http_pre_hook", &[b"again"]).unwrap(), b"again");
        assert_eq!(guest.call("three", &[1, 2, 3]).unwrap(), 6);
        assert_eq!(guest.call("malloc", &[0]).unwrap(), 1024 + 7 + 5);
    }

    #[test]
    fn a_wrong_argument_count_a_trap_and_a_missing_export_are_errors() {
        let mut guest = echo();
        let wrong = guest.call("malloc", &[1, 2]).unwrap_err();
        assert!(
            matches!(&wrong, Error::Trap { export, .. } if export == "malloc"),
            "{wrong:?}"
        );
        let trap = guest.call("trap", &[1]).unwrap_err();
        assert!(
            matches!(&trap, Error::Trap { export, .. } if export == "trap"),
            "{trap:?}"
        );
        let missing = guest.call("absent", &[]).unwrap_err();
        assert!(matches!(&missing, Error::MissingExport { export } if export == "absent"));
    }
}
