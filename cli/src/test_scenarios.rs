//! `test`: runs scenario files (see [`crate::scenario`]), each on one fresh
//! instance of its plugin, and prints pass/fail per step with what differed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bifrost_plugin_host::{Error, FreeMode, Guest};

use crate::args::TestArgs;
use crate::failure::{Failure, Outcome};
use crate::scenario::{self, subset_diff, Call, Scenario, Step};
use crate::scenario_body;

/// Reads every file first (a malformed one stops everything, naming its
/// step and field), then runs them; exits 1 if any step failed.
pub fn test(args: &TestArgs) -> Outcome {
    let scenarios = args
        .files
        .iter()
        .map(|file| scenario::read(file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::new)?;
    let (mut passed, mut failed) = (0, 0);
    for scenario in &scenarios {
        let plugin = plugin_path(args, scenario)?;
        let mut guest = load(args, &plugin)?;
        let name = guest
            .name()
            .unwrap_or_else(|e| format!("(get_name failed: {e})"));
        let abi = guest.abi().map_or("unknown".into(), |abi| abi.to_string());
        println!(
            "{}: {} (\"{name}\", {abi} ABI)",
            scenario.file.display(),
            plugin.display()
        );
        for step in &scenario.steps {
            let label = match &step.name {
                Some(name) => format!("step {} {}: {name}", step.number, step.call_name()),
                None => format!("step {} {}", step.number, step.call_name()),
            };
            guest.take_log_lines(); // what came before the step is not its own
            let mut problems = run_step(&mut guest, step);
            let lines = guest.take_log_lines();
            if let Some(expected) = &step.expect_log {
                problems.extend(log_problems(expected, &lines));
            }
            if problems.is_empty() {
                passed += 1;
                println!("  ok    {label}");
            } else {
                failed += 1;
                println!("  FAIL  {label}");
                for problem in problems {
                    println!("        {problem}");
                }
            }
        }
    }
    let files = scenarios.len();
    println!(
        "{files} scenario file{}, {} steps: {passed} passed, {failed} failed",
        if files == 1 { "" } else { "s" },
        passed + failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn plugin_path(args: &TestArgs, scenario: &Scenario) -> Result<PathBuf, Failure> {
    args.plugin
        .clone()
        .or_else(|| scenario.plugin.clone())
        .ok_or_else(|| {
            Failure::usage(format!(
                "{}: which plugin? give --plugin or a \"plugin\" field (a path from the file's directory)",
                scenario.file.display()
            ))
        })
}

fn load(args: &TestArgs, plugin: &Path) -> Result<Guest, Failure> {
    let wasm = std::fs::read(plugin).map_err(|e| {
        Failure::new(format!(
            "cannot read {}: {e} (build it first: bifrost-plugin build)",
            plugin.display()
        ))
    })?;
    let free = FreeMode::from(args.free);
    Ok(match args.abi {
        Some(abi) => Guest::load_with_abi(&wasm, abi.into(), free)?,
        None => Guest::load(&wasm, free)?,
    })
}

/// Makes the step's call; what went wrong, or nothing.
fn run_step(guest: &mut Guest, step: &Step) -> Vec<String> {
    match &step.call {
        Call::Init(config) => match guest.init(config) {
            Ok(status) => {
                let reason = (status != 0).then(|| guest.init_failure_reason()).flatten();
                check_status(step, "init", status, reason)
            }
            Err(error) => vec![error.to_string()],
        },
        Call::AdvanceClock(by) => {
            guest.clock().advance(*by);
            vec![]
        }
        Call::SetClock(at) => {
            guest.clock().set(*at);
            vec![]
        }
        Call::Cleanup => match guest.cleanup() {
            Ok(status) => check_status(step, "cleanup", status, None),
            Err(error) => vec![error.to_string()],
        },
        Call::Hook(hook, input) => match guest.call_hook(*hook, input) {
            Ok(output) => {
                let mut problems = match (&step.expect_error, output.plugin_error()) {
                    (None, None) => vec![],
                    (None, Some(error)) => vec![format!("the plugin reported an error: {error}")],
                    (Some(want), Some(error)) if error.contains(want.as_str()) => vec![],
                    (Some(want), Some(error)) => vec![format!(
                        "expected an error containing {want:?}, got {error:?}"
                    )],
                    (Some(want), None) => vec![format!(
                        "expected an error containing {want:?}, the plugin reported none"
                    )],
                };
                if let Some(expect) = &step.expect {
                    let (rest, bodies) = scenario_body::check(expect, &output);
                    problems.extend(bodies);
                    problems.extend(subset_diff(&rest, output.json()));
                }
                problems
            }
            Err(error @ Error::Trap { .. }) => vec![format!("{error} (the plugin state is lost)")],
            Err(error) => vec![error.to_string()],
        },
    }
}

/// Each expected text must be in a line of its own, in order; `[]` means
/// no line at all.
fn log_problems(expected: &[String], lines: &[String]) -> Vec<String> {
    let shown = || {
        if lines.is_empty() {
            "it logged nothing (a wasm32-unknown-unknown plugin cannot log)".to_string()
        } else {
            format!("its log lines: {lines:?}")
        }
    };
    if expected.is_empty() && !lines.is_empty() {
        return vec![format!("expected no log line, {}", shown())];
    }
    let mut rest = lines.iter();
    for want in expected {
        if !rest.any(|line| line.contains(want.as_str())) {
            return vec![format!(
                "expected a log line containing {want:?} (after the lines matched before it); {}",
                shown()
            )];
        }
    }
    vec![]
}

/// `init`/`cleanup`: the status must be `expect` (default 0); `init`'s
/// reason must contain `expect_error` when given.
fn check_status(step: &Step, call: &str, status: i32, reason: Option<String>) -> Vec<String> {
    let want = step.expect.as_ref().and_then(|v| v.as_i64());
    let reason_text = reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    let mut problems = Vec::new();
    match (want, &step.expect_error) {
        (Some(want), _) if i64::from(status) != want => {
            problems.push(format!(
                "`{call}` returned {status}, expected {want}{reason_text}"
            ));
        }
        (None, None) if status != 0 => {
            problems.push(format!("`{call}` returned {status}{reason_text}"));
        }
        (None, Some(_)) if status == 0 => {
            problems.push(format!("`{call}` returned 0, expected it to fail"));
        }
        _ => {}
    }
    if let Some(want) = &step.expect_error {
        match &reason {
            Some(reason) if reason.contains(want.as_str()) => {}
            Some(reason) => problems.push(format!(
                "expected an error containing {want:?}, got {reason:?}"
            )),
            None if status != 0 => problems.push(format!(
                "expected an error containing {want:?}, the plugin gave no reason"
            )),
            None => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::log_problems;

    #[test]
    fn expected_log_texts_match_lines_in_order() {
        let lines = [
            "INFO p: request id=r1".to_string(),
            "INFO p: response id=r1".into(),
        ];
        let want = |texts: &[&str]| texts.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert!(log_problems(&want(&["request", "response id=r1"]), &lines).is_empty());
        assert!(log_problems(&want(&["r1", "r1"]), &lines).is_empty());
        let out_of_order = log_problems(&want(&["response", "request"]), &lines);
        assert_eq!(out_of_order.len(), 1);
        assert!(out_of_order[0].starts_with("expected a log line containing \"request\""));
        assert_eq!(
            log_problems(&want(&["x"]), &[]),
            [
                "expected a log line containing \"x\" (after the lines matched before it); \
              it logged nothing (a wasm32-unknown-unknown plugin cannot log)"
            ]
        );
        assert!(log_problems(&[], &lines)[0].starts_with("expected no log line, its log lines: "));
    }
}
