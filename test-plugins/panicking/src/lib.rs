//! A test plugin: its `pre_hook` panics when the model is `"panic"`, fails
//! with an error when it is `"fail"`, and otherwise counts calls in the
//! context (`calls`), so tests can see state survive or be rebuilt. With the
//! configuration `{"panic_in_cleanup": true}` its `cleanup` panics.

use sdk::prelude::*;

/// Counts pre-hook calls since `init`.
pub struct Panicking {
    calls: u64,
    panic_in_cleanup: bool,
}

// The SDK is a dependency renamed `sdk`: the attribute is told where it is.
#[bifrost_plugin(name = "panicking", crate = sdk)]
impl Plugin for Panicking {
    type Config = sdk::serde_json::Value;

    fn init(config: Self::Config) -> Result<Self, PluginError> {
        Ok(Panicking {
            calls: 0,
            panic_in_cleanup: config["panic_in_cleanup"] == true,
        })
    }

    fn cleanup(&mut self) -> Result<(), PluginError> {
        if self.panic_in_cleanup {
            panic!("the plugin author's cleanup bug");
        }
        Ok(())
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
