//! The two ABIs a plugin can export, as tables of exports, and how to tell
//! which one a module follows.
//!
//! The tables follow the public evidence (bifrost-abi.md sections 2-4):
//! the seed ABI of the TinyGo hello-world README, and the single-input ABI
//! of Bifrost's examples (`http_intercept`) and current docs
//! (`http_pre_hook`, `http_post_hook`).

use std::fmt;
use std::str::FromStr;

use wasmi::ValType;

use crate::module::{type_name, ExportType, ModuleInfo};

/// Which set of exports the host calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Abi {
    /// Multi-buffer hooks `http_transport_intercept(ctx, req)`,
    /// `pre_hook(ctx, req)`, `post_hook(ctx, resp, err)`; outputs carry no
    /// context.
    Seed,
    /// Every hook takes one JSON object and returns one that carries the
    /// context back.
    SingleInput,
}

impl Abi {
    /// Both ABIs.
    pub const ALL: [Abi; 2] = [Abi::Seed, Abi::SingleInput];

    /// `seed` or `single-input`.
    pub fn name(self) -> &'static str {
        match self {
            Abi::Seed => "seed",
            Abi::SingleInput => "single-input",
        }
    }

    /// What the module must (or should) export for this ABI, besides `memory`.
    pub fn rules(self) -> &'static [ExportRule] {
        match self {
            Abi::Seed => SEED_RULES,
            Abi::SingleInput => SINGLE_INPUT_RULES,
        }
    }

    /// The ABI a module's exports show, or `None` when they show neither (or
    /// both). Hook names unique to one ABI decide; failing those, the arity
    /// of `pre_hook`/`post_hook` (4/6 buffers' worth of parameters for seed,
    /// 2 for single-input).
    pub fn detect(module: &ModuleInfo) -> Option<Abi> {
        let seed = ["http_transport_intercept"]
            .iter()
            .any(|name| module.has_func(name));
        let single = [
            "http_pre_hook",
            "http_intercept",
            "http_post_hook",
            "http_stream_chunk_hook",
        ]
        .iter()
        .any(|name| module.has_func(name));
        match (seed, single) {
            (true, false) => return Some(Abi::Seed),
            (false, true) => return Some(Abi::SingleInput),
            (true, true) => return None,
            (false, false) => {}
        }
        let arity = |name| match module.export(name) {
            Some(ExportType::Func(params, _)) => Some(params.len()),
            _ => None,
        };
        match (arity("pre_hook"), arity("post_hook")) {
            (Some(4), _) | (_, Some(6)) => Some(Abi::Seed),
            (Some(2), _) | (_, Some(2)) => Some(Abi::SingleInput),
            _ => None,
        }
    }
}

impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `seed` or `single-input` (also `single_input`).
impl FromStr for Abi {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "seed" => Ok(Abi::Seed),
            "single-input" | "single_input" => Ok(Abi::SingleInput),
            other => Err(format!(
                "unknown ABI `{other}` (expected `seed` or `single-input`)"
            )),
        }
    }
}

/// A function type of the ABIs: every parameter is an `i32` (a pointer or a
/// length), the result is nothing, an `i32` status or an `i64` packed
/// `(ptr << 32) | len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// How many `i32` parameters.
    pub params: usize,
    /// The result type, if any.
    pub result: Option<ValType>,
}

impl Signature {
    const fn new(params: usize, result: Option<ValType>) -> Self {
        Signature { params, result }
    }

    /// `get_name() -> i64` (packed name).
    pub const GET_NAME: Signature = Signature::new(0, Some(ValType::I64));
    /// `init(config_ptr, config_len) -> i32` (status).
    pub const INIT: Signature = Signature::new(2, Some(ValType::I32));
    /// `cleanup() -> i32` (status).
    pub const CLEANUP: Signature = Signature::new(0, Some(ValType::I32));
    /// `malloc(size) -> i32` (pointer).
    pub const MALLOC: Signature = Signature::new(1, Some(ValType::I32));

    /// A hook taking `buffers` (ptr, len) pairs and returning a packed output.
    pub const fn hook(buffers: usize) -> Self {
        Signature::new(buffers * 2, Some(ValType::I64))
    }

    /// Whether an export has exactly this type.
    pub fn matches(&self, ty: &ExportType) -> bool {
        match ty {
            ExportType::Func(params, results) => {
                params.len() == self.params
                    && params.iter().all(|p| *p == ValType::I32)
                    && results.as_slice() == self.result.as_slice()
            }
            _ => false,
        }
    }
}

