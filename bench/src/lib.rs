//! The bench's inputs, shared by the `make bench` binary and the fast goal
//! checks `make test` runs (`tests/goals.rs`).

pub mod workload;
