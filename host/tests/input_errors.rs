//! Which problem a hook reports, and in whose words, on the built plugin
//! (both ABIs): the plugin's own unavailability comes before anything wrong
//! with the input, and the single-input ABI names a broken value inside its
//! envelope, at an offset within that value, exactly as the seed ABI does
//! for the same value in its own buffer.

mod common;

use bifrost_plugin_host::{FreeMode, Guest};
use common::*;
use serde_json::Value;

/// The reason text of a hook's output (`error`, or `hook_error` for the
/// single-input `post_hook`).
fn reason(output: &[u8], key: &str) -> String {
    let object: Value = serde_json::from_slice(output).expect("the output is JSON");
    object[key].as_str().expect("a string reason").to_string()
}

/// Every hook of `guest`'s ABI, called with each of a set of inputs, good
/// and bad, gives the reason it gives for the first: its inputs do not
/// change what it reports.
fn every_hook_reports(guest: &mut Guest, expected: &str) {
    let seed: [(&str, usize, &str); 3] = [
        ("http_transport_intercept", 2, "error"),
        ("pre_hook", 2, "error"),
        ("post_hook", 3, "error"),
    ];
    let good = [
        &fixture("context.json")[..],
        &fixture("chat_request_flat.json")[..],
    ];
    let bad: [&[u8]; 6] = [
        b"",
        b"hello",
        b"[1]",
        b"{\"a\":\"\xff\"}",
        b"{\"a\" 1}",
        b"{",
    ];
    if guest
        .abi()
        .is_some_and(|abi| abi.name().starts_with("seed"))
    {
        for (export, arity, key) in seed {
            let mut inputs: Vec<Vec<&[u8]>> =
                vec![good.iter().copied().cycle().take(arity).collect()];
            for broken in bad {
                for at in 0..arity {
                    let mut call: Vec<&[u8]> = good.iter().copied().cycle().take(arity).collect();
                    call[at] = broken;
                    inputs.push(call);
                }
            }
            for call in inputs {
                let out = guest.hook(export, &call).unwrap();
                let call: Vec<_> = call.iter().map(|c| String::from_utf8_lossy(c)).collect();
                assert_eq!(reason(&out, key), expected, "{export} {call:?}");
            }
        }
        return;
    }
    let envelopes: [&[u8]; 9] = [
        br#"{"context":{},"request":{"model":"m","messages":[]},"response":{"choices":[]},"chunk":{}}"#,
        b"",
        b"hello",
        b"[]",
        b"{\"request\":\"\xff\"}",
        br#"{"request":{"a" 1}}"#,
        br#"{"request":{},"request":{}}"#,
        br#"{"has_error":"yes"}"#,
        br#"{"context":[],"chunk":"abc"}"#,
    ];
    for (export, _, _, key) in SINGLE_INPUT_HOOKS {
        for envelope in envelopes {
            let out = guest.hook(export, &[envelope]).unwrap();
            assert_eq!(
                reason(&out, key),
                expected,
                "{export} {}",
                String::from_utf8_lossy(envelope)
            );
        }
    }
}

#[test]
fn after_a_failed_init_every_hook_reports_it_whatever_its_input() {
    for mut guest in [guest(FreeMode::All), single_input_guest(FreeMode::All)] {
        assert_eq!(guest.init(b"{not json").unwrap(), 1);
        every_hook_reports(
            &mut guest,
            "plugin is not initialised: config is not valid JSON: expected a string key at byte 1",
        );
        // And after a cleanup, that it was cleaned up.
        assert_eq!(guest.init(b"{}").unwrap(), 0);
        assert_eq!(guest.cleanup().unwrap(), 0);
        every_hook_reports(&mut guest, "plugin was cleaned up; call init again");
    }
}

/// Values that are not JSON the SDK takes, each broken in a different way.
const BROKEN: [&[u8]; 7] = [
    b"hello",
    b"{\"a\" 1}",
    b"{\"a\":[1 2]}",
    b"{\"a\":tru}",
    b"{\"a\":\"\x01\"}",
    b"{\"a\":\"\xff\"}",
    b"{\"a\":\"\\q\"}",
];

#[test]
fn a_broken_value_in_the_envelope_is_named_with_an_offset_inside_it_as_the_seed_abi_does() {
    let mut seed = guest(FreeMode::All);
    let mut single = single_input_guest(FreeMode::All);
    for value in BROKEN {
        let text = String::from_utf8_lossy(value);
        // What the seed ABI says of the value in its own buffer, and the
        // single-input hook that reads the same value from its envelope.
        let cases = [
            (seed.pre_hook(b"{}", value), "pre_hook", "request"),
            (seed.pre_hook(value, b"{}"), "pre_hook", "context"),
            (seed.post_hook(b"{}", value, b""), "post_hook", "response"),
            (seed.post_hook(b"{}", b"", value), "post_hook", "error"),
            (
                seed.http_transport_intercept(b"{}", value),
                "http_pre_hook",
                "request",
            ),
            (
                seed.http_transport_intercept(b"{}", value),
                "http_intercept",
                "request",
            ),
        ];
        for (seed_out, export, member) in cases {
            let expected = reason(&seed_out.unwrap(), "error");
            let key = if export == "post_hook" {
                "hook_error"
            } else {
                "error"
            };
            let out = single.hook(export, &[&object(&[(member, value)])]).unwrap();
            assert_eq!(reason(&out, key), expected, "{export} {member}: {text}");
        }
        // Values the seed ABI has no buffer for read as the same text with
        // their own name.
        let response = reason(&seed.post_hook(b"{}", value, b"").unwrap(), "error");
        let chunk = object(&[("chunk", value)]);
        let out = single.hook("http_stream_chunk_hook", &[&chunk]).unwrap();
        assert_eq!(
            reason(&out, "error"),
            response.replacen("response", "chunk", 1),
            "{text}"
        );
        let request = reason(
            &seed.http_transport_intercept(b"{}", value).unwrap(),
            "error",
        );
        let http = object(&[("request", b"{}"), ("response", value)]);
        let out = single.hook("http_post_hook", &[&http]).unwrap();
        assert_eq!(
            reason(&out, "error"),
            request.replacen("http request", "http response", 1),
            "{text}"
        );
    }
}

#[test]
fn a_problem_outside_the_values_is_the_input_s() {
    let mut single = single_input_guest(FreeMode::All);
    for (input, expected) in [
        (
            &br#"{"request":{} x}"#[..],
            "input is not valid JSON: expected `,` or `}` at byte 14",
        ),
        (
            br#"{"request" {}}"#,
            "input is not valid JSON: expected `:` at byte 11",
        ),
        (
            br#"{"other":{"a" 1},"request":{}}"#,
            "input is not valid JSON: expected `:` at byte 14",
        ),
        (
            br#"{"request":{"a":1"#,
            "input is not valid JSON: input ends where `,` or `}` was expected",
        ),
    ] {
        let out = single.hook("pre_hook", &[input]).unwrap();
        assert_eq!(
            reason(&out, "error"),
            expected,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}
