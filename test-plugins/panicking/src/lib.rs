//! A test plugin: its `pre_hook` panics when the model is `"panic"`, fails
//! with an error when it is `"fail"`, and otherwise counts calls in the
//! context (`calls`), so tests can see state survive or be rebuilt. It reads
//! every request (its model), so a request that does not parse fails when
//! read. Its configuration is typed: `{"panic_in_cleanup": true}` makes its
//! `cleanup` panic, `{"init_error": "…"}` makes `init` fail with that message
//! and `{"cleanup_error": "…"}` makes `cleanup` fail with it.
//! `{"keep_per_request": true}` makes `post_hook` keep 1 KB per request id
//! and never drop it: the leak `bifrost-plugin bench` must report. (In
//! `post_hook`, so that `pre_hook`, whose panics the stack tests count,
//! keeps its frames.)

use std::collections::BTreeMap;

use sdk::prelude::*;

/// Counts pre-hook calls since `init`.
pub struct Panicking {
    calls: u64,
    panic_in_cleanup: bool,
    cleanup_error: Option<String>,
    kept: Option<BTreeMap<String, Vec<u8>>>,
}

/// What the tests ask of the plugin; every field optional.
#[derive(sdk::serde::Deserialize, Default)]
#[serde(crate = "sdk::serde", default)]
pub struct Config {
    panic_in_cleanup: bool,
    init_error: Option<String>,
    cleanup_error: Option<String>,
    keep_per_request: bool,
}

// The SDK is a dependency renamed `sdk`: the attribute is told where it is.
#[bifrost_plugin(name = "panicking", crate = sdk)]
impl Plugin for Panicking {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        if let Some(message) = config.init_error {
            return Err(PluginError::new(message));
        }
        Ok(Panicking {
            calls: 0,
            panic_in_cleanup: config.panic_in_cleanup,
            cleanup_error: config.cleanup_error,
            kept: config.keep_per_request.then(BTreeMap::new),
        })
    }

    fn cleanup(&mut self) -> Result<(), PluginError> {
        if self.panic_in_cleanup {
            panic!("the plugin author's cleanup bug");
        }
        match self.cleanup_error.take() {
            Some(message) => Err(PluginError::new(message)),
            None => Ok(()),
        }
    }

    fn post_hook(
        &mut self,
        ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        if let (Some(kept), Some(id)) = (&mut self.kept, ctx.request_id()) {
            kept.insert(id.to_string(), vec![1; 1024]);
        }
        Ok(PostHook::new(response, error))
    }

    fn pre_hook(&mut self, ctx: &mut Context, mut req: LlmRequest) -> Result<PreHook, PluginError> {
        self.calls += 1;
        match req.model() {
            Some("panic") => panic!("the plugin author's bug (call {})", self.calls),
            Some("fail") => return Err(PluginError::new("asked to fail")),
            _ => {}
        }
        ctx.set("calls", self.calls);
        req.set_model(format!("call-{}", self.calls));
        Ok(PreHook::Continue(req))
    }
}
