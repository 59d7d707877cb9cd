//! Builds a plugin crate's `.wasm` from a test, so a plugin author's
//! `cargo test` needs no build step by hand. [`load_plugin`] is what a host
//! test wants: the crate's own plugin for an ABI and a target, built once per
//! test run, loaded and checked:
//!
//! ```no_run
//! use bifrost_plugin_host::{build, Abi};
//! for abi in Abi::ALL {
//!     let mut guest = build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET)?;
//!     assert_eq!(guest.init(b"{}")?, 0);
//! }
//! # Ok::<(), bifrost_plugin_host::Error>(())
//! ```
//!
//! [`plugin_wasm`] and [`plugin_wasm_for`] give the built file itself.
//!
//! The nested `cargo build` gets its own target directory: a test runs while
//! the outer `cargo test` holds the build lock of the usual one, and a cargo
//! waiting for that lock would wait forever.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::abi::Abi;
use crate::error::{Error, Result};
use crate::guest::{FreeMode, Guest};
use crate::validate::validate;

/// The default plugin target: imports nothing.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The WASI preview 1 target: a plugin that logs, reads the clock or draws
/// random numbers ([`plugin_wasm_for`]).
pub const WASIP1_TARGET: &str = "wasm32-wasip1";

/// One build at a time in this process: builds of one crate with different
/// features write the same artifact, which is copied out before the next.
static BUILDING: Mutex<()> = Mutex::new(());

/// Runs `cargo build --release --target wasm32-unknown-unknown` for the crate
/// at `manifest_dir` with `features`, in the target directory
/// [`plugin_target_dir`], and returns the path of a copy of its `.wasm` that
/// is specific to these features (so a later build with other features does
/// not overwrite it). Cargo's diagnostics are in the error if it fails.
pub fn plugin_wasm(manifest_dir: impl AsRef<Path>, features: &[&str]) -> Result<PathBuf> {
    plugin_wasm_for(WASM_TARGET, manifest_dir, features)
}

/// [`plugin_wasm`] for `target` ([`WASM_TARGET`] or [`WASIP1_TARGET`]).
///
/// ```no_run
/// use bifrost_plugin_host::{build, FreeMode, Guest};
/// let wasm = build::plugin_wasm_for(build::WASIP1_TARGET, env!("CARGO_MANIFEST_DIR"), &[])?;
/// let mut guest = Guest::from_file(&wasm, FreeMode::All)?;
/// guest.init(b"{}")?;
/// println!("{:?}", guest.take_log_lines());
/// # Ok::<(), bifrost_plugin_host::Error>(())
/// ```
pub fn plugin_wasm_for(
    target: &str,
    manifest_dir: impl AsRef<Path>,
    features: &[&str],
) -> Result<PathBuf> {
    let manifest = manifest_dir.as_ref().join("Cargo.toml");
    let target_dir = plugin_target_dir(manifest_dir.as_ref());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .args(["build", "--release", "--target", target])
        .args(["--message-format", "json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    if !features.is_empty() {
        cargo.args(["--features", &features.join(",")]);
    }
    let output = cargo
        .output()
        .map_err(|e| Error::Build(format!("cannot run cargo: {e}")))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let hint = if stderr.contains("target may not be installed") {
            format!("\nhint: rustup target add {target}")
        } else {
            String::new()
        };
        return Err(Error::Build(format!(
            "cargo build of {} failed ({}):\n{stderr}{hint}",
            manifest.display(),
            output.status
        )));
    }
    let built =
        wasm_artifact(&String::from_utf8_lossy(&output.stdout), &manifest).ok_or_else(|| {
            Error::Build(format!(
                "cargo built {} but reported no .wasm: is it a `cdylib`?",
                manifest.display()
            ))
        })?;
    let copy = features_copy(&target_dir.join(target), &built, features);
    std::fs::create_dir_all(copy.parent().unwrap_or(&target_dir)).map_err(|e| Error::Io {
        path: copy.clone(),
        message: e.to_string(),
    })?;
    std::fs::copy(&built, &copy).map_err(|e| Error::Io {
        path: copy.clone(),
        message: format!("cannot copy {} here: {e}", built.display()),
    })?;
    Ok(copy)
}

/// The feature that selects the single-input ABI in a plugin crate (it
/// forwards to the SDK's feature of the same name).
pub const SINGLE_INPUT_FEATURE: &str = "single-input-abi";

/// The plugin of the crate at `manifest_dir` (pass
/// `env!("CARGO_MANIFEST_DIR")`) for `abi` and `target` ([`WASM_TARGET`] or
/// [`WASIP1_TARGET`]), loaded as the host loads it (every buffer freed) and
/// not yet initialised. The crate is built once per test process for each
/// ABI and target ([`plugin_wasm_for`], with the feature
/// [`SINGLE_INPUT_FEATURE`] for the single-input ABI); later calls load the
/// same file. A build whose exports show another ABI, or that `inspect`
/// would find anything wrong with, is an error: a host test must not pass
/// on a plugin Bifrost would refuse.
///
/// ```no_run
/// use bifrost_plugin_host::{build, Abi, Hook, HookInput};
/// let mut guest = build::load_plugin(env!("CARGO_MANIFEST_DIR"), Abi::SingleInput, build::WASIP1_TARGET)?;
/// assert_eq!(guest.init(b"{}")?, 0);
/// let output = guest.call_hook(Hook::PreHook, &HookInput::new().with_request(r#"{"model":"m"}"#))?;
/// assert_eq!(output.plugin_error(), None);
/// println!("{:?}", guest.take_log_lines());
/// # Ok::<(), bifrost_plugin_host::Error>(())
/// ```
pub fn load_plugin(manifest_dir: impl AsRef<Path>, abi: Abi, target: &str) -> Result<Guest> {
    load_plugin_with_features(manifest_dir, abi, target, &[])
}

