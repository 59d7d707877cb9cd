use bifrost_plugin_sdk::prelude::*;

struct P;

// `crate = …` replaces the default `::bifrost_plugin_sdk`: a path that does
// not exist is reported where the user wrote it.
#[bifrost_plugin(name = "p", crate = not_the_sdk)]
impl Plugin for P {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(P)
    }
}

fn main() {}
