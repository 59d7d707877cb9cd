//! The command line: subcommands, their arguments, and `--help` texts with
//! examples.

// The doc comments below are the `--help` text clap prints, where
// `build/<name>.wasm` is meant literally: rustdoc must not read it as HTML.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use bifrost_plugin_host::pipeline::{RequestShape, Runtime};
use bifrost_plugin_host::{Abi, FreeMode, Hook};
use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  bifrost-plugin inspect build/hello-world.wasm
  bifrost-plugin run build/hello-world.wasm pre-hook --context ctx.json --request req.json
  bifrost-plugin run plugin.wasm post-hook --response resp.json --config cfg.json
  bifrost-plugin bench build/hello-world.wasm pre-hook -n 10000 --request req.json --free nothing

Exit codes: 0 success; 1 the module, an input or a call failed (or inspect found
problems); 2 bad command line; 3 the plugin reported an error in its output.";

const INSPECT_EXAMPLES: &str = "\
Examples:
  bifrost-plugin inspect build/hello-world.wasm
  bifrost-plugin inspect --abi single-input plugin.wasm

Exits 1 if any problem is an error (warnings alone exit 0).";

const RUN_EXAMPLES: &str = "\
Inputs (and --config) are inline JSON (any value: `{…}`, `null`, `42`), `@FILE`
(or a path that is not JSON), or `-` for stdin; each is sent byte for byte,
and stderr says which config was read. Absent inputs are not sent (seed: an
empty buffer); without --config, init gets an empty buffer.

Examples:
  bifrost-plugin run build/hello-world.wasm pre-hook --context ctx.json --request req.json
  bifrost-plugin run plugin.wasm http-pre-hook --request '{\"method\":\"GET\",\"path\":\"/\"}'
  bifrost-plugin run plugin.wasm post-hook --response resp.json --error err.json
  bifrost-plugin run plugin.wasm pre-hook --config null --request @req.json
  bifrost-plugin run plugin.wasm http-stream-chunk-hook --request req.json --chunk chunk.json
  cat req.json | bifrost-plugin run plugin.wasm pre-hook --request - --config cfg.json

Prints the output as pretty JSON on stdout (key order and numbers kept); the
plugin's name and warnings go to stderr. HTTP bodies (base64 on the wire) are
shown decoded when they are UTF-8: a JSON body as its JSON value, other text as
a string; --raw prints them as sent. Exits 3 if the output reports an error.";

const BENCH_EXAMPLES: &str = "\
Examples:
  bifrost-plugin bench build/hello-world.wasm pre-hook -n 10000 --request req.json
  bifrost-plugin bench plugin.wasm post-hook -n 100000 --response resp.json --free nothing

Each call is a request of its own, as under Bifrost: the context's request_id
becomes `<request_id>-<n>` (`bench-<n>` without one), so state a plugin keeps
per request and never drops shows as growth; --same-request sends the one
context given every time. The first -n/10 calls (at most 1000) warm the plugin
up, untimed. The -n calls then run in 4 rounds with the guest's memory read
after each: memory that grows round after round, the last included, is a leak;
growth that stops is a cache filling or the allocator settling (a larger -n
tells for sure).";

const NEW_EXAMPLES: &str = "\
Examples:
  bifrost-plugin new my-plugin
  bifrost-plugin new plugins/guard --name model-guard --hooks pre-hook
  bifrost-plugin new my-plugin --hooks http-pre-hook,http-post-hook,http-stream-chunk-hook
  bifrost-plugin new my-plugin --sdk-version 0.1.0
  bifrost-plugin new my-logger --wasi

Writes Cargo.toml (cdylib + rlib, the size profile, the SDK), src/lib.rs (the
hooks as pass-through stubs, a typed Config, native tests through
bifrost_plugin_sdk::testing), tests/in_the_host.rs (the .wasm in the local host,
one test per hook), scenarios/basic.json and a README. Then:
  cd my-plugin && cargo test && bifrost-plugin build
With --wasi the hooks also log a line with the host's time, and the tests,
the scenario and `bifrost-plugin build --wasi` use wasm32-wasip1.";

