//! General 2-D direct convolution (batch 1, one group, any strides and
//! padding, no dilation) through the indirect micro-kernel.
//!
//! The compiler packs the weights `[ceil(M/4)][C·kH·kW][4]` and stores the
//! input offset of every tap, `offs[(c·kH + ky)·kW + kx] = c·H·W + ky·W + kx`
//! (see [`offsets`]). Four horizontally adjacent output positions whose taps
//! all fall inside the input are then one call of [`Micro::mk4x4_taps`] with
//! column stride `stride_w`: four output channels × four positions per pass,
//! in registers. Positions near the borders are computed one at a time with
//! bounds.

use super::super::micro::{Micro, Taps};
use super::super::reference::activation::Activation;
use super::act;

/// Parameters of [`conv`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectConvParams {
    /// Input channels C.
    pub in_channels: usize,
    /// Output channels M.
    pub out_channels: usize,
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

/// Fills `out` (length `c · kh · kw`) with the input offset of every tap.
/// Used by the compiler.
pub fn offsets(c: usize, in_hw: [usize; 2], kernel: [usize; 2], out: &mut [u32]) {
    let [h, w] = in_hw;
    let [kh, kw] = kernel;
    for ic in 0..c {
        for ky in 0..kh {
            for kx in 0..kw {
                out[(ic * kh + ky) * kw + kx] = (ic * h * w + ky * w + kx) as u32;
            }
        }
    }
}

/// `y = act(conv(x, w) + bias)`; `wp` packed `[ceil(M/4)][C·kH·kW][4]`,
/// `offs` from [`offsets`].
#[inline(never)]
pub fn conv<M: Micro>(
    x: &[f32],
    wp: &[f32],
    offs: &[u32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DirectConvParams,
) {
    let [h, w] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let [kh, kw] = p.kernel;
    let [sh, sw] = p.strides;
    let [ph, pw] = p.pads_begin;
    let k = p.in_channels * kh * kw;
    let m = p.out_channels;
    let plane = oh * ow;
    let table = Taps::new(&offs[..k]);
    for blk in 0..m.div_ceil(4) {
        let ap = &wp[blk * k * 4..][..k * 4];
        let i0 = blk * 4;
        let rows = (m - i0).min(4);
        let mut b4 = [0f32; 4];
        if let Some(bias) = bias {
            b4[..rows].copy_from_slice(&bias[i0..i0 + rows]);
        }
        for oy in 0..oh {
            let iy0 = (oy * sh) as isize - ph as isize;
            let row_in = iy0 >= 0 && iy0 as usize + kh <= h;
            let mut ox = 0;
            while ox < ow {
                let ix0 = (ox * sw) as isize - pw as isize;
                if row_in && ox + 4 <= ow && ix0 >= 0 && ix0 as usize + 3 * sw + kw <= w {
                    let base = iy0 as usize * w + ix0 as usize;
                    let mut acc = [[b4[0]; 4], [b4[1]; 4], [b4[2]; 4], [b4[3]; 4]];
                    M::mk4x4_taps(ap, &x[base..], &table, sw, &mut acc);
                    for (i, ai) in acc.iter().enumerate().take(rows) {
                        let yr = &mut y[(i0 + i) * plane + oy * ow + ox..][..4];
                        for (yv, &v) in yr.iter_mut().zip(ai) {
                            *yv = act(p.activation, v);
                        }
                    }
                    ox += 4;
                    continue;
                }
                // One position, taps clipped to the input.
                let (ky0, ky1) = taps(iy0, kh, h);
                let (kx0, kx1) = taps(ix0, kw, w);
                let mut acc = b4;
                for ic in 0..p.in_channels {
                    for ky in ky0..ky1 {
                        let iy = (iy0 + ky as isize) as usize;
                        for kx in kx0..kx1 {
                            let ix = (ix0 + kx as isize) as usize;
                            let xv = x[(ic * h + iy) * w + ix];
                            let a4 = &ap[((ic * kh + ky) * kw + kx) * 4..][..4];
                            for i in 0..4 {
                                acc[i] += a4[i] * xv;
                            }
                        }
                    }
                }
                for (i, &v) in acc.iter().enumerate().take(rows) {
                    y[(i0 + i) * plane + oy * ow + ox] = act(p.activation, v);
                }
                ox += 1;
            }
        }
    }
}

/// Valid kernel taps `k0..k1` for a window starting at `start` over `len` inputs.
#[inline(always)]
pub(super) fn taps(start: isize, k: usize, len: usize) -> (usize, usize) {
    let k0 = if start < 0 { (-start) as usize } else { 0 };
    let end = start + k as isize;
    let k1 = if end > len as isize {
        (len as isize - start).max(0) as usize
    } else {
        k
    };
    (k0.min(k), k1.max(k0.min(k)))
}
