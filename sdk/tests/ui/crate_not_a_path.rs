use bifrost_plugin_sdk::prelude::*;

struct P;

#[bifrost_plugin(name = "p", crate = "bifrost_plugin_sdk")]
impl Plugin for P {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(P)
    }
}

fn main() {}
