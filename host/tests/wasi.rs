//! A `wasm32-wasip1` plugin in the host: WASI preview 1 is linked (wasmi's
//! own, `wasmi_wasi`), the plugin's stderr is captured, its clock is the
//! test's, and nothing outside WASI preview 1 is accepted.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bifrost_plugin_host::{validate, Abi, Error, FreeMode, Guest, ModuleInfo};

fn wat(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/guests")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn wasi_guest() -> Guest {
    Guest::load(&wat("wasi.wat"), FreeMode::All).expect("a WASI guest loads")
}

#[test]
fn a_wasi_guest_loads_and_validates_with_its_wasi_imports() {
    let guest = wasi_guest();
    assert_eq!(guest.import_count(), 3);
    assert_eq!(validate(guest.info(), Abi::Seed), []);
}

#[test]
fn what_the_plugin_writes_to_stderr_is_captured_per_read() {
    let mut guest = wasi_guest();
    guest.pre_hook(b"{}", b"first line\n").unwrap();
    guest.pre_hook(b"{}", b"second line\n").unwrap();
    assert_eq!(guest.take_log_lines(), ["first line", "second line"]);
    assert_eq!(guest.take_stderr(), b"", "a take empties the capture");
    assert_eq!(guest.take_stdout(), b"");
}

#[test]
fn the_plugin_reads_the_clock_the_test_sets_and_moves() {
    let mut guest = wasi_guest();
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    guest.clock().set(at);
    let nanos = |guest: &mut Guest| {
        let bytes = guest.pre_hook(b"{}", b"-").unwrap();
        u64::from_le_bytes(bytes.try_into().unwrap())
    };
    assert_eq!(nanos(&mut guest), 1_700_000_000 * 1_000_000_000);
    assert_eq!(nanos(&mut guest), 1_700_000_000 * 1_000_000_000, "frozen");
    guest.clock().advance(Duration::from_millis(1500));
    assert_eq!(nanos(&mut guest), 1_700_000_001_500_000_000);
}

#[test]
fn unset_the_clock_is_real_time() {
    let mut guest = wasi_guest();
    let before = SystemTime::now();
    let bytes = guest.pre_hook(b"{}", b"-").unwrap();
    let read = SystemTime::UNIX_EPOCH
        + Duration::from_nanos(u64::from_le_bytes(bytes.try_into().unwrap()));
    assert!(
        read >= before - Duration::from_secs(1),
        "{read:?} {before:?}"
    );
}

#[test]
fn proc_exit_is_reported_like_any_trap() {
    let mut guest = wasi_guest();
    let error = guest.post_hook(b"{}", b"{}", b"").unwrap_err();
    assert_eq!(
        error,
        Error::Trap {
            export: "post_hook".into(),
            message: "the plugin called WASI `proc_exit(3)`".into()
        }
    );
    // The host goes on: the instance still answers.
    guest.pre_hook(b"{}", b"after\n").unwrap();
    assert_eq!(guest.take_log_lines(), ["after"]);
}

#[test]
fn a_bad_pointer_handed_to_wasi_is_an_error_number_not_a_host_crash() {
    let mut guest = wasi_guest();
    match guest.http_transport_intercept(b"{}", b"{}") {
        // fd_write returned a non-zero errno (packed as the "output")...
        Err(Error::NoOutput { .. }) => panic!("fd_write accepted an iovec outside memory"),
        Err(Error::OutputOutOfBounds { ptr: 0, len, .. }) => assert_ne!(len, 0),
        // ...or WASI trapped, which is reported like any trap.
        Err(Error::Trap { export, .. }) => assert_eq!(export, "http_transport_intercept"),
        other => panic!("unexpected: {other:?}"),
    }
    assert_eq!(guest.take_stderr(), b"", "nothing was written");
}

#[test]
fn anything_outside_wasi_preview_1_is_refused_by_name() {
    let info = ModuleInfo::parse(&wat("wasi-and-env.wat")).unwrap();
    let problems: Vec<String> = validate(&info, Abi::Seed)
        .iter()
        .map(ToString::to_string)
        .filter(|p| p.starts_with("imports"))
        .collect();
    let why = "the host provides only WASI preview 1 (`wasi_snapshot_preview1`), \
               so it cannot instantiate the module";
    assert_eq!(
        problems,
        [
            format!("imports `wasi_snapshot_preview1.fd_teleport` (func (i32) -> i32): {why}"),
            format!("imports `wasi_snapshot_preview1.proc_exit` (func (i64)): {why}"),
            format!("imports `env.now` (func () -> i64): {why}"),
        ]
    );
    let error = Guest::load(&wat("wasi-and-env.wat"), FreeMode::All)
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        "the module imports `wasi_snapshot_preview1.fd_teleport` (func (i32) -> i32), \
         `wasi_snapshot_preview1.proc_exit` (func (i64)), `env.now` (func () -> i64): \
         a Bifrost plugin may import only WASI preview 1 (`wasi_snapshot_preview1`)"
    );
}

#[test]
fn captured_output_is_bounded_and_says_what_it_dropped() {
    let mut guest = wasi_guest();
    let big = vec![b'x'; bifrost_plugin_host::CAPTURE_LIMIT / 2 + 1];
    for _ in 0..3 {
        guest.pre_hook(b"{}", &big).unwrap();
    }
    let stderr = guest.take_stderr();
    let dropped = 3 * big.len() - bifrost_plugin_host::CAPTURE_LIMIT;
    let marker = format!("\n[host: {dropped} more bytes dropped, over the capture limit]\n");
    assert_eq!(
        stderr.len(),
        bifrost_plugin_host::CAPTURE_LIMIT + marker.len()
    );
    assert!(stderr.ends_with(marker.as_bytes()));
}
