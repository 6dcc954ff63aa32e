//! Depthwise 2-D convolution (batch 1, `group = C = M`, any strides and
//! padding, no dilation): one `kH × kW` filter per channel, weights as in
//! ONNX (`[C][1][kH][kW]`).
//!
//! The fast shapes (square 3×3 and 5×5 filters, equal strides 1 or 2) run on
//! a *plane kernel*: the outputs of a rectangle whose windows all lie inside
//! its input, with no bounds and no border branch. The 3×3 plane kernel is a
//! method of the micro-kernel ([`Micro::dw3`](super::super::micro::Micro::dw3)),
//! so the board's kernel set picks it (`vfma.f32` on Cortex-M FPUs, Helium
//! vector × scalar on the M55); [`plane`] is the plain-Rust one, which also
//! serves 5×5. It computes four outputs of a row per pass, loading each input
//! value of the pass once per filter row, with the filter in registers.
//!
//! * Out of place ([`depthwise`]), the plane kernel takes the interior of each
//!   output plane straight from the input; the border outputs (windows over
//!   the padding) take a loop over the valid taps.
//! * In place ([`depthwise_inplace`](super::inplace::depthwise_inplace)), the
//!   rows of each input plane are copied with their zero padding into the
//!   scratch, so every output takes the plane kernel.
//!
//! Every output is `bias`, then the products in filter order (`ky`, then
//! `kx`, ascending), so the plain-Rust kernels give the same bits as the
//! reference order; the Arm ones round each product-sum once (fused
//! multiply-add). Other shapes take a generic loop.

use super::super::micro::Micro;
use super::super::reference::activation::Activation;
use super::act;
use super::conv::taps;

/// Parameters of [`depthwise`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseParams {
    /// Channels (input = output).
    pub channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides.
    pub strides: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Activation applied to every output.
    pub activation: Activation,
}

impl DepthwiseParams {
    /// Whether the shape runs on a plane kernel: a square 3×3 or 5×5 filter
    /// with equal strides of 1 or 2, and at least one output.
    pub const fn fast(&self) -> bool {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.strides;
        kh == kw
            && (kh == 3 || kh == 5)
            && sh == sw
            && (sh == 1 || sh == 2)
            && self.out_hw[0] > 0
            && self.out_hw[1] > 0
    }

    /// Height and width of the input plane with the padding its windows
    /// read (top and left `pads_begin`, bottom and right as far as the last
    /// window reaches).
    pub const fn padded_hw(&self) -> [usize; 2] {
        let mut hw = [0; 2];
        let mut i = 0;
        while i < 2 {
            let inner = self.pads_begin[i] + self.in_hw[i];
            let reach = if self.out_hw[i] == 0 {
                0
            } else {
                (self.out_hw[i] - 1) * self.strides[i] + self.kernel[i]
            };
            hw[i] = if inner > reach { inner } else { reach };
            i += 1;
        }
        hw
    }
}

/// Where a plane kernel reads and writes: `oh × ow` outputs, output `(oy, ox)`
/// at `y[oy·ldy + ox]`, its window's top-left input at
/// `x[oy·S·ldx + ox·S]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plane {
    /// Elements between consecutive input rows.
    pub ldx: usize,
    /// Elements between consecutive output rows.
    pub ldy: usize,
    /// Output rows.
    pub oh: usize,
    /// Output columns.
    pub ow: usize,
}

/// Panics unless `x` and `y` hold every element a `K × K`, stride-`S` plane
/// kernel reads and writes for `g` (nothing for an empty plane); returns
/// whether there is anything to do.
#[inline]
pub fn check_plane(x_len: usize, y_len: usize, k: usize, s: usize, g: &Plane) -> bool {
    if g.oh == 0 || g.ow == 0 {
        return false;
    }
    let x_end = ((g.oh - 1) * s + k - 1)
        .checked_mul(g.ldx)
        .and_then(|r| r.checked_add((g.ow - 1) * s + k));
    let y_end = (g.oh - 1)
        .checked_mul(g.ldy)
        .and_then(|r| r.checked_add(g.ow));
    assert!(
        x_end.is_some_and(|e| e <= x_len) && y_end.is_some_and(|e| e <= y_len),
        "depthwise plane kernel: x or y is too short for the plane"
    );
    true
}

/// The plain-Rust plane kernel: `y[oy·ldy + ox] = act(bias + Σ_{ky, kx}
/// x[(oy·S + ky)·ldx + ox·S + kx] · w[ky·K + kx])` for every output of `g`.
///
/// # Panics
///
/// If `w` holds fewer than `K²` floats, or `x` or `y` is too short for `g`.
#[inline]
pub fn plane<const K: usize, const S: usize>(
    x: &[f32],
    w: &[f32],
    bias: f32,
    a: Activation,
    y: &mut [f32],
    g: &Plane,
) {
    if !check_plane(x.len(), y.len(), K, S, g) {
        return;
    }
    let wk: [[f32; K]; K] = core::array::from_fn(|ky| core::array::from_fn(|kx| w[ky * K + kx]));
    // One copy of the unrolled loops (a copy per activation cost 12 KB of
    // flash on RV32); the activation's match per output is small next to
    // nine multiply-adds.
    plane_rows::<K, S>(x, &wk, bias, y, g, |v| act(a, v));
}

/// Outputs per pass of [`plane_rows`].
const BLOCK: usize = 4;

