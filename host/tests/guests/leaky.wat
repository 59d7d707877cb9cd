;; seed-ok.wat with an allocator that never reuses memory: each
;; `plugin_malloc` grows memory by one 64 KiB page and returns it, and
;; `plugin_free` does nothing. Every hook call leaks a page per input.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "wat-guest")
  (data (i32.const 64) "{\"request\":null,\"short_circuit\":null,\"error\":\"\"}")
  (func (export "plugin_malloc") (param $size i32) (result i32)
    ;; memory.grow returns the old size in pages: the new page's index.
    (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
  (func (export "plugin_free") (param i32))
  (func $packed (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
  (func (export "get_name") (result i64) (call $packed (i32.const 16) (i32.const 9)))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "http_transport_intercept") (param i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 64) (i32.const 48)))
  (func (export "pre_hook") (param i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 64) (i32.const 48)))
  (func (export "post_hook") (param i32 i32 i32 i32 i32 i32) (result i64)
    (call $packed (i32.const 64) (i32.const 48)))
  (func (export "cleanup") (result i32) (i32.const 0)))
