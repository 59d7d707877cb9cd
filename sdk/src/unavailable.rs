//! The error of a capability the plugin's target or host does not give.

use std::fmt;

/// A capability ([`time`](crate::time), [`random`](crate::random)) cannot be
/// used: the plugin was built for `wasm32-unknown-unknown` (which imports
/// nothing), or the host's WASI call failed. Converts into a
/// [`PluginError`](crate::PluginError) with `?`.
///
/// ```
/// use bifrost_plugin_sdk::time;
/// match time::now() {
///     Ok(now) => println!("it is {now:?}"),
///     Err(unavailable) => println!("no clock: {unavailable}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable {
    capability: &'static str,
    errno: Option<u16>,
}

impl Unavailable {
    /// The target has no such capability.
    #[cfg_attr(all(target_arch = "wasm32", target_os = "wasi"), allow(dead_code))]
    pub(crate) const fn on_this_target(capability: &'static str) -> Self {
        Unavailable {
            capability,
            errno: None,
        }
    }

    /// The host's WASI call failed with `errno`.
    #[cfg_attr(not(all(target_arch = "wasm32", target_os = "wasi")), allow(dead_code))]
    pub(crate) const fn host_failed(capability: &'static str, errno: u16) -> Self {
        Unavailable {
            capability,
            errno: Some(errno),
        }
    }

    /// The WASI error number, when the host's call failed (`None` when the
    /// target has no such capability at all).
    pub fn errno(&self) -> Option<u16> {
        self.errno
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno {
            Some(errno) => write!(
                f,
                "the host's {} failed (WASI errno {errno})",
                self.capability
            ),
            None => write!(
                f,
                "no {} on this target: only a plugin built for wasm32-wasip1 has one \
                 (a wasm32-unknown-unknown plugin imports nothing)",
                self.capability
            ),
        }
    }
}

impl std::error::Error for Unavailable {}
