//! Reading the LLM views from JSON text with serde, as from the host: the
//! text is kept verbatim (and echoed byte for byte unless edited). Meant for
//! tests and tools; hooks get their values from the SDK.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::{LlmError, LlmRequest, LlmResponse, StreamChunk};

macro_rules! deserialize_verbatim {
    ($($view:ident),*) => {$(
        /// Reads JSON text as the host's: kept verbatim, checked like host
        /// input (needs serde_json's deserializer, which keeps raw text).
        ///
        /// ```
        #[doc = concat!("use bifrost_plugin_sdk::", stringify!($view), ";")]
        #[doc = concat!("let value: ", stringify!($view), " = serde_json::from_str(r#\"{\"id\": \"x\"}\"#).unwrap();")]
        /// assert!(value.is_unchanged());
        /// assert_eq!(serde_json::to_string(&value).unwrap(), r#"{"id": "x"}"#);
        /// ```
        impl<'de> Deserialize<'de> for $view {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = Box::<RawValue>::deserialize(deserializer)?;
                $view::from_bytes(raw.get().as_bytes()).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

deserialize_verbatim!(LlmRequest, LlmResponse, LlmError, StreamChunk);
