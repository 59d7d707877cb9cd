//! Scenario files: a sequence of calls on one plugin instance, each with
//! what its output must contain. Reading a file checks all of it first, so
//! a mistake is reported with its step and field before anything runs.
//!
//! ```json
//! {
//!   "plugin": "../../../build/hello-world.wasm",
//!   "steps": [
//!     { "init": { "any": "config" } },
//!     { "name": "marks the context",
//!       "pre_hook": { "context": { "request_id": "r1" }, "request": { "model": "m" } },
//!       "expect": { "request": { "model": "m" }, "error": "" } },
//!     { "post_hook": { "error": { "message": "down" } }, "expect_error": "down" },
//!     { "advance_clock": 60 },
//!     { "cleanup": null }
//!   ]
//! }
//! ```
//!
//! `advance_clock` moves the plugin's WASI clock forward by that many seconds
//! (the clock is fixed at the real time until the first step moves it), so
//! time windows of a `wasm32-wasip1` plugin are tested without waiting.

use std::path::{Path, PathBuf};

use bifrost_plugin_host::{Hook, HookInput};
use serde_json::{Map, Value};

/// A parsed scenario file.
#[derive(Debug)]
pub struct Scenario {
    /// The file it came from.
    pub file: PathBuf,
    /// The plugin named in the file, resolved against the file's directory.
    pub plugin: Option<PathBuf>,
    /// The calls, in order.
    pub steps: Vec<Step>,
}

/// One call and what its result must be.
#[derive(Debug)]
pub struct Step {
    /// 1-based, as reported.
    pub number: usize,
    /// The step's `name`, if given.
    pub name: Option<String>,
    /// What to call.
    pub call: Call,
    /// What the output must contain (a JSON subset); for `init` and
    /// `cleanup`, the status.
    pub expect: Option<Value>,
    /// Text the plugin's error must contain. Without it, a hook must report
    /// no error, and `init`/`cleanup` must return their `expect` (default 0).
    pub expect_error: Option<String>,
}

/// What a step calls.
#[derive(Debug)]
pub enum Call {
    /// `init` with this configuration text.
    Init(Vec<u8>),
    /// A hook with these inputs.
    Hook(Hook, HookInput),
    /// `cleanup`.
    Cleanup,
    /// Moves the plugin's clock forward.
    AdvanceClock(std::time::Duration),
}

impl Step {
    /// `init`, `pre_hook`, … as written in files.
    pub fn call_name(&self) -> &'static str {
        match &self.call {
            Call::Init(_) => "init",
            Call::Hook(hook, _) => hook.name(),
            Call::Cleanup => "cleanup",
            Call::AdvanceClock(_) => "advance_clock",
        }
    }
}

const CALLS: [&str; 8] = [
    "init",
    "http_pre_hook",
    "http_post_hook",
    "http_stream_chunk_hook",
    "pre_hook",
    "post_hook",
    "cleanup",
    "advance_clock",
];
const STEP_KEYS: [&str; 3] = ["name", "expect", "expect_error"];

/// Reads and checks a scenario file; the error names the file, the step and
/// the field.
pub fn read(file: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read scenario {}: {e}", file.display()))?;
    parse(file, &text).map_err(|e| format!("{}: {e}", file.display()))
}

/// Parses scenario text (`file` resolves the `plugin` path).
pub fn parse(file: &Path, text: &str) -> Result<Scenario, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(top) = value else {
        return Err("a scenario must be a JSON object with a `steps` array".into());
    };
    for key in top.keys() {
        if !["plugin", "steps", "description"].contains(&key.as_str()) {
            return Err(format!(
                "unknown field `{key}` (a scenario has `plugin`, `steps`, `description`)"
            ));
        }
    }
    let plugin = match top.get("plugin") {
        None => None,
        Some(Value::String(path)) => {
            let dir = file.parent().unwrap_or(Path::new(""));
            Some(tidy(&dir.join(path)))
        }
        Some(other) => {
            return Err(format!(
                "field `plugin` must be a path string, got {}",
                kind(other)
            ))
        }
    };
    let steps = match top.get("steps") {
        Some(Value::Array(steps)) if !steps.is_empty() => steps,
        Some(Value::Array(_)) => return Err("`steps` is empty".into()),
        Some(other) => return Err(format!("`steps` must be an array, got {}", kind(other))),
        None => return Err("no `steps` array".into()),
    };
    let steps = steps
        .iter()
        .enumerate()
        .map(|(i, step)| parse_step(i + 1, step))
        .collect::<Result<_, _>>()?;
    Ok(Scenario {
        file: file.to_path_buf(),
        plugin,
        steps,
    })
}

