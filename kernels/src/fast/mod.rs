//! Fast f32 drivers with weights re-laid by the compiler for the kernel that
//! reads them. Each driver is generic over a register-blocked micro-kernel
//! ([`Micro`](super::micro::Micro)) where it has a matrix product inside; the
//! compiler instantiates it with the variant of the board's kernel set. The
//! reference kernels are the oracle: `kernels/tests/fast_*.rs` compare every
//! driver and variant against them.
//!
//! * [`matmul`]: packed matrix product (1×1 convolution, Gemm, MatMul with
//!   constant weights) and packed matrix-vector product;
//! * [`conv`]: general 2-D direct convolution (strides, padding) through the
//!   indirect micro-kernel;
//! * [`depthwise`]: depthwise 2-D convolution (one filter per channel);
//! * [`inplace`]: the 1×1 and depthwise convolutions written over their
//!   input, with a small scratch.

pub mod conv;
pub mod depthwise;
pub mod inplace;
pub mod matmul;

use super::reference::activation::Activation;

/// The activation, with the common cases inline: the compiler passes a
/// constant, so `Relu` becomes one compare after inlining.
#[inline(always)]
pub fn act(a: Activation, v: f32) -> f32 {
    match a {
        Activation::None => v,
        // Same expression as the reference `Activation::apply` (NaN and -0.0 kept).
        Activation::Relu => {
            if v < 0.0 {
                0.0
            } else {
                v
            }
        }
        other => other.apply(v),
    }
}

/// Packs the `m × k` matrix `w` (element `(i, t)` at `w[i * rs + t * cs]`)
/// into `[ceil(m / R)][k][R]` panels of `R` rows, the rows past `m` zero.
/// `out.len()` must be [`packed_len`]`(m, k, R)`. Used by the compiler.
pub fn pack_rows<const R: usize>(
    w: &[f32],
    m: usize,
    k: usize,
    rs: usize,
    cs: usize,
    out: &mut [f32],
) {
    for v in out.iter_mut() {
        *v = 0.0;
    }
    for i in 0..m {
        let (blk, lane) = (i / R, i % R);
        for t in 0..k {
            out[(blk * k + t) * R + lane] = w[i * rs + t * cs];
        }
    }
}

/// Floats of `m × k` weights packed in panels of `r` rows.
pub const fn packed_len(m: usize, k: usize, r: usize) -> usize {
    m.div_ceil(r) * k * r
}
