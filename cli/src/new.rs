//! `new`: a plugin crate that tests and builds out of the box: Cargo.toml
//! (both crate types, the size profile, the SDK by path, version or git),
//! `src/lib.rs` with the chosen hooks as pass-through stubs, a typed
//! `Config` and native tests, `tests/in_the_host.rs` with a host test per
//! hook, a scenario file and a README.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bifrost_plugin_host::{Abi, Hook};

use crate::args::NewArgs;
use crate::failure::{Failure, Outcome};

/// Where the generated crate gets the SDK (and the host, for its tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkSource {
    /// This checkout (its root directory).
    Path(PathBuf),
    /// crates.io.
    Version(String),
    /// A git repository holding the workspace.
    Git(String),
}

impl SdkSource {
    /// The dependency lines for the SDK and the host.
    fn dependencies(&self) -> (String, String) {
        let line = |krate: &str, dir: &str, extra: &str| match self {
            SdkSource::Path(root) => {
                let path = root.join(dir);
                format!(
                    "{krate} = {{ path = {}{extra} }}",
                    toml_string(&path.to_string_lossy())
                )
            }
            SdkSource::Version(version) if extra.is_empty() => {
                format!("{krate} = {}", toml_string(version))
            }
            SdkSource::Version(version) => {
                format!("{krate} = {{ version = {}{extra} }}", toml_string(version))
            }
            SdkSource::Git(url) => format!("{krate} = {{ git = {}{extra} }}", toml_string(url)),
        };
        (
            line("bifrost-plugin-sdk", "sdk", COMPACT_READER),
            line("bifrost-plugin-host", "host", ""),
        )
    }
}

/// The checkout this binary was built from, if it is still there: the
/// directory above its crate's, or else one above the binary itself (a
/// build from the packaged `.crate`, as `make package` verifies, still sits
/// in the checkout's `target/`).
pub fn this_checkout() -> Option<PathBuf> {
    let is_checkout = |root: &Path| {
        root.join("sdk/Cargo.toml").is_file() && root.join("host/Cargo.toml").is_file()
    };
    let from_source = Path::new(env!("CARGO_MANIFEST_DIR")).parent();
    let from_binary = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .skip(1)
            .find(|dir| is_checkout(dir))
            .map(Path::to_path_buf)
    });
    let root = from_source
        .filter(|root| is_checkout(root))
        .map(Path::to_path_buf)
        .or(from_binary)?;
    Some(root.canonicalize().unwrap_or(root))
}

