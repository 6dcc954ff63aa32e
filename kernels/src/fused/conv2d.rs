//! Direct 2-D convolution (stride 1, no dilation, one group) with packed
//! weights, a fused activation and an optional fused non-overlapping max
//! pooling.
//!
//! Weights are packed by the compiler into blocks of four output channels,
//! `[ceil(M/4)][C][kH][kW][4]`, so one input value is loaded once and
//! multiplied into four accumulators held in registers. With a fused pool the
//! convolution output never exists in memory: each pooling window computes
//! its conv outputs, applies the activation and keeps the maximum. Only the
//! conv outputs some pooling window reads are computed.
//!
//! The reference (`reference::conv::conv` followed by
//! `reference::pool::max_pool`) is the oracle; the tests compare against it.

use super::super::reference::activation::Activation;

/// Output channels per weight block.
pub const BLOCK: usize = 4;

/// Fused max pooling after the convolution (non-overlapping windows:
/// strides ≥ kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPoolFuse {
    /// Pool window height and width.
    pub kernel: [usize; 2],
    /// Pool strides.
    pub strides: [usize; 2],
    /// Pool padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Pooled output height and width.
    pub out: [usize; 2],
}

/// Parameters of [`conv2d`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2dParams {
    /// Input channels C.
    pub in_channels: usize,
    /// Output channels M.
    pub out_channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Convolution output height and width (before pooling).
    pub conv_hw: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Activation applied to every conv output.
    pub activation: Activation,
    /// Max pooling applied after the activation, if any.
    pub pool: Option<MaxPoolFuse>,
    /// Most adjacent output positions computed per pass (2 or 3): 3 saves
    /// loads on scalar FPUs; 2 suits cores whose compiler vectorizes the
    /// four-channel accumulation (Helium).
    pub positions: usize,
}

/// Number of floats of the packed weights for `m` output channels, `c` input
/// channels and a `kh × kw` kernel.
pub const fn packed_len(m: usize, c: usize, kh: usize, kw: usize) -> usize {
    m.div_ceil(BLOCK) * c * kh * kw * BLOCK
}

/// Packs OIHW weights into `[ceil(M/4)][C][kH][kW][4]` (missing channels of
/// the last block are zero). Used by the compiler at build time.
pub fn pack_weights(w: &[f32], m: usize, c: usize, kh: usize, kw: usize, out: &mut [f32]) {
    let k = kh * kw;
    for v in out.iter_mut() {
        *v = 0.0;
    }
    for oc in 0..m {
        let (blk, lane) = (oc / BLOCK, oc % BLOCK);
        for ic in 0..c {
            for t in 0..k {
                out[((blk * c + ic) * k + t) * BLOCK + lane] = w[(oc * c + ic) * k + t];
            }
        }
    }
}

/// `N` horizontally adjacent conv output positions starting at `ix0`, all
/// with every kernel column inside the input: each weight quadruple is
/// loaded once for `4 × N` multiply-adds.
#[inline(always)]
fn pointn_interior<const KW: usize, const N: usize>(
    x: &[f32],
    wb: &[f32],
    p: &Conv2dParams,
    iy0: isize,
    ix0: usize,
    acc: &mut [[f32; BLOCK]; N],
) {
    let [ih, iw] = p.in_hw;
    let kh = p.kernel[0];
    let (ky0, ky1) = rows(iy0, kh, ih);
    let plane = ih * iw;
    let mut a = *acc;
    for ic in 0..p.in_channels {
        let xp = &x[ic * plane..];
        let wp = &wb[ic * kh * KW * BLOCK..];
        for ky in ky0..ky1 {
            let iy = (iy0 + ky as isize) as usize;
            let xr: &[f32] = &xp[iy * iw + ix0..][..KW + N - 1];
            let wr: &[f32] = &wp[ky * KW * BLOCK..][..KW * BLOCK];
            for kx in 0..KW {
                let w4: [f32; BLOCK] = [
                    wr[kx * BLOCK],
                    wr[kx * BLOCK + 1],
                    wr[kx * BLOCK + 2],
                    wr[kx * BLOCK + 3],
                ];
                let xs: [f32; N] = core::array::from_fn(|n| xr[kx + n]);
                for n in 0..N {
                    for j in 0..BLOCK {
                        a[n][j] += xs[n] * w4[j];
                    }
                }
            }
        }
    }
    *acc = a;
}

