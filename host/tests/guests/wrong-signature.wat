;; seed-ok.wat with two exports of the wrong type: `get_name` returns an i32
;; (not a packed i64) and `pre_hook` takes one buffer (the single-input
;; arity) instead of two.
(module
  (memory (export "memory") 1)
  (data (i32.const 32) "{\"response\":null,\"error\":\"\"}")
  (data (i32.const 64) "{\"request\":null,\"short_circuit\":null,\"error\":\"\"}")
  (data (i32.const 128) "{\"response\":null,\"bifrost_error\":null,\"error\":\"\"}")
  (func (export "plugin_malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "plugin_free") (param i32))
  (func $packed (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
  (func (export "get_name") (result i32) (i32.const 16))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "http_transport_intercept") (param i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 32) (i32.const 28)))
  (func (export "pre_hook") (param i32 i32) (result i64)
    (call $packed (i32.const 64) (i32.const 48)))
  (func (export "post_hook") (param i32 i32 i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 128) (i32.const 49)))
  (func (export "cleanup") (result i32) (i32.const 0)))
