//! Checks a module against an ABI's export table and lists every problem,
//! not just the first: a plugin author fixing a build wants the whole list.

use std::fmt;

use crate::abi::{Abi, ExportRule, Need, Signature};
use crate::module::{ExportType, Import, ModuleInfo};

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Some hosts of the ABI will miss something; the module still loads.
    Warning,
    /// The host cannot use the module as it is.
    Error,
}

/// One thing wrong with a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No linear memory is exported as `memory` (or `memory` is not one).
    MissingMemory {
        /// What `memory` is instead, if it exists.
        found: Option<ExportType>,
    },
    /// The module imports something the host does not provide (anything
    /// but WASI preview 1), so it cannot be instantiated.
    Import(Import),
    /// None of an export's accepted names is exported.
    MissingExport {
        /// The accepted names, first choice first.
        names: Vec<&'static str>,
        /// The expected type (of the first name).
        expected: Signature,
        /// Whether this is an error or a warning.
        severity: Severity,
        /// Why the host wants it.
        why: &'static str,
    },
    /// An export has a type the ABI does not accept.
    WrongSignature {
        /// The export.
        export: &'static str,
        /// The accepted types.
        expected: Vec<Signature>,
        /// Its type.
        found: ExportType,
    },
}

impl Problem {
    /// Whether the problem stops the host from using the module.
    pub fn severity(&self) -> Severity {
        match self {
            Problem::MissingExport { severity, .. } => *severity,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingMemory { found: None } => {
                f.write_str("no linear memory is exported as `memory`")
            }
            Problem::MissingMemory { found: Some(ty) } => {
                write!(f, "`memory` is a {ty}, not a linear memory")
            }
            Problem::Import(import) => write!(
                f,
                "imports {import}: the host provides only WASI preview 1 \
                 (`wasi_snapshot_preview1`), so it cannot instantiate the module"
            ),
            Problem::MissingExport {
                names,
                expected,
                why,
                ..
            } => {
                let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                write!(
                    f,
                    "missing export {} ({expected}): {why}",
                    names.join(" or ")
                )
            }
            Problem::WrongSignature {
                export,
                expected,
                found,
            } => {
                let expected: Vec<String> = expected.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "`{export}` is {found}, expected {}",
                    expected.join(" or ")
                )
            }
        }
    }
}

/// Every problem of `module` for `abi`: memory, imports, then each export
/// rule in the ABI's table order. Empty means the host can use the module.
pub fn validate(module: &ModuleInfo, abi: Abi) -> Vec<Problem> {
    let mut problems = Vec::new();
    match module.export("memory") {
        Some(ExportType::Memory) => {}
        found => problems.push(Problem::MissingMemory {
            found: found.cloned(),
        }),
    }
    problems.extend(
        crate::wasi::unprovided(module.imports())
            .into_iter()
            .map(Problem::Import),
    );
    for rule in abi.rules() {
        check_rule(module, rule, &mut problems);
    }
    problems
}

fn check_rule(module: &ModuleInfo, rule: &ExportRule, problems: &mut Vec<Problem>) {
    let mut present = false;
    for (name, accepted) in rule.names {
        let Some(found) = module.export(name) else {
            continue;
        };
        present = true;
        if !accepted.iter().any(|sig| sig.matches(found)) {
            problems.push(Problem::WrongSignature {
                export: name,
                expected: accepted.to_vec(),
                found: found.clone(),
            });
        }
    }
    let severity = match rule.need {
        Need::Required => Severity::Error,
        Need::Recommended(_) => Severity::Warning,
        Need::Optional => return,
    };
    if !present {
        problems.push(Problem::MissingExport {
            names: rule.names.iter().map(|(name, _)| *name).collect(),
            expected: rule.names[0].1[0],
            severity,
            why: match rule.need {
                Need::Recommended(why) => why,
                _ => rule.purpose,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(wat: &str, abi: Abi) -> Vec<String> {
        let module = ModuleInfo::parse(wat.as_bytes()).unwrap();
        validate(&module, abi)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn an_empty_module_misses_memory_and_every_required_export() {
        let seed = problems("(module)", Abi::Seed);
        assert_eq!(seed[0], "no linear memory is exported as `memory`");
        assert!(seed.contains(
            &"missing export `plugin_malloc` or `malloc` (func (i32) -> i32): \
              the host allocates every input with it"
                .to_string()
        ));
        // memory + allocator, get_name, three hooks, cleanup; free and init are optional.
        assert_eq!(seed.len(), 7, "{seed:#?}");
        let single = problems("(module)", Abi::SingleInput);
        // memory + allocator, get_name, http pre, pre, post, cleanup + two warnings.
        assert_eq!(single.len(), 9, "{single:#?}");
    }

    #[test]
    fn a_missing_recommended_export_is_a_warning() {
        let module = ModuleInfo::parse(b"(module)").unwrap();
        let warnings: Vec<_> = validate(&module, Abi::SingleInput)
            .into_iter()
            .filter(|p| p.severity() == Severity::Warning)
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            warnings,
            [
                "missing export `http_post_hook` (func (i32, i32) -> i64): \
                 the current docs require it; the repository's examples lack it",
                "missing export `http_stream_chunk_hook` (func (i32, i32) -> i64): \
                 hosts since the streaming hook was added call it"
            ]
        );
    }

    #[test]
    fn every_present_alternative_is_type_checked() {
        let wat = r#"(module
            (func (export "free") (param i32 i32 i32))
            (memory (export "plugin_free") 1))"#;
        let found = problems(wat, Abi::Seed);
        assert!(found.contains(&"`plugin_free` is memory, expected func (i32)".to_string()));
        assert!(found.contains(
            &"`free` is func (i32, i32, i32), expected func (i32) or func (i32, i32)".to_string()
        ));
        assert!(found.contains(&"no linear memory is exported as `memory`".to_string()));
    }
}
