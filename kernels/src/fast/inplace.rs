//! In-place forms of the fast drivers: the output is written over the input's
//! buffer, with a small scratch, the way hand-written firmware saves RAM.
//!
//! Both work on the NCHW layout of batch 1, where output channel `c` of an
//! in-place node lies over the positions of input channel `c`:
//!
//! * [`pointwise_inplace`]: a 1×1, stride-1 convolution. The pixels are taken
//!   in tiles of [`POINTWISE_TILE`]: the tile's input vectors (`k` channels ×
//!   the tile) are copied into the scratch, then the packed matrix product
//!   ([`matmul`](super::matmul::matmul)) writes the tile's outputs. Output
//!   position `(i, j)` is `i·n + j`, which for `i < k` is an input position of
//!   the same tile (already copied) and for `i ≥ k` lies past the input, so any
//!   `m` works when the buffer holds `max(m, k) · n` floats.
//! * [`depthwise_inplace`]: a depthwise convolution whose output plane is no
//!   larger than its input plane. Channels are taken in increasing order; each
//!   input plane is copied into the scratch and the output plane written at
//!   `c · oh·ow ≤ c · h·w`, so it only covers planes already consumed.
//!
//! Each output element is computed by the same expression, in the same
//! order, as the out-of-place driver, so results are bit-identical to it.

use super::super::micro::Micro;
use super::super::reference::activation::Activation;
use super::depthwise::{depthwise, DepthwiseParams};
use super::matmul::{matmul, MatmulParams};

/// Pixels per tile of [`pointwise_inplace`]: the scratch holds `k` channels
/// of this many pixels (two 4-column passes of the micro-kernel).
pub const POINTWISE_TILE: usize = 8;

/// Floats of scratch [`pointwise_inplace`] needs for `k` input channels and
/// `n` pixels.
pub const fn pointwise_scratch_len(k: usize, n: usize) -> usize {
    let t = if n < POINTWISE_TILE {
        n
    } else {
        POINTWISE_TILE
    };
    k * t
}

/// Floats of scratch [`depthwise_inplace`] needs: one input plane.
pub const fn depthwise_scratch_len(in_hw: [usize; 2]) -> usize {
    in_hw[0] * in_hw[1]
}

/// Shape of an in-place 1×1 convolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointwiseParams {
    /// Output channels (rows of the packed weights).
    pub m: usize,
    /// Input channels.
    pub k: usize,
    /// Pixels (`H·W`).
    pub n: usize,
    /// Activation applied to every output.
    pub activation: Activation,
}

/// `buf[i·n + j] = act(Σ_t A[i][t] · buf₀[t·n + j] + bias[i])` where `buf₀`
/// is `buf` on entry, `A` packed `[ceil(m/4)][k][4]` as for
/// [`matmul`](super::matmul::matmul).
///
/// # Panics
///
/// If `buf` holds fewer than `max(m, k) · n` floats or `scratch` fewer than
/// [`pointwise_scratch_len`]`(k, n)`.
// Inlined into the generated `run`, so the drivers it calls see the
// activation as a constant, as they do out of place.
#[inline(always)]
pub fn pointwise_inplace<M: Micro>(
    a: &[f32],
    bias: Option<&[f32]>,
    buf: &mut [f32],
    scratch: &mut [f32],
    p: &PointwiseParams,
) {
    let (m, k, n) = (p.m, p.k, p.n);
    assert!(
        buf.len() >= m.max(k) * n,
        "pointwise_inplace: buffer shorter than max(m, k) × n"
    );
    assert!(
        scratch.len() >= pointwise_scratch_len(k, n),
        "pointwise_inplace: scratch shorter than k × tile"
    );
    let mut j0 = 0;
    while j0 < n {
        let t = (n - j0).min(POINTWISE_TILE);
        let tile = &mut scratch[..k * t];
        for (c, dst) in tile.chunks_exact_mut(t).enumerate() {
            dst.copy_from_slice(&buf[c * n + j0..][..t]);
        }
        matmul::<M>(
            a,
            tile,
            bias,
            &mut buf[j0..],
            &MatmulParams {
                m,
                k,
                n: t,
                ldb: t,
                sb: 1,
                ldy: n,
                sy: 1,
                activation: p.activation,
            },
        );
        j0 += t;
    }
}

/// [`depthwise`](super::depthwise::depthwise) with the output written over
/// the input: `buf` holds the input planes on entry and the output planes on
/// return (`channels · oh·ow` floats from the start).
///
/// # Panics
///
/// If the output plane is larger than the input plane, `buf` is shorter than
/// `channels · h·w`, or `scratch` shorter than one input plane.
#[inline(always)]
pub fn depthwise_inplace(
    w: &[f32],
    bias: Option<&[f32]>,
    buf: &mut [f32],
    scratch: &mut [f32],
    p: &DepthwiseParams,
) {
    let plane = p.in_hw[0] * p.in_hw[1];
    let oplane = p.out_hw[0] * p.out_hw[1];
    let kk = p.kernel[0] * p.kernel[1];
    assert!(
        oplane <= plane,
        "depthwise_inplace: output plane larger than input plane"
    );
    assert!(
        buf.len() >= p.channels * plane,
        "depthwise_inplace: buffer shorter than the input"
    );
    let scratch = &mut scratch[..plane];
    let one = DepthwiseParams { channels: 1, ..*p };
    for c in 0..p.channels {
        scratch.copy_from_slice(&buf[c * plane..][..plane]);
        depthwise(
            scratch,
            &w[c * kk..][..kk],
            bias.map(|b| &b[c..c + 1]),
            &mut buf[c * oplane..][..oplane],
            &one,
        );
    }
}
