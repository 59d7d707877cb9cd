;; A minimal, correct seed-ABI plugin: every hook answers "unchanged". The
;; broken guests beside it are this module with one thing wrong.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "wat-guest")
  (data (i32.const 32) "{\"response\":null,\"error\":\"\"}")
  (data (i32.const 64) "{\"request\":null,\"short_circuit\":null,\"error\":\"\"}")
  (data (i32.const 128) "{\"response\":null,\"bifrost_error\":null,\"error\":\"\"}")

  ;; A bump allocator over [1024, 64 KiB) that wraps around: fine for a guest
  ;; that never reads its inputs.
  (global $next (mut i32) (i32.const 1024))
  (func (export "plugin_malloc") (param $size i32) (result i32)
    (local $ptr i32)
    (if (i32.gt_u (i32.add (global.get $next) (local.get $size)) (i32.const 65536))
      (then (global.set $next (i32.const 1024))))
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $ptr))
  (func (export "plugin_free") (param i32))

  ;; (ptr << 32) | len
  (func $packed (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))

  (func (export "get_name") (result i64) (call $packed (i32.const 16) (i32.const 9)))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "http_transport_intercept") (param i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 32) (i32.const 28)))
  (func (export "pre_hook") (param i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 64) (i32.const 48)))
  (func (export "post_hook") (param i32 i32 i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 128) (i32.const 49)))
  (func (export "cleanup") (result i32) (i32.const 0)))
