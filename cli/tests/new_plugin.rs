//! `bifrost-plugin new`, `build` and `test` as a newcomer uses them: a
//! generated crate must pass its own `cargo test` (offline), build both ABIs
//! with every check passing, and pass its scenario file.
//!
//! Slow (a generated crate compiles the SDK and the host natively and for
//! wasm32), so `make test` runs one crate with every hook and one `--wasi`
//! crate; `make test-new` adds one crate per hook set and another `--wasi`
//! one (`cargo test -p bifrost-plugin-cli --test new_plugin -- --ignored`).
//! The generated crates share one target directory, `target/generated`, so
//! their dependencies compile once.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    workspace().join("target/generated")
}

/// Runs a command with the shared target directory and no network; its
/// output on failure.
fn run(command: &mut Command, what: &str) -> String {
    let output = command
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bifrost-plugin"))
}

/// Which target a generated crate is for.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    Unknown,
    Wasi,
}

/// `new` with `hooks`, then the crate's `cargo test`, `build` and `test`.
fn new_crate_tests_builds_and_passes_its_scenario(name: &str, hooks: &str, target: Target) {
    let dir = target_dir().join("crates").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let wasi: &[&str] = if target == Target::Wasi {
        &["--wasi"]
    } else {
        &[]
    };
    let suffix = if target == Target::Wasi { "-wasi" } else { "" };
    let created = run(
        cli()
            .arg("new")
            .arg(&dir)
            .args(["--hooks", hooks])
            .args(wasi),
        "bifrost-plugin new",
    );
    assert!(
        created.starts_with(&format!("created {}: plugin \"{name}\"", dir.display())),
        "{created}"
    );
    // Every file the crate names is the one `build` writes.
    let files = [
        format!("build/{name}{suffix}.wasm"),
        format!("build/{name}-single-input{suffix}.wasm"),
    ];
    let build_line = format!(
        "  bifrost-plugin build{} # {} and {}, checked",
        wasi.first()
            .map_or("       ".to_string(), |flag| format!(" {flag}")),
        files[0],
        files[1]
    );
    assert!(created.contains(&build_line), "{created}");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let scenario = std::fs::read_to_string(dir.join("scenarios/basic.json")).unwrap();
    assert!(readme.contains(&files[1]), "{readme}");
    assert!(
        scenario.contains(&format!("\"../{}\"", files[1])),
        "{scenario}"
    );
    let rust_target = match target {
        Target::Unknown => "wasm32-unknown-unknown",
        Target::Wasi => "wasm32-wasip1",
    };
    assert!(
        readme.contains(&format!("rustup target add {rust_target}")),
        "{readme}"
    );
    let manifest_text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest_text.contains("bifrost-plugin-sdk = { path = "),
        "the SDK of this checkout, even from a packaged build of the CLI: {manifest_text}"
    );
    run(
        Command::new("rustfmt")
            .args(["--check", "--edition", "2021"])
            .arg(dir.join("src/lib.rs"))
            .arg(dir.join("tests/in_the_host.rs")),
        "rustfmt --check of the generated code",
    );
    let manifest = dir.join("Cargo.toml");
    let tested = run(
        Command::new(env!("CARGO"))
            .args(["test", "--manifest-path"])
            .arg(&manifest),
        "the generated crate's cargo test",
    );
    let count = |marker: &str| tested.matches(marker).count();
    assert!(count(" ... ok") >= 3, "{tested}");
    assert_eq!(count("FAILED"), 0, "{tested}");
    run(
        Command::new(env!("CARGO"))
            .args(["clippy", "--all-targets", "--manifest-path"])
            .arg(&manifest)
            .args(["--", "-D", "warnings"]),
        "clippy on the generated crate",
    );

    // The host tests built the .wasm in <target>/plugin-wasm, where `build`
    // builds too: nothing is compiled again.
    let built = run(
        cli()
            .args(["build", "--optimize", "--manifest-path"])
            .arg(&manifest)
            .args(wasi),
        "bifrost-plugin build",
    );
    for file in &files {
        let path = dir.join(file);
        assert!(path.is_file(), "no {}:\n{built}", path.display());
        assert!(
            built.contains(&format!("{}: ", path.display())),
            "no size line for {file}:\n{built}"
        );
    }
    assert_eq!(built.matches("problems: none").count(), 2, "{built}");
    let has_wasm_opt = Command::new("wasm-opt").arg("--version").output().is_ok();
    if has_wasm_opt {
        assert_eq!(
            built.matches(" bytes after wasm-opt -Oz\n").count(),
            2,
            "{built}"
        );
    }

    let scenario = dir.join("scenarios/basic.json");
    let passed = run(cli().arg("test").arg(&scenario), "bifrost-plugin test");
    assert!(passed.contains(" passed, 0 failed"), "{passed}");
    if target == Target::Wasi {
        assert!(
            passed.contains("  ok    step 3 ")
                && passed.contains("logs a line with the host's time"),
            "{passed}"
        );
    }
}

