//! Fused and layout-specialized kernels chosen by the compiler when a pattern
//! allows it (Conv+activation+MaxPool, packed weights). Portable plain Rust;
//! each is checked against a composition of reference kernels.

pub mod conv2d;
