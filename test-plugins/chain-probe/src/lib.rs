//! A test plugin for hosts that run chains: each hook marks the texts it
//! sees with the plugin's `tag`, so the final text records which hooks ran
//! and in what order, and the context records who saw the request.
//!
//! Config: `{"tag": "A", "skip": "word", "set": {"key": "value"}}` (`skip`
//! and `set` optional).
//! - `pre_hook`: appends ` >A` to every text of the request and adds the tag
//!   to the context's `chain` (`"A"`, then `"A,B"` after plugin B); writes
//!   each `set` key into the context (an empty value removes the key), so a
//!   test can see what a host does with keys it reserves.
//! - `post_hook`: appends ` <A[chain]` to every text of the response, `chain`
//!   being the context's value when the hook runs (empty when the context
//!   did not come back, as on the seed ABI).
//! - `http_stream_chunk_hook`: appends `|A` to every text of the chunk; a
//!   chunk whose first text starts with the `skip` word is dropped.

#![deny(unsafe_code)]

use std::collections::BTreeMap;

use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde::Deserialize;

/// The probe's configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(crate = "bifrost_plugin_sdk::serde", deny_unknown_fields)]
pub struct Config {
    /// The mark this plugin leaves.
    pub tag: String,
    /// Chunks whose text starts with this word are skipped.
    #[serde(default)]
    pub skip: Option<String>,
    /// Context keys the pre hook writes (an empty value: removes).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
}

/// The probe: its tag and the word it skips.
pub struct ChainProbe {
    tag: String,
    skip: Option<String>,
    set: BTreeMap<String, String>,
}

#[bifrost_plugin(name = "chain-probe")]
impl Plugin for ChainProbe {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        Ok(ChainProbe {
            tag: config.tag,
            skip: config.skip,
            set: config.set,
        })
    }

    fn pre_hook(&mut self, ctx: &mut Context, mut req: LlmRequest) -> Result<PreHook, PluginError> {
        for mut text in req.texts_mut() {
            let marked = format!("{} >{}", &*text, self.tag);
            text.set(marked);
        }
        let chain = match ctx.get_str("chain") {
            Some(before) => format!("{before},{}", self.tag),
            None => self.tag.clone(),
        };
        ctx.set("chain", chain);
        for (key, value) in &self.set {
            match value.is_empty() {
                true => {
                    ctx.remove(key);
                }
                false => ctx.set(key.clone(), value.clone()),
            }
        }
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        ctx: &mut Context,
        mut response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        let chain = ctx.get_str("chain").unwrap_or("").to_string();
        if let Some(response) = response.as_mut() {
            for mut text in response.texts_mut() {
                let marked = format!("{} <{}[{chain}]", &*text, self.tag);
                text.set(marked);
            }
        }
        Ok(PostHook::new(response, error))
    }

    fn http_stream_chunk_hook(
        &mut self,
        _ctx: &mut Context,
        _req: &HttpRequest,
        mut chunk: StreamChunk,
    ) -> Result<StreamChunkHook, PluginError> {
        // The chunk's first text: a chat delta's content, a Responses API
        // event's delta (or the text of its item, part or response).
        let skipped = chunk
            .texts()
            .next()
            .zip(self.skip.as_deref())
            .is_some_and(|(text, skip)| text.starts_with(skip));
        if skipped {
            return Ok(StreamChunkHook::Skip);
        }
        for mut text in chunk.texts_mut() {
            let marked = format!("{}|{}", &*text, self.tag);
            text.set(marked);
        }
        Ok(StreamChunkHook::Continue(chunk))
    }
}
