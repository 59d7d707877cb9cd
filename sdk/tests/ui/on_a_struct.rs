use bifrost_plugin_sdk::prelude::*;

#[bifrost_plugin(name = "p")]
struct P;

fn main() {}
