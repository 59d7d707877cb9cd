//! The SDK's own JSON layer for what crosses the boundary on every call.
//!
//! serde_json stays the parser for what a plugin *reads* (typed accessors,
//! its `Config`), but a hook that only passes values on should not pay for
//! it, in time or in `.wasm` size: checking host bytes ([`validate`]) and
//! writing hook outputs ([`write`]) are done here, in one pass each, with no
//! tree built.

pub(crate) mod de;
pub(crate) mod float;
pub(crate) mod members;
pub(crate) mod rewrite;
pub(crate) mod validate;
pub(crate) mod write;

pub(crate) use validate::{
    validate, validate_members, validate_nested, Invalid, Kind, CONFIG_MAX_DEPTH, MAX_DEPTH,
};

/// JSON values for property tests of this module.
#[cfg(test)]
pub(crate) mod test_values {
    /// Any JSON value serde_json can write: strings with escapes and
    /// non-ASCII text, integers, floats, nesting.
    pub(crate) fn any_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(".*", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