/// Creates the crate.
pub fn new(args: &NewArgs) -> Outcome {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                Failure::usage(
                    "give the new crate's directory, e.g. `bifrost-plugin new my-plugin`",
                )
            })?,
    };
    let type_name = type_name(&name).map_err(Failure::usage)?;
    let source = if let Some(version) = &args.sdk_version {
        SdkSource::Version(version.clone())
    } else if let Some(url) = &args.sdk_git {
        SdkSource::Git(url.clone())
    } else if let Some(root) = &args.sdk_path {
        let root = root
            .canonicalize()
            .map_err(|e| Failure::usage(format!("--sdk-path {}: {e}", root.display())))?;
        if !root.join("sdk/Cargo.toml").is_file() {
            return Err(Failure::usage(format!(
                "--sdk-path {}: not a bifrost-plugin-sdk checkout (no sdk/Cargo.toml)",
                root.display()
            )));
        }
        SdkSource::Path(root)
    } else {
        match this_checkout() {
            Some(root) => SdkSource::Path(root),
            None => SdkSource::Version(env!("CARGO_PKG_VERSION").to_string()),
        }
    };
    let mut hooks: Vec<Hook> = Vec::new();
    for hook in &args.hooks {
        let hook = Hook::from(*hook);
        if !hooks.contains(&hook) {
            hooks.push(hook);
        }
    }
    if args.path.exists() && std::fs::read_dir(&args.path).map_or(true, |mut d| d.next().is_some())
    {
        return Err(Failure::usage(format!(
            "{} already exists and is not empty",
            args.path.display()
        )));
    }
    let plugin = NewPlugin {
        name,
        type_name,
        hooks,
        source,
        wasi: args.wasi,
    };
    for (file, text) in plugin.files() {
        let path = args.path.join(file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::new(format!("cannot create {}: {e}", dir.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
    }
    // Line breaks in the templates depend on the name's length: let rustfmt
    // lay the code out as `cargo fmt` would (skipped if it is not installed).
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2021"])
        .arg(args.path.join("src/lib.rs"))
        .arg(args.path.join("tests/in_the_host.rs"))
        .stderr(std::process::Stdio::null())
        .status();
    // Path mode: the checkout's lock file pins what its own build has
    // already downloaded, so the new crate builds offline.
    if let SdkSource::Path(root) = &plugin.source {
        let lock = root.join("Cargo.lock");
        if lock.is_file() {
            std::fs::copy(&lock, args.path.join("Cargo.lock"))
                .map_err(|e| Failure::new(format!("cannot copy {}: {e}", lock.display())))?;
        }
    }
    let dir = args.path.display();
    let sdk = match &plugin.source {
        SdkSource::Path(root) => format!("the SDK at {}", root.display()),
        SdkSource::Version(v) => format!("bifrost-plugin-sdk {v} from crates.io"),
        SdkSource::Git(url) => format!("the SDK from {url}"),
    };
    println!("created {dir}: plugin \"{}\" ({sdk})", plugin.name);
    println!("next:");
    if plugin.wasi {
        println!("  rustup target add wasm32-wasip1   # once");
    }
    println!("  cd {dir}");
    println!(
        "  {:28}# native tests, then the .wasm in the local host ({})",
        "cargo test",
        plugin.target()
    );
    let build = format!("bifrost-plugin build{}", plugin.build_flag());
    println!(
        "  {build:28}# {}, checked",
        plugin.wasm_files().join(" and ")
    );
    println!("  bifrost-plugin test scenarios/*.json");
    Ok(ExitCode::SUCCESS)
}

/// `my-plugin` → `MyPlugin`; the name must be a valid crate name.
fn type_name(name: &str) -> Result<String, String> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` is not a crate name: use letters, digits, `-` and `_`, starting with a letter (or pass --name)"
        ));
    }
    Ok(name
        .split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect())
}

fn toml_string(text: &str) -> String {
    // TOML basic strings escape like JSON's.
    serde_json::to_string(text).unwrap_or_default()
}

/// Everything that differs between generated crates.
struct NewPlugin {
    name: String,
    type_name: String,
    hooks: Vec<Hook>,
    source: SdkSource,
    wasi: bool,
}

impl NewPlugin {
    /// The target the plugin is built for.
    fn target(&self) -> &'static str {
        if self.wasi {
            "wasm32-wasip1"
        } else {
            "wasm32-unknown-unknown"
        }
    }

    /// ` --wasi` or nothing: what `bifrost-plugin build` needs.
    fn build_flag(&self) -> &'static str {
        if self.wasi {
            " --wasi"
        } else {
            ""
        }
    }

    /// The files `bifrost-plugin build` writes, seed ABI first, as
    /// `build/<name>[-single-input][-wasi].wasm`.
    fn wasm_files(&self) -> [String; 2] {
        let wasi = if self.wasi { "-wasi" } else { "" };
        [
            format!("build/{}{wasi}.wasm", self.name),
            format!("build/{}-single-input{wasi}.wasm", self.name),
        ]
    }

    fn files(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Cargo.toml", self.cargo_toml()),
            ("src/lib.rs", self.lib_rs()),
            ("tests/in_the_host.rs", self.host_tests()),
            ("scenarios/basic.json", self.scenario()),
            ("README.md", self.readme()),
            (".gitignore", "/target\n/build\n".into()),
        ]
    }

    fn fill(&self, template: &str) -> String {
        let [seed, single_input] = self.wasm_files();
        template
            .replace("{name}", &self.name)
            .replace("{Type}", &self.type_name)
            .replace("{target}", self.target())
            .replace(
                "{build_command}",
                &format!(
                    "{:27}",
                    format!("bifrost-plugin build{}", self.build_flag())
                ),
            )
            .replace("{wasi}", self.build_flag())
            .replace("{seed_file}", &seed)
            .replace("{single_input_file}", &single_input)
    }

    fn cargo_toml(&self) -> String {
        let (sdk, host) = self.source.dependencies();
        self.fill(CARGO_TOML)
            .replace("{sdk}", &sdk)
            .replace("{host}", &host)
    }

    fn lib_rs(&self) -> String {
        let mut hooks = String::new();
        let mut tests = String::new();
        for hook in &self.hooks {
            let (code, test) = hook_code(*hook);
            hooks.push_str(code);
            tests.push_str(test);
        }
        let (uses, log_and_clock) = if self.wasi {
            (WASI_USES, WASI_TAG)
        } else {
            ("", "")
        };
        self.fill(LIB_RS)
            .replace("{uses}", uses)
            .replace("{log_and_clock}", &self.fill(log_and_clock))
            .replace("{hooks}", &self.fill(&hooks))
            .replace("{tests}", &self.fill(&tests))
    }

    fn host_tests(&self) -> String {
        let mut tests = String::new();
        for hook in &self.hooks {
            tests.push_str(host_test(*hook));
        }
        if self.wasi {
            let hook = self.hooks[0];
            let calls = if hook.exports(Abi::Seed).is_empty() {
                "logs_a_line_with_the_hosts_time(Abi::SingleInput);"
            } else {
                "for abi in Abi::ALL {\n        logs_a_line_with_the_hosts_time(abi);\n    }"
            };
            let (input, _) = hook_inputs(hook);
            tests.push_str(
                &WASI_HOST_TEST
                    .replace("{calls}", calls)
                    .replace("{input}", input)
                    .replace("{Hook}", &format!("{hook:?}")),
            );
        }
        let (target, uses) = if self.wasi {
            ("WASIP1_TARGET", WASI_HOST_USES)
        } else {
            ("WASM_TARGET", "")
        };
        self.fill(HOST_TESTS)
            .replace("{TARGET}", target)
            .replace("{uses}", uses)
            .replace("{tests}", &self.fill(&tests))
    }

    fn scenario(&self) -> String {
        let mut steps = vec![r#"    { "init": { "tag": "t" } }"#.to_string()];
        if self.wasi {
            let hook = self.hooks[0];
            let (_, inputs) = hook_inputs(hook);
            steps.push(r#"    { "set_clock": "2026-01-01T00:00:00Z" }"#.into());
            steps.push(format!(
                "    {{ \"name\": \"each call logs a line with the host's time\",\n      \
                 \"{}\": {inputs},\n      \
                 \"expect_log\": [\"INFO {{name}}: request r0 at 1767225600\"] }}",
                hook.name()
            ));
        }
        for hook in &self.hooks {
            steps.push(scenario_step(*hook).to_string());
        }
        steps.push(
            r#"    { "init": { "tga": "t" }, "expect": 1, "expect_error": "unknown field `tga`" }"#
                .into(),
        );
        steps.push(r#"    { "init": {} }"#.into());
        steps.push(r#"    { "cleanup": null }"#.into());
        let mut out = String::new();
        let _ = write!(
            out,
            "{{\n  \"description\": \"{name} (single-input build{wasi}): each hook passes its input on and tags the context\",\n  \
             \"plugin\": \"../{file}\",\n  \"steps\": [\n{}\n  ]\n}}\n",
            self.fill(&steps.join(",\n")),
            name = self.name,
            wasi = if self.wasi { ", wasm32-wasip1" } else { "" },
            file = self.wasm_files()[1]
        );
        out
    }

    fn readme(&self) -> String {
        let hooks: Vec<&str> = self.hooks.iter().map(|h| h.name()).collect();
        let wasi = if self.wasi { WASI_README } else { "" };
        self.fill(&README.replace("{wasi_note}", wasi))
            .replace("{hooks}", &hooks.join(", "))
    }
}

/// A hook's stub in the `impl Plugin` block, and its native test.
fn hook_code(hook: Hook) -> (&'static str, &'static str) {
    match hook {
        Hook::HttpPreHook => (
            r##"
    /// The incoming HTTP request, before Bifrost parses it. Answer it
    /// yourself with `HttpPreHook::Respond(HttpResponse)`, or let it go on.
    fn http_pre_hook(
        &mut self,
        ctx: &mut Context,
        req: HttpRequest,
    ) -> Result<HttpPreHook, PluginError> {
        self.tag(ctx);
        Ok(HttpPreHook::Continue(req))
    }
"##,
            r##"
    #[test]
    fn http_pre_hook_lets_the_request_go_on() {
        let mut plugin = single_input();
        let output = plugin.http_pre_hook("{}", r#"{"method":"GET","path":"/v1/models"}"#);
        assert_eq!(output.error(), None);
        assert_eq!(output["has_response"], false);
        assert_eq!(output["request"]["path"], "/v1/models");
        assert_eq!(output["context"]["{name}-tag"], "t");
    }
"##,
        ),
        Hook::HttpPostHook => (
            r##"
    /// The HTTP response of a non-streaming request (single-input ABI
    /// only): record what you need in the context, or fail.
    fn http_post_hook(
        &mut self,
        ctx: &mut Context,
        _req: &HttpRequest,
        _resp: &HttpResponse,
    ) -> Result<(), PluginError> {
        self.tag(ctx);
        Ok(())
    }
"##,
            r##"
    #[test]
    fn http_post_hook_tags_the_context() {
        let mut plugin = single_input();
        let output = plugin.http_post_hook("{}", r#"{"method":"GET","path":"/"}"#, r#"{"status_code":200}"#);
        assert_eq!(output.error(), None);
        assert_eq!(output["context"]["{name}-tag"], "t");
    }
"##,
        ),
        Hook::HttpStreamChunkHook => (
            r##"
    /// Each chunk of a streamed response (single-input ABI only): pass it
    /// on, change it, or drop it with `StreamChunkHook::Skip`.
    fn http_stream_chunk_hook(
        &mut self,
        ctx: &mut Context,
        _req: &HttpRequest,
        chunk: StreamChunk,
    ) -> Result<StreamChunkHook, PluginError> {
        self.tag(ctx);
        Ok(StreamChunkHook::Continue(chunk))
    }
"##,
            r##"
    #[test]
    fn http_stream_chunk_hook_passes_chunks_on() {
        let mut plugin = single_input();
        let output = plugin.http_stream_chunk_hook("{}", r#"{"method":"POST","path":"/"}"#, r#"{"id":"c1"}"#);
        assert_eq!(output.error(), None);
        assert_eq!(output["chunk"]["id"], "c1");
        assert_eq!(output["skip"], false);
    }
"##,
        ),
        Hook::PreHook => (
            r##"
    /// The LLM request, before it goes to the provider: pass it on (edited
    /// or not), answer it with `PreHook::Respond`, or refuse it with
    /// `PreHook::Fail(LlmError::new("…").with_status(403))`.
    fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        self.tag(ctx);
        Ok(PreHook::Continue(req))
    }
"##,
            r##"
    #[test]
    fn pre_hook_passes_the_request_on() {
        let mut plugin = single_input();
        let output = plugin.pre_hook(r#"{"request_id":"r1"}"#, r#"{"model":"gpt-4o-mini"}"#);
        assert_eq!(output.error(), None);
        assert_eq!(output["request"]["model"], "gpt-4o-mini");
        assert_eq!(output["context"]["request_id"], "r1");
        assert_eq!(output["context"]["{name}-tag"], "t");
    }

    #[test]
    fn pre_hook_reports_a_broken_request_instead_of_passing_it_on() {
        let mut plugin = TestPlugin::<{Type}>::init("{}").unwrap();
        let output = plugin.pre_hook("{}", "[1]");
        assert_eq!(output.error(), Some("request must be a JSON object, got an array"));
    }
"##,
        ),
        Hook::PostHook => (
            r##"
    /// The provider's response or error, on its way back.
    fn post_hook(
        &mut self,
        ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        self.tag(ctx);
        Ok(PostHook::new(response, error))
    }
"##,
            r##"
    #[test]
    fn post_hook_passes_the_response_on() {
        let mut plugin = single_input();
        let output = plugin.post_hook("{}", r#"{"id":"chatcmpl-1","choices":[]}"#, "");
        assert_eq!(output.error(), None);
        assert_eq!(output["response"]["id"], "chatcmpl-1");
        assert_eq!(output["has_error"], false);
    }
"##,
        ),
    }
}

/// A hook's test in the local host, on the build(s) that export it.
fn host_test(hook: Hook) -> &'static str {
    match hook {
        Hook::HttpPreHook => {
            r##"
#[test]
fn http_pre_hook_lets_the_request_go_on() {
    for abi in Abi::ALL {
        let mut guest = load(abi);
        let input = HookInput::new().with_request(r#"{"method":"GET","path":"/v1/models"}"#);
        let output = guest.call_hook(Hook::HttpPreHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None, "{abi:?}");
        assert_eq!(output.json()["response"], Value::Null, "{abi:?}: no answer of its own");
    }
}
"##
        }
        Hook::HttpPostHook => {
            r##"
#[test]
fn http_post_hook_tags_the_context() {
    let mut guest = load(Abi::SingleInput);
    let input = HookInput::new()
        .with_request(r#"{"method":"GET","path":"/"}"#)
        .with_response(r#"{"status_code":200}"#);
    let output = guest.call_hook(Hook::HttpPostHook, &input).unwrap();
    assert_eq!(output.plugin_error(), None);
    assert_eq!(output.context().unwrap()["{name}-tag"], "t");
}
"##
        }
        Hook::HttpStreamChunkHook => {
            r##"
#[test]
fn http_stream_chunk_hook_passes_chunks_on() {
    let mut guest = load(Abi::SingleInput);
    let input = HookInput::new()
        .with_request(r#"{"method":"POST","path":"/"}"#)
        .with_chunk(r#"{"id":"c1"}"#);
    let output = guest.call_hook(Hook::HttpStreamChunkHook, &input).unwrap();
    assert_eq!(output.plugin_error(), None);
    assert_eq!(output.json()["chunk"]["id"], "c1");
}
"##
        }
        Hook::PreHook => {
            r##"
#[test]
fn pre_hook_passes_the_request_on() {
    for abi in Abi::ALL {
        let mut guest = load(abi);
        let input = HookInput::new()
            .with_context(r#"{"request_id":"r1"}"#)
            .with_request(r#"{"model":"gpt-4o-mini"}"#);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None, "{abi:?}");
        assert_eq!(output.json()["request"]["model"], "gpt-4o-mini", "{abi:?}");
    }
}
"##
        }
        Hook::PostHook => {
            r##"
#[test]
fn post_hook_passes_the_response_on() {
    for abi in Abi::ALL {
        let mut guest = load(abi);
        let input = HookInput::new().with_response(r#"{"id":"chatcmpl-1","choices":[]}"#);
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None, "{abi:?}");
        assert_eq!(output.json()["response"]["id"], "chatcmpl-1", "{abi:?}");
    }
}
"##
        }
    }
}

/// A hook's step in the generated scenario (single-input build).
fn scenario_step(hook: Hook) -> &'static str {
    match hook {
        Hook::HttpPreHook => {
            r##"    { "name": "the HTTP request goes on",
      "http_pre_hook": { "context": { "request_id": "r1" }, "request": { "method": "GET", "path": "/v1/models" } },
      "expect": { "has_response": false, "context": { "{name}-tag": "t" } } }"##
        }
        Hook::HttpPostHook => {
            r##"    { "http_post_hook": { "request": { "method": "GET", "path": "/" }, "response": { "status_code": 200 } },
      "expect": { "context": { "{name}-tag": "t" } } }"##
        }
        Hook::HttpStreamChunkHook => {
            r##"    { "http_stream_chunk_hook": { "request": { "method": "POST", "path": "/" }, "chunk": { "id": "c1" } },
      "expect": { "chunk": { "id": "c1" }, "skip": false } }"##
        }
        Hook::PreHook => {
            r##"    { "name": "the request goes on",
      "pre_hook": { "context": { "request_id": "r1" }, "request": { "model": "gpt-4o-mini" } },
      "expect": { "request": { "model": "gpt-4o-mini" }, "context": { "request_id": "r1", "{name}-tag": "t" } } },
    { "pre_hook": { "request": [1] }, "expect_error": "request must be a JSON object" }"##
        }
        Hook::PostHook => {
            r##"    { "post_hook": { "response": { "id": "chatcmpl-1", "choices": [] } },
      "expect": { "response": { "id": "chatcmpl-1" }, "has_error": false } }"##
        }
    }
}

/// The SDK's feature a new crate enables, as every example does: the SDK's
/// own reader instead of serde_json's parser (see the guide's "Building, ABIs
/// and sizes").
const COMPACT_READER: &str = r#", features = ["compact-reader"]"#;

const CARGO_TOML: &str = r##"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
# cdylib: the .wasm the host loads; rlib: the native tests.
crate-type = ["cdylib", "rlib"]

[dependencies]
# compact-reader: values are read by the SDK's own reader, not serde_json's
# parser (a much smaller .wasm, reading ~1.5x slower under an interpreter).
{sdk}
serde = { version = "1", features = ["derive"] }

[dev-dependencies]
# tests/in_the_host.rs builds the .wasm and runs it in a local host.
{host}

[features]
# Build for Bifrost's single-input ABI (`bifrost-plugin build` builds both).
single-input-abi = ["bifrost-plugin-sdk/single-input-abi"]

# Plugins ship as small .wasm files: without this profile the same plugin is
# about 30 % larger.
[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = true

# The host tests interpret the plugin with wasmi: optimise the interpreter.
[profile.dev.package.wasmi]
opt-level = 3
[profile.dev.package.wasmi_core]
opt-level = 3
[profile.dev.package.wasmi_ir]
opt-level = 3
[profile.dev.package.wasmparser]
opt-level = 3

# A crate of its own, even inside another workspace's directory.
[workspace]
"##;

const LIB_RS: &str = r##"//! {name}: a Bifrost plugin written with bifrost-plugin-sdk.
//!
//! `cargo test` runs the native tests below (the hooks through the same
//! byte layer the .wasm exports use) and tests/in_the_host.rs (the .wasm in
//! a local host); `bifrost-plugin build{wasi}` writes {seed_file} (seed ABI)
//! and {single_input_file}, for {target}.

#![deny(unsafe_code)]

{uses}use bifrost_plugin_sdk::prelude::*;
use serde::Deserialize;

/// The configuration the host passes to `init`, as JSON. A misspelt field
/// is refused (`deny_unknown_fields`); an absent one takes its default (the
/// SDK needs `Config: Default`: a host may send no config at all). A field
/// the plugin cannot do without is checked in `init`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Written into the context of every call as `{name}-tag` (an example
    /// setting: replace it with yours).
    pub tag: Option<String>,
}

/// The plugin's state: one value per plugin instance, built by `init`, kept
/// across calls. (Public, like `Config`: the exports are generated only for
/// wasm32, so private types would be dead code in a native build.)
pub struct {Type} {
    tag: Option<String>,
}

impl {Type} {
    /// Context values reach the host on the single-input ABI only; on the
    /// seed ABI they stay inside this call.
    fn tag(&self, ctx: &mut Context) {
        if let Some(tag) = &self.tag {
            ctx.set("{name}-tag", tag.as_str());
        }{log_and_clock}
    }
}

#[bifrost_plugin(name = "{name}")]
impl Plugin for {Type} {
    type Config = Config;

    fn init(config: Config) -> Result<Self, PluginError> {
        // A required setting: `let key = config.key.ok_or_else(||
        // PluginError::new("config needs `key`"))?;` fails `init` with that
        // message (the host sees status 2; every hook reports the reason).
        Ok({Type} { tag: config.tag })
    }
{hooks}}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_sdk::testing::{Abi, TestPlugin};

    /// The single-input ABI's outputs carry the context back, so tests
    /// can see what the hooks set.
    #[allow(dead_code)]
    fn single_input() -> TestPlugin<{Type}> {
        TestPlugin::init_with_abi(Abi::SingleInput, r#"{"tag":"t"}"#).unwrap()
    }

    #[test]
    fn a_misspelt_config_field_is_refused() {
        let error = TestPlugin::<{Type}>::init(r#"{"tga":"t"}"#).err().unwrap();
        assert_eq!(error.status, 1);
        assert!(error.message.contains("unknown field `tga`"), "{error}");
    }
{tests}}
"##;

const HOST_TESTS: &str = r##"//! The plugin built to .wasm and run in the local host (bifrost-plugin-host),
//! as Bifrost calls it. `cargo test` builds the .wasm itself, once per ABI
//! per run (the first run compiles the SDK for wasm32: a minute or so).

{uses}use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput};
#[allow(unused_imports)]
use bifrost_plugin_sdk::serde_json::Value;

/// The target `bifrost-plugin build{wasi}` builds for.
const TARGET: &str = build::{TARGET};

/// The plugin for `abi`, checked as `bifrost-plugin inspect` checks it,
/// and initialised.
fn load(abi: Abi) -> Guest {
    let mut guest = build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "{name}");
    assert_eq!(guest.init(br#"{"tag":"t"}"#).unwrap(), 0);
    guest
}

#[test]
fn both_builds_load_and_clean_up() {
    for abi in Abi::ALL {
        let mut guest = load(abi);
        assert_eq!(guest.cleanup().unwrap(), 0, "{abi:?}");
    }
}
{tests}"##;

const README: &str = r##"# {name}

A [Bifrost](https://github.com/maximhq/bifrost) WebAssembly plugin written
with bifrost-plugin-sdk. Hooks: {hooks}.

```sh
cargo test                  # native tests (src/lib.rs), then the .wasm in a local host (tests/)
{build_command} # {seed_file} (seed ABI) and {single_input_file}, checked
```

`bifrost-plugin test scenarios/*.json` runs the scenario files (a sequence of
calls on one instance, each output checked) against the build;
`bifrost-plugin run {seed_file} pre-hook --request '{"model":"m"}'`
calls one hook. `bifrost-plugin build{wasi} --optimize` also runs `wasm-opt -Oz`
(binaryen) on the result.
{wasi_note}
Needs the wasm target once: `rustup target add {target}`.
"##;

/// The README's words on the WASI build.
const WASI_README: &str = r##"
Built for `wasm32-wasip1`, the plugin can log (`log::info!` and friends: one
line `INFO {name}: …` on stderr, which the host collects) and read the
host's clocks (`bifrost_plugin_sdk::time`). The host tests and the scenario
fix the clock and check the log lines.
"##;

/// The WASI template's imports.
const WASI_USES: &str = "use bifrost_plugin_sdk::log::info;\nuse bifrost_plugin_sdk::time;\n";

/// The WASI template's log line and clock read, in `tag` (every hook).
const WASI_TAG: &str = r##"
        // The host's clock (WASI); a build without one gets `Unavailable`
        // instead of a trap, here shown as 0.
        let now = time::unix_time().map_or(0, |since_epoch| since_epoch.as_secs());
        // One line on stderr, which the host collects: `INFO {name}: …`.
        info!("request {} at {now}", ctx.request_id().unwrap_or("-"));"##;

/// The WASI host test's imports.
const WASI_HOST_USES: &str = "use std::time::{Duration, SystemTime};\n\n";

/// The WASI host test: the log line and the clock, through the first hook.
const WASI_HOST_TEST: &str = r##"
#[test]
fn each_call_logs_a_line_with_the_hosts_time() {
    {calls}
}

fn logs_a_line_with_the_hosts_time(abi: Abi) {
    let mut guest = load(abi);
    guest.take_log_lines();
    guest
        .clock()
        .set(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let input = {input};
    let output = guest.call_hook(Hook::{Hook}, &input).unwrap();
    assert_eq!(output.plugin_error(), None, "{abi:?}");
    assert_eq!(
        guest.take_log_lines(),
        ["INFO {name}: request r0 at 1700000000"],
        "{abi:?}"
    );
}
"##;

/// A hook's inputs with request id `r0`: as Rust (`HookInput`) and as a
/// scenario's JSON.
fn hook_inputs(hook: Hook) -> (&'static str, &'static str) {
    match hook {
        Hook::HttpPreHook => (
            r##"HookInput::new()
        .with_context(r#"{"request_id":"r0"}"#)
        .with_request(r#"{"method":"GET","path":"/v1/models"}"#)"##,
            r#"{ "context": { "request_id": "r0" }, "request": { "method": "GET", "path": "/v1/models" } }"#,
        ),
        Hook::HttpPostHook => (
            r##"HookInput::new()
        .with_context(r#"{"request_id":"r0"}"#)
        .with_request(r#"{"method":"GET","path":"/"}"#)
        .with_response(r#"{"status_code":200}"#)"##,
            r#"{ "context": { "request_id": "r0" }, "request": { "method": "GET", "path": "/" }, "response": { "status_code": 200 } }"#,
        ),
        Hook::HttpStreamChunkHook => (
            r##"HookInput::new()
        .with_context(r#"{"request_id":"r0"}"#)
        .with_request(r#"{"method":"POST","path":"/"}"#)
        .with_chunk(r#"{"id":"c1"}"#)"##,
            r#"{ "context": { "request_id": "r0" }, "request": { "method": "POST", "path": "/" }, "chunk": { "id": "c1" } }"#,
        ),
        Hook::PreHook => (
            r##"HookInput::new()
        .with_context(r#"{"request_id":"r0"}"#)
        .with_request(r#"{"model":"gpt-4o-mini"}"#)"##,
            r#"{ "context": { "request_id": "r0" }, "request": { "model": "gpt-4o-mini" } }"#,
        ),
        Hook::PostHook => (
            r##"HookInput::new()
        .with_context(r#"{"request_id":"r0"}"#)
        .with_response(r#"{"id":"chatcmpl-1","choices":[]}"#)"##,
            r#"{ "context": { "request_id": "r0" }, "response": { "id": "chatcmpl-1", "choices": [] } }"#,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_become_type_names() {
        assert_eq!(type_name("my-plugin").unwrap(), "MyPlugin");
        assert_eq!(type_name("rate_limit2").unwrap(), "RateLimit2");
        assert!(type_name("2fast").unwrap_err().contains("not a crate name"));
        assert!(type_name("a b").is_err());
    }

    #[test]
    fn the_sdk_comes_by_path_version_or_git() {
        let (sdk, host) = SdkSource::Path(PathBuf::from("/src/bifrost")).dependencies();
        assert_eq!(
            sdk,
            r#"bifrost-plugin-sdk = { path = "/src/bifrost/sdk", features = ["compact-reader"] }"#
        );
        assert_eq!(
            host,
            r#"bifrost-plugin-host = { path = "/src/bifrost/host" }"#
        );
        let (sdk, _) = SdkSource::Version("0.1.0".into()).dependencies();
        assert_eq!(
            sdk,
            r#"bifrost-plugin-sdk = { version = "0.1.0", features = ["compact-reader"] }"#
        );
        let (_, host) = SdkSource::Git("https://example.com/x.git".into()).dependencies();
        assert_eq!(
            host,
            r#"bifrost-plugin-host = { git = "https://example.com/x.git" }"#
        );
    }

    #[test]
    fn this_binary_knows_its_checkout() {
        let root = this_checkout().expect("tests run in the checkout");
        assert!(root.join("sdk/src/lib.rs").is_file());
    }
}
