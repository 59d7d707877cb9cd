//! `inspect`: the plugin's ABI, name, exports and imports, and every problem
//! the validator finds.

use std::process::ExitCode;

use bifrost_plugin_host::{validate, Abi, FreeMode, Guest, ModuleInfo, Severity};

use crate::args::InspectArgs;
use crate::failure::{Failure, Outcome};

/// Prints the report; exits 1 if any problem is an error.
pub fn inspect(args: &InspectArgs) -> Outcome {
    let wasm = std::fs::read(&args.plugin)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", args.plugin.display())))?;
    let info = ModuleInfo::parse(&wasm)?;
    let abi = args.abi.map(Abi::from);
    let (abi, how) = match abi {
        Some(abi) => (Some(abi), "as asked"),
        None => (Abi::detect(&info), "detected from its exports"),
    };

    println!("plugin: {}", args.plugin.display());
    let mut lines: Vec<(Severity, String)> = match abi {
        Some(abi) => {
            println!("ABI: {abi} ({how})");
            validate(&info, abi)
                .into_iter()
                .map(|p| (p.severity(), p.to_string()))
                .collect()
        }
        None => {
            println!("ABI: unknown");
            let reason = "cannot tell the ABI from the exports (no hook of either ABI); \
                          pass --abi seed or --abi single-input to check against one";
            vec![(Severity::Error, reason.to_string())]
        }
    };
    // A name only a call can give; a call that fails where the exports
    // looked right is a problem of its own.
    if !lines
        .iter()
        .any(|(severity, _)| *severity == Severity::Error)
    {
        match name(&wasm, abi) {
            Ok(name) => println!("name: {name}"),
            Err(e) => lines.push((Severity::Error, e)),
        }
    }
    print_declarations(&info);
    print_problems(&lines);
    let failed = lines
        .iter()
        .any(|(severity, _)| *severity == Severity::Error);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn name(wasm: &[u8], abi: Option<Abi>) -> Result<String, String> {
    let mut guest = match abi {
        Some(abi) => Guest::load_with_abi(wasm, abi, FreeMode::All),
        None => Guest::load(wasm, FreeMode::All),
    }
    .map_err(|e| e.to_string())?;
    guest.name().map_err(|e| e.to_string())
}

fn print_declarations(info: &ModuleInfo) {
    println!("exports:");
    let width = info
        .exports()
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (name, ty) in info.exports() {
        println!("  {name:width$}  {ty}");
    }
    if info.imports().is_empty() {
        println!("imports: none");
    } else {
        println!("imports:");
        for import in info.imports() {
            println!("  {import}");
        }
    }
}

fn print_problems(lines: &[(Severity, String)]) {
    if lines.is_empty() {
        println!("problems: none");
        return;
    }
    let errors = lines.iter().filter(|(s, _)| *s == Severity::Error).count();
    let warnings = lines.len() - errors;
    println!("problems: {errors} error(s), {warnings} warning(s)");
    for (severity, line) in lines {
        let label = match severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!("  {label}: {line}");
    }
}
