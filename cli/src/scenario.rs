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
//!     { "set_clock": "2026-01-01T00:00:00Z" },
//!     { "http_pre_hook": { "request": { "method": "POST", "path": "/", "body": { "q": "hi" } } },
//!       "expect": { "response": { "status_code": 401, "body": { "error": "no key" } } },
//!       "expect_log": ["denied"] },
//!     { "advance_clock": 60 },
//!     { "cleanup": null }
//!   ]
//! }
//! ```
//!
//! `set_clock` sets the plugin's WASI clock to a time (RFC 3339 in UTC, or
//! Unix seconds) and `advance_clock` moves it forward by that many seconds
//! (the clock is the real time until a step fixes it), so time windows of a
//! `wasm32-wasip1` plugin are tested without waiting. HTTP bodies are given
//! and expected as JSON or text ([`crate::scenario_body`]). `expect_log`
//! lists texts the plugin's log lines of that step must contain, one line
//! each, in order (`[]`: it logs nothing).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

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
    /// Texts the step's log lines must contain, one line each, in order.
    pub expect_log: Option<Vec<String>>,
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
    AdvanceClock(Duration),
    /// Sets the plugin's clock to a time.
    SetClock(SystemTime),
}

impl Step {
    /// `init`, `pre_hook`, … as written in files.
    pub fn call_name(&self) -> &'static str {
        match &self.call {
            Call::Init(_) => "init",
            Call::Hook(hook, _) => hook.name(),
            Call::Cleanup => "cleanup",
            Call::AdvanceClock(_) => "advance_clock",
            Call::SetClock(_) => "set_clock",
        }
    }
}

const CALLS: [&str; 9] = [
    "init",
    "http_pre_hook",
    "http_post_hook",
    "http_stream_chunk_hook",
    "pre_hook",
    "post_hook",
    "cleanup",
    "advance_clock",
    "set_clock",
];
const STEP_KEYS: [&str; 4] = ["name", "expect", "expect_error", "expect_log"];

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
            "unknown field `{unknown}` (a step has its call, `name`, `expect`, `expect_error`, `expect_log`)"
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
    let expect_log = match step.get("expect_log") {
        None => None,
        Some(Value::String(line)) => Some(vec![line.clone()]),
        Some(Value::Array(lines)) => Some(
            lines
                .iter()
                .map(|line| line.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| at("`expect_log` must be a list of strings".into()))?,
        ),
        Some(other) => {
            return Err(at(format!(
                "`expect_log` must be a list of strings, got {}",
                kind(other)
            )))
        }
    };
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
                Call::AdvanceClock(Duration::from_secs_f64(seconds))
            }
            _ => {
                return Err(at(format!(
                    "`advance_clock` takes a number of seconds (0 or more), got {}",
                    kind(input)
                )))
            }
        },
        "set_clock" => Call::SetClock(clock_time(input).map_err(at)?),
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
    if matches!(call, Call::AdvanceClock(_) | Call::SetClock(_))
        && (expect.is_some() || expect_error.is_some() || expect_log.is_some())
    {
        return Err(at(format!("`{name}` has no result to expect")));
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
        expect_log,
    })
}

