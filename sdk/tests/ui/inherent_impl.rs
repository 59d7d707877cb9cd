use bifrost_plugin_sdk::prelude::*;

struct P;

#[bifrost_plugin(name = "p")]
impl P {
    fn new() -> Self {
        P
    }
}

fn main() {}
