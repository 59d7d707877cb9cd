use bifrost_plugin_sdk::prelude::*;

struct P;

#[bifrost_plugin(name = "p")]
impl Plugin for P {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(P)
    }
    fn pre_hook(&mut self, _ctx: &mut Context, _req: String) -> Result<PreHook, PluginError> {
        Err(PluginError::new("no"))
    }
}

fn main() {}