/// [`load_plugin`] with more of the crate's features (e.g. an allocator).
pub fn load_plugin_with_features(
    manifest_dir: impl AsRef<Path>,
    abi: Abi,
    target: &str,
    features: &[&str],
) -> Result<Guest> {
    let mut all: Vec<&str> = features.to_vec();
    if abi == Abi::SingleInput && !all.contains(&SINGLE_INPUT_FEATURE) {
        all.push(SINGLE_INPUT_FEATURE);
    }
    let wasm = built_once(manifest_dir.as_ref(), target, &all)?;
    let guest = Guest::from_file(&wasm, FreeMode::All)?;
    if guest.abi() != Some(abi) {
        let shown = guest.abi().map_or("neither".into(), |abi| abi.to_string());
        return Err(Error::Build(format!(
            "{} was built for the {abi} ABI, but its exports show {shown} \
             (does the crate's feature `{SINGLE_INPUT_FEATURE}` enable the SDK's?)",
            wasm.display()
        )));
    }
    let problems = validate(guest.info(), abi);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(Error::Build(format!(
            "{} ({abi} ABI) is not a plugin the host accepts:\n  {}",
            wasm.display(),
            list.join("\n  ")
        )));
    }
    Ok(guest)
}

/// [`plugin_wasm_for`], once per process for each crate, target and
/// feature set: every host test needs the same builds, and asking cargo
/// again would only relink.
fn built_once(manifest_dir: &Path, target: &str, features: &[&str]) -> Result<PathBuf> {
    type Key = (PathBuf, String, Vec<String>);
    static BUILT: Mutex<Vec<(Key, PathBuf)>> = Mutex::new(Vec::new());
    let key: Key = (
        manifest_dir.to_path_buf(),
        target.to_string(),
        features.iter().map(|f| f.to_string()).collect(),
    );
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = built.iter().find(|(k, _)| *k == key) {
        return Ok(path.clone());
    }
    let path = plugin_wasm_for(target, manifest_dir, features)?;
    built.push((key, path.clone()));
    Ok(path)
}

/// `<target>/plugin-wasm`, where `<target>` is `CARGO_TARGET_DIR`, else the
/// target directory the running test executable was built in (found by its
/// `CACHEDIR.TAG`), else `<manifest_dir>/target`.
pub fn plugin_target_dir(manifest_dir: &Path) -> PathBuf {
    let outer = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            exe.ancestors()
                .find(|dir| dir.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| manifest_dir.join("target"));
    outer.join("plugin-wasm")
}

/// The `.wasm` among the artifacts cargo reported for the package of
/// `manifest` (one JSON message per line).
fn wasm_artifact(messages: &str, manifest: &Path) -> Option<PathBuf> {
    let manifest = manifest.canonicalize().ok()?;
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter(|msg| {
            let path = msg["manifest_path"].as_str().map(Path::new);
            path.and_then(|p| p.canonicalize().ok()).as_deref() == Some(manifest.as_path())
        })
        .flat_map(|msg| {
            let files = msg["filenames"].as_array().cloned().unwrap_or_default();
            files
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
        })
        .find(|file| file.extension().is_some_and(|ext| ext == "wasm"))
}

/// `<target>/<name>[+feature…].wasm`
fn features_copy(target_dir: &Path, built: &Path, features: &[&str]) -> PathBuf {
    let mut name = OsString::from(built.file_stem().unwrap_or_default());
    for feature in features {
        name.push("+");
        name.push(feature.replace(['/', '\\'], "_"));
    }
    name.push(".wasm");
    target_dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wasm_is_found_among_the_messages_of_its_own_package() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let messages = format!(
            "{{\"reason\":\"compiler-artifact\",\"manifest_path\":\"/elsewhere/Cargo.toml\",\"filenames\":[\"/t/dep.wasm\"]}}\n\
             not json\n\
             {{\"reason\":\"compiler-artifact\",\"manifest_path\":{:?},\"filenames\":[\"/t/x.rlib\",\"/t/x.wasm\"]}}\n\
             {{\"reason\":\"build-finished\",\"success\":true}}",
            here.display().to_string()
        );
        assert_eq!(
            wasm_artifact(&messages, &here),
            Some(PathBuf::from("/t/x.wasm"))
        );
    }

    #[test]
    fn each_feature_set_gets_its_own_copy() {
        let built = Path::new("/t/release/hello_world.wasm");
        let dir = Path::new("/p");
        assert_eq!(
            features_copy(dir, built, &[]),
            Path::new("/p/hello_world.wasm")
        );
        assert_eq!(
            features_copy(dir, built, &["single-input-abi", "sdk/x"]),
            Path::new("/p/hello_world+single-input-abi+sdk_x.wasm")
        );
    }

    #[test]
    fn a_build_whose_exports_show_another_abi_is_refused() {
        let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello-world");
        let features = [SINGLE_INPUT_FEATURE];
        let error = load_plugin_with_features(&hello, Abi::Seed, WASM_TARGET, &features)
            .err()
            .expect("a single-input build is not a seed plugin");
        assert!(
            error
                .to_string()
                .contains("was built for the seed ABI, but its exports show single-input"),
            "{error}"
        );
    }

    #[test]
    fn the_plugin_target_dir_is_beside_the_test_executables() {
        let dir = plugin_target_dir(Path::new("/nowhere"));
        assert!(dir.ends_with("plugin-wasm"), "{}", dir.display());
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            assert!(dir.parent().unwrap().join("CACHEDIR.TAG").is_file());
        }
    }
}
