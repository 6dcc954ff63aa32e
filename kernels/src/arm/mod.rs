//! Arm micro-kernels in assembly: `fpu` for Cortex-M cores with a
//! single-precision FPU (`vfma.f32`, `vldmia`) and `mve` for Helium
//! (Cortex-M55, MVE-F).
//!
//! Each kernel is a naked function whose inner loop is written instruction by
//! instruction; a safe wrapper implementing [`Micro`](super::micro::Micro)
//! checks every bound once and hands the kernel raw pointers. Both modules
//! exist only on hard-float Arm targets (`target_arch = "arm"`,
//! `target_abi = "eabihf"`): stable Rust exposes no Arm `target_feature` cfg,
//! so the Helium kernels carry their own `.cpu cortex-m55` directive and the kernel set (chosen from the
//! board's core) must call them only on a core with MVE.

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
pub mod dsp;
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
pub mod fpu;
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
pub mod mve;

/// What an assembly micro-kernel reads, passed by address in `r0`.
/// Strides are in bytes.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[repr(C)]
#[derive(Debug)]
struct Args {
    /// Packed left operand.
    a: *const f32,
    /// Right operand.
    b: *const f32,
    /// Steps (`t` count), at least 1.
    k: usize,
    /// Bytes between consecutive steps of `b`.
    ldb: usize,
    /// Bytes between consecutive columns of `b`.
    sb: usize,
    /// Accumulators, row-major.
    acc: *mut f32,
    /// Element offsets into `b`, one per step (indirect kernel only).
    offs: *const u32,
}
