//! Calling a hook by what it is rather than by export name, and checking its
//! output as the host would read it: UTF-8, JSON, the hook's shape.

use base64::Engine;
use serde_json::{Map, Value};

use crate::abi::Abi;
use crate::error::{Error, Result};
use crate::guest::Guest;
use crate::hook::{Field, Hook, HookInput};
use crate::typed::TypedOutput;

/// A hook's output: the exact bytes, parsed JSON, the typed fields, and the
/// HTTP bodies it carries, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct HookOutput {
    export: &'static str,
    raw: Vec<u8>,
    json: Value,
    typed: TypedOutput,
    bodies: Vec<(Field, Vec<u8>)>,
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
        let bodies = http_bodies(&typed, &json);
        Ok(HookOutput {
            export,
            raw,
            json,
            typed,
            bodies,
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

    /// The decoded `body` of the HTTP request or response the output carries
    /// in `field` (on the wire it is base64, as Go writes a `[]byte`): the
    /// seed `http_transport_intercept`'s `response`, the single-input
    /// `http_pre_hook`'s `request` and `response`. `None` when the output
    /// has no such value or its body is not valid base64; a `null` or
    /// missing body is empty.
    ///
    /// ```no_run
    /// use bifrost_plugin_host::{Field, FreeMode, Guest, Hook, HookInput};
    /// let mut guest = Guest::from_file("build/plugin.wasm", FreeMode::All)?;
    /// let input = HookInput::new().with_request(r#"{"method":"GET","path":"/"}"#);
    /// let output = guest.call_hook(Hook::HttpPreHook, &input)?;
    /// if let Some(body) = output.body_text(Field::Response) {
    ///     println!("the plugin answered: {body}");
    /// }
    /// # Ok::<(), bifrost_plugin_host::Error>(())
    /// ```
    pub fn body(&self, field: Field) -> Option<&[u8]> {
        self.bodies
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, body)| body.as_slice())
    }

    /// [`HookOutput::body`] as text, when it is UTF-8.
    pub fn body_text(&self, field: Field) -> Option<&str> {
        std::str::from_utf8(self.body(field)?).ok()
    }

    /// The reason an uninitialised SDK plugin gives in this output for its
    /// failed `init` (see [`Guest::init_failure_reason`]).
    pub(crate) fn init_failure_reason(&self) -> Option<String> {
        let error = self.plugin_error()?;
        let reason = error.strip_prefix("plugin is not initialised: ");
        Some(reason.unwrap_or(error).to_string())
    }

    /// The output's bytes, dropping the parsed forms.
    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }
}

/// The bodies of the HTTP values in an output, decoded as the host's Go
/// `encoding/json` decodes a `[]byte` (standard base64, padded). A body
/// that is not a valid base64 string is left out rather than making the
/// output unreadable: it can only be one the host sent and the plugin
/// echoed (a Go host never sends one), and `raw()`/`json()` still show it.
fn http_bodies(typed: &TypedOutput, json: &Value) -> Vec<(Field, Vec<u8>)> {
    let fields: &[Field] = match typed {
        TypedOutput::SeedHttp(_) => &[Field::Response],
        TypedOutput::HttpPre(_) => &[Field::Request, Field::Response],
        _ => &[],
    };
    fields
        .iter()
        .filter_map(|&field| {
            let value = json.get(field.name()).filter(|v| v.is_object())?;
            let body = match &value["body"] {
                Value::Null => Vec::new(),
                Value::String(text) => base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .ok()?,
                _ => return None,
            };
            Some((field, body))
        })
        .collect()
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

    /// Why `init` failed, in the plugin's own words, if it says: the ABIs
    /// return only a status from `init`, and an SDK plugin reports the
    /// reason in the `error` of every later hook, so this asks the one hook
    /// that needs no input (`post_hook`).
    pub fn init_failure_reason(&mut self) -> Option<String> {
        let input = HookInput::new().with_context("{}");
        self.call_hook(Hook::PostHook, &input)
            .ok()?
            .init_failure_reason()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(abi: Abi, hook: Hook, raw: &str) -> Result<HookOutput> {
        HookOutput::parse(abi, hook, "export", raw.as_bytes().to_vec())
    }

    #[test]
    fn http_bodies_are_decoded_from_base64() {
        let raw = r#"{"response":{"status_code":200,"body":"eyJvayI6dHJ1ZX0="},"error":""}"#;
        let output = parse(Abi::Seed, Hook::HttpPreHook, raw).unwrap();
        assert_eq!(output.body(Field::Response), Some(&br#"{"ok":true}"#[..]));
        assert_eq!(output.body_text(Field::Response), Some(r#"{"ok":true}"#));
        assert_eq!(
            output.body(Field::Request),
            None,
            "the seed output has no request"
        );

        let raw =
            r#"{"request":{"method":"GET","body":null},"response":null,"has_response":false}"#;
        let output = parse(Abi::SingleInput, Hook::HttpPreHook, raw).unwrap();
        assert_eq!(output.body(Field::Request), Some(&b""[..]), "null is empty");
        assert_eq!(output.body(Field::Response), None);
    }

    #[test]
    fn a_body_that_is_not_base64_has_no_decoded_form() {
        for raw in [
            r#"{"response":{"body":"@@"},"error":""}"#,
            r#"{"response":{"body":5},"error":""}"#,
        ] {
            let output = parse(Abi::Seed, Hook::HttpPreHook, raw).unwrap();
            assert_eq!(output.body(Field::Response), None, "{raw}");
            assert_eq!(output.raw(), raw.as_bytes());
        }
    }

    #[test]
    fn llm_values_are_not_taken_for_http_ones() {
        let raw = r#"{"request":{"body":"@@"},"short_circuit":null,"error":""}"#;
        let output = parse(Abi::Seed, Hook::PreHook, raw).unwrap();
        assert_eq!(output.body(Field::Request), None);
    }
}
