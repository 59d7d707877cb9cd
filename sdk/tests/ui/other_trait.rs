use bifrost_plugin_sdk::prelude::*;

#[derive(Clone)]
struct P;

#[bifrost_plugin(name = "p")]
impl Default for P {
    fn default() -> Self {
        P
    }
}

fn main() {}
