//! zant-boards: boards as data.
//!
//! A board TOML file names its chip (core, FPU, SIMD, clock, memory regions;
//! shared chips live in `defs/chips/`), says where the arena, stack and
//! weights go, and how firmware runs (QEMU, probe-rs, espflash). This crate
//! parses such files with serde, validates them once reporting every problem
//! with file, key and line (and "did you mean" for misspelt keys), and
//! resolves them into a [`Board`]: from the core and FPU follow the Rust
//! target triple, `target-cpu` and target features. It knows nothing about
//! ONNX.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod exit;
pub mod raw;

mod builtin;
mod diagnostics;
mod resolve;
mod target;
mod types;
mod validate;

pub use builtin::{builtin_boards, builtin_names};
pub use diagnostics::{board_schema, chip_schema, BoardError, Diagnostic};
pub use resolve::{check_file, resolve};
pub use target::rust_target;
pub use types::*;

#[cfg(test)]
mod tests;
