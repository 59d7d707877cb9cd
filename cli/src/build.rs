//! `build`: inside a plugin crate, cargo for the right target and features,
//! `build/<name>.wasm` and `build/<name>-single-input.wasm`, `wasm-opt -Oz`
//! with `--optimize`, then the checks `inspect` makes, with size and exports.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::args::{BuildAbi, BuildArgs, InspectArgs};
use crate::failure::{warn, Failure, Outcome};

/// `wasm-opt` flags for what rustc's wasm32 targets emit by default.
const WASM_OPT_FLAGS: [&str; 7] = [
    "-Oz",
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// The crate, as `cargo metadata` describes it.
struct Package {
    name: String,
    manifest: PathBuf,
    has_single_input_feature: bool,
    /// `<target>/plugin-wasm`: where the host tests' `build::plugin_wasm`
    /// builds, so `cargo test` and `build` share one wasm32 build.
    wasm_target_dir: PathBuf,
}

/// Builds, copies, optimises, checks.
pub fn build(args: &BuildArgs) -> Outcome {
    let package = package(args.manifest_path.as_deref())?;
    let root = package
        .manifest
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let target = if args.wasi {
        "wasm32-wasip1"
    } else {
        "wasm32-unknown-unknown"
    };
    let abis: &[bool] = match args.abi {
        BuildAbi::Seed => &[false],
        BuildAbi::SingleInput => &[true],
        BuildAbi::Both => &[false, true],
    };
    if abis.contains(&true) && !package.has_single_input_feature {
        return Err(Failure::new(format!(
            "{} has no feature `single-input-abi`: add to its Cargo.toml\n  [features]\n  \
             single-input-abi = [\"bifrost-plugin-sdk/single-input-abi\"]\nor build --abi seed",
            package.manifest.display()
        )));
    }
    let out_dir = root.join("build");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", out_dir.display())))?;
    let wasm_opt = args.optimize.then(|| which("wasm-opt")).flatten();
    if args.optimize && wasm_opt.is_none() {
        warn("--optimize: wasm-opt is not installed (binaryen: `apt-get install binaryen`, `brew install binaryen`); the .wasm is not further optimised");
    }
    let mut failed = false;
    for &single_input in abis {
        let built = cargo_build(&package, target, single_input)?;
        let file = format!(
            "{}{}{}.wasm",
            package.name,
            if single_input { "-single-input" } else { "" },
            if args.wasi { "-wasi" } else { "" }
        );
        let out = out_dir.join(file);
        std::fs::copy(&built, &out).map_err(|e| {
            Failure::new(format!(
                "cannot copy {} to {}: {e}",
                built.display(),
                out.display()
            ))
        })?;
        let size = file_size(&out);
        if let Some(wasm_opt) = &wasm_opt {
            optimize(wasm_opt, &out)?;
            println!(
                "{}: {size} bytes, {} bytes after wasm-opt -Oz",
                out.display(),
                file_size(&out)
            );
        } else {
            println!("{}: {size} bytes", out.display());
        }
        let abi = if single_input {
            crate::args::AbiArg::SingleInput
        } else {
            crate::args::AbiArg::Seed
        };
        let report = crate::inspect::inspect(&InspectArgs {
            plugin: out.clone(),
            abi: Some(abi),
        })?;
        failed |= report != ExitCode::SUCCESS;
        println!();
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The package at `manifest` (else the one cargo finds from here).
fn package(manifest: Option<&Path>) -> Result<Package, Failure> {
    let mut cargo = cargo();
    cargo.args(["metadata", "--no-deps", "--format-version", "1"]);
    if let Some(manifest) = manifest {
        cargo.arg("--manifest-path").arg(manifest);
    }
    let output = cargo
        .output()
        .map_err(|e| Failure::new(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        return Err(Failure::new(format!(
            "not in a plugin crate (cargo metadata failed): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Failure::new(format!("cargo metadata printed no JSON: {e}")))?;
    let here = manifest
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok().map(|d| d.join("Cargo.toml")))
        .and_then(|p| p.canonicalize().ok());
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    // The crate whose manifest is here; in a workspace root, its only member.
    let package = packages
        .iter()
        .find(|p| {
            let path = p["manifest_path"].as_str().map(Path::new);
            path.and_then(|p| p.canonicalize().ok()) == here
        })
        .or_else(|| (packages.len() == 1).then(|| &packages[0]))
        .ok_or_else(|| {
            Failure::new(
                "run `bifrost-plugin build` in a plugin crate's directory (or pass --manifest-path)",
            )
        })?;
    let is_cdylib = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| {
            t["crate_types"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c == "cdylib")
        });
    let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or("Cargo.toml"));
    if !is_cdylib {
        return Err(Failure::new(format!(
            "{} builds no .wasm: add `[lib] crate-type = [\"cdylib\", \"rlib\"]`",
            manifest.display()
        )));
    }
    let target = metadata["target_directory"].as_str().map(PathBuf::from);
    let target = target.unwrap_or_else(|| manifest.with_file_name("target"));
    Ok(Package {
        wasm_target_dir: target.join("plugin-wasm"),
        name: package["name"].as_str().unwrap_or("plugin").to_string(),
        has_single_input_feature: package["features"].get("single-input-abi").is_some(),
        manifest,
    })
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo build --release --target …`, diagnostics shown as cargo renders
/// them; the `.wasm` it reports.
fn cargo_build(package: &Package, target: &str, single_input: bool) -> Result<PathBuf, Failure> {
    let mut cargo = cargo();
    cargo
        .args(["build", "--release", "--target", target])
        .args(["--message-format", "json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(&package.manifest)
        .arg("--target-dir")
        .arg(&package.wasm_target_dir)
        .stderr(Stdio::inherit());
    if single_input {
        cargo.args(["--features", "single-input-abi"]);
    }
    eprintln!(
        "building {} for {target}{}",
        package.name,
        if single_input {
            ", single-input ABI"
        } else {
            ", seed ABI"
        }
    );
    let output = cargo
        .output()
        .map_err(|e| Failure::new(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        return Err(Failure::new(format!(
            "cargo build failed ({}); if the target is missing: rustup target add {target}",
            output.status
        )));
    }
    let manifest = package.manifest.canonicalize().ok();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter(|msg| {
            let path = msg["manifest_path"].as_str().map(Path::new);
            path.and_then(|p| p.canonicalize().ok()) == manifest
        })
        .flat_map(|msg| msg["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| Failure::new("cargo built no .wasm (is the crate a cdylib?)"))
}

fn optimize(wasm_opt: &Path, file: &Path) -> Result<(), Failure> {
    let status = Command::new(wasm_opt)
        .args(WASM_OPT_FLAGS)
        .arg(file)
        .arg("-o")
        .arg(file)
        .status()
        .map_err(|e| Failure::new(format!("cannot run wasm-opt: {e}")))?;
    if !status.success() {
        return Err(Failure::new(format!(
            "wasm-opt failed on {} ({status})",
            file.display()
        )));
    }
    Ok(())
}

fn file_size(file: &Path) -> u64 {
    std::fs::metadata(file).map_or(0, |m| m.len())
}

/// The program's path, if it is on `PATH`.
fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}
