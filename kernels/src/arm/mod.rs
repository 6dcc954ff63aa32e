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
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
pub mod mve_int;

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

/// What the storing micro-kernels (`mk4x4_store`) read, passed by address
/// in `r0`: [`Args`]' layout up to `acc`, then the output. Strides are in
/// bytes.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[repr(C)]
#[derive(Debug)]
struct StoreArgs {
    /// Packed left operand.
    a: *const f32,
    /// Right operand (columns contiguous).
    b: *const f32,
    /// Steps, at least 1.
    k: usize,
    /// Bytes between consecutive steps of `b`.
    ldb: usize,
    /// Always 4 (contiguous columns).
    sb: usize,
    /// The 16 starting accumulators, row-major; the kernel may overwrite
    /// them.
    acc: *mut f32,
    /// First output.
    y: *mut f32,
    /// Bytes between output rows.
    ldy: usize,
    /// Rows stored, `1..=4`.
    rows: usize,
    /// Nonzero: `Relu` (`v < 0 ? 0 : v`) before the stores.
    relu: usize,
}

/// What an assembly depthwise plane kernel reads, passed by address in `r0`.
/// Strides are in bytes.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[repr(C)]
#[derive(Debug)]
struct DwArgs {
    /// Top-left input of the plane.
    x: *const f32,
    /// First output.
    y: *mut f32,
    /// Bytes between input rows.
    ldx: usize,
    /// Bytes between output rows.
    ldy: usize,
    /// Output rows, at least 1.
    oh: usize,
    /// Output columns, at least 1.
    ow: usize,
    /// The 9 weights, row-major.
    w: *const f32,
    /// Four copies of the bias.
    bias4: *const f32,
    /// Nonzero: apply `Relu` (`v < 0 ? 0 : v`) in the kernel.
    relu: usize,
    /// The four copies `bias4` points to.
    b4: [f32; 4],
}

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
impl DwArgs {
    /// The arguments of a 3×3 plane kernel over a plane `g` already checked
    /// (`check_plane`). `bias4` is set by [`DwArgs::bias4`] once the value
    /// has its final address.
    ///
    /// # Panics
    ///
    /// If `w` holds fewer than 9 floats.
    fn new(
        x: &[f32],
        w: &[f32],
        bias: f32,
        act: super::reference::activation::Activation,
        y: &mut [f32],
        g: &super::fast::depthwise::Plane,
    ) -> Self {
        assert!(w.len() >= 9, "depthwise plane kernel: fewer than 9 weights");
        DwArgs {
            x: x.as_ptr(),
            y: y.as_mut_ptr(),
            ldx: g.ldx * 4,
            ldy: g.ldy * 4,
            oh: g.oh,
            ow: g.ow,
            w: w.as_ptr(),
            bias4: core::ptr::null(),
            relu: usize::from(act == super::reference::activation::Activation::Relu),
            b4: [bias; 4],
        }
    }

    /// Points `bias4` at `b4`; call right before the kernel.
    fn bias4(&mut self) -> &Self {
        self.bias4 = self.b4.as_ptr();
        self
    }

    /// Applies the activations the kernel does not (all but `None` and
    /// `Relu`) to the outputs.
    fn finish(
        &self,
        act: super::reference::activation::Activation,
        y: &mut [f32],
        g: &super::fast::depthwise::Plane,
    ) {
        use super::reference::activation::Activation;
        if self.relu == 0 && act != Activation::None {
            for oy in 0..g.oh {
                for v in &mut y[oy * g.ldy..][..g.ow] {
                    *v = act.apply(*v);
                }
            }
        }
    }
}
