//! A benchmark plugin. Its `pre_hook` makes a typed edit (sets the model,
//! appends a message), its `post_hook` an edit of one text found among the
//! response's texts (`SECRET` becomes `[hidden]`); its extra export `json_roundtrip(ptr, len)` parses the
//! same bytes into a `serde_json::Value` and serialises them again, with no
//! SDK involved: the baseline the typed edit is measured against.

use bifrost_plugin_sdk::prelude::*;

/// No state.
pub struct BenchGuest;

#[bifrost_plugin(name = "bench-guest")]
impl Plugin for BenchGuest {
    type Config = serde_json::Value;

    fn init(_config: serde_json::Value) -> Result<Self, PluginError> {
        Ok(BenchGuest)
    }

    fn pre_hook(
        &mut self,
        _ctx: &mut Context,
        mut req: LlmRequest,
    ) -> Result<PreHook, PluginError> {
        req.set_model("gpt-4o");
        req.push_message(ChatMessage::user("benchmark"));
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        _ctx: &mut Context,
        mut response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        if let Some(response) = response.as_mut() {
            for mut text in response.texts_mut() {
                if text.contains("SECRET") {
                    let hidden = text.replace("SECRET", "[hidden]");
                    text.set(hidden);
                }
            }
        }
        Ok(PostHook::new(response, error))
    }
}

/// Plain serde_json: parse the `len` bytes at `ptr` into a `Value`, set the
/// model, append a message, serialise. Returns the output length (the
/// output is dropped: only the work is measured).
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn json_roundtrip(ptr: u32, len: u32) -> u32 {
    // SAFETY: the benchmark host passes a buffer it wrote through plugin_malloc.
    let bytes = unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return 0;
    };
    value["model"] = "gpt-4o".into();
    if let Some(input) = value.get_mut("input").and_then(|v| v.as_array_mut()) {
        input.push(serde_json::json!({"role": "user", "content": "benchmark"}));
    }
    serde_json::to_vec(&value).map_or(0, |out| out.len() as u32)
}