#[test]
fn a_new_crate_with_every_hook_tests_builds_and_passes_its_scenario() {
    new_crate_tests_builds_and_passes_its_scenario(
        "every-hook",
        "pre-hook,post-hook,http-pre-hook,http-post-hook,http-stream-chunk-hook",
        Target::Unknown,
    );
}

#[test]
fn a_new_wasi_crate_logs_reads_the_clock_tests_builds_and_passes_its_scenario() {
    new_crate_tests_builds_and_passes_its_scenario(
        "wasi-plugin",
        "pre-hook,post-hook",
        Target::Wasi,
    );
}

#[test]
#[ignore = "slow: make test-new"]
fn new_crates_for_each_hook_set() {
    for (name, hooks) in [
        ("only-pre-hook", "pre_hook"),
        ("only-post-hook", "post_hook"),
        ("http-in", "http_pre_hook"),
        ("http-out", "http_post_hook,http_stream_chunk_hook"),
    ] {
        new_crate_tests_builds_and_passes_its_scenario(name, hooks, Target::Unknown);
    }
    // A WASI crate whose first hook only the single-input ABI has.
    new_crate_tests_builds_and_passes_its_scenario(
        "wasi-http-out",
        "http_stream_chunk_hook,http_pre_hook",
        Target::Wasi,
    );
}

#[test]
fn build_says_when_wasm_opt_is_missing_and_outside_a_crate_says_where_to_run() {
    // Outside any crate: cargo metadata fails, and the message says why.
    let dir = std::env::temp_dir();
    let output = cli().current_dir(&dir).args(["build"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not in a plugin crate"), "{stderr}");

    // A crate whose build fails at once (no wasm target for it is needed to
    // see the --optimize warning, which comes first).
    let krate = target_dir().join("crates/no-wasm-opt");
    let _ = std::fs::remove_dir_all(&krate);
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"no-wasm-opt\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
         [lib]\ncrate-type = [\"cdylib\"]\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        krate.join("src/lib.rs"),
        "compile_error!(\"on purpose\");\n",
    )
    .unwrap();
    let output = cli()
        .args(["build", "--abi", "seed", "--optimize", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        // Only the toolchain's own directory (cargo, rustc): no wasm-opt.
        .env("PATH", Path::new(env!("CARGO")).parent().unwrap())
        .env("CARGO", env!("CARGO"))
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("warning: --optimize: wasm-opt is not installed (binaryen"),
        "{stderr}"
    );
    assert!(
        stderr.contains("on purpose"),
        "cargo's diagnostics are shown: {stderr}"
    );
    assert!(stderr.contains("error: cargo build failed"), "{stderr}");
}

#[test]
fn new_refuses_a_directory_that_is_not_empty_and_a_bad_name() {
    let output = cli()
        .args(["new", env!("CARGO_MANIFEST_DIR")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already exists and is not empty"),
        "{stderr}"
    );

    let dir = std::env::temp_dir().join("bifrost-new-bad-name");
    let output = cli()
        .arg("new")
        .arg(&dir)
        .args(["--name", "9lives"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`9lives` is not a crate name"), "{stderr}");
    assert!(!dir.exists(), "nothing is written");
}
