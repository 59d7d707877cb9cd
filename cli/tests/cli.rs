//! The built `bifrost-plugin` binary, as a user runs it: stdout, stderr and
//! exit codes, against the hello-world builds (`make build`) and the broken
//! guests of `host/tests/guests`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn repo(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    path.to_string_lossy().into_owned()
}

fn seed() -> String {
    repo("build/hello-world.wasm")
}

fn single_input() -> String {
    repo("build/hello-world-single-input.wasm")
}

fn guest(name: &str) -> String {
    repo(&format!("host/tests/guests/{name}.wat"))
}

fn fixture(name: &str) -> String {
    repo(&format!("host/tests/fixtures/{name}"))
}

/// Runs the binary; `stdin` is piped in when given.
fn cli_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bifrost-plugin"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    (
        status.code().expect("exited"),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

fn cli(args: &[&str]) -> (i32, String, String) {
    cli_with_stdin(args, None)
}

#[test]
fn help_shows_every_command_with_examples_and_exit_codes() {
    let (code, stdout, _) = cli(&["--help"]);
    assert_eq!(code, 0);
    for text in [
        "inspect",
        "run",
        "bench",
        "Examples:",
        "Exit codes: 0 success",
    ] {
        assert!(stdout.contains(text), "{text}: {stdout}");
    }
    let (code, stdout, _) = cli(&["run", "--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("--request <JSON|@FILE>"), "{stdout}");
    assert!(stdout.contains("--config <JSON|@FILE>"), "{stdout}");
    assert!(stdout.contains("--free <FREE>"), "{stdout}");
    assert!(stdout.contains("bifrost-plugin run build/hello-world.wasm pre-hook"));
}

#[test]
fn inspect_shows_the_abi_name_and_typed_exports_of_both_builds() {
    let (code, stdout, _) = cli(&["inspect", &seed()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("\nABI: seed (detected from its exports)\n"));
    assert!(stdout.contains("\nname: Hello World WASM Plugin\n"));
    assert!(stdout.contains("\n  pre_hook                  func (i32, i32, i32, i32) -> i64\n"));
    assert!(
        stdout.ends_with("imports: none\nproblems: none\n"),
        "{stdout}"
    );

    let (code, stdout, _) = cli(&["inspect", &single_input()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("\nABI: single-input (detected from its exports)\n"));
    assert!(stdout.contains("\n  free                    func (i32, i32)\n"));
}

#[test]
fn inspect_accepts_a_wasip1_plugin_and_lists_its_wasi_imports() {
    let (code, stdout, _) = cli(&["inspect", &repo("build/hello-world-wasi.wasm")]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("\nname: Hello World WASM Plugin\n"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("\n  `wasi_snapshot_preview1.fd_write` (func (i32, i32, i32, i32) -> i32)\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("problems: none\n"), "{stdout}");
}

#[test]
fn run_shows_a_wasip1_plugins_log_lines_on_stderr_apart_from_the_output() {
    let (code, stdout, stderr) = cli(&[
        "run",
        &repo("build/hello-world-wasi.wasm"),
        "pre-hook",
        "--context",
        r#"{"request_id":"r7"}"#,
        "--request",
        r#"{"model":"gpt-4o-mini","provider":"openai","input":[]}"#,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let output: Value = serde_json::from_str(&stdout).expect("stdout is the output alone");
    assert_eq!(output["request"]["model"], "gpt-4o-mini");
    let plugin_lines: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("[plugin] "))
        .collect();
    assert_eq!(
        plugin_lines,
        [
            "INFO Hello World WASM Plugin: init: Hello World WASM Plugin, configuration accepted",
            "INFO Hello World WASM Plugin: pre_hook: model gpt-4o-mini, provider openai, 0 messages, request r7",
            "INFO Hello World WASM Plugin: cleanup",
        ],
        "{stderr}"
    );
}

#[test]
fn inspect_lists_every_problem_and_exits_1() {
    let cases = [
        (
            "missing-export",
            vec![
                "problems: 2 error(s), 0 warning(s)",
                "  error: missing export `post_hook` (func (i32, i32, i32, i32, i32, i32) -> i64): LLM post-hook (ctx, resp, err)",
                "  error: missing export `cleanup` (func () -> i32): called at shutdown",
            ],
        ),
        (
            "wrong-signature",
            vec![
                "problems: 2 error(s), 0 warning(s)",
                "  error: `get_name` is func () -> i32, expected func () -> i64",
                "  error: `pre_hook` is func (i32, i32) -> i64, expected func (i32, i32, i32, i32) -> i64",
            ],
        ),
        (
            "imports",
            vec![
                "problems: 2 error(s), 0 warning(s)",
                "  error: no linear memory is exported as `memory`",
                "  error: imports `env.log` (func (i32, i32)): the host provides only WASI preview 1 (`wasi_snapshot_preview1`), so it cannot instantiate the module",
            ],
        ),
    ];
    for (name, expected) in cases {
        let (code, stdout, _) = cli(&["inspect", &guest(name)]);
        assert_eq!(code, 1, "{name}: {stdout}");
        let problems: Vec<&str> = stdout
            .lines()
            .skip_while(|l| !l.starts_with("problems:"))
            .collect();
        assert_eq!(problems, expected, "{name}");
    }
}

#[test]
fn inspect_against_the_other_abi_names_the_mismatches() {
    let (code, stdout, _) = cli(&["inspect", "--abi", "single-input", &seed()]);
    assert_eq!(code, 1);
    assert!(stdout.contains("\nABI: single-input (as asked)\n"));
    assert!(stdout.contains(
        "  error: `pre_hook` is func (i32, i32, i32, i32) -> i64, expected func (i32, i32) -> i64\n"
    ));
    assert!(stdout.contains("  warning: missing export `http_post_hook`"));
}

#[test]
fn run_prints_the_output_pretty_with_keys_in_the_plugins_order() {
    let (code, stdout, stderr) = cli(&[
        "run",
        &seed(),
        "pre-hook",
        "--context",
        &fixture("context.json"),
        "--request",
        &fixture("chat_request_flat.json"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("\"Hello World WASM Plugin\", seed ABI (detected), calling `pre_hook`"),
        "{stderr}"
    );
    assert!(stdout.starts_with("{\n  \"request\": {\n"), "{stdout}");
    assert!(stdout.ends_with("  \"short_circuit\": null,\n  \"error\": \"\"\n}\n"));
    let output: Value = serde_json::from_str(&stdout).unwrap();
    let request: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("chat_request_flat.json")).unwrap())
            .unwrap();
    assert_eq!(output["request"], request);
}

#[test]
fn run_calls_every_single_input_hook() {
    let hooks = [
        ("http-pre-hook", "from-http", vec!["--request", "{}"]),
        (
            "http-post-hook",
            "from-http-post",
            vec!["--request", "{}", "--response", "{}"],
        ),
        (
            "http-stream-chunk-hook",
            "from-stream-chunk",
            vec!["--chunk", r#"{"id":"c1"}"#],
        ),
        ("pre-hook", "from-pre-hook", vec!["--request", "{}"]),
        ("post-hook", "from-post-hook", vec!["--response", "{}"]),
    ];
    let plugin = single_input();
    for (hook, key, inputs) in hooks {
        let mut args = vec!["run", &plugin, hook, "--context", r#"{"k":1}"#];
        args.extend(inputs);
        let (code, stdout, stderr) = cli(&args);
        assert_eq!(code, 0, "{hook}: {stderr}");
        let output: Value = serde_json::from_str(&stdout).unwrap();
        // The key the plugin set in this hook, next to the host's.
        assert!(output["context"].get(key).is_some(), "{hook}: {stdout}");
        assert_eq!(output["context"]["k"], 1, "{hook}: {stdout}");
    }
}

#[test]
fn an_error_the_plugin_reports_prints_the_output_and_exits_3() {
    let (code, stdout, stderr) = cli(&["run", &seed(), "pre-hook", "--request", "[1]"]);
    assert_eq!(code, 3);
    let output: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output["request"], Value::Null);
    assert!(stderr
        .ends_with("the plugin reported an error: request must be a JSON object, got an array\n"));
}

#[test]
fn broken_guests_fail_with_the_hosts_message_and_exit_1() {
    let cases = [
        (guest("trapping"), "pre-hook", "error: `pre_hook` trapped: wasm `unreachable` instruction executed"),
        (guest("trapping"), "post-hook", "error: `post_hook` trapped: out of bounds memory access"),
        (guest("malformed"), "pre-hook", "error: `pre_hook` output is not JSON (expected ident at line 1 column 2): not json"),
        (guest("malformed"), "http-pre-hook", "error: `http_transport_intercept` returned 0 (no output)"),
        (guest("malformed-single-input"), "pre-hook", "error: `pre_hook` output has the wrong shape: invalid type: integer `5`, expected a string"),
        (guest("missing-export"), "post-hook", "error: the module does not export `post_hook`"),
        (guest("wrong-signature"), "post-hook", "error: `get_name` is func () -> i32, expected func () -> i64"),
        (guest("imports"), "pre-hook", "error: the module imports `env.log` (func (i32, i32)): a Bifrost plugin may import only WASI preview 1 (`wasi_snapshot_preview1`)"),
        (seed(), "http-post-hook", "error: the seed ABI has no `http_post_hook` hook"),
        ("/nonexistent/plugin.wasm".to_string(), "pre-hook", "error: cannot read /nonexistent/plugin.wasm: No such file or directory (os error 2)"),
    ];
    for (plugin, hook, message) in cases {
        let (code, stdout, stderr) = cli(&["run", &plugin, hook]);
        assert_eq!((code, stdout.as_str()), (1, ""), "{plugin} {hook}");
        assert_eq!(stderr.lines().last(), Some(message), "{plugin} {hook}");
    }
}

#[test]
fn a_panic_in_plugin_code_shows_the_trap_and_the_panic_message() {
    let panicking = repo("build/test/panicking.wasm");
    let (code, stdout, stderr) = cli(&[
        "run",
        &panicking,
        "pre-hook",
        "--request",
        r#"{"model":"panic"}"#,
    ]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    // The panic message itself starts on a new line (Rust's own layout).
    let (trap, panic) = stderr
        .split_once("\nthe plugin panicked at test-plugins/panicking/src/lib.rs:")
        .unwrap_or_else(|| panic!("no panic message: {stderr}"));
    assert!(
        trap.ends_with("error: `pre_hook` trapped: wasm `unreachable` instruction executed"),
        "{stderr}"
    );
    assert!(
        panic.ends_with("the plugin author's bug (call 1)\n"),
        "{stderr}"
    );
}

#[test]
fn a_rejected_config_stops_the_run() {
    let (code, stdout, stderr) = cli(&["run", &seed(), "pre-hook", "--config", "{oops"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(stderr.contains("warning: --config is not valid JSON"));
    assert!(
        stderr.contains(
            "error: `init` returned 1 (the plugin could not read its config): \
             config is not valid JSON"
        ),
        "{stderr}"
    );
}

#[test]
fn config_is_inline_json_null_included_or_an_at_file_and_stderr_says_which() {
    let plugin = repo("build/hello-world-wasi.wasm");
    let (code, _, stderr) = cli(&["run", &plugin, "post-hook", "--config", "null"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("\nconfig: inline JSON null (4 bytes)\n"),
        "{stderr}"
    );
    assert!(stderr.contains("configuration accepted"), "{stderr}");

    let file = scenario_file("null", r#"{"from": "a file"}"#);
    let at = format!("@{file}");
    let (code, _, stderr) = cli(&["bench", &plugin, "post-hook", "-n", "1", "--config", &at]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("\nconfig: file {file} (18 bytes)\n")),
        "{stderr}"
    );

    let (code, _, stderr) = cli(&["run", &plugin, "post-hook"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("\nconfig: none (init gets an empty buffer)\n"),
        "{stderr}"
    );
    let (code, _, stderr) = cli(&["run", &plugin, "post-hook", "--config", "@no-such.json"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error: cannot read --config file no-such.json: "),
        "{stderr}"
    );
}

#[test]
fn bad_command_lines_exit_2() {
    let plugin = seed();
    let cases: [&[&str]; 4] = [
        &["run", &plugin, "pre-hook", "--chunk", "{}"],
        &["run", &plugin, "prehook"],
        &["bench", &plugin, "pre-hook", "-n", "0"],
        &[
            "run",
            &plugin,
            "pre-hook",
            "--context",
            "-",
            "--request",
            "-",
        ],
    ];
    for args in cases {
        let (code, _, stderr) = cli(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    let (_, _, stderr) = cli(cases[0]);
    assert_eq!(
        stderr,
        "error: pre-hook does not take --chunk (it takes --context, --request)\n"
    );
}

#[test]
fn an_input_can_come_from_stdin() {
    let (code, stdout, stderr) = cli_with_stdin(
        &["run", &single_input(), "pre-hook", "--request", "-"],
        Some(br#"{"model":"from-stdin"}"#),
    );
    assert_eq!(code, 0, "{stderr}");
    let output: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output["request"], json!({"model": "from-stdin"}));
}

#[test]
fn bench_prints_calls_per_second_and_shows_a_leak() {
    let (code, stdout, stderr) =
        cli(&["bench", &seed(), "pre-hook", "-n", "200", "--request", "{}"]);
    assert_eq!(code, 0, "{stderr}");
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with("pre_hook: 200 calls in ") && first.contains(" calls/s ("),
        "{first}"
    );
    assert!(stdout.contains("\nguest memory: "));

    assert!(
        stdout.contains("\nmemory: flat over every round, no leak\n"),
        "{stdout}"
    );

    let (code, stdout, _) = cli(&[
        "bench",
        &guest("leaky"),
        "pre-hook",
        "-n",
        "30",
        "--request",
        "{}",
        "--same-request",
    ]);
    assert_eq!(code, 0);
    // One input (the request: --same-request adds no context), one 64 KiB page per call, never freed; the
    // 3 warm-up calls (30 / 10) come first, then rounds of 7, 8, 7, 8 calls.
    let page = 65536;
    let start = page + 3 * page;
    let rounds = [7, 15, 22, 30].map(|calls| (start + calls * page).to_string());
    assert!(
        stdout.contains(&format!(
            "\nguest memory: {start} bytes after the warm-up; after each of 4 rounds: {} (+{} bytes)\n\
             memory grew in 4 of 4 rounds, the last included, 65536.0 bytes per call: a leak",
            rounds.join(", "),
            30 * page
        )),
        "{stdout}"
    );
}

#[test]
fn bench_gives_each_call_its_own_request_so_per_request_state_shows_as_a_leak() {
    // The plugin keeps 1 KB per request id and never drops it.
    let plugin = repo("build/test/panicking.wasm");
    let args = [
        "bench",
        &plugin,
        "post-hook",
        "-n",
        "2000",
        "--config",
        r#"{"keep_per_request": true}"#,
        "--context",
        r#"{"request_id":"r"}"#,
        "--response",
        "{}",
    ];
    let (code, stdout, stderr) = cli(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(r#"each call is a request of its own: request_id "r-1", "r-2", …"#),
        "{stderr}"
    );
    assert!(
        stdout.contains("memory grew in 4 of 4 rounds, the last included, "),
        "{stdout}"
    );
    assert!(stdout.contains(" bytes per call: a leak\n"), "{stdout}");

    // One request id: the same state is overwritten, nothing grows.
    let (code, stdout, stderr) = cli(&[&args[..], &["--same-request"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("every call sends the same context"),
        "{stderr}"
    );
    assert!(
        stdout.contains("memory: flat over every round, no leak"),
        "{stdout}"
    );
}

#[test]
fn http_bodies_are_shown_decoded_unless_raw() {
    // body: {"q":"hi"}
    let request = r#"{"method":"POST","path":"/v1","body":"eyJxIjoiaGkifQ=="}"#;
    let args = [
        "run",
        &single_input(),
        "http-pre-hook",
        "--request",
        request,
    ];
    let (code, stdout, stderr) = cli(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("\"body\": {\n      \"q\": \"hi\"\n    }"),
        "{stdout}"
    );
    assert!(stderr.contains("HTTP bodies shown decoded"), "{stderr}");
    let (code, stdout, _) = cli(&[&args[..], &["--raw"]].concat());
    assert_eq!(code, 0);
    assert!(
        stdout.contains("\"body\": \"eyJxIjoiaGkifQ==\""),
        "{stdout}"
    );
}

#[test]
fn the_hello_world_scenarios_pass() {
    let files = [
        repo("examples/hello-world/scenarios/seed.json"),
        repo("examples/hello-world/scenarios/single-input.json"),
    ];
    let (code, stdout, stderr) = cli(&["test", &files[0], &files[1]]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("  ok    step 3 pre_hook: the request passes through unchanged\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("2 scenario files, 17 steps: 17 passed, 0 failed\n"),
        "{stdout}"
    );
}

/// A scenario written to a temporary file next to nothing: the plugin is
/// given with --plugin.
fn scenario_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("bifrost-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file.to_string_lossy().into_owned()
}

#[test]
fn a_failing_step_shows_what_differed_and_the_run_goes_on() {
    let file = scenario_file(
        "failing.json",
        r#"{"steps": [
            {"init": {}},
            {"pre_hook": {"request": {"model": "m"}}, "expect": {"request": {"model": "other"}, "context": {}}},
            {"pre_hook": {"request": "oops"}},
            {"pre_hook": {"request": {"model": "m"}}, "expect_error": "nope"},
            {"pre_hook": {"request": {"model": "m"}}}
        ]}"#,
    );
    let (code, stdout, _) = cli(&["test", "--plugin", &seed(), &file]);
    assert_eq!(code, 1, "{stdout}");
    let expected = "  ok    step 1 init\n\
         \x20 FAIL  step 2 pre_hook\n\
         \x20       /context: missing, expected {}\n\
         \x20       /request/model: expected \"other\", got \"m\"\n\
         \x20 FAIL  step 3 pre_hook\n\
         \x20       the plugin reported an error: request must be a JSON object, got a string\n\
         \x20 FAIL  step 4 pre_hook\n\
         \x20       expected an error containing \"nope\", the plugin reported none\n\
         \x20 ok    step 5 pre_hook\n\
         1 scenario file, 5 steps: 2 passed, 3 failed\n";
    assert!(stdout.ends_with(expected), "{stdout}");
}

#[test]
fn a_malformed_scenario_is_refused_before_anything_runs() {
    let file = scenario_file(
        "malformed.json",
        r#"{"steps": [{"init": {}}, {"post_hook": {"respones": {}}}]}"#,
    );
    let (code, stdout, stderr) = cli(&["test", "--plugin", &seed(), &file]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        format!(
            "error: {file}: step 2 (post_hook): unknown input `respones` \
             (post_hook takes context, response, error)\n"
        )
    );
}

#[test]
fn a_scenario_checks_init_status_and_reason() {
    let file = scenario_file(
        "init.json",
        r#"{"steps": [
            {"init": "any JSON will do", "expect": 0},
            {"init": {}, "expect": 1},
            {"init": null, "expect_error": "bad config"}
        ]}"#,
    );
    let (code, stdout, _) = cli(&["test", "--plugin", &seed(), &file]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("  ok    step 1 init\n"), "{stdout}");
    assert!(
        stdout.contains(
            "  FAIL  step 2 init\n        `init` returned 0, expected 1\n\
             \x20 FAIL  step 3 init\n        `init` returned 0, expected it to fail\n"
        ),
        "{stdout}"
    );
}

#[test]
fn a_plugin_whose_own_init_fails_stops_the_run_with_its_message() {
    let plugin = repo("build/test/panicking.wasm");
    let config = r#"{"init_error": "no upstream configured"}"#;
    let (code, stdout, stderr) = cli(&["run", &plugin, "pre-hook", "--config", config]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.ends_with(
            "error: `init` returned 2 (the plugin's own init failed): \
             init failed: no upstream configured\n"
        ),
        "{stderr}"
    );
}

#[test]
#[cfg(unix)]
fn a_reader_that_stops_early_ends_the_run_without_a_panic() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    // A pretty-printed output far larger than a pipe holds.
    let text = "x".repeat(300_000);
    let request = json!({"model": "m", "input": [{"role": "user", "content": text}]}).to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bifrost-plugin"))
        .args(["run", &seed(), "pre-hook", "--request", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let mut head = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap(); // then closed, as `head` does
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(13),
        "ended by SIGPIPE: {:?}",
        output.status
    );
}
