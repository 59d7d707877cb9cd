;; A guest importing WASI, a WASI name that does not exist, a WASI function
;; with the wrong type, and something from outside WASI.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_teleport" (func (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i64)))
  (import "env" "now" (func (result i64)))
  (memory (export "memory") 1))
