//! Calling a hook by what it is rather than by export name, and checking its
//! output as the host would read it: UTF-8, JSON, the hook's shape.

use serde_json::{Map, Value};

use crate::abi::Abi;
use crate::error::{Error, Result};
use crate::guest::Guest;
use crate::hook::{Hook, HookInput};
use crate::typed::TypedOutput;

/// A hook's output: the exact bytes, parsed JSON, and the typed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct HookOutput {
    export: &'static str,
    raw: Vec<u8>,
    json: Value,
    typed: TypedOutput,
}

impl HookOutput {
    /// Checks `raw`, the output of `export` implementing `hook` in `abi`.
    pub fn parse(abi: Abi, hook: Hook, export: &'static str, raw: Vec<u8>) -> Result<Self> {
        let text = std::str::from_utf8(&raw).map_err(|e| Error::OutputNotUtf8 {
            export: export.into(),
            message: e.to_string(),
        })?;
        let json: Value = serde_json::from_str(text).map_err(|e| Error::OutputNotJson {
            export: export.into(),
            message: e.to_string(),
            excerpt: excerpt(text),
        })?;
        let typed =
            TypedOutput::decode(abi, hook, &json).map_err(|message| Error::OutputShape {
                export: export.into(),
                message,
            })?;
        Ok(HookOutput {
            export,
            raw,
            json,
            typed,
        })
    }

    /// The export that produced it.
    pub fn export(&self) -> &'static str {
        self.export
    }

    /// The output's exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The output, parsed.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The output's fields, typed by hook and ABI.
    pub fn typed(&self) -> &TypedOutput {
        &self.typed
    }

    /// The error the plugin reported in the output, if any.
    pub fn plugin_error(&self) -> Option<&str> {
        self.typed.plugin_error()
    }

    /// The context the plugin sent back (single-input only).
    pub fn context(&self) -> Option<&Map<String, Value>> {
        self.typed.context()
    }

    /// The output's bytes, dropping the parsed forms.
    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }
}

/// The first 120 characters of an output, for an error message.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

impl Guest {
    /// The export the host calls for `hook` in this module: the ABI's first
    /// choice that the module exports (single-input `http_pre_hook`, else
    /// `http_intercept`).
    pub fn hook_export(&self, hook: Hook) -> Result<&'static str> {
        let abi = self.abi().ok_or(Error::UnknownAbi)?;
        let candidates = hook.exports(abi);
        if candidates.is_empty() {
            return Err(Error::UnsupportedHook {
                hook: hook.name().into(),
                abi: abi.name().into(),
            });
        }
        Ok(candidates
            .iter()
            .copied()
            .find(|name| self.info().has_func(name))
            .unwrap_or(candidates[0]))
    }

    /// Calls `hook` as the host does for this module's ABI: the seed ABI gets
    /// one buffer per input, the single-input ABI one JSON object. The output
    /// must be UTF-8 JSON of the hook's shape; an error the plugin reports
    /// inside it is not a host error (see [`HookOutput::plugin_error`]).
    ///
    /// ```no_run
    /// use bifrost_plugin_host::{FreeMode, Guest, Hook, HookInput};
    /// let mut guest = Guest::from_file("build/hello-world.wasm", FreeMode::All)?;
    /// let input = HookInput::new().with_context("{}").with_request(r#"{"model":"m"}"#);
    /// let output = guest.call_hook(Hook::PreHook, &input)?;
    /// assert_eq!(output.plugin_error(), None);
    /// println!("{}", output.json());
    /// # Ok::<(), bifrost_plugin_host::Error>(())
    /// ```
    pub fn call_hook(&mut self, hook: Hook, input: &HookInput) -> Result<HookOutput> {
        let export = self.hook_export(hook)?;
        let abi = self.abi().ok_or(Error::UnknownAbi)?;
        // `hook` checks the export's type against the buffer count.
        let raw = match abi {
            Abi::Seed => self.hook(export, &input.buffers(hook))?,
            Abi::SingleInput => self.hook(export, &[&input.envelope(hook)])?,
        };
        HookOutput::parse(abi, hook, export, raw)
    }
}
