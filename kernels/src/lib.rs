#![no_std]
//! Reference operator kernels for zant-generated models.
//!
//! `#![no_std]`, no allocation, no dependencies. The generated model crate
//! calls these kernels, and the compiler calls them on the host for constant
//! folding and as the oracle for optimized variants.
//!
//! * [`math`]: scalar `f32` math (exp, log, sqrt, pow, tanh, erf, sin, ...)
//!   ported from musl or evaluated in double precision, since `core` has none.
//! * [`reference`](mod@reference): one module per operator family; plain, correct loops.
//! * [`fast`]: drivers with compiler-packed weights (matrix product, direct and
//!   depthwise convolution), generic over a [`micro`] kernel.
//! * [`micro`]: register-blocked `f32` micro-kernels behind the [`micro::Micro`]
//!   trait, a portable one and Arm ones (FPU `vfma.f32`, Helium).
//!
//! Vendoring rule: the compiler copies the files of this crate verbatim into
//! generated crates under another module path, so no file uses `crate::`
//! paths (only `super::`), and only this file has inner attributes.

pub mod arm;
pub mod fast;
pub mod fused;
pub mod math;
pub mod micro;
pub mod qfast;
pub mod reference;