/// `func (i32, i32) -> i64`, as [`ExportType`] writes it.
impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = vec!["i32"; self.params].join(", ");
        write!(f, "func ({params})")?;
        match self.result {
            Some(ty) => write!(f, " -> {}", type_name(ty)),
            None => Ok(()),
        }
    }
}

/// How much the host needs an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Missing: the host cannot use the module.
    Required,
    /// Missing: some hosts of this ABI will not find it (the reason says
    /// which); a warning.
    Recommended(&'static str),
    /// Missing is fine; present, it must have the right type.
    Optional,
}

/// One export the host looks for, by any of several names (e.g. the
/// allocator is `plugin_malloc` or `malloc`), each with the types accepted.
#[derive(Debug, Clone, Copy)]
pub struct ExportRule {
    /// Accepted names, the host's first choice first, each with its accepted
    /// signatures.
    pub names: &'static [(&'static str, &'static [Signature])],
    /// What happens when none is present.
    pub need: Need,
    /// What the host uses it for.
    pub purpose: &'static str,
}

const ALLOC: &[Signature] = &[Signature::MALLOC];
const FREE_PTR: &[Signature] = &[Signature::new(1, None)];
/// `free(ptr)` or the docs' Rust `free(ptr, size)`.
const FREE_EITHER: &[Signature] = &[Signature::new(1, None), Signature::new(2, None)];
const GET_NAME: &[Signature] = &[Signature::GET_NAME];
const INIT: &[Signature] = &[Signature::INIT];
const CLEANUP: &[Signature] = &[Signature::CLEANUP];
const ONE_BUFFER: &[Signature] = &[Signature::hook(1)];

const fn rule(
    names: &'static [(&'static str, &'static [Signature])],
    need: Need,
    purpose: &'static str,
) -> ExportRule {
    ExportRule {
        names,
        need,
        purpose,
    }
}

const SEED_RULES: &[ExportRule] = &[
    rule(
        &[("plugin_malloc", ALLOC), ("malloc", ALLOC)],
        Need::Required,
        "the host allocates every input with it",
    ),
    rule(
        &[("plugin_free", FREE_PTR), ("free", FREE_EITHER)],
        Need::Optional,
        "the host may free inputs and outputs with it",
    ),
    rule(
        &[("get_name", GET_NAME)],
        Need::Required,
        "the plugin's name",
    ),
    rule(&[("init", INIT)], Need::Optional, "receives the config"),
    rule(
        &[("http_transport_intercept", &[Signature::hook(2)])],
        Need::Required,
        "HTTP hook (ctx, req)",
    ),
    rule(
        &[("pre_hook", &[Signature::hook(2)])],
        Need::Required,
        "LLM pre-hook (ctx, req)",
    ),
    rule(
        &[("post_hook", &[Signature::hook(3)])],
        Need::Required,
        "LLM post-hook (ctx, resp, err)",
    ),
    rule(
        &[("cleanup", CLEANUP)],
        Need::Required,
        "called at shutdown",
    ),
];

const SINGLE_INPUT_RULES: &[ExportRule] = &[
    rule(
        &[("malloc", ALLOC), ("plugin_malloc", ALLOC)],
        Need::Required,
        "the host allocates every input with it",
    ),
    rule(
        &[("free", FREE_EITHER), ("plugin_free", FREE_PTR)],
        Need::Optional,
        "the host may free inputs and outputs with it",
    ),
    rule(
        &[("get_name", GET_NAME)],
        Need::Required,
        "the plugin's name",
    ),
    rule(&[("init", INIT)], Need::Optional, "receives the config"),
    rule(
        &[
            ("http_pre_hook", ONE_BUFFER),
            ("http_intercept", ONE_BUFFER),
        ],
        Need::Required,
        "HTTP pre-hook (current docs: http_pre_hook; examples: http_intercept)",
    ),
    rule(
        &[("http_post_hook", ONE_BUFFER)],
        Need::Recommended("the current docs require it; the repository's examples lack it"),
        "HTTP post-hook",
    ),
    rule(
        &[("http_stream_chunk_hook", ONE_BUFFER)],
        Need::Recommended("hosts since the streaming hook was added call it"),
        "streaming chunk hook",
    ),
    rule(&[("pre_hook", ONE_BUFFER)], Need::Required, "LLM pre-hook"),
    rule(
        &[("post_hook", ONE_BUFFER)],
        Need::Required,
        "LLM post-hook",
    ),
    rule(
        &[("cleanup", CLEANUP)],
        Need::Required,
        "called at shutdown",
    ),
];