fn parse_step(number: usize, value: &Value) -> Result<Step, String> {
    let at = |message: String| format!("step {number}: {message}");
    let Value::Object(step) = value else {
        return Err(at(format!(
            "a step must be an object like {{\"pre_hook\": {{…}}}}, got {}",
            kind(value)
        )));
    };
    let calls: Vec<&String> = step
        .keys()
        .filter(|k| CALLS.contains(&k.as_str()))
        .collect();
    let name = match calls.as_slice() {
        [one] => one.as_str(),
        [] => {
            return Err(at(format!(
                "no call: a step has one of the fields {}",
                CALLS.join(", ")
            )))
        }
        many => {
            let many: Vec<&str> = many.iter().map(|k| k.as_str()).collect();
            return Err(at(format!(
                "more than one call ({}): one call per step",
                many.join(", ")
            )));
        }
    };
    let at = |message: String| format!("step {number} ({name}): {message}");
    if let Some(unknown) = step
        .keys()
        .find(|k| !CALLS.contains(&k.as_str()) && !STEP_KEYS.contains(&k.as_str()))
    {
        return Err(at(format!(
            "unknown field `{unknown}` (a step has its call, `name`, `expect`, `expect_error`)"
        )));
    }
    let text_field = |key: &str| match step.get(key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(at(format!(
            "field `{key}` must be a string, got {}",
            kind(other)
        ))),
    };
    let step_name = text_field("name")?;
    let expect_error = text_field("expect_error")?;
    let expect = step.get("expect").cloned();
    let input = &step[name];
    let call = match name {
        "init" => Call::Init(match input {
            Value::Null => Vec::new(),
            config => config.to_string().into_bytes(),
        }),
        "cleanup" => match input {
            Value::Null => Call::Cleanup,
            Value::Object(o) if o.is_empty() => Call::Cleanup,
            other => {
                return Err(at(format!(
                    "`cleanup` takes nothing (null or {{}}), got {}",
                    kind(other)
                )))
            }
        },
        "advance_clock" => match input.as_f64() {
            Some(seconds) if seconds >= 0.0 && seconds.is_finite() => {
                Call::AdvanceClock(std::time::Duration::from_secs_f64(seconds))
            }
            _ => {
                return Err(at(format!(
                    "`advance_clock` takes a number of seconds (0 or more), got {}",
                    kind(input)
                )))
            }
        },
        hook => {
            let hook: Hook = hook.parse().map_err(at)?;
            Call::Hook(hook, hook_input(hook, input).map_err(at)?)
        }
    };
    if matches!(call, Call::Init(_) | Call::Cleanup) {
        if let Some(expect) = &expect {
            if !expect.is_i64() {
                return Err(at(format!(
                    "field `expect` of {name} is the status it returns (an integer), got {}",
                    kind(expect)
                )));
            }
        }
    }
    if matches!(call, Call::AdvanceClock(_)) && (expect.is_some() || expect_error.is_some()) {
        return Err(at("`advance_clock` has no result to expect".into()));
    }
    if expect_error.is_some() && matches!(call, Call::Cleanup) {
        return Err(at(
            "`cleanup` reports no error text: use `expect` with its status".into(),
        ));
    }
    Ok(Step {
        number,
        name: step_name,
        call,
        expect,
        expect_error,
    })
}

/// The hook's inputs from `{"context": …, "request": …}`; each value is sent
/// as its JSON text. `null` or `{}` as the whole input sends nothing.
fn hook_input(hook: Hook, value: &Value) -> Result<HookInput, String> {
    let empty = Map::new();
    let fields = match value {
        Value::Null => &empty,
        Value::Object(fields) => fields,
        other => {
            return Err(format!(
            "the inputs must be an object like {{\"context\": {{}}, \"request\": {{}}}}, got {}",
            kind(other)
        ))
        }
    };
    let takes = hook.fields();
    let names: Vec<&str> = takes.iter().map(|f| f.name()).collect();
    let mut input = HookInput::new();
    for (key, json) in fields {
        let field = takes
            .iter()
            .copied()
            .find(|f| f.name() == key)
            .ok_or_else(|| format!("unknown input `{key}` ({hook} takes {})", names.join(", ")))?;
        input = input.with(field, json.to_string());
    }
    // post_hook's `has_error` (single-input) follows from the error given,
    // as HookInput sends it.
    Ok(input)
}

/// `a/b/../c` as `a/c` (lexically: the path is only shown and opened).
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `a string`, `an object`, … for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Every way `actual` fails to contain `expected`: objects need the expected
/// keys (others may be present), arrays the same length with each item
/// containing the expected one, anything else equality (numbers by value).
/// Each difference is `path: what`, the path a JSON pointer.
pub fn subset_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("", expected, actual, &mut out);
    out
}

fn diff_at(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    let here = if path.is_empty() { "/" } else { path };
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for (key, want) in want {
                let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
                match got.get(key) {
                    Some(got) => diff_at(&child, want, got, out),
                    None => out.push(format!("{child}: missing, expected {}", short(want))),
                }
            }
        }
        (Value::Array(want), Value::Array(got)) if want.len() == got.len() => {
            for (i, (want, got)) in want.iter().zip(got).enumerate() {
                diff_at(&format!("{path}/{i}"), want, got, out);
            }
        }
        (Value::Number(want), Value::Number(got)) if want.as_f64() == got.as_f64() => {}
        (want, got) if want == got => {}
        (want, got) => out.push(format!(
            "{here}: expected {}, got {}",
            short(want),
            short(got)
        )),
    }
}

