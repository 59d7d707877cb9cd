//! A Bifrost plugin that blocks content: a request whose text contains one
//! of the configured phrases (case-insensitively) anywhere (messages of
//! every role, the Responses API's `instructions`, tool call arguments and
//! tool results) is answered in pre_hook
//! with an LLM error (status 403, type `content_blocked`, the configured
//! message) instead of reaching the provider; a response that contains one
//! is replaced in post_hook by the same error. The error never repeats the
//! phrase.
//!
//! Config: `{"blocked_phrases": ["…"], "message": "…"}`; `blocked_phrases`
//! is required (at least one, none empty), `message` defaults to
//! [`DEFAULT_MESSAGE`].

#![deny(unsafe_code)]

use bifrost_plugin_sdk::prelude::*;
use serde::Deserialize;

/// The message used when the config has none.
pub const DEFAULT_MESSAGE: &str = "content blocked by policy";

/// The plugin's configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Phrases that block a request or response containing them.
    pub blocked_phrases: Vec<String>,
    /// The error message a blocked request or response gets.
    pub message: Option<String>,
}

/// `text` with the capital letters of the Latin (ASCII, Latin-1, Latin
/// Extended-A), Greek and Cyrillic alphabets in lower case, one character
/// for one, the rest as it is. Not `str::to_lowercase`: its tables of every
/// script would add ~20 KB to the plugin.
pub fn fold_case(text: &str) -> String {
    // Most text is ASCII: folded byte by byte, not decoded and encoded again.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.chars().map(fold_char).collect()
}

/// Whether `phrase` occurs in `text`. Compared only where the first byte
/// matches, not window by window: `str::contains` would bring its panic
/// messages and their Unicode tables (~4 KB).
fn contains(text: &[u8], phrase: &[u8]) -> bool {
    let Some((&first, rest)) = phrase.split_first() else {
        return true;
    };
    text.iter()
        .enumerate()
        .any(|(at, &byte)| byte == first && text[at + 1..].starts_with(rest))
}

fn fold_char(c: char) -> char {
    let code = c as u32;
    let lower = match code {
        0x41..=0x5A | 0xC0..=0xD6 | 0xD8..=0xDE => code + 32,
        // Latin Extended-A: a capital, then its small letter.
        0x100..=0x12F | 0x132..=0x137 | 0x14A..=0x177 if code % 2 == 0 => code + 1,
        0x139..=0x148 | 0x179..=0x17E if code % 2 == 1 => code + 1,
        0x178 => 0xFF,
        // Greek (no capital final sigma at 0x3A2) and Cyrillic.
        0x391..=0x3A1 | 0x3A3..=0x3AB | 0x410..=0x42F => code + 32,
        0x400..=0x40F => code + 80,
        // Greek capitals with an accent.
        0x386 => 0x3AC,
        0x388..=0x38A => code + 37,
        0x38C => 0x3CC,
        0x38E..=0x38F => code + 63,
        _ => code,
    };
    char::from_u32(lower).unwrap_or(c)
}

/// The plugin: the phrases, case-folded once, and the message.
#[derive(Debug)]
pub struct ContentGuardrail {
    phrases: Vec<String>,
    message: String,
}

impl ContentGuardrail {
    /// Whether any of `texts` contains a blocked phrase, ignoring case.
    pub fn blocks<T: AsRef<str>>(&self, texts: impl Iterator<Item = T>) -> bool {
        texts.into_iter().any(|text| {
            let text = fold_case(text.as_ref());
            self.phrases
                .iter()
                .any(|phrase| contains(text.as_bytes(), phrase.as_bytes()))
        })
    }

    fn refusal(&self) -> LlmError {
        LlmError::new(self.message.as_str())
            .with_status(403)
            .with_type("content_blocked")
    }
}

