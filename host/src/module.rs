//! What a module declares (exports with their types, imports), read without
//! instantiating it: a module that cannot be instantiated (it has imports,
//! say) can still be inspected and validated.

use std::fmt;

use wasmi::{Engine, ExternType, Module, ValType};

use crate::error::{Error, Result};

/// The wasm type of one export: `func (params) -> (results)`, a memory, a
/// table or a global.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportType {
    /// A function with these parameter and result types.
    Func(Vec<ValType>, Vec<ValType>),
    /// A linear memory.
    Memory,
    /// A table.
    Table,
    /// A global (the linker exports `__data_end`, `__heap_base`).
    Global,
}

impl ExportType {
    fn of(ty: &ExternType) -> Self {
        match ty {
            ExternType::Func(f) => ExportType::Func(f.params().to_vec(), f.results().to_vec()),
            ExternType::Memory(_) => ExportType::Memory,
            ExternType::Table(_) => ExportType::Table,
            ExternType::Global(_) => ExportType::Global,
        }
    }
}

/// `func (i32, i32) -> i64`, `memory`, ...
impl fmt::Display for ExportType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportType::Func(params, results) => {
                write!(f, "func ({})", type_list(params))?;
                match results.as_slice() {
                    [] => Ok(()),
                    [one] => write!(f, " -> {}", type_name(*one)),
                    many => write!(f, " -> ({})", type_list(many)),
                }
            }
            ExportType::Memory => f.write_str("memory"),
            ExportType::Table => f.write_str("table"),
            ExportType::Global => f.write_str("global"),
        }
    }
}

/// The text-format name of a value type.
pub(crate) fn type_name(ty: ValType) -> &'static str {
    match ty {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::FuncRef => "funcref",
        ValType::ExternRef => "externref",
    }
}

fn type_list(types: &[ValType]) -> String {
    let names: Vec<&str> = types.iter().map(|t| type_name(*t)).collect();
    names.join(", ")
}

/// One import of a module: `module.name` and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The import's module, e.g. `env`.
    pub module: String,
    /// The import's name.
    pub name: String,
    /// Its type.
    pub ty: ExportType,
}

/// `env.log (func (i32) -> i32)`
impl fmt::Display for Import {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}.{}` ({})", self.module, self.name, self.ty)
    }
}

/// A module's exports and imports.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    exports: Vec<(String, ExportType)>,
    imports: Vec<Import>,
}

impl ModuleInfo {
    /// Parses and validates `wasm` (binary, or the text format) and reads its
    /// declarations.
    pub fn parse(wasm: &[u8]) -> Result<Self> {
        Ok(Self::of(&compile(&Engine::default(), wasm)?))
    }

    pub(crate) fn of(module: &Module) -> Self {
        let mut exports: Vec<_> = module
            .exports()
            .map(|export| (export.name().to_string(), ExportType::of(export.ty())))
            .collect();
        exports.sort_by(|a, b| a.0.cmp(&b.0));
        let imports = module
            .imports()
            .map(|import| Import {
                module: import.module().to_string(),
                name: import.name().to_string(),
                ty: ExportType::of(import.ty()),
            })
            .collect();
        ModuleInfo { exports, imports }
    }

    /// Every export with its type, sorted by name.
    pub fn exports(&self) -> &[(String, ExportType)] {
        &self.exports
    }

    /// The type of the export `name`, if the module has it.
    pub fn export(&self, name: &str) -> Option<&ExportType> {
        self.exports
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| &self.exports[i].1)
    }

    /// Whether `name` is an exported function.
    pub fn has_func(&self, name: &str) -> bool {
        matches!(self.export(name), Some(ExportType::Func(..)))
    }

    /// The imports, in declaration order.
    pub fn imports(&self) -> &[Import] {
        &self.imports
    }
}

/// Compiles a binary or text module, saying which one it was taken for when
/// it fails (a text parse error on a truncated binary would mislead).
pub(crate) fn compile(engine: &Engine, wasm: &[u8]) -> Result<Module> {
    Module::new(engine, wasm).map_err(|e| {
        let what = if wasm.starts_with(b"\0asm") {
            "binary module"
        } else {
            "not a binary module (no \\0asm header), nor valid WebAssembly text"
        };
        Error::InvalidModule(format!("{what}: {e}"))
    })
}
