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
//!   larger than its input plane. Channels are taken in increasing order; the
//!   rows of each input plane are copied into the scratch (with their zero
//!   padding, a pass of output rows at a time) before the outputs that read
//!   them are written at `c · oh·ow ≤ c · h·w`, so the outputs only cover
//!   input already copied.
//!
//! Each output element is computed by the same expression, in the same
//! order, as the out-of-place driver (a padded tap adds `0 · w`), so results
//! are bit-identical to it on the same micro-kernel, but for the sign of a
//! zero sum and a non-finite weight over the padding.

use super::super::micro::Micro;
use super::super::reference::activation::Activation;
use super::depthwise::{generic, plane_of, DepthwiseParams, Plane};
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

/// Floats by which the scratch of [`depthwise_inplace`] may exceed one input
/// plane to take a small plane in one pass.
pub const DEPTHWISE_SLACK: usize = 32;

/// Output rows [`depthwise_inplace`] computes per pass on a fast shape
/// ([`DepthwiseParams::fast`]): every row when the whole padded plane is no
/// more than [`DEPTHWISE_SLACK`] floats over one input plane, or when writing
/// a pass's outputs could reach an input row not yet copied; otherwise as
/// many as keep the padded input rows they read within one input plane (at
/// least one).
pub const fn depthwise_chunk_rows(p: &DepthwiseParams) -> usize {
    let [h, w] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let (k, s, ph) = (p.kernel[0], p.strides[0], p.pads_begin[0]);
    // After copying the rows of output row `oy`, the first input row not
    // copied is `oy·s + k - ph`; the outputs up to row `oy` must end before it.
    let mut oy = 0;
    while oy < oh {
        let next = oy * s + k;
        if next < ph + h && (next < ph || (oy + 1) * ow > (next - ph) * w) {
            return oh;
        }
        oy += 1;
    }
    let [ph_all, pw] = p.padded_hw();
    // A small plane is taken whole: one pass per channel instead of several
    // passes of a row or two, for at most [`DEPTHWISE_SLACK`] more floats.
    if ph_all * pw <= h * w + DEPTHWISE_SLACK {
        return oh;
    }
    let mut t = 1;
    while t < oh && (t * s + k) * pw <= h * w {
        t += 1;
    }
    t
}

/// Floats of scratch [`depthwise_inplace`] needs: on a fast shape, the padded
/// input rows of one pass ([`depthwise_chunk_rows`]), which is no more than
/// one input plane plus [`DEPTHWISE_SLACK`] unless `k` padded rows are more;
/// otherwise one input plane.
pub const fn depthwise_scratch_len(p: &DepthwiseParams) -> usize {
    if !p.fast() {
        return p.in_hw[0] * p.in_hw[1];
    }
    let t = depthwise_chunk_rows(p);
    ((t - 1) * p.strides[0] + p.kernel[0]) * p.padded_hw()[1]
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
        if t == POINTWISE_TILE {
            // A whole tile: fixed-size copies, inline loads and stores
            // rather than a `memcpy` call a channel.
            let (rows, _) = tile.as_chunks_mut::<POINTWISE_TILE>();
            for (c, dst) in rows.iter_mut().enumerate() {
                dst.copy_from_slice(&buf[c * n + j0..][..POINTWISE_TILE]);
            }
        } else {
            for (c, dst) in tile.chunks_exact_mut(t).enumerate() {
                dst.copy_from_slice(&buf[c * n + j0..][..t]);
            }
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
/// On a fast shape the input rows are copied, a pass of
/// [`depthwise_chunk_rows`] output rows at a time, into the scratch with
/// their zero padding (rows the next pass reads again are moved, not copied
/// again), and the plane kernel of `M` computes the pass with no border.
///
/// # Panics
///
/// If the output plane is larger than the input plane, `buf` is shorter than
/// `channels · h·w`, or `scratch` shorter than [`depthwise_scratch_len`].
#[inline(always)]
pub fn depthwise_inplace<M: Micro>(
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
    assert!(
        scratch.len() >= depthwise_scratch_len(p),
        "depthwise_inplace: scratch shorter than depthwise_scratch_len"
    );
    if !p.fast() {
        let scratch = &mut scratch[..plane];
        let one = DepthwiseParams { channels: 1, ..*p };
        for c in 0..p.channels {
            scratch.copy_from_slice(&buf[c * plane..][..plane]);
            generic(
                scratch,
                &w[c * kk..][..kk],
                bias.map(|b| &b[c..c + 1]),
                &mut buf[c * oplane..][..oplane],
                &one,
            );
        }
        return;
    }
    // The shape is a constant of the generated call: only the plane kernel
    // the node uses is compiled.
    match (p.kernel[0], p.strides[0]) {
        (3, 1) => padded::<M, 3, 1>(w, bias, buf, scratch, p),
        (3, 2) => padded::<M, 3, 2>(w, bias, buf, scratch, p),
        (5, 1) => padded::<M, 5, 1>(w, bias, buf, scratch, p),
        _ => padded::<M, 5, 2>(w, bias, buf, scratch, p),
    }
}

/// The fast shapes of [`depthwise_inplace`] (checked by the caller): a
/// `K × K` filter with strides `S`.
#[inline(never)]
fn padded<M: Micro, const K: usize, const S: usize>(
    w: &[f32],
    bias: Option<&[f32]>,
    buf: &mut [f32],
    scratch: &mut [f32],
    p: &DepthwiseParams,
) {
    let [h, iw] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let (k, s) = (K, S);
    let [ph, pl] = p.pads_begin;
    let (plane, oplane) = (h * iw, oh * ow);
    let pw = p.padded_hw()[1];
    let t = depthwise_chunk_rows(p);
    let scratch = &mut scratch[..((t - 1) * s + k) * pw];
    // The padding columns stay zero: only the inner columns are written.
    scratch.fill(0.0);
    for c in 0..p.channels {
        let wc = &w[c * k * k..][..k * k];
        let b = bias.map_or(0.0, |b| b[c]);
        // The scratch holds padded rows `base..next` from its start.
        let (mut base, mut next) = (0, 0);
        let mut oy0 = 0;
        while oy0 < oh {
            let n = t.min(oh - oy0);
            let first = oy0 * s;
            let end = (oy0 + n - 1) * s + k;
            if first > base {
                // Rows `first..next` move to the top, row by row (a row and
                // its destination never overlap: they are `first - base ≥ 1`
                // rows apart).
                let kept = next.max(first) - first;
                for i in 0..kept {
                    let (dst, src) = scratch.split_at_mut((first - base + i) * pw);
                    dst[i * pw..][..pw].copy_from_slice(&src[..pw]);
                }
                base = first;
                next = next.max(first);
            }
            for r in next..end {
                let inner = &mut scratch[(r - base) * pw + pl..][..iw];
                if r >= ph && r - ph < h {
                    inner.copy_from_slice(&buf[c * plane + (r - ph) * iw..][..iw]);
                } else {
                    inner.fill(0.0);
                }
            }
            next = end;
            let g = Plane {
                ldx: pw,
                ldy: ow,
                oh: n,
                ow,
            };
            plane_of::<M>(
                k,
                s,
                scratch,
                wc,
                b,
                p.activation,
                &mut buf[c * oplane + oy0 * ow..],
                &g,
            );
            oy0 += n;
        }
    }
}
