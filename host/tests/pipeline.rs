//! A chain of real plugins (the gallery's, `make examples`; the test
//! plugins, `make build-test-plugins`) run by the pipeline as Bifrost runs
//! them, with the mock provider behind it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bifrost_plugin_host::mock;
use bifrost_plugin_host::pipeline::{
    variant, ChunkOutcome, Event, Kind, LlmPre, Pipeline, Placement, PluginSpec, Reply,
    RequestShape, Runtime, Sink, Trip,
};
use bifrost_plugin_host::Hook;
use serde_json::{json, Value};

fn build(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../build")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing: run `make examples build-test-plugins` (`make test` does)",
        path.display()
    );
    path
}

/// The chain-probe test plugin tagged `tag`, for the single-input ABI or
/// the seed ABI.
fn probe(tag: &str, single_input: bool) -> PluginSpec {
    let file = match single_input {
        true => "test/chain-probe-single-input.wasm",
        false => "test/chain-probe.wasm",
    };
    PluginSpec::new(format!("probe-{tag}"), build(file))
        .with_config(format!(r#"{{"tag":"{tag}","skip":"drop"}}"#))
}

fn gallery(name: &str, config: &str) -> PluginSpec {
    PluginSpec::new(name, build(&format!("examples/{name}-single-input.wasm"))).with_config(config)
}

fn load(specs: Vec<PluginSpec>) -> (Pipeline, Arc<Mutex<Vec<Event>>>) {
    load_shaped(specs, RequestShape::Flat)
}

fn load_shaped(specs: Vec<PluginSpec>, shape: RequestShape) -> (Pipeline, Arc<Mutex<Vec<Event>>>) {
    let (sink, events) = Sink::collect();
    let pipeline =
        Pipeline::load(specs, shape, sink.with_tracing(true)).unwrap_or_else(|e| panic!("{e}"));
    (pipeline, events)
}

fn chat(model: &str, text: &str) -> Value {
    json!({"provider": "openai", "model": model,
           "input": [{"role": "user", "content": text}], "params": {}})
}

fn trip(pipeline: &Pipeline) -> Trip {
    pipeline.trip(
        "req-1",
        Kind::Chat,
        json!({"method": "POST", "path": "/v1/chat/completions",
        "headers": {"content-type": "application/json"}, "query": {}, "body": ""}),
    )
}

/// The mock provider behind the pipeline, speaking its shape.
fn mock_provider(shape: RequestShape) -> impl Fn(&Value) -> Reply {
    move |request| {
        let inner = variant(request.clone(), "request");
        Reply::response(shape.wrap_response(Kind::Chat, mock::reply(Kind::Chat, &inner, "t")))
    }
}

/// A chat request through the chain and the mock; the reply's text.
fn reply_text(pipeline: &Pipeline, trip: &mut Trip, request: Value) -> String {
    let reply = pipeline.complete(trip, request, mock_provider(pipeline.shape()));
    let response = variant(reply.response.expect("a response"), "response");
    response["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

fn hooks_run(trip: &Trip) -> Vec<String> {
    trip.hooks()
        .iter()
        .map(|h| format!("{} {}", h.plugin, h.hook))
        .collect()
}

#[test]
fn plugins_run_by_placement_then_order_then_file_order() {
    let (pipeline, _) = load(vec![
        probe("A", true).placed(Placement::PostBuiltin, 0),
        probe("B", true).placed(Placement::PreBuiltin, 5),
        probe("C", true).placed(Placement::PostBuiltin, -1),
        probe("D", true).placed(Placement::PreBuiltin, 5),
    ]);
    let names: Vec<_> = pipeline
        .plugins()
        .iter()
        .map(|(n, _, _)| n.to_string())
        .collect();
    assert_eq!(names, ["probe-B", "probe-D", "probe-C", "probe-A"]);
    let mut trip = trip(&pipeline);
    let LlmPre::Continue(request) = pipeline.llm_pre(&mut trip, chat("m", "hi")) else {
        panic!("no plugin short-circuits");
    };
    assert_eq!(request["input"][0]["content"], "hi >B >D >C >A");
}

#[test]
fn post_hooks_run_in_reverse_and_the_context_flows_between_single_input_plugins() {
    let (pipeline, _) = load(vec![probe("A", true), probe("B", true)]);
    let mut trip = trip(&pipeline);
    // Pre hooks A then B mark the request; the mock echoes it; post hooks B
    // then A mark the reply, each seeing the chain both pre hooks wrote.
    let text = reply_text(&pipeline, &mut trip, chat("m", "hi"));
    assert_eq!(text, "hi >A >B <B[A,B] <A[A,B]");
    assert_eq!(trip.context()["chain"], "A,B");
    assert_eq!(trip.context()["request_id"], "req-1");
    assert_eq!(
        hooks_run(&trip),
        [
            "probe-A pre_hook",
            "probe-B pre_hook",
            "probe-B post_hook",
            "probe-A post_hook"
        ]
    );
}

#[test]
fn seed_plugins_get_the_context_but_carry_nothing_back() {
    let (pipeline, _) = load(vec![probe("A", false), probe("B", false)]);
    let mut trip = trip(&pipeline);
    let text = reply_text(&pipeline, &mut trip, chat("m", "hi"));
    assert_eq!(text, "hi >A >B <B[] <A[]");
    assert!(!trip.context().contains_key("chain"));
}

#[test]
fn writes_to_reserved_context_keys_are_dropped_and_logged_the_rest_is_taken() {
    let forger = |tag: &str, set: &str| {
        PluginSpec::new(
            format!("forger-{tag}"),
            build("test/chain-probe-single-input.wasm"),
        )
        .with_config(format!(r#"{{"tag":"{tag}","set":{set}}}"#))
    };
    let (pipeline, events) = load(vec![
        forger(
            "A",
            r#"{"request_id":"forged","x-bf-vk":"vk-1","mine":"kept"}"#,
        ),
        forger("B", r#"{"request_id":"","bifrost-fallback-index":"3"}"#),
    ]);
    let mut trip = trip(&pipeline);
    let text = reply_text(&pipeline, &mut trip, chat("m", "hi"));
    assert_eq!(text, "hi >A >B <B[A,B] <A[A,B]", "the request went on");
    let context = trip.context();
    assert_eq!(
        context["request_id"], "req-1",
        "neither changed nor removed"
    );
    assert!(!context.contains_key("x-bf-vk") && !context.contains_key("bifrost-fallback-index"));
    assert_eq!(
        (&context["mine"], &context["chain"]),
        (&json!("kept"), &json!("A,B"))
    );
    let events = events.lock().unwrap();
    let refused: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::ReservedContext { plugin, hook, keys } => {
                Some((plugin.as_str(), *hook, keys.join(",")))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("forger-A", Hook::PreHook, "request_id,x-bf-vk".to_string()),
            (
                "forger-B",
                Hook::PreHook,
                "request_id,bifrost-fallback-index".to_string()
            ),
        ]
    );
    // The next hook was sent the request id as the chain set it.
    let b_was_sent = events
        .iter()
        .find_map(|e| match e {
            Event::Trace {
                plugin,
                hook: Hook::PreHook,
                input,
                ..
            } if plugin == "forger-B" => Some(input.clone()),
            _ => None,
        })
        .expect("traced");
    assert!(b_was_sent.contains(r#""request_id":"req-1""#) && !b_was_sent.contains("forged"));
}

#[test]
fn a_short_circuit_stops_the_pre_hooks_and_only_plugins_whose_pre_hook_ran_get_post() {
    let guard = gallery(
        "content-guardrail",
        r#"{"blocked_phrases":["forbidden"],"message":"not here"}"#,
    );
    let (pipeline, _) = load(vec![probe("A", true), guard, probe("B", true)]);
    let mut trip = trip(&pipeline);
    let called = std::cell::Cell::new(false);
    let reply = pipeline.complete(&mut trip, chat("m", "a forbidden word"), |_| {
        called.set(true);
        Reply::default()
    });
    assert!(!called.get(), "the provider is skipped");
    assert_eq!(reply.response, None);
    let error = reply.error.expect("the guardrail's error");
    assert_eq!(error["status_code"], 403);
    assert_eq!(error["error"]["message"], "not here");
    assert_eq!(
        hooks_run(&trip),
        [
            "probe-A pre_hook",
            "content-guardrail pre_hook",
            "content-guardrail post_hook",
            "probe-A post_hook"
        ]
    );
}

#[test]
fn a_trapping_plugin_is_logged_instantiated_again_and_passed_through() {
    let panicking = PluginSpec::new("panicky", build("test/panicking.wasm"));
    let (pipeline, events) = load(vec![panicking, probe("A", true)]);
    let mut trip1 = trip(&pipeline);
    let text = reply_text(&pipeline, &mut trip1, chat("panic", "hi"));
    assert_eq!(text, "hi >A <A[A]", "the request went on past the trap");
    let traps: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Trap { plugin, hook, .. } => Some((plugin.clone(), *hook)),
            _ => None,
        })
        .collect();
    assert_eq!(traps, [("panicky".to_string(), Hook::PreHook)]);
    // A fresh instance counts its calls from 1 again.
    let mut trip2 = trip(&pipeline);
    let LlmPre::Continue(request) = pipeline.llm_pre(&mut trip2, chat("m", "hi")) else {
        panic!("no short-circuit");
    };
    assert_eq!(request["model"], "call-1");
}

#[test]
fn a_hook_error_is_logged_and_the_request_goes_on_unchanged() {
    let panicking = PluginSpec::new("panicky", build("test/panicking.wasm"));
    let (pipeline, events) = load(vec![panicking]);
    let mut trip = trip(&pipeline);
    let LlmPre::Continue(request) = pipeline.llm_pre(&mut trip, chat("fail", "hi")) else {
        panic!("no short-circuit");
    };
    assert_eq!(request, chat("fail", "hi"));
    assert!(events.lock().unwrap().iter().any(|e| matches!(e,
        Event::HookError { plugin, hook: Hook::PreHook, message } if plugin == "panicky" && message.contains("asked to fail"))));
}

#[test]
fn an_http_pre_hook_answer_ends_the_request_as_it_is() {
    let guard = gallery("api-key-guard", r#"{"keys":["k1"]}"#);
    let (pipeline, _) = load(vec![guard, probe("A", true)]);
    let mut refused = trip(&pipeline);
    let answer = pipeline
        .http_pre(&mut refused)
        .expect("refused without a key");
    assert_eq!(answer["status_code"], 401);
    assert_eq!(hooks_run(&refused), ["api-key-guard http_pre_hook"]);

    let mut allowed = pipeline.trip(
        "req-2",
        Kind::Chat,
        json!({"method": "POST", "path": "/v1/chat/completions",
               "headers": {"x-api-key": "k1"}, "query": {}, "body": ""}),
    );
    assert_eq!(pipeline.http_pre(&mut allowed), None);
}

#[test]
fn each_chunk_goes_through_post_then_chunk_hooks_in_reverse_and_skips_are_dropped() {
    let (pipeline, _) = load(vec![probe("A", true), probe("B", true)]);
    let mut trip = trip(&pipeline);
    assert!(matches!(
        pipeline.llm_pre(&mut trip, chat("m", "hi")),
        LlmPre::Continue(_)
    ));
    let chunk = |text: &str| {
        json!({"object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    };
    let ChunkOutcome::Send(sent) = pipeline.chunk(&mut trip, chunk("hi ")) else {
        panic!("sent");
    };
    assert_eq!(
        sent["choices"][0]["delta"]["content"],
        "hi  <B[A,B] <A[A,B]|B|A"
    );
    assert_eq!(pipeline.chunk(&mut trip, chunk("drop")), ChunkOutcome::Skip);
    let chunk_calls: Vec<_> = trip
        .hooks()
        .iter()
        .filter(|h| h.hook == Hook::HttpStreamChunkHook)
        .map(|h| (h.plugin.clone(), h.calls))
        .collect();
    assert_eq!(
        chunk_calls,
        [("probe-B".to_string(), 2), ("probe-A".to_string(), 1)],
        "B skipped the second chunk: A never saw it"
    );
}

#[test]
fn every_request_shape_reaches_the_plugins_and_comes_back() {
    for shape in RequestShape::ALL {
        let router = gallery("model-router", r#"{"routes":{"gpt-4":"gpt-4o-mini"}}"#);
        let (pipeline, events) = load_shaped(vec![router, probe("A", true)], shape);
        let mut trip = trip(&pipeline);
        let request = shape.wrap_request(Kind::Chat, chat("gpt-4", "hi"));
        let reply = pipeline.complete(&mut trip, request, mock_provider(shape));
        let response = variant(reply.response.unwrap(), "response");
        assert_eq!(response["model"], "gpt-4o-mini", "{shape}");
        assert_eq!(
            response["choices"][0]["message"]["content"], "hi >A <A[A]",
            "{shape}"
        );
        assert_eq!(trip.context()["original-model"], "gpt-4", "{shape}");
        let traced = events.lock().unwrap().iter().any(|e| {
            matches!(e,
            Event::Trace { hook: Hook::PreHook, input, .. }
                if input.contains(match shape {
                    RequestShape::Flat => r#""request":{"input""#,
                    RequestShape::Snake => r#""chat_request":{"#,
                    RequestShape::Go => r#""ChatRequest":{"#,
                }))
        });
        assert!(traced, "the plugins were sent the {shape} shape");
    }
}

#[test]
fn a_plugin_whose_init_fails_stops_the_load_with_its_own_message() {
    let failing = PluginSpec::new("picky", build("test/panicking.wasm"))
        .with_config(r#"{"init_error":"the key is missing"}"#);
    let error = Pipeline::load(
        vec![probe("A", true), failing],
        RequestShape::Flat,
        Sink::collect().0,
    )
    .err()
    .expect("init fails");
    assert_eq!(error.plugin, "picky");
    assert!(error.to_string().contains("the key is missing"), "{error}");
}

#[test]
fn log_lines_are_marked_with_the_plugin_name_and_cleanup_is_called() {
    let logger = PluginSpec::new("logger", build("examples/request-logger-single-input.wasm"));
    let failing_cleanup = PluginSpec::new("panicky", build("test/panicking.wasm"))
        .with_config(r#"{"cleanup_error":"cannot flush"}"#);
    let (pipeline, events) = load(vec![logger, failing_cleanup]);
    let mut trip = trip(&pipeline);
    reply_text(&pipeline, &mut trip, chat("m", "hi"));
    pipeline.cleanup();
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::PluginLine { plugin, line }
            if plugin == "logger" && line.contains("request id=req-1"))),
        "{events:?}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Notice(n) if n.contains("panicky"))));
}

#[test]
fn every_runtime_this_build_has_runs_the_chain_alike() {
    let runtimes = [Runtime::Wasmi, Runtime::Wasmtime];
    for runtime in runtimes.into_iter().filter(|r| r.available()) {
        let specs = vec![
            probe("A", true),
            probe("B", false),
            PluginSpec::new("logger", build("examples/request-logger-single-input.wasm")),
            PluginSpec::new("panicky", build("test/panicking.wasm")),
        ];
        let (sink, events) = Sink::collect();
        let pipeline = Pipeline::load_on(runtime, specs, RequestShape::Flat, sink).unwrap();
        let on: Vec<_> = pipeline.plugins().iter().map(|(_, _, r)| *r).collect();
        let logger_stays_on_wasmi = Runtime::Wasmi;
        assert_eq!(on, [runtime, runtime, logger_stays_on_wasmi, runtime]);
        let mut first = trip(&pipeline);
        let text = reply_text(&pipeline, &mut first, chat("panic", "hi"));
        assert_eq!(text, "hi >A >B <B[A] <A[A]", "{runtime}");
        let trapped = events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::Trap { .. }));
        assert!(trapped, "{runtime}");
        let mut second = trip(&pipeline);
        let LlmPre::Continue(request) = pipeline.llm_pre(&mut second, chat("m", "hi")) else {
            panic!("no short-circuit");
        };
        assert_eq!(request["model"], "call-1", "{runtime}: instantiated again");
    }
}

#[test]
fn a_request_that_finds_a_plugin_busy_waits_through_the_given_wait_and_one_that_finds_it_free_does_not(
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    // The sink is told of each call (tracing) while the plugin is held: the
    // first call stops there until the waiting request lets it go on.
    let (holding, held) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let (holding, released) = (Mutex::new(Some(holding)), Mutex::new(released));
    let sink = Sink::new(move |event| {
        if let (Event::Trace { .. }, Some(holding)) = (&event, holding.lock().unwrap().take()) {
            holding.send(()).unwrap();
            released.lock().unwrap().recv().unwrap();
        }
    });
    let waits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&waits);
    let release = Mutex::new(release);
    let pipeline = Pipeline::load(
        vec![probe("A", true)],
        RequestShape::Flat,
        sink.with_tracing(true),
    )
    .unwrap()
    .waiting_with(move |wait| {
        counted.fetch_add(1, Ordering::SeqCst);
        release.lock().unwrap().send(()).unwrap();
        wait();
    });
    let pipeline = Arc::new(pipeline);
    let first = {
        let pipeline = Arc::clone(&pipeline);
        std::thread::spawn(move || {
            let mut first = trip(&pipeline);
            pipeline.llm_pre(&mut first, chat("m", "one"))
        })
    };
    held.recv().unwrap();
    let mut second = trip(&pipeline);
    let second = pipeline.llm_pre(&mut second, chat("m", "two"));
    let first = first.join().unwrap();
    assert_eq!(
        waits.load(Ordering::SeqCst),
        1,
        "only the second request waited"
    );
    for (pre, text) in [(first, "one >A"), (second, "two >A")] {
        let LlmPre::Continue(request) = pre else {
            panic!("no short-circuit");
        };
        assert_eq!(request["input"][0]["content"], text);
    }
    let mut third = trip(&pipeline);
    pipeline.llm_pre(&mut third, chat("m", "three"));
    assert_eq!(
        waits.load(Ordering::SeqCst),
        1,
        "a free plugin is called at once"
    );
}
