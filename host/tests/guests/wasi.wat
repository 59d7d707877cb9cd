;; A seed-ABI guest built as a wasm32-wasip1 plugin would be: it imports
;; WASI preview 1 only. `pre_hook` writes its request to stderr (one
;; fd_write) and answers with the current time (clock_time_get); `post_hook`
;; calls proc_exit(3); `http_transport_intercept` hands fd_write an iovec
;; outside memory.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 64)
  (global $next (mut i32) (i32.const 4096))
  (func (export "plugin_malloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $ptr))
  (func (export "get_name") (result i64)
    (i64.or (i64.shl (i64.const 256) (i64.const 32)) (i64.const 4)))
  (data (i32.const 256) "wasi")
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  ;; iovec at 0: the request; bytes written at 8; time at 16.
  (func (export "pre_hook") (param i32 i32 i32 i32) (result i64)
    (i32.store (i32.const 0) (local.get 2))
    (i32.store (i32.const 4) (local.get 3))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 16)))
    ;; returns the 8 raw bytes of the time at 16
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 8)))
  (func (export "post_hook") (param i32 i32 i32 i32 i32 i32) (result i64)
    (call $proc_exit (i32.const 3))
    (i64.const 0))
  (func (export "http_transport_intercept") (param i32 i32 i32 i32) (result i64)
    (i32.store (i32.const 0) (i32.const 0xFFFFFF00))
    (i32.store (i32.const 4) (i32.const 1000))
    (i64.extend_i32_u
      (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "cleanup") (result i32) (i32.const 0)))
