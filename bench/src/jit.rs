//! The pass-through timed under wasmtime (Cranelift): a compiling runtime,
//! like the wazero compiler a Go host such as Bifrost most likely uses. The
//! calls are the seed ABI's, made as `host/src` makes them under wasmi.

use wasmtime::{Engine, Instance, Memory, Module, Store, TypedFunc};

/// A seed-ABI plugin instantiated under wasmtime.
pub struct JitGuest {
    store: Store<()>,
    memory: Memory,
    malloc: TypedFunc<i32, i32>,
    free: TypedFunc<i32, ()>,
    pre_hook: TypedFunc<(i32, i32, i32, i32), i64>,
}

impl JitGuest {
    pub fn load(wasm: &[u8]) -> Result<Self, String> {
        let engine = Engine::default();
        let module = Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).map_err(|e| e.to_string())?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or("no memory export")?;
        let func = |store: &mut Store<()>, name: &str| {
            instance
                .get_func(&mut *store, name)
                .ok_or_else(|| format!("no `{name}` export"))
        };
        let malloc = func(&mut store, "plugin_malloc")?;
        let free = func(&mut store, "plugin_free")?;
        let pre_hook = func(&mut store, "pre_hook")?;
        let init: TypedFunc<(i32, i32), i32> = func(&mut store, "init")?
            .typed(&store)
            .map_err(|e| e.to_string())?;
        let mut guest = JitGuest {
            malloc: malloc.typed(&store).map_err(|e| e.to_string())?,
            free: free.typed(&store).map_err(|e| e.to_string())?,
            pre_hook: pre_hook.typed(&store).map_err(|e| e.to_string())?,
            store,
            memory,
        };
        let (ptr, len) = guest.write_input(b"{}")?;
        let status = init
            .call(&mut guest.store, (ptr, len))
            .map_err(|e| e.to_string())?;
        guest.free(ptr)?;
        match status {
            0 => Ok(guest),
            _ => Err(format!("init returned {status}")),
        }
    }

    fn free(&mut self, ptr: i32) -> Result<(), String> {
        self.free
            .call(&mut self.store, ptr)
            .map_err(|e| e.to_string())
    }

    fn write_input(&mut self, bytes: &[u8]) -> Result<(i32, i32), String> {
        let ptr = self
            .malloc
            .call(&mut self.store, bytes.len() as i32)
            .map_err(|e| e.to_string())?;
        self.memory
            .write(&mut self.store, ptr as u32 as usize, bytes)
            .map_err(|e| e.to_string())?;
        Ok((ptr, bytes.len() as i32))
    }

    fn read(&self, ptr: u32, len: u32) -> Result<Vec<u8>, String> {
        let mut out = vec![0; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// `pre_hook(ctx, req)` as the host calls it: both inputs written into
    /// buffers from `plugin_malloc`, the output read, all three freed.
    pub fn pre_hook(&mut self, ctx: &[u8], req: &[u8]) -> Result<Vec<u8>, String> {
        let (cp, cl) = self.write_input(ctx)?;
        let (rp, rl) = self.write_input(req)?;
        let packed = self
            .pre_hook
            .call(&mut self.store, (cp, cl, rp, rl))
            .map_err(|e| e.to_string())? as u64;
        let output = self.read((packed >> 32) as u32, packed as u32)?;
        for ptr in [cp, rp, (packed >> 32) as i32] {
            self.free(ptr)?;
        }
        Ok(output)
    }

    /// The copying limit, as under wasmi: write `input` into a buffer from
    /// `plugin_malloc`, read as many bytes back, free it.
    pub fn copy(&mut self, input: &[u8]) -> Result<usize, String> {
        let (ptr, len) = self.write_input(input)?;
        let out = self.read(ptr as u32, len as u32)?;
        self.free(ptr)?;
        Ok(out.len())
    }
}
