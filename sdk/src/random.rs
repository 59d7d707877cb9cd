//! Random bytes from the host, without traps.
//!
//! On `wasm32-wasip1` they come from the host (WASI `random_get`, meant to
//! be cryptographically secure). `wasm32-unknown-unknown` has no source of
//! randomness: there (and natively, in unit tests) these functions return
//! [`Unavailable`], so the same code builds everywhere and decides what to
//! do without randomness.
//!
//! ```
//! use bifrost_plugin_sdk::random;
//!
//! // Sample one request in a hundred, or none without randomness.
//! let sampled = random::u64().map(|r| r % 100 == 0).unwrap_or(false);
//! # let _ = sampled;
//! ```

pub use crate::unavailable::Unavailable;

/// Fills `bytes` with random bytes.
pub fn fill(bytes: &mut [u8]) -> Result<(), Unavailable> {
    #[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
    {
        // SAFETY: random_get writes exactly `bytes.len()` bytes at the
        // pointer, which is valid and exclusively borrowed for that length.
        #[allow(unsafe_code)]
        let written = unsafe { wasi::random_get(bytes.as_mut_ptr(), bytes.len()) };
        written.map_err(|errno| Unavailable::host_failed("random source", errno.raw()))
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "wasi")))]
    {
        let _ = bytes;
        Err(Unavailable::on_this_target("random source"))
    }
}

/// A random `u64`.
pub fn u64() -> Result<u64, Unavailable> {
    let mut bytes = [0; 8];
    fill(&mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_wasi_randomness_is_a_clear_error_not_a_trap() {
        let error = u64().unwrap_err();
        assert_eq!(error.errno(), None);
        assert!(
            error
                .to_string()
                .contains("only a plugin built for wasm32-wasip1 has one"),
            "{error}"
        );
        let error: crate::PluginError = error.into();
        assert!(error
            .message()
            .starts_with("no random source on this target"));
    }
}
