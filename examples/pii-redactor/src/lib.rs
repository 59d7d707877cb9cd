//! A Bifrost plugin that redacts personal data from LLM traffic: e-mail
//! addresses, phone numbers and card numbers (Luhn-checked) are replaced by
//! a fixed text in every text of the request (pre_hook), of every choice of
//! the response (post_hook) and of streamed chunks (stream chunk hook), in
//! every content form (string content, text blocks, prompts, instructions,
//! Responses API items) and inside tool call arguments and tool results.
//! Images, params and every other field are left alone; a value with nothing
//! to redact goes back to the host byte for byte, and one with something to
//! redact changes only in the texts redacted.
//!
//! Config: `{"replacement": "[redacted]"}` (optional; that is the default).

#![deny(unsafe_code)]

pub mod detect;

use bifrost_plugin_sdk::prelude::*;
use serde::Deserialize;

/// The plugin's configuration.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What each finding is replaced with.
    pub replacement: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            replacement: "[redacted]".to_string(),
        }
    }
}

/// The plugin: its replacement text, as is and as JSON string content.
pub struct PiiRedactor {
    replacement: String,
    /// The replacement escaped for the inside of a JSON string: tool call
    /// arguments are JSON text, and a finding sits inside one of its strings.
    replacement_in_json: String,
}

/// `text` as the inside of a JSON string: `"`, `\` and control characters
/// escaped. (By hand: serde_json's serializer would add ~6 KB to the plugin
/// for this one string.)
fn escaped_for_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl PiiRedactor {
    /// Redacts every text `texts` visits; texts with nothing to redact are
    /// not touched, so their value stays byte for byte. Returns how many
    /// texts changed.
    fn redact<'a>(&self, texts: impl Iterator<Item = TextMut<'a>>) -> usize {
        let mut changed = 0;
        for mut text in texts {
            let replacement = match text.location().part {
                Part::ToolArguments => &self.replacement_in_json,
                _ => &self.replacement,
            };
            if let Some(redacted) = detect::redact(&text, replacement) {
                text.set(redacted);
                changed += 1;
            }
        }
        changed
    }
}

#[bifrost_plugin(name = "pii-redactor")]
impl Plugin for PiiRedactor {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        Ok(PiiRedactor {
            replacement_in_json: escaped_for_json(&config.replacement),
            replacement: config.replacement,
        })
    }

    fn pre_hook(
        &mut self,
        _ctx: &mut Context,
        mut req: LlmRequest,
    ) -> Result<PreHook, PluginError> {
        self.redact(req.texts_mut());
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        _ctx: &mut Context,
        mut response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        if let Some(response) = response.as_mut() {
            self.redact(response.texts_mut());
        }
        Ok(PostHook::new(response, error))
    }

    fn http_stream_chunk_hook(
        &mut self,
        _ctx: &mut Context,
        _req: &HttpRequest,
        mut chunk: StreamChunk,
    ) -> Result<StreamChunkHook, PluginError> {
        self.redact(chunk.texts_mut());
        Ok(StreamChunkHook::Continue(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replacement_is_escaped_into_a_json_string_that_reads_back_as_itself() {
        for text in [
            "[redacted]",
            "a\"b\\c",
            "line\nnext\t\r\u{1}\u{8}\u{c}",
            "é ✓",
        ] {
            let quoted = format!("\"{}\"", escaped_for_json(text));
            let read: String = bifrost_plugin_sdk::serde_json::from_str(&quoted).unwrap();
            assert_eq!(read, text);
        }
    }
    use bifrost_plugin_sdk::testing::TestPlugin;

    const CHAT: &str = r#"{"chat_request":{"model":"m","input":[
        {"role":"user","content":[
            {"type":"text","text":"I am jane@example.com"},
            {"type":"image_url","image_url":{"url":"https://x/jane@example.com.png"}}]},
        {"role":"user","content":"card 4111 1111 1111 1111"}],
        "params":{"user":"jane@example.com"}}}"#;

    #[test]
    fn tool_call_arguments_are_redacted_and_stay_json() {
        let mut plugin =
            TestPlugin::<PiiRedactor>::init(r#"{"replacement":"<\"gone\">"}"#).unwrap();
        let request = r#"{"model":"m","messages":[
            {"role":"assistant","tool_calls":[{"id":"1","type":"function",
              "function":{"name":"send","arguments":"{\"to\":\"bob@example.com\"}"}}]},
            {"role":"tool","tool_call_id":"1","content":"sent to bob@example.com"}]}"#;
        let out = plugin.pre_hook("{}", request);
        let messages = &out["request"]["messages"];
        let arguments = messages[0]["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap();
        let arguments: bifrost_plugin_sdk::serde_json::Value =
            bifrost_plugin_sdk::serde_json::from_str(arguments).unwrap();
        assert_eq!(arguments["to"], r#"<"gone">"#);
        assert_eq!(messages[1]["content"], r#"sent to <"gone">"#);
    }

    #[test]
    fn every_request_text_is_redacted_and_images_and_params_are_not() {
        let mut plugin = TestPlugin::<PiiRedactor>::init("{}").unwrap();
        let out = plugin.pre_hook("{}", CHAT);
        assert_eq!(out.error(), None);
        let input = &out["request"]["chat_request"]["input"];
        assert_eq!(input[0]["content"][0]["text"], "I am [redacted]");
        assert_eq!(
            input[0]["content"][1]["image_url"]["url"],
            "https://x/jane@example.com.png"
        );
        assert_eq!(input[1]["content"], "card [redacted]");
        assert_eq!(
            out["request"]["chat_request"]["params"]["user"],
            "jane@example.com"
        );
    }

    #[test]
    fn every_choice_of_a_response_is_redacted_with_the_configured_text() {
        let mut plugin = TestPlugin::<PiiRedactor>::init(r#"{"replacement":"***"}"#).unwrap();
        let response = r#"{"choices":[
            {"index":0,"message":{"role":"assistant","content":"ok"}},
            {"index":1,"message":{"role":"assistant","content":"call +1 555 010 0199"}}]}"#;
        let out = plugin.post_hook("{}", response, "");
        assert_eq!(out.error(), None);
        assert_eq!(out["response"]["choices"][0]["message"]["content"], "ok");
        assert_eq!(
            out["response"]["choices"][1]["message"]["content"],
            "call ***"
        );
    }

    #[test]
    fn a_response_with_nothing_to_redact_goes_back_byte_for_byte() {
        let mut plugin = TestPlugin::<PiiRedactor>::init("").unwrap();
        let response = r#"{"choices":[{"index":0, "message":{"content":"nothing here","role":"assistant"}}],"usage":{"total_tokens":1.0}}"#;
        let out = plugin.post_hook("{}", response, "");
        assert!(out.text().contains(response), "{}", out.text());
    }

    #[test]
    fn config_errors_name_the_field() {
        let err = TestPlugin::<PiiRedactor>::init(r#"{"replacement":5}"#)
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("`replacement`: invalid type: integer, expected a string"),
            "{err}"
        );
        let err = TestPlugin::<PiiRedactor>::init(r#"{"replace":"x"}"#)
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("unknown field `replace`, expected `replacement`"),
            "{err}"
        );
    }

    #[test]
    fn malformed_requests_get_the_sdks_error_and_are_not_lost() {
        let mut plugin = TestPlugin::<PiiRedactor>::init("{}").unwrap();
        let out = plugin.pre_hook("{}", r#"{"model": "m", "input": [1,}"#);
        assert!(
            out.error()
                .unwrap()
                .starts_with("request is not valid JSON"),
            "{out}"
        );
    }
}
