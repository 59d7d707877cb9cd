//! The SDK's own JSON layer for what crosses the boundary on every call.
//!
//! serde_json stays the parser for what a plugin *reads* (typed accessors,
//! its `Config`), but a hook that only passes values on should not pay for
//! it, in time or in `.wasm` size: checking host bytes ([`validate`]) and
//! writing hook outputs ([`write`]) are done here, in one pass each, with no
//! tree built.

pub(crate) mod de;
pub(crate) mod members;
pub(crate) mod validate;
pub(crate) mod write;

pub(crate) use validate::{
    validate, validate_nested, validate_syntax, Invalid, Kind, CONFIG_MAX_DEPTH, MAX_DEPTH,
};