#[bifrost_plugin(name = "content-guardrail")]
impl Plugin for ContentGuardrail {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        if config.blocked_phrases.is_empty() {
            return Err(PluginError::new(
                "config field `blocked_phrases` must list at least one phrase, got none",
            ));
        }
        if let Some(i) = config
            .blocked_phrases
            .iter()
            .position(|p| p.trim().is_empty())
        {
            return Err(PluginError::new(format!(
                "config field `blocked_phrases` has an empty phrase at index {i}: it would block everything"
            )));
        }
        let message = config
            .message
            .unwrap_or_else(|| DEFAULT_MESSAGE.to_string());
        if message.trim().is_empty() {
            return Err(PluginError::new(
                "config field `message` is empty: expected the text blocked requests get",
            ));
        }
        Ok(ContentGuardrail {
            phrases: config
                .blocked_phrases
                .iter()
                .map(|p| fold_case(p))
                .collect(),
            message,
        })
    }

    fn pre_hook(&mut self, _ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        if self.blocks(req.texts()) {
            return Ok(PreHook::Fail(self.refusal()));
        }
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        _ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        if response.as_ref().is_some_and(|r| self.blocks(r.texts())) {
            return Ok(PostHook::fail(self.refusal()));
        }
        Ok(PostHook::new(response, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_is_found_wherever_str_contains_finds_it() {
        let texts = [
            "", "a", "aaab", "abab", "xaab", "ab", "ba", "aab aab", "été",
        ];
        let phrases = ["a", "ab", "aab", "b", "abc", "aaab", "é", "té"];
        for text in texts {
            for phrase in phrases {
                assert_eq!(
                    contains(text.as_bytes(), phrase.as_bytes()),
                    text.contains(phrase),
                    "{phrase:?} in {text:?}"
                );
            }
        }
        assert_eq!(fold_case("Mixed CASE ascii"), "mixed case ascii");
    }

    #[test]
    fn fold_case_lowers_latin_greek_and_cyrillic_capitals_as_unicode_does() {
        for c in (0..0x500).filter_map(char::from_u32) {
            let unicode: Vec<char> = c.to_lowercase().collect();
            let covered = matches!(c as u32, 0..=0x17F | 0x370..=0x3FF | 0x400..=0x4FF);
            if unicode.len() == 1 && fold_char(c) != c {
                assert_eq!(fold_char(c), unicode[0], "{c} U+{:04X}", c as u32);
            }
            // Every letter of those alphabets that Unicode lower-cases to
            // one other letter is folded (but the rare ones below).
            let rare = matches!(c as u32, 0x370..=0x37F | 0x3CF..=0x3FF | 0x460..=0x4FF);
            if covered && !rare && unicode.len() == 1 && unicode[0] != c {
                assert_eq!(fold_char(c), unicode[0], "{c} U+{:04X}", c as u32);
            }
        }
        assert_eq!(
            fold_case("PROJECT Falcon ÉTÉ Ωμέγα ПРИВЕТ"),
            "project falcon été ωμέγα привет"
        );
    }
    use bifrost_plugin_sdk::testing::TestPlugin;

    const CONFIG: &str =
        r#"{"blocked_phrases":["Project Falcon","DROP TABLE"],"message":"not allowed here"}"#;

    fn guard() -> TestPlugin<ContentGuardrail> {
        TestPlugin::init(CONFIG).unwrap()
    }

    #[test]
    fn a_request_with_a_blocked_phrase_in_any_text_is_refused_with_403() {
        let mut plugin = guard();
        let request = r#"{"chat_request":{"model":"m","input":[
            {"role":"system","content":"be nice"},
            {"role":"user","content":[{"type":"image_url","image_url":{"url":"u"}},
                                      {"type":"text","text":"status of project FALCON?"}]}]}}"#;
        let out = plugin.pre_hook("{}", request);
        let error = &out["short_circuit"]["error"];
        assert_eq!(error["status_code"], 403);
        assert_eq!(error["error"]["message"], "not allowed here");
        assert_eq!(error["error"]["type"], "content_blocked");
        assert!(!out.text().to_lowercase().contains("falcon"), "{out}");
    }

    #[test]
    fn a_phrase_in_the_instructions_or_a_tool_call_is_refused_too() {
        let mut plugin = guard();
        for request in [
            r#"{"responses_request":{"model":"m","input":"hello","instructions":"about Project Falcon"}}"#,
            r#"{"model":"m","input":"hello","params":{"instructions":"PROJECT FALCON"}}"#,
            r#"{"model":"m","messages":[{"role":"assistant","tool_calls":[
                {"function":{"name":"sql","arguments":"{\"q\":\"drop table users\"}"}}]}]}"#,
            r#"{"model":"m","input":[{"type":"function_call_output","output":"drop table"}]}"#,
        ] {
            let out = plugin.pre_hook("{}", request);
            assert_eq!(
                out["short_circuit"]["error"]["status_code"], 403,
                "{request}"
            );
        }
    }

    #[test]
    fn a_clean_request_goes_on_byte_for_byte() {
        let mut plugin = guard();
        let request = r#"{"model":"m", "prompt":["select 1", "drop the table"]}"#;
        let out = plugin.pre_hook("{}", request);
        assert!(out["short_circuit"].is_null());
        assert!(out.text().contains(request));
    }

    #[test]
    fn a_response_with_a_blocked_phrase_in_any_choice_becomes_the_error() {
        let mut plugin = guard();
        let response = r#"{"choices":[{"index":0,"message":{"content":"fine"}},
            {"index":1,"message":{"content":"then DROP table users"}}]}"#;
        let out = plugin.post_hook("{}", response, "");
        assert!(out["response"].is_null());
        assert_eq!(out["bifrost_error"]["status_code"], 403);
        assert_eq!(out["bifrost_error"]["error"]["message"], "not allowed here");
    }

    #[test]
    fn the_message_has_a_default_and_config_errors_name_the_field() {
        let mut plugin =
            TestPlugin::<ContentGuardrail>::init(r#"{"blocked_phrases":["x"]}"#).unwrap();
        let out = plugin.pre_hook("{}", r#"{"model":"m","input":"X marks"}"#);
        assert_eq!(
            out["short_circuit"]["error"]["error"]["message"],
            DEFAULT_MESSAGE
        );
        for (config, expected) in [
            (
                "{}",
                "config field `blocked_phrases` must list at least one phrase, got none",
            ),
            (
                r#"{"blocked_phrases":["a",""]}"#,
                "config field `blocked_phrases` has an empty phrase at index 1",
            ),
            (
                r#"{"blocked_phrases":"a"}"#,
                "`blocked_phrases`: invalid type: string, expected a sequence",
            ),
            (
                r#"{"blocked_phrases":["a"],"message":""}"#,
                "config field `message` is empty",
            ),
            (
                r#"{"phrases":["a"]}"#,
                "unknown field `phrases`, expected `blocked_phrases` or `message`",
            ),
        ] {
            let err = TestPlugin::<ContentGuardrail>::init(config)
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(expected), "{config}: {err}");
        }
    }
}
