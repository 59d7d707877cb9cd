use bifrost_plugin_sdk::prelude::*;

struct P<T>(T);

#[bifrost_plugin(name = "p")]
impl<T: Default + 'static> Plugin for P<T> {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(P(T::default()))
    }
}

fn main() {}