#[inline(always)]
fn plane_rows<const K: usize, const S: usize>(
    x: &[f32],
    wk: &[[f32; K]; K],
    bias: f32,
    y: &mut [f32],
    g: &Plane,
    f: impl Fn(f32) -> f32,
) {
    let span = (g.ow - 1) * S + K;
    for oy in 0..g.oh {
        let rows: [&[f32]; K] = core::array::from_fn(|ky| &x[(oy * S + ky) * g.ldx..][..span]);
        let yr = &mut y[oy * g.ldy..][..g.ow];
        let mut blocks = yr.chunks_exact_mut(BLOCK);
        let mut x0 = 0;
        for yb in blocks.by_ref() {
            let mut acc = [bias; BLOCK];
            for (r, wr) in rows.iter().zip(wk) {
                let xs = &r[x0..][..(BLOCK - 1) * S + K];
                for (j, a) in acc.iter_mut().enumerate() {
                    for (kx, &wv) in wr.iter().enumerate() {
                        *a += xs[j * S + kx] * wv;
                    }
                }
            }
            for (v, a) in yb.iter_mut().zip(acc) {
                *v = f(a);
            }
            x0 += BLOCK * S;
        }
        for v in blocks.into_remainder() {
            let mut a = bias;
            for (r, wr) in rows.iter().zip(wk) {
                let xs = &r[x0..][..K];
                for (&xv, &wv) in xs.iter().zip(wr) {
                    a += xv * wv;
                }
            }
            *v = f(a);
            x0 += S;
        }
    }
}

/// The plane kernel of `M` for the fast shape `k × k`, stride `s` (see
/// [`DepthwiseParams::fast`]): [`Micro::dw3`] for 3×3, [`plane`] for 5×5.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn plane_of<M: Micro>(
    k: usize,
    s: usize,
    x: &[f32],
    w: &[f32],
    bias: f32,
    a: Activation,
    y: &mut [f32],
    g: &Plane,
) {
    match (k, s) {
        (3, 1) => M::dw3::<1>(x, w, bias, a, y, g),
        (3, 2) => M::dw3::<2>(x, w, bias, a, y, g),
        (5, 1) => plane::<5, 1>(x, w, bias, a, y, g),
        _ => plane::<5, 2>(x, w, bias, a, y, g),
    }
}

/// `y[c] = act(x[c] ⋆ w[c] + bias[c])` for every channel, the interior of
/// each plane on the plane kernel of `M`.
#[inline]
pub fn depthwise<M: Micro>(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DepthwiseParams,
) {
    if p.fast() {
        interior_and_border::<M>(x, w, bias, y, p);
    } else {
        generic(x, w, bias, y, p);
    }
}

/// The first and one past the last output index whose window
/// `o·s - pad .. + k` lies inside `0..n`.
const fn inner_range(n: usize, k: usize, s: usize, pad: usize, out: usize) -> (usize, usize) {
    let lo = pad.div_ceil(s);
    let hi = if n + pad >= k {
        (n + pad - k) / s + 1
    } else {
        0
    };
    let hi = if hi < out { hi } else { out };
    if lo < hi {
        (lo, hi)
    } else {
        (0, 0)
    }
}

#[inline(never)]
fn interior_and_border<M: Micro>(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DepthwiseParams,
) {
    let [h, iw] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let (k, s) = (p.kernel[0], p.strides[0]);
    let [ph, pw] = p.pads_begin;
    let (y0, y1) = inner_range(h, k, s, ph, oh);
    let (x0, x1) = inner_range(iw, k, s, pw, ow);
    for c in 0..p.channels {
        let xp = &x[c * h * iw..][..h * iw];
        let wc = &w[c * k * k..][..k * k];
        let b = bias.map_or(0.0, |b| b[c]);
        let yp = &mut y[c * oh * ow..][..oh * ow];
        if y0 < y1 && x0 < x1 {
            let g = Plane {
                ldx: iw,
                ldy: ow,
                oh: y1 - y0,
                ow: x1 - x0,
            };
            let xs = &xp[(y0 * s - ph) * iw + x0 * s - pw..];
            plane_of::<M>(k, s, xs, wc, b, p.activation, &mut yp[y0 * ow + x0..], &g);
        }
        for oy in 0..oh {
            let inner_row = y0 <= oy && oy < y1 && x0 < x1;
            for ox in 0..ow {
                if inner_row && x0 <= ox && ox < x1 {
                    continue;
                }
                yp[oy * ow + ox] = one_output(xp, wc, b, p, oy, ox);
            }
        }
    }
}

/// One output of one channel by the loop over its valid taps.
#[inline]
fn one_output(xp: &[f32], wc: &[f32], b: f32, p: &DepthwiseParams, oy: usize, ox: usize) -> f32 {
    let [h, iw] = p.in_hw;
    let [kh, kw] = p.kernel;
    let iy0 = (oy * p.strides[0]) as isize - p.pads_begin[0] as isize;
    let ix0 = (ox * p.strides[1]) as isize - p.pads_begin[1] as isize;
    let (ky0, ky1) = taps(iy0, kh, h);
    let (kx0, kx1) = taps(ix0, kw, iw);
    let mut s = b;
    for ky in ky0..ky1 {
        let iy = (iy0 + ky as isize) as usize;
        for kx in kx0..kx1 {
            let ix = (ix0 + kx as isize) as usize;
            s += xp[iy * iw + ix] * wc[ky * kw + kx];
        }
    }
    act(p.activation, s)
}

/// Any filter size and strides: every output by the loop over its valid taps.
#[inline(never)]
pub(super) fn generic(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DepthwiseParams,
) {
    let [h, iw] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let [kh, kw] = p.kernel;
    for c in 0..p.channels {
        let xp = &x[c * h * iw..][..h * iw];
        let wc = &w[c * kh * kw..][..kh * kw];
        let b = bias.map_or(0.0, |b| b[c]);
        for oy in 0..oh {
            for ox in 0..ow {
                y[(c * oh + oy) * ow + ox] = one_output(xp, wc, b, p, oy, ox);
            }
        }
    }
}