const BUILD_EXAMPLES: &str = "\
Examples:
  bifrost-plugin build
  bifrost-plugin build --abi seed --optimize
  bifrost-plugin build --manifest-path plugins/guard/Cargo.toml

Runs `cargo build --release --target wasm32-unknown-unknown` (with --features
single-input-abi for that ABI) in <target>/plugin-wasm, the directory the host
tests' build::plugin_wasm uses (so `cargo test` and `build` share one build),
copies the .wasm to build/, runs wasm-opt -Oz with --optimize, then prints
what inspect prints. Exits 1 if a check fails.";

const TEST_EXAMPLES: &str = "\
A scenario is a JSON file: the plugin (a path from the file's directory) and
steps, each one call on the same instance, in order:

  {
    \"plugin\": \"../build/my-plugin.wasm\",
    \"steps\": [
      { \"init\": { \"limit\": 2 } },
      { \"name\": \"first request passes\",
        \"pre_hook\": { \"context\": { \"request_id\": \"r1\" }, \"request\": { \"model\": \"m\" } },
        \"expect\": { \"request\": { \"model\": \"m\" } } },
      { \"post_hook\": { \"response\": { \"id\": \"x\" } }, \"expect_log\": [\"id=x\"] },
      { \"set_clock\": \"2026-01-01T09:30:00Z\" },
      { \"http_pre_hook\": { \"request\": { \"method\": \"POST\", \"path\": \"/\", \"body\": { \"q\": 1 } } },
        \"expect\": { \"response\": { \"status_code\": 401, \"body\": { \"error\": \"no key\" } } } },
      { \"advance_clock\": 60 },
      { \"init\": { \"limit\": 0 }, \"expect\": 2, \"expect_error\": \"limit\" },
      { \"cleanup\": null }
    ]
  }

Calls: init (its value is the config; null sends none), http_pre_hook,
http_post_hook, http_stream_chunk_hook, pre_hook, post_hook (their value holds
the inputs: context, request, response, error, chunk), cleanup; set_clock (a
time in UTC, RFC 3339, or Unix seconds) and advance_clock (seconds) fix and
move the plugin's WASI clock.
`expect` on a hook: JSON the output must contain (objects may have more keys;
arrays match item by item); on init/cleanup: the status (default 0).
`expect_error`: text the plugin's error must contain; without it a hook must
report no error. `expect_log`: texts the step's log lines must contain, one
line each, in order (`[]`: no line).
HTTP bodies, given or expected: a JSON value, or a string for a text body
(sent as base64, as on the wire); `body_base64` gives the wire's base64.

Examples:
  bifrost-plugin test scenarios/*.json
  bifrost-plugin test --plugin build/my-plugin-single-input.wasm scenarios/single-input.json

Prints ok/FAIL per step with each difference as `/json/pointer: expected …,
got …`. Exits 1 if a step failed or a file is malformed (the error names the
step and the field).";

const SERVE_EXAMPLES: &str = "\
For development and testing, not production: one instance of each plugin,
no authentication, no TLS, a mock provider by default.

Examples:
  bifrost-plugin serve --config examples/serve/config.json
  bifrost-plugin serve --config config.json --listen 127.0.0.1:0 --trace
  bifrost-plugin serve --config config.json --upstream https://api.openai.com/v1

Then, for instance:
  curl -s localhost:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'

Endpoints: POST /v1/chat/completions (stream, stream_options.include_usage, n),
/v1/completions, /v1/embeddings, /v1/responses, the same under /openai/v1, GET
/v1/models, GET /health. Plugins run in Bifrost's order (placement, order, file
order): HTTP pre hooks, LLM pre hooks, the provider, LLM post hooks in reverse,
HTTP post hooks in reverse (for a stream: each chunk through the LLM post and
stream chunk hooks). The mock answers with the last user message's text, usage
counted in words. Prints `listening on http://HOST:PORT` on stdout once it
accepts connections, one line per request on stderr; Ctrl-C or SIGTERM stops it
and calls each plugin's cleanup. Exits 1 before listening if the config, a
plugin file or a plugin's init fails.";

/// Inspect, run and benchmark a Bifrost WebAssembly plugin without Bifrost.
///
/// Loads the plugin into a local host that calls it as Bifrost does, for
/// either ABI (seed: multi-buffer hooks; single-input: one JSON object per
/// hook), detected from the plugin's exports.
#[derive(Debug, Parser)]
#[command(name = "bifrost-plugin", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a plugin's ABI, exports and imports, and everything wrong with them.
    #[command(after_help = INSPECT_EXAMPLES)]
    Inspect(InspectArgs),
    /// Call one hook once and print its output as pretty JSON.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Call one hook N times; print calls/s and guest memory round by round.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(BenchArgs),
    /// Run scenario files: calls on one instance, each output checked.
    #[command(after_help = TEST_EXAMPLES)]
    Test(TestArgs),
    /// Create a plugin crate that tests and builds out of the box.
    #[command(after_help = NEW_EXAMPLES)]
    New(NewArgs),
    /// Build the plugin crate here to build/<name>.wasm (and
    /// build/<name>-single-input.wasm), then check it as inspect does.
    #[command(after_help = BUILD_EXAMPLES)]
    Build(BuildArgs),
    /// Run a chain of plugins as Bifrost does, behind an OpenAI-compatible
    /// HTTP endpoint (for development and testing, not production).
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Bifrost's config.json: its `plugins` list is loaded (paths relative
    /// to the file's folder), every other section ignored. A file (`@FILE`,
    /// or a path that is not JSON), inline JSON, or `-` for stdin.
    #[arg(long, value_name = "FILE|@FILE|JSON")]
    pub config: String,
    /// Where to listen; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Forward to this OpenAI-compatible server instead of the mock
    /// provider (URL/chat/completions, …), with the client's Authorization.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// How long to wait for the upstream, in seconds: to connect, to
    /// answer (status and headers, or a whole non-streamed body), and
    /// between two chunks of a stream. On timeout the client gets a 504.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = positive_seconds)]
    pub upstream_timeout: f64,
    /// Print every hook's input and output on stderr.
    #[arg(long)]
    pub trace: bool,
    /// Instantiate a plugin again when its .wasm file changes.
    #[arg(long)]
    pub watch: bool,
    /// The JSON shape of the BifrostRequest/BifrostResponse plugins are sent
    /// (abi-spec 3.5; Bifrost's own is not public).
    #[arg(long, value_enum, default_value_t = ShapeArg::Flat)]
    pub request_shape: ShapeArg,
    /// The WebAssembly runtime: wasmi (an interpreter) or wasmtime
    /// (compiled, some 30 times faster per call; needs a build with the
    /// `jit` feature; wasm32-wasip1 plugins stay on wasmi).
    #[arg(long, value_enum, default_value_t = RuntimeArg::Wasmi)]
    pub runtime: RuntimeArg,
}

/// A positive, finite number of seconds.
fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs.is_finite() && secs < 1e9 => Ok(secs),
        _ => Err(format!(
            "expected a positive number of seconds, got `{text}`"
        )),
    }
}

/// `--runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeArg {
    /// An interpreter (the default).
    Wasmi,
    /// Cranelift-compiled (`cargo install … --features jit`).
    Wasmtime,
}

impl From<RuntimeArg> for Runtime {
    fn from(runtime: RuntimeArg) -> Runtime {
        match runtime {
            RuntimeArg::Wasmi => Runtime::Wasmi,
            RuntimeArg::Wasmtime => Runtime::Wasmtime,
        }
    }
}

/// `--request-shape`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShapeArg {
    /// The documentation's: {"provider","model","input","params"}.
    Flat,
    /// {"chat_request":{…}}, {"chat_response":{…}}.
    Snake,
    /// Go's untagged union: {"RequestType":…,"ChatRequest":{…}}.
    Go,
}

impl From<ShapeArg> for RequestShape {
    fn from(shape: ShapeArg) -> RequestShape {
        match shape {
            ShapeArg::Flat => RequestShape::Flat,
            ShapeArg::Snake => RequestShape::Snake,
            ShapeArg::Go => RequestShape::Go,
        }
    }
}

/// `new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The directory to create (its last part is the crate's name).
    pub path: PathBuf,
    /// The crate's and the plugin's name (default: the directory's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The hooks to write stubs and tests for.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "pre-hook,post-hook"
    )]
    pub hooks: Vec<HookArg>,
    /// A wasm32-wasip1 plugin: its hooks log a line and read the clock, its
    /// host tests and scenario use the wasm32-wasip1 build (`bifrost-plugin
    /// build --wasi`: build/<name>[-single-input]-wasi.wasm).
    #[arg(long)]
    pub wasi: bool,
    /// The SDK from this checkout of bifrost-plugin-sdk (default: the one
    /// this binary was built from, if it is still there).
    #[arg(long, value_name = "DIR", group = "sdk")]
    pub sdk_path: Option<PathBuf>,
    /// The SDK from crates.io, this version (default when this binary's
    /// checkout is gone: its own version).
    #[arg(long, value_name = "VERSION", group = "sdk")]
    pub sdk_version: Option<String>,
    /// The SDK from this git repository.
    #[arg(long, value_name = "URL", group = "sdk")]
    pub sdk_git: Option<String>,
}

/// `build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Which ABI(s) to build.
    #[arg(long, value_enum, default_value_t = BuildAbi::Both)]
    pub abi: BuildAbi,
    /// Build for wasm32-wasip1 (files named <name>[-single-input]-wasi.wasm).
    #[arg(long)]
    pub wasi: bool,
    /// Shrink the result with `wasm-opt -Oz` (binaryen), when installed.
    #[arg(long)]
    pub optimize: bool,
    /// The plugin crate's Cargo.toml (default: the one here).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// `build --abi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildAbi {
    /// build/<name>.wasm
    Seed,
    /// build/<name>-single-input.wasm
    SingleInput,
    /// Both files.
    Both,
}

/// `test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Scenario files (JSON; see `bifrost-plugin test --help`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The plugin, instead of each file's `plugin` field.
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Speak this ABI instead of the one the plugin's exports show.
    #[arg(long, value_enum)]
    pub abi: Option<AbiArg>,
    /// Which buffers the host frees (see `run --help`).
    #[arg(long, value_enum, default_value_t = FreeArg::All)]
    pub free: FreeArg,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The plugin: a .wasm (or WebAssembly text) file.
    pub plugin: PathBuf,
    /// Check against this ABI instead of the one its exports show.
    #[arg(long, value_enum)]
    pub abi: Option<AbiArg>,
}

/// `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plugin: a .wasm (or WebAssembly text) file.
    pub plugin: PathBuf,
    /// The hook to call.
    #[arg(value_enum)]
    pub hook: HookArg,
    /// Print HTTP bodies as sent (base64) instead of decoded.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub host: HostArgs,
    #[command(flatten)]
    pub inputs: InputArgs,
}

/// `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The plugin: a .wasm (or WebAssembly text) file.
    pub plugin: PathBuf,
    /// The hook to call.
    #[arg(value_enum)]
    pub hook: HookArg,
    /// How many calls.
    #[arg(short = 'n', long = "calls", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub calls: u64,
    /// Send the same context every call (by default each call is a request
    /// of its own, with its own `request_id`).
    #[arg(long)]
    pub same_request: bool,
    #[command(flatten)]
    pub host: HostArgs,
    #[command(flatten)]
    pub inputs: InputArgs,
}

/// How the host is set up.
#[derive(Debug, Args)]
#[command(next_help_heading = "Host")]
pub struct HostArgs {
    /// Speak this ABI instead of the one the plugin's exports show.
    #[arg(long, value_enum)]
    pub abi: Option<AbiArg>,
    /// The plugin's configuration, passed to `init`: inline JSON (`null`
    /// included), `@FILE`, or `-` (default: none, an empty buffer).
    #[arg(long, value_name = "JSON|@FILE")]
    pub config: Option<String>,
    /// Which buffers the host frees: every input and output, the inputs
    /// only, or nothing. Bifrost's choice is not public: a plugin must work
    /// under all three.
    #[arg(long, value_enum, default_value_t = FreeArg::All)]
    pub free: FreeArg,
}

/// The hook's inputs.
#[derive(Debug, Args)]
#[command(next_help_heading = "Hook inputs")]
pub struct InputArgs {
    /// The request context.
    #[arg(long, value_name = "JSON|@FILE")]
    pub context: Option<String>,
    /// The HTTP request (HTTP hooks) or the LLM request (pre-hook).
    #[arg(long, value_name = "JSON|@FILE")]
    pub request: Option<String>,
    /// The HTTP response (http-post-hook) or the LLM response (post-hook).
    #[arg(long, value_name = "JSON|@FILE")]
    pub response: Option<String>,
    /// The Bifrost error (post-hook).
    #[arg(long, value_name = "JSON|@FILE")]
    pub error: Option<String>,
    /// The stream chunk (http-stream-chunk-hook).
    #[arg(long, value_name = "JSON|@FILE")]
    pub chunk: Option<String>,
}

/// `--abi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AbiArg {
    /// Multi-buffer hooks (the TinyGo hello-world README).
    Seed,
    /// One JSON object per hook (Bifrost's examples and docs).
    SingleInput,
}

impl From<AbiArg> for Abi {
    fn from(abi: AbiArg) -> Abi {
        match abi {
            AbiArg::Seed => Abi::Seed,
            AbiArg::SingleInput => Abi::SingleInput,
        }
    }
}

/// `--free`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FreeArg {
    /// Free every input and every output.
    All,
    /// Free the inputs only.
    Inputs,
    /// Free nothing.
    Nothing,
}

impl From<FreeArg> for FreeMode {
    fn from(free: FreeArg) -> FreeMode {
        match free {
            FreeArg::All => FreeMode::All,
            FreeArg::Inputs => FreeMode::InputsOnly,
            FreeArg::Nothing => FreeMode::Nothing,
        }
    }
}

/// The hook argument; `_` works as well as `-`.
// The variant names are the values users type (`pre-hook`, `post-hook`, ...).
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookArg {
    /// HTTP request hook (seed: http_transport_intercept; single-input:
    /// http_pre_hook, else http_intercept).
    #[value(aliases = ["http_pre_hook", "http-intercept", "http_intercept", "http-transport-intercept", "http_transport_intercept"])]
    HttpPreHook,
    /// HTTP response hook (single-input only).
    #[value(alias = "http_post_hook")]
    HttpPostHook,
    /// Streaming chunk hook (single-input only).
    #[value(alias = "http_stream_chunk_hook")]
    HttpStreamChunkHook,
    /// LLM pre-hook.
    #[value(alias = "pre_hook")]
    PreHook,
    /// LLM post-hook.
    #[value(alias = "post_hook")]
    PostHook,
}

impl From<HookArg> for Hook {
    fn from(hook: HookArg) -> Hook {
        match hook {
            HookArg::HttpPreHook => Hook::HttpPreHook,
            HookArg::HttpPostHook => Hook::HttpPostHook,
            HookArg::HttpStreamChunkHook => Hook::HttpStreamChunkHook,
            HookArg::PreHook => Hook::PreHook,
            HookArg::PostHook => Hook::PostHook,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn hooks_parse_with_either_separator_and_the_export_aliases() {
        for (text, hook) in [
            ("pre-hook", Hook::PreHook),
            ("post_hook", Hook::PostHook),
            ("http-intercept", Hook::HttpPreHook),
            ("http_transport_intercept", Hook::HttpPreHook),
            ("http-stream-chunk-hook", Hook::HttpStreamChunkHook),
        ] {
            let parsed = HookArg::from_str(text, false).unwrap();
            assert_eq!(Hook::from(parsed), hook, "{text}");
        }
    }
}
