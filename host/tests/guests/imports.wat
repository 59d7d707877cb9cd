;; A seed-ABI guest that imports a logging function and has no `memory`:
;; the host provides no imports, and reads outputs from `memory`.
(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory 1)
  (func (export "plugin_malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "get_name") (result i64) (i64.const 0))
  (func (export "http_transport_intercept") (param i32 i32 i32 i32) (result i64)
    (i64.const 0))
  (func (export "pre_hook") (param i32 i32 i32 i32) (result i64)
    (call $log (local.get 0) (local.get 1))
    (i64.const 0))
  (func (export "post_hook") (param i32 i32 i32 i32 i32 i32) (result i64)
    (i64.const 0))
  (func (export "cleanup") (result i32) (i32.const 0)))
