;; A seed-ABI guest whose hooks return what the host cannot read:
;; `http_transport_intercept` returns 0, `pre_hook` text that is not JSON,
;; `post_hook` bytes that are not UTF-8.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "wat-guest")
  (data (i32.const 32) "not json")
  (data (i32.const 64) "{\"error\":\"\ff\fe\"}")
  (func (export "plugin_malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "plugin_free") (param i32))
  (func $packed (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
  (func (export "get_name") (result i64) (call $packed (i32.const 16) (i32.const 9)))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "http_transport_intercept") (param i32 i32 i32 i32) (result i64)
    (i64.const 0))
  (func (export "pre_hook") (param i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 32) (i32.const 8)))
  (func (export "post_hook") (param i32 i32 i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 64) (i32.const 14)))
  (func (export "cleanup") (result i32) (i32.const 0)))