/// Conv outputs at `(cy, cx)` … `(cy, cx + N - 1)`.
#[inline(always)]
fn conv_n<const KW: usize, const N: usize>(
    x: &[f32],
    wb: &[f32],
    p: &Conv2dParams,
    cy: usize,
    cx: usize,
    acc: &mut [[f32; BLOCK]; N],
) {
    let iy0 = cy as isize - p.pads_begin[0] as isize;
    let ix0 = cx as isize - p.pads_begin[1] as isize;
    if KW != 0 && ix0 >= 0 && ix0 as usize + KW + N - 1 <= p.in_hw[1] {
        pointn_interior::<KW, N>(x, wb, p, iy0, ix0 as usize, acc);
    } else {
        for (n, an) in acc.iter_mut().enumerate() {
            conv_point::<KW>(x, wb, p, cy, cx + n, an);
        }
    }
}

/// Conv outputs at `(cy, cx)` and `(cy, cx + 1)`.
#[inline(always)]
fn conv_pair<const KW: usize>(
    x: &[f32],
    wb: &[f32],
    p: &Conv2dParams,
    cy: usize,
    cx: usize,
    acc0: &mut [f32; BLOCK],
    acc1: &mut [f32; BLOCK],
) {
    let iy0 = cy as isize - p.pads_begin[0] as isize;
    let ix0 = cx as isize - p.pads_begin[1] as isize;
    if KW != 0 && ix0 >= 0 && ix0 as usize + KW < p.in_hw[1] {
        let mut a = [*acc0, *acc1];
        pointn_interior::<KW, 2>(x, wb, p, iy0, ix0 as usize, &mut a);
        [*acc0, *acc1] = a;
    } else {
        conv_point::<KW>(x, wb, p, cy, cx, acc0);
        conv_point::<KW>(x, wb, p, cy, cx + 1, acc1);
    }
}

/// One conv output position near the border (some kernel columns outside).
#[inline(always)]
fn point_border(
    x: &[f32],
    wb: &[f32],
    p: &Conv2dParams,
    iy0: isize,
    ix0: isize,
    acc: &mut [f32; BLOCK],
) {
    let [ih, iw] = p.in_hw;
    let [kh, kw] = p.kernel;
    let (ky0, ky1) = rows(iy0, kh, ih);
    let (kx0, kx1) = rows(ix0, kw, iw);
    let plane = ih * iw;
    let mut a = *acc;
    for ic in 0..p.in_channels {
        for ky in ky0..ky1 {
            let iy = (iy0 + ky as isize) as usize;
            let xr = &x[ic * plane + iy * iw..][..iw];
            let wr = &wb[((ic * kh + ky) * kw) * BLOCK..][..kw * BLOCK];
            for kx in kx0..kx1 {
                let xv = xr[(ix0 + kx as isize) as usize];
                let w4 = &wr[kx * BLOCK..][..BLOCK];
                a[0] += xv * w4[0];
                a[1] += xv * w4[1];
                a[2] += xv * w4[2];
                a[3] += xv * w4[3];
            }
        }
    }
    *acc = a;
}