/// Compact JSON, cut at 200 characters.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_host::Field;
    use serde_json::json;

    fn error_of(text: &str) -> String {
        parse(Path::new("s.json"), text).unwrap_err()
    }

    #[test]
    fn a_scenario_reads_its_steps_and_resolves_the_plugin_beside_it() {
        let text = r#"{"plugin": "../build/p.wasm", "steps": [
            {"init": {"limit": 2}},
            {"name": "n", "pre_hook": {"request": {"model": "m"}}, "expect": {"error": ""}},
            {"post_hook": {"error": {"message": "x"}}, "expect_error": "x"},
            {"cleanup": null, "expect": 0}
        ]}"#;
        let scenario = parse(Path::new("dir/s.json"), text).unwrap();
        assert_eq!(scenario.plugin, Some(PathBuf::from("build/p.wasm")));
        let up = parse(
            Path::new("s.json"),
            r#"{"plugin": "../p.wasm", "steps": [{"cleanup": null}]}"#,
        );
        assert_eq!(up.unwrap().plugin, Some(PathBuf::from("../p.wasm")));
        let names: Vec<_> = scenario.steps.iter().map(Step::call_name).collect();
        assert_eq!(names, ["init", "pre_hook", "post_hook", "cleanup"]);
        assert!(matches!(&scenario.steps[0].call, Call::Init(c) if c == br#"{"limit":2}"#));
        let Call::Hook(Hook::PreHook, input) = &scenario.steps[1].call else {
            panic!("{:?}", scenario.steps[1]);
        };
        assert_eq!(input.get(Field::Request), Some(&br#"{"model":"m"}"#[..]));
        assert_eq!(scenario.steps[1].name.as_deref(), Some("n"));
        assert_eq!(scenario.steps[2].expect_error.as_deref(), Some("x"));
    }

    #[test]
    fn a_malformed_scenario_names_the_step_and_the_field() {
        let cases = [
            (r#"{"steps": [{"pre_hook": {"reqest": {}}}]}"#,
             "step 1 (pre_hook): unknown input `reqest` (pre_hook takes context, request)"),
            (r#"{"steps": [{"init": null}, {"pre_hook": {}, "expected": {}}]}"#,
             "step 2 (pre_hook): unknown field `expected` (a step has its call, `name`, `expect`, `expect_error`)"),
            (r#"{"steps": [{"expect": {}}]}"#,
             "step 1: no call: a step has one of the fields init, http_pre_hook, http_post_hook, http_stream_chunk_hook, pre_hook, post_hook, cleanup, advance_clock"),
            (r#"{"steps": [{"advance_clock": "60s"}]}"#,
             "step 1 (advance_clock): `advance_clock` takes a number of seconds (0 or more), got a string"),
            (r#"{"steps": [{"advance_clock": 60, "expect": 0}]}"#,
             "step 1 (advance_clock): `advance_clock` has no result to expect"),
            (r#"{"steps": [{"init": {}, "pre_hook": {}}]}"#,
             "step 1: more than one call (init, pre_hook): one call per step"),
            (r#"{"steps": [{"init": {}, "expect": "ok"}]}"#,
             "step 1 (init): field `expect` of init is the status it returns (an integer), got a string"),
            (r#"{"steps": [{"post_hook": [1]}]}"#,
             "step 1 (post_hook): the inputs must be an object like {\"context\": {}, \"request\": {}}, got an array"),
            (r#"{"steps": [{"pre_hook": {}, "expect_error": 5}]}"#,
             "step 1 (pre_hook): field `expect_error` must be a string, got a number"),
            (r#"{"steps": []}"#, "`steps` is empty"),
            (r#"{"step": []}"#, "unknown field `step` (a scenario has `plugin`, `steps`, `description`)"),
            (r#"{"plugin": 1, "steps": [{"cleanup": null}]}"#, "field `plugin` must be a path string, got a number"),
        ];
        for (text, message) in cases {
            assert_eq!(error_of(text), message, "{text}");
        }
        assert!(error_of("{").starts_with("not valid JSON: "));
    }

    #[test]
    fn subsets_match_and_differences_are_listed_by_path() {
        let actual = json!({"request": {"model": "m", "n": 1.0, "messages": [{"role": "user"}]}, "error": ""});
        assert_eq!(
            subset_diff(&json!({"request": {"n": 1}}), &actual),
            Vec::<String>::new()
        );
        assert_eq!(
            subset_diff(
                &json!({"request": {"messages": [{}]}, "error": ""}),
                &actual
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            subset_diff(
                &json!({"request": {"model": "x", "messages": [], "a/b": 1}, "context": {}}),
                &actual
            ),
            // In key order.
            [
                "/context: missing, expected {}",
                "/request/a~1b: missing, expected 1",
                r#"/request/messages: expected [], got [{"role":"user"}]"#,
                r#"/request/model: expected "x", got "m""#,
            ]
        );
        assert_eq!(
            subset_diff(&json!([1]), &json!({})),
            ["/: expected [1], got {}"]
        );
    }
}
