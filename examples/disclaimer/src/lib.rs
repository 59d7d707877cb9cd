//! A Bifrost plugin that appends a configured text (a disclaimer, a
//! signature) to what a model answers in a chat completion: to the content of
//! every choice of a response (post_hook), and on a stream to the chunk that
//! carries a `finish_reason`, as delta content (stream chunk hook, single-input
//! ABI). Every other kind of response, every other chunk and every other byte
//! goes back as it came.
//!
//! Config: `{"text": "…"}`, required and not empty. The text is appended as
//! it is: start it with `"\n\n"` to set it apart.

#![deny(unsafe_code)]

use bifrost_plugin_sdk::prelude::*;
use serde::Deserialize;

/// The plugin's configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What is appended to every answer.
    pub text: Option<String>,
}

/// The plugin: only the text it appends.
#[derive(Debug)]
pub struct Disclaimer {
    text: String,
}

impl Disclaimer {
    /// Appends the text to every choice of a chat completion response;
    /// returns how many choices got it (none for any other kind).
    pub fn sign_response(&self, response: &mut LlmResponse) -> usize {
        if response.kind() != ResponseKind::Chat {
            return 0;
        }
        response
            .choices_mut()
            .filter_map(|mut choice| choice.append_text(&self.text).then_some(()))
            .count()
    }

    /// Appends the text to each choice of a chat completion chunk that
    /// finishes (has a `finish_reason`); returns how many did.
    pub fn sign_chunk(&self, chunk: &mut StreamChunk) -> usize {
        if chunk.kind() != ResponseKind::Chat {
            return 0;
        }
        chunk
            .choices_mut()
            .filter(|choice| choice.finish_reason().is_some())
            .filter_map(|mut choice| choice.append_text(&self.text).then_some(()))
            .count()
    }
}

#[bifrost_plugin(name = "disclaimer")]
impl Plugin for Disclaimer {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        match config.text {
            None => Err(PluginError::new(
                "config field `text` is required: the text appended to every answer",
            )),
            Some(text) if text.is_empty() => Err(PluginError::new(
                "config field `text` is empty: expected the text appended to every answer",
            )),
            Some(text) => Ok(Disclaimer { text }),
        }
    }

    fn post_hook(
        &mut self,
        _ctx: &mut Context,
        mut response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        if let Some(response) = response.as_mut() {
            self.sign_response(response);
        }
        Ok(PostHook::new(response, error))
    }

    fn http_stream_chunk_hook(
        &mut self,
        _ctx: &mut Context,
        _req: &HttpRequest,
        mut chunk: StreamChunk,
    ) -> Result<StreamChunkHook, PluginError> {
        self.sign_chunk(&mut chunk);
        Ok(StreamChunkHook::Continue(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_sdk::testing::{Abi, TestPlugin};

    const CONFIG: &str = r#"{"text":"\n-- AI generated"}"#;

    fn disclaimer() -> TestPlugin<Disclaimer> {
        TestPlugin::init(CONFIG).unwrap()
    }

    #[test]
    fn every_choice_of_a_chat_completion_gets_the_text_and_nothing_else_changes() {
        let response = r#"{"chat_response":{"id":"c1","object":"chat.completion","seed":123456789012345678901234567890,"choices":[
            {"index":0,"message":{"role":"assistant","content":"Yes."},"finish_reason":"stop"},
            {"index":1,"message":{"role":"assistant","content":[{"type":"text","text":"No."}]},"finish_reason":"stop"}],
            "usage":{"total_tokens":1.50}}}"#;
        let out = disclaimer().post_hook("{}", response, "");
        assert_eq!(out.error(), None);
        let expected = response
            .replace(r#""Yes.""#, r#""Yes.\n-- AI generated""#)
            .replace(r#""No.""#, r#""No.\n-- AI generated""#);
        assert!(out.text().contains(&expected), "{out}");
    }

    #[test]
    fn other_kinds_go_back_as_they_came() {
        for response in [
            r#"{"object":"text_completion","choices":[{"index":0,"text":"t","finish_reason":"stop"}]}"#,
            r#"{"responses_response":{"output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"o"}]}]}}"#,
            r#"{"embedding_response":{"data":[{"embedding":[0.1]}]}}"#,
        ] {
            let out = disclaimer().post_hook("{}", response, "");
            assert!(out.text().contains(response), "{out}");
        }
    }

    #[test]
    fn on_a_stream_only_the_finishing_chunk_gets_the_text() {
        let mut plugin = TestPlugin::<Disclaimer>::init_with_abi(Abi::SingleInput, CONFIG).unwrap();
        let request = r#"{"method":"POST","path":"/v1/chat/completions"}"#;
        let middle = r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#;
        let out = plugin.http_stream_chunk_hook("{}", request, middle);
        assert!(out.text().contains(middle), "{out}");
        let last = r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        let out = plugin.http_stream_chunk_hook("{}", request, last);
        let expected = last.replace("{}", r#"{"content":"\n-- AI generated"}"#);
        assert!(out.text().contains(&expected), "{out}");
    }

    #[test]
    fn the_text_is_required() {
        for config in ["{}", r#"{"text":""}"#, ""] {
            let error = TestPlugin::<Disclaimer>::init(config).err().unwrap();
            assert!(
                error.message.contains("`text`"),
                "{config}: {}",
                error.message
            );
        }
    }
}
