//! abi-spec 4.4, at the boundary: a range the plugin did not hand out is
//! copied up to exactly 4 MiB (4,194,304 bytes) and refused one byte beyond;
//! buffers from `plugin_malloc`/`malloc` are read in place whatever their
//! size. Both ABIs, through the runtime.

mod common;

use bifrost_plugin_host::{FreeMode, Guest};
use common::*;

const LIMIT: usize = 4 * 1024 * 1024;

/// A JSON object of exactly `len` bytes: `{"model":"m","pad":"xx…x"}`.
fn request_of(len: usize) -> Vec<u8> {
    let frame = br#"{"model":"m","pad":""}"#.len();
    format!(r#"{{"model":"m","pad":"{}"}}"#, "x".repeat(len - frame)).into_bytes()
}

/// The single-input envelope `{"request":…}` of exactly `len` bytes.
fn envelope_of(len: usize) -> Vec<u8> {
    object(&[("request", &request_of(len - br#"{"request":}"#.len()))])
}

/// Memory the plugin does not hold as a buffer (it handed it out and took
/// it back), `len` bytes of it holding `bytes`, away from both ends of the
/// freed region so that neither the allocator's records nor the copy the
/// plugin makes (which the allocator places at the region's start) touch it.
fn stray(guest: &mut Guest, bytes: &[u8]) -> (u32, u32) {
    let region = guest.malloc(3 * LIMIT as u32).unwrap();
    assert_ne!(region, 0);
    guest.free(region).unwrap();
    let at = region + (3 * LIMIT as u32) / 2 - 4096;
    guest.write(at, bytes).unwrap();
    (at, bytes.len() as u32)
}

/// Calls `export` on `(ptr, len)` ranges and returns its output.
fn call(guest: &mut Guest, export: &str, ranges: &[(u32, u32)]) -> Vec<u8> {
    let packed = guest.call(export, &args(ranges)).unwrap();
    guest.read_packed(export, packed).unwrap()
}

fn seed_echo(request: &[u8]) -> Vec<u8> {
    object(&[
        ("request", request),
        ("short_circuit", b"null"),
        ("error", br#""""#),
    ])
}

fn single_echo(request: &[u8]) -> Vec<u8> {
    object(&[
        ("context", b"{\"from-pre-hook\":\"789\"}"),
        ("request", request),
        ("short_circuit", b"null"),
        ("has_short_circuit", b"false"),
        ("error", br#""""#),
    ])
}

fn same(output: &[u8], expected: &[u8]) -> bool {
    output == expected
}

#[test]
fn seed_a_stray_range_of_exactly_4_mib_is_copied_and_used() {
    let mut guest = guest(FreeMode::All);
    let request = request_of(LIMIT);
    let range = stray(&mut guest, &request);
    let output = call(&mut guest, "pre_hook", &[(0, 0), range]);
    assert!(same(&output, &seed_echo(&request)), "echoed whole");
}

#[test]
fn seed_a_stray_range_one_byte_over_4_mib_is_refused() {
    let mut guest = guest(FreeMode::All);
    let range = stray(&mut guest, &request_of(LIMIT + 1));
    let output = call(&mut guest, "pre_hook", &[(0, 0), range]);
    let (p, e) = (range.0, range.0 as u64 + range.1 as u64);
    assert_eq!(
        failed(&output, PRE_HOOK_KEYS),
        format!(
            "request buffer [{p}, {e}) was not allocated by plugin_malloc, and at 4194305 bytes \
             is too large to copy (limit 4194304)"
        )
    );
}

#[test]
fn seed_a_plugin_buffer_has_no_size_limit() {
    let mut guest = guest(FreeMode::All);
    let request = request_of(LIMIT + LIMIT / 2);
    let output = guest.pre_hook(b"{}", &request).unwrap();
    assert!(same(&output, &seed_echo(&request)), "6 MiB echoed whole");
}

#[test]
fn single_input_a_stray_range_of_exactly_4_mib_is_copied_and_used() {
    let mut guest = single_input_guest(FreeMode::All);
    let input = envelope_of(LIMIT);
    assert_eq!(input.len(), LIMIT);
    let range = stray(&mut guest, &input);
    let output = call(&mut guest, "pre_hook", &[range]);
    let request = &input[br#"{"request":"#.len()..input.len() - 1];
    assert!(same(&output, &single_echo(request)), "echoed whole");
}

#[test]
fn single_input_a_stray_range_one_byte_over_4_mib_is_refused() {
    let mut guest = single_input_guest(FreeMode::All);
    let range = stray(&mut guest, &envelope_of(LIMIT + 1));
    let output = call(&mut guest, "pre_hook", &[range]);
    let (p, e) = (range.0, range.0 as u64 + range.1 as u64);
    let expected = object(&[
        ("context", b"{}"),
        ("request", b"null"),
        ("short_circuit", b"null"),
        ("has_short_circuit", b"false"),
        (
            "error",
            format!(
                "\"input buffer [{p}, {e}) was not allocated by plugin_malloc, and at 4194305 \
                 bytes is too large to copy (limit 4194304)\""
            )
            .as_bytes(),
        ),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&output),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn single_input_a_plugin_buffer_has_no_size_limit() {
    let mut guest = single_input_guest(FreeMode::All);
    let input = envelope_of(LIMIT + LIMIT / 2);
    let output = guest.hook("pre_hook", &[&input]).unwrap();
    let request = &input[br#"{"request":"#.len()..input.len() - 1];
    assert!(same(&output, &single_echo(request)), "6 MiB echoed whole");
}