/// The activation, with the common cases inline: the compiler passes a
/// constant, so `Relu` becomes one compare after inlining.
#[inline(always)]
fn act(a: Activation, v: f32) -> f32 {
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

/// Valid kernel taps `k0..k1` for a window starting at `start` over `len` inputs.
#[inline(always)]
fn rows(start: isize, k: usize, len: usize) -> (usize, usize) {
    let k0 = if start < 0 { (-start) as usize } else { 0 };
    let end = start + k as isize;
    let k1 = if end > len as isize {
        (len as isize - start).max(0) as usize
    } else {
        k
    };
    (k0, k1.max(k0))
}

#[inline(always)]
fn conv_point<const KW: usize>(
    x: &[f32],
    wb: &[f32],
    p: &Conv2dParams,
    cy: usize,
    cx: usize,
    acc: &mut [f32; BLOCK],
) {
    let iy0 = cy as isize - p.pads_begin[0] as isize;
    let ix0 = cx as isize - p.pads_begin[1] as isize;
    if KW != 0 && ix0 >= 0 && ix0 as usize + KW <= p.in_hw[1] {
        let mut a = [*acc];
        pointn_interior::<KW, 1>(x, wb, p, iy0, ix0 as usize, &mut a);
        *acc = a[0];
    } else {
        point_border(x, wb, p, iy0, ix0, acc);
    }
}

fn run<const KW: usize>(
    x: &[f32],
    wp: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &Conv2dParams,
) {
    let [kh, kw] = p.kernel;
    let blk_len = p.in_channels * kh * kw * BLOCK;
    let [ch, cw] = p.conv_hw;
    for blk in 0..p.out_channels.div_ceil(BLOCK) {
        let wb = &wp[blk * blk_len..][..blk_len];
        let oc0 = blk * BLOCK;
        let lanes = (p.out_channels - oc0).min(BLOCK);
        let mut b = [0f32; BLOCK];
        if let Some(bias) = bias {
            b[..lanes].copy_from_slice(&bias[oc0..oc0 + lanes]);
        }
        match p.pool {
            None => {
                let plane = ch * cw;
                for cy in 0..ch {
                    let mut cx = 0;
                    while cx < cw {
                        if cx + 1 < cw {
                            let (mut a0, mut a1) = (b, b);
                            conv_pair::<KW>(x, wb, p, cy, cx, &mut a0, &mut a1);
                            for j in 0..lanes {
                                y[(oc0 + j) * plane + cy * cw + cx] = act(p.activation, a0[j]);
                                y[(oc0 + j) * plane + cy * cw + cx + 1] = act(p.activation, a1[j]);
                            }
                            cx += 2;
                        } else {
                            let mut acc = b;
                            conv_point::<KW>(x, wb, p, cy, cx, &mut acc);
                            for j in 0..lanes {
                                y[(oc0 + j) * plane + cy * cw + cx] = act(p.activation, acc[j]);
                            }
                            cx += 1;
                        }
                    }
                }
            }
            Some(pool) => {
                let [oh, ow] = pool.out;
                let plane = oh * ow;
                for py in 0..oh {
                    let y0 = (py * pool.strides[0]) as isize - pool.pads_begin[0] as isize;
                    let (wy0, wy1) = rows(y0, pool.kernel[0], ch);
                    for px in 0..ow {
                        let x0 = (px * pool.strides[1]) as isize - pool.pads_begin[1] as isize;
                        let (wx0, wx1) = rows(x0, pool.kernel[1], cw);
                        let mut m = [f32::NEG_INFINITY; BLOCK];
                        for wy in wy0..wy1 {
                            let cy = (y0 + wy as isize) as usize;
                            let mut wx = wx0;
                            while wx < wx1 {
                                let cx = (x0 + wx as isize) as usize;
                                if p.positions >= 3 && wx + 2 < wx1 {
                                    let mut a3 = [b; 3];
                                    conv_n::<KW, 3>(x, wb, p, cy, cx, &mut a3);
                                    for an in &a3 {
                                        for j in 0..BLOCK {
                                            let v = act(p.activation, an[j]);
                                            // NaN wins, as in the reference max pool.
                                            if v > m[j] || v.is_nan() {
                                                m[j] = v;
                                            }
                                        }
                                    }
                                    wx += 3;
                                    continue;
                                }
                                let (mut a0, mut a1) = (b, b);
                                let two = wx + 1 < wx1;
                                if two {
                                    conv_pair::<KW>(x, wb, p, cy, cx, &mut a0, &mut a1);
                                } else {
                                    conv_point::<KW>(x, wb, p, cy, cx, &mut a0);
                                }
                                for j in 0..BLOCK {
                                    let v = act(p.activation, a0[j]);
                                    // NaN wins, as in the reference max pool.
                                    if v > m[j] || v.is_nan() {
                                        m[j] = v;
                                    }
                                    if two {
                                        let v = act(p.activation, a1[j]);
                                        if v > m[j] || v.is_nan() {
                                            m[j] = v;
                                        }
                                    }
                                }
                                wx += if two { 2 } else { 1 };
                            }
                        }
                        for j in 0..lanes {
                            y[(oc0 + j) * plane + py * ow + px] = m[j];
                        }
                    }
                }
            }
        }
    }
}

/// Direct convolution with packed weights (see [`pack_weights`]), fused
/// activation and optional fused max pooling. `y` is `[M, oH, oW]` (pooled
/// dims when a pool is fused). Batch 1.
///
/// Always inlined: the compiler calls it with constant parameters, so each
/// call site is specialized (loop bounds, kernel width, activation).
#[inline(always)]
pub fn conv2d(x: &[f32], wp: &[f32], bias: Option<&[f32]>, y: &mut [f32], p: &Conv2dParams) {
    match p.kernel[1] {
        1 => run::<1>(x, wp, bias, y, p),
        2 => run::<2>(x, wp, bias, y, p),
        3 => run::<3>(x, wp, bias, y, p),
        5 => run::<5>(x, wp, bias, y, p),
        7 => run::<7>(x, wp, bias, y, p),
        _ => run::<0>(x, wp, bias, y, p),
    }
}
