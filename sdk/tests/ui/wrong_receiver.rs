use bifrost_plugin_sdk::prelude::*;

struct P;

#[bifrost_plugin(name = "p")]
impl Plugin for P {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(P)
    }
    fn post_hook(
        &self,
        _ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        Ok(PostHook::new(response, error))
    }
}

fn main() {}