/// `set_clock`'s time: Unix seconds, or RFC 3339 in UTC
/// (`2026-01-01T09:30:00Z`, fractions of a second allowed).
fn clock_time(value: &Value) -> Result<SystemTime, String> {
    let wrong = || {
        format!(
            "`set_clock` takes a time like \"2026-01-01T09:30:00Z\" (UTC) or Unix seconds, got {}",
            match value {
                Value::String(text) => format!("{text:?}"),
                other => kind(other).to_string(),
            }
        )
    };
    let since_epoch = match value {
        Value::Number(n) => n.as_f64().filter(|s| *s >= 0.0 && s.is_finite()),
        Value::String(text) => rfc3339_utc(text),
        _ => None,
    }
    .ok_or_else(wrong)?;
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(since_epoch))
}

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
fn rfc3339_utc(text: &str) -> Option<f64> {
    let text = text.strip_suffix(['Z', 'z'])?;
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let number = |part: &str, len: usize| -> Option<i64> {
        (part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let mut date = date.split('-');
    let (year, month, day) = (
        number(date.next()?, 4)?,
        number(date.next()?, 2)?,
        number(date.next()?, 2)?,
    );
    let (time, fraction) = match time.split_once('.') {
        Some((time, fraction)) if number(fraction, fraction.len()).is_some() => {
            (time, format!("0.{fraction}").parse::<f64>().ok()?)
        }
        Some(_) => return None,
        None => (time, 0.0),
    };
    let mut time = time.split(':');
    let (hour, minute, second) = (
        number(time.next()?, 2)?,
        number(time.next()?, 2)?,
        number(time.next()?, 2)?,
    );
    let valid = date.next().is_none()
        && time.next().is_none()
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && year >= 1970
        && hour < 24
        && minute < 60
        && second < 61;
    if !valid {
        return None;
    }
    // Days from 1970-01-01 to the date (the proleptic Gregorian calendar,
    // years starting in March so the leap day comes last).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(seconds as f64 + fraction)
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
        let json = if crate::scenario_body::is_http_input(hook, field) {
            crate::scenario_body::encode(json).map_err(|e| format!("{key}: {e}"))?
        } else {
            json.clone()
        };
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
             "step 2 (pre_hook): unknown field `expected` (a step has its call, `name`, `expect`, `expect_error`, `expect_log`)"),
            (r#"{"steps": [{"expect": {}}]}"#,
             "step 1: no call: a step has one of the fields init, http_pre_hook, http_post_hook, http_stream_chunk_hook, pre_hook, post_hook, cleanup, advance_clock, set_clock"),
            (r#"{"steps": [{"set_clock": "2026-01-01 09:30"}]}"#,
             "step 1 (set_clock): `set_clock` takes a time like \"2026-01-01T09:30:00Z\" (UTC) or Unix seconds, got \"2026-01-01 09:30\""),
            (r#"{"steps": [{"set_clock": 0, "expect_log": []}]}"#,
             "step 1 (set_clock): `set_clock` has no result to expect"),
            (r#"{"steps": [{"post_hook": {}, "expect_log": [1]}]}"#,
             "step 1 (post_hook): `expect_log` must be a list of strings"),
            (r#"{"steps": [{"http_pre_hook": {"request": {"body": "a", "body_base64": "YQ=="}}}]}"#,
             "step 1 (http_pre_hook): request: give `body` or `body_base64`, not both"),
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
    fn the_clock_is_set_by_rfc_3339_utc_or_unix_seconds_and_bodies_are_encoded() {
        let text = r#"{"steps": [
            {"set_clock": "2026-03-01T09:30:15.25Z"},
            {"set_clock": 1700000000},
            {"set_clock": "2000-02-29T00:00:00Z"},
            {"http_post_hook": {"request": {"body": {"q": 1}}, "response": {"body": "ok"}},
             "expect_log": "response"}
        ]}"#;
        let steps = parse(Path::new("s.json"), text).unwrap().steps;
        let at = |step: &Step| match step.call {
            Call::SetClock(at) => at.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            _ => panic!("{step:?}"),
        };
        // date -u -d 2026-03-01T09:30:15Z +%s
        assert_eq!(at(&steps[0]), Duration::from_secs_f64(1_772_357_415.25));
        assert_eq!(at(&steps[1]), Duration::from_secs(1_700_000_000));
        assert_eq!(at(&steps[2]), Duration::from_secs(951_782_400));
        let Call::Hook(_, input) = &steps[3].call else {
            panic!()
        };
        use bifrost_plugin_host::Field;
        assert_eq!(
            input.get(Field::Request),
            Some(&br#"{"body":"eyJxIjoxfQ=="}"#[..])
        );
        assert_eq!(input.get(Field::Response), Some(&br#"{"body":"b2s="}"#[..]));
        assert_eq!(steps[3].expect_log, Some(vec!["response".to_string()]));
        for bad in [
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-1-01T00:00:00Z",
        ] {
            assert_eq!(rfc3339_utc(bad), None, "{bad}");
        }
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
