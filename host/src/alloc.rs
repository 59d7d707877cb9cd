//! Which allocator exports the host uses. Plugins name them differently
//! (TinyGo `plugin_malloc`/`plugin_free(ptr)`, the Rust example
//! `malloc`/`free(ptr, size)`), and the ABIs disagree on the first choice:
//! the seed README says `plugin_malloc` ("or `malloc` for non-TinyGo"), the
//! single-input docs say the host "allocates memory using `malloc`".

use wasmi::ValType;

use crate::abi::Abi;
use crate::module::{ExportType, ModuleInfo};

/// The guest's free export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FreeExport {
    pub name: &'static str,
    /// Whether it takes the buffer's size too: `free(ptr, size)`.
    pub sized: bool,
}

/// The exports the host allocates and frees guest buffers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Allocator {
    /// Used even when absent, so the error names the export the host wanted.
    pub malloc: &'static str,
    /// `None`: the module exports no free; buffers are never freed.
    pub free: Option<FreeExport>,
}

impl Allocator {
    pub fn resolve(module: &ModuleInfo, abi: Option<Abi>) -> Self {
        let (mallocs, frees) = match abi {
            Some(Abi::SingleInput) => (["malloc", "plugin_malloc"], ["free", "plugin_free"]),
            _ => (["plugin_malloc", "malloc"], ["plugin_free", "free"]),
        };
        let malloc = mallocs
            .into_iter()
            .find(|name| module.has_func(name))
            .unwrap_or(mallocs[0]);
        let free = frees
            .into_iter()
            .find_map(|name| match module.export(name) {
                Some(ExportType::Func(params, _)) => Some(FreeExport {
                    name,
                    sized: params.as_slice() == [ValType::I32, ValType::I32],
                }),
                _ => None,
            });
        Allocator { malloc, free }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(wat: &str, abi: Option<Abi>) -> Allocator {
        Allocator::resolve(&ModuleInfo::parse(wat.as_bytes()).unwrap(), abi)
    }

    const BOTH: &str = r#"(module
        (func (export "malloc") (param i32) (result i32) i32.const 0)
        (func (export "plugin_malloc") (param i32) (result i32) i32.const 0)
        (func (export "free") (param i32 i32))
        (func (export "plugin_free") (param i32)))"#;

    #[test]
    fn each_abi_prefers_its_own_names() {
        let seed = resolve(BOTH, Some(Abi::Seed));
        assert_eq!(seed.malloc, "plugin_malloc");
        assert_eq!(
            seed.free,
            Some(FreeExport {
                name: "plugin_free",
                sized: false
            })
        );
        let single = resolve(BOTH, Some(Abi::SingleInput));
        assert_eq!(single.malloc, "malloc");
        assert_eq!(
            single.free,
            Some(FreeExport {
                name: "free",
                sized: true
            })
        );
    }

    #[test]
    fn falls_back_to_the_other_names_or_to_nothing() {
        let only_malloc =
            r#"(module (func (export "malloc") (param i32) (result i32) i32.const 0))"#;
        let found = resolve(only_malloc, Some(Abi::Seed));
        assert_eq!((found.malloc, found.free), ("malloc", None));
        assert_eq!(resolve("(module)", None).malloc, "plugin_malloc");
    }
}
