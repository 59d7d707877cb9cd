use bifrost_plugin_sdk::prelude::*;

struct P;

#[bifrost_plugin(name = "p")]
impl Plugin for P {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(P)
    }
    fn pre_hook(&mut self, req: LlmRequest) -> Result<PreHook, PluginError> {
        Ok(PreHook::Continue(req))
    }
}

fn main() {}
