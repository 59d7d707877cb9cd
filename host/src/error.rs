//! Everything that can go wrong on the host side. Each variant that concerns
//! one export names it, so a failing test or CLI run says where to look.

use std::fmt;
use std::path::PathBuf;

/// A failure of the host side: the module cannot be loaded, an export is
/// missing or has the wrong type, the guest trapped, or its output cannot be
/// read. (Errors the *plugin* reports in its output's `error` field are not
/// host errors: they are part of a valid output.)
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The bytes are neither a valid binary nor a valid text WebAssembly module.
    InvalidModule(String),
    /// The module declares imports the host does not provide (a Bifrost
    /// plugin gets WASI preview 1 at most).
    Imports(Vec<String>),
    /// The module is valid but could not be instantiated (e.g. its start
    /// function trapped).
    Instantiate(String),
    /// The module has no linear memory exported as `memory`.
    NoMemory,
    /// The module lacks an export the call needs.
    MissingExport {
        /// The export looked for.
        export: String,
    },
    /// An export exists but has a type the call cannot use.
    WrongSignature {
        /// The export.
        export: String,
        /// What the host expects, e.g. `func (i32, i32) -> i64`.
        expected: String,
        /// What the module declares.
        found: String,
    },
    /// The guest trapped inside an export (a panic in Rust plugin code, an
    /// `unreachable`, an out-of-bounds access, ...).
    Trap {
        /// The export that trapped.
        export: String,
        /// The runtime's description of the trap.
        message: String,
    },
    /// A hook returned 0 instead of a packed `(ptr << 32) | len` output.
    NoOutput {
        /// The export.
        export: String,
    },
    /// A packed output points outside the guest's memory.
    OutputOutOfBounds {
        /// The export.
        export: String,
        /// Output pointer.
        ptr: u32,
        /// Output length.
        len: u32,
        /// The guest's memory size in bytes at the time.
        memory_size: usize,
    },
    /// An output is not UTF-8.
    OutputNotUtf8 {
        /// The export.
        export: String,
        /// The decoder's message (says where).
        message: String,
    },
    /// An output is not JSON.
    OutputNotJson {
        /// The export.
        export: String,
        /// The parser's message (says where).
        message: String,
        /// The start of the output, for context.
        excerpt: String,
    },
    /// An output is JSON but not of the hook's output shape (as the host's Go
    /// decoder would reject it: not an object, or a field of the wrong type).
    OutputShape {
        /// The export.
        export: String,
        /// What is wrong.
        message: String,
    },
    /// The guest's allocator returned 0 for an input buffer.
    AllocationFailed {
        /// The allocator export.
        allocator: String,
        /// The size asked for.
        size: u32,
        /// The export the buffer was for.
        export: String,
    },
    /// The host tried to read or write outside the guest's memory.
    Memory(String),
    /// The hook does not exist in the module's ABI.
    UnsupportedHook {
        /// The hook's name.
        hook: String,
        /// The ABI's name.
        abi: String,
    },
    /// The module's ABI could not be told from its exports.
    UnknownAbi,
    /// `cargo build` of a plugin crate failed.
    Build(String),
    /// `init` returned a non-zero status (Bifrost does not load such a
    /// plugin).
    Init {
        /// The status.
        status: i32,
        /// Why, in the plugin's own words when it gave them.
        message: String,
    },
    /// Fuel was read or set on a guest not loaded with
    /// [`Guest::load_metered`](crate::Guest::load_metered).
    NotMetered,
}

/// Result of host operations.
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, message } => write!(f, "cannot read {}: {message}", path.display()),
            Error::InvalidModule(message) => write!(f, "invalid module: {message}"),
            Error::Imports(imports) => write!(
                f,
                "the module imports {}: a Bifrost plugin may import only WASI preview 1 \
                 (`wasi_snapshot_preview1`)",
                imports.join(", ")
            ),
            Error::Instantiate(message) => write!(f, "cannot instantiate: {message}"),
            Error::NoMemory => f.write_str("the module does not export `memory`"),
            Error::MissingExport { export } => write!(f, "the module does not export `{export}`"),
            Error::WrongSignature {
                export,
                expected,
                found,
            } => write!(f, "`{export}` is {found}, expected {expected}"),
            Error::Trap { export, message } => write!(f, "`{export}` trapped: {message}"),
            Error::NoOutput { export } => write!(f, "`{export}` returned 0 (no output)"),
            Error::OutputOutOfBounds {
                export,
                ptr,
                len,
                memory_size,
            } => write!(
                f,
                "`{export}` returned an output at [{ptr}, +{len}), outside the guest's \
                 {memory_size}-byte memory"
            ),
            Error::OutputNotUtf8 { export, message } => {
                write!(f, "`{export}` output is not UTF-8: {message}")
            }
            Error::OutputNotJson {
                export,
                message,
                excerpt,
            } => write!(f, "`{export}` output is not JSON ({message}): {excerpt}"),
            Error::OutputShape { export, message } => {
                write!(f, "`{export}` output has the wrong shape: {message}")
            }
            Error::AllocationFailed {
                allocator,
                size,
                export,
            } => write!(
                f,
                "`{allocator}({size})` returned 0 for an input of `{export}`"
            ),
            Error::Memory(message) => f.write_str(message),
            Error::NotMetered => {
                f.write_str("fuel is counted only for a guest from Guest::load_metered")
            }
            Error::UnsupportedHook { hook, abi } => {
                write!(f, "the {abi} ABI has no `{hook}` hook")
            }
            Error::UnknownAbi => f.write_str(
                "cannot tell the module's ABI from its exports (no hook of either ABI); \
                 name it (Guest::load_with_abi, or --abi)",
            ),
            Error::Build(message) => f.write_str(message),
            Error::Init { status, message } => {
                write!(f, "`init` returned {status}: {message}")
            }
        }
    }
}

impl std::error::Error for Error {}
