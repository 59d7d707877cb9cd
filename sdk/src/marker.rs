//! A custom section, `bifrost-plugin-sdk`, that tells a host how the module
//! was built without calling it: the SDK's version and whether the opt-in
//! `unchecked-echo` feature is on (an unedited LLM value is then echoed
//! unchecked, abi-spec 1.4). The text is one JSON object, for instance
//! `{"sdk":"0.1.0","unchecked_echo":false}`; abi-spec 1.2 says how to read it.

/// The section's text. (Natively there is no section: only the test reads it.)
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) const TEXT: &str = concat!(
    "{\"sdk\":\"",
    env!("CARGO_PKG_VERSION"),
    "\",\"unchecked_echo\":",
    unchecked_echo!(),
    "}"
);

#[cfg(feature = "unchecked-echo")]
macro_rules! unchecked_echo {
    () => {
        "true"
    };
}
#[cfg(not(feature = "unchecked-echo"))]
macro_rules! unchecked_echo {
    () => {
        "false"
    };
}
use unchecked_echo;

/// [`TEXT`] as the array a section's content must be.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
const fn bytes<const N: usize>(text: &str) -> [u8; N] {
    let text = text.as_bytes();
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = text[i];
        i += 1;
    }
    out
}

/// The section itself: `#[used]` keeps it through the link even though no
/// code reads it.
#[cfg(target_arch = "wasm32")]
#[used]
#[link_section = "bifrost-plugin-sdk"]
static SECTION: [u8; TEXT.len()] = bytes(TEXT);

#[cfg(test)]
mod tests {
    #[test]
    fn the_text_is_one_json_object_saying_whether_the_echo_is_checked() {
        let value: serde_json::Value = serde_json::from_str(super::TEXT).unwrap();
        assert_eq!(value["sdk"], env!("CARGO_PKG_VERSION"));
        assert_eq!(value["unchecked_echo"], cfg!(feature = "unchecked-echo"));
        assert_eq!(super::bytes::<3>("abc"), *b"abc");
    }
}
