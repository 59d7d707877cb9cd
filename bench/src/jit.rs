//! Plugins under wasmtime (Cranelift), called as `host/src` calls them under
//! wasmi: each input in a buffer from the guest's allocator, the packed
//! output read, all buffers freed.

use std::collections::HashMap;

use wasmtime::{Engine, Func, Instance, Memory, Module, Store, Val};

use crate::runtime::Runtime;

/// A plugin instantiated under wasmtime.
pub struct JitGuest {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
    malloc: Func,
    /// The free export, and whether it takes the size too (`free(ptr, size)`).
    free: (Func, bool),
    hooks: HashMap<String, Func>,
}

impl JitGuest {
    /// Instantiates `wasm` and calls `init(config)`, which must return 0.
    pub fn load(wasm: &[u8], config: &[u8]) -> Result<Self, String> {
        let engine = Engine::default();
        let module = Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).map_err(|e| e.to_string())?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or("no memory export")?;
        // The seed ABI's names first, then the public Rust example's.
        let find = |store: &mut Store<()>, names: [&str; 2]| {
            names
                .iter()
                .find_map(|name| instance.get_func(&mut *store, name))
                .ok_or_else(|| format!("no `{}` export", names[0]))
        };
        let malloc = find(&mut store, ["plugin_malloc", "malloc"])?;
        let free = find(&mut store, ["plugin_free", "free"])?;
        let sized = free.ty(&store).params().len() == 2;
        let mut guest = JitGuest {
            store,
            instance,
            memory,
            malloc,
            free: (free, sized),
            hooks: HashMap::new(),
        };
        let init = guest.func("init")?;
        let (ptr, len) = guest.write_input(config)?;
        let mut status = [Val::I32(0)];
        init.call(
            &mut guest.store,
            &[Val::I32(ptr), Val::I32(len)],
            &mut status,
        )
        .map_err(|e| e.to_string())?;
        guest.free(ptr, len)?;
        match status[0].unwrap_i32() {
            0 => Ok(guest),
            status => Err(format!("init returned {status}")),
        }
    }

    fn func(&mut self, name: &str) -> Result<Func, String> {
        if let Some(func) = self.hooks.get(name) {
            return Ok(*func);
        }
        let func = self
            .instance
            .get_func(&mut self.store, name)
            .ok_or_else(|| format!("no `{name}` export"))?;
        self.hooks.insert(name.to_string(), func);
        Ok(func)
    }

    fn free(&mut self, ptr: i32, len: i32) -> Result<(), String> {
        let (free, sized) = self.free;
        let args = [Val::I32(ptr), Val::I32(len)];
        let args = if sized { &args[..] } else { &args[..1] };
        free.call(&mut self.store, args, &mut [])
            .map_err(|e| e.to_string())
    }

    /// An input in a fresh guest buffer; an empty one is `(0, 0)`, as the
    /// wasmi host passes it.
    fn write_input(&mut self, bytes: &[u8]) -> Result<(i32, i32), String> {
        if bytes.is_empty() {
            return Ok((0, 0));
        }
        let mut ptr = [Val::I32(0)];
        self.malloc
            .call(&mut self.store, &[Val::I32(bytes.len() as i32)], &mut ptr)
            .map_err(|e| e.to_string())?;
        let ptr = ptr[0].unwrap_i32();
        self.memory
            .write(&mut self.store, ptr as u32 as usize, bytes)
            .map_err(|e| e.to_string())?;
        Ok((ptr, bytes.len() as i32))
    }
}

impl Runtime for JitGuest {
    fn hook(&mut self, export: &str, inputs: &[&[u8]]) -> Result<Vec<u8>, String> {
        let hook = self.func(export)?;
        let mut buffers = Vec::with_capacity(inputs.len());
        for input in inputs {
            buffers.push(self.write_input(input)?);
        }
        let args: Vec<Val> = buffers
            .iter()
            .flat_map(|&(p, l)| [Val::I32(p), Val::I32(l)])
            .collect();
        let mut packed = [Val::I64(0)];
        hook.call(&mut self.store, &args, &mut packed)
            .map_err(|e| e.to_string())?;
        let packed = packed[0].unwrap_i64() as u64;
        let (ptr, len) = ((packed >> 32) as u32, packed as u32);
        let mut output = vec![0; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut output)
            .map_err(|e| e.to_string())?;
        for (p, l) in buffers {
            if p != 0 {
                self.free(p, l)?;
            }
        }
        self.free(ptr as i32, len as i32)?;
        Ok(output)
    }
}
