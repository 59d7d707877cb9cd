// The pointer layer (the host's entry points) cannot be called from safe
// plugin code: freeing an input while a hook reads it would be a
// use-after-free. Every call below is refused without an `unsafe` block.
use bifrost_plugin_sdk::abi::exports;
use bifrost_plugin_sdk::prelude::*;

struct P;

impl Plugin for P {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(P)
    }
}

fn main() {
    let p = exports::plugin_malloc(64);
    exports::with_input(p, 64, "request", |bytes| {
        exports::plugin_free(p);
        bytes.map(|b| b[0])
    });
    exports::finish(Vec::new());
    exports::init::<P>(0, 0);
    exports::cleanup::<P>();
    exports::seed::pre_hook::<P>(0, 0, 0, 0);
    exports::single::post_hook::<P, true>(0, 0);
}
