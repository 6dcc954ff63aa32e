//! 2-D integer depthwise convolution (one input channel per group, any
//! number of output channels per group), batch 1.

use super::super::reference::qint::{QOut, Requant};
use super::super::reference::quant::QuantInt;
use super::super::reference::shape::valid_range;
use super::requant;

/// Taps of the largest kernel [`depthwise`] takes.
pub const MAX_TAPS: usize = 64;

/// Shapes of [`depthwise`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QDepthwiseParams {
    /// Input channels (= groups).
    pub in_channels: usize,
    /// Output channels, a multiple of `in_channels`.
    pub out_channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Kernel height and width (at most [`MAX_TAPS`] taps).
    pub kernel: [usize; 2],
    /// Strides.
    pub strides: [usize; 2],
    /// Dilations.
    pub dilations: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Zero point of `x` (what padding stands for).
    pub x_zero_point: i32,
    /// Output zero point and range.
    pub out: QOut,
}

/// First and one-past-last output index along one axis whose taps all lie
/// inside the input.
fn interior(
    out: usize,
    inp: usize,
    k: usize,
    stride: usize,
    dil: usize,
    pad: usize,
) -> (usize, usize) {
    let span = (k - 1) * dil + 1;
    let lo = pad.div_ceil(stride);
    if inp + pad < span {
        return (lo.min(out), lo.min(out));
    }
    let hi = ((inp + pad - span) / stride + 1).min(out);
    (lo.min(hi), hi)
}

/// `y[c] = store(requant[c](bias[c] + Σ (x - x_zp) · w[c]))` over the taps of
/// each output channel `c` (input channel `c / (out/in)`). `w` holds each
/// channel's `kh·kw` taps, zero point already subtracted; `bias` is ONNX's.
/// Equals [`reference::qint::qconv`](super::super::reference::qint::qconv).
pub fn depthwise<X: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[i16],
    bias: &[i32],
    rq: &[Requant],
    y: &mut [Y],
    p: &QDepthwiseParams,
) {
    let [ih, iw] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let [kh, kw] = p.kernel;
    let [sh, sw] = p.strides;
    let [dh, dw] = p.dilations;
    let [ph, pw] = p.pads_begin;
    let taps = kh * kw;
    let mult = p.out_channels / p.in_channels.max(1);
    let (in_plane, out_plane) = (ih * iw, oh * ow);
    let (iy0, iy1) = interior(oh, ih, kh, sh, dh, ph);
    let (ix0, ix1) = interior(ow, iw, kw, sw, dw, pw);
    let xz = p.x_zero_point;
    let mut wk = [0i32; MAX_TAPS];
    for ch in 0..p.out_channels {
        let xp = &x[(ch / mult) * in_plane..][..in_plane];
        let yp = &mut y[ch * out_plane..][..out_plane];
        let wk = &mut wk[..taps];
        let mut wsum = 0i32;
        for (d, s) in wk.iter_mut().zip(&w[ch * taps..][..taps]) {
            *d = *s as i32;
            wsum = wsum.wrapping_add(*d);
        }
        let wk = &*wk;
        let (b, r) = (bias[ch], rq[ch]);
        // Inside the image the offset term is constant.
        let bf = b.wrapping_sub(xz.wrapping_mul(wsum));
        let border = |oy: usize, ox: usize| -> i32 {
            let y0 = (oy * sh) as isize - ph as isize;
            let x0 = (ox * sw) as isize - pw as isize;
            let (v0, v1) = valid_range(kh, ih, dh, y0);
            let (t0, t1) = valid_range(kw, iw, dw, x0);
            let mut acc = b;
            for v in v0..v1 {
                let row = &xp[(y0 + (v * dh) as isize) as usize * iw..][..iw];
                for t in t0..t1 {
                    let xv = row[(x0 + (t * dw) as isize) as usize].to_i32();
                    acc = acc.wrapping_add((xv - xz) * wk[v * kw + t]);
                }
            }
            acc
        };
        for oy in 0..oh {
            let inside_y = (iy0..iy1).contains(&oy);
            let out_row = &mut yp[oy * ow..][..ow];
            if !inside_y {
                for (ox, o) in out_row.iter_mut().enumerate() {
                    *o = p.out.store(requant(border(oy, ox), r));
                }
                continue;
            }
            for ox in (0..ix0).chain(ix1..ow) {
                out_row[ox] = p.out.store(requant(border(oy, ox), r));
            }
            let y0 = oy * sh - ph;
            if kh == 3 && kw == 3 && dh == 1 && dw == 1 {
                let r0 = &xp[y0 * iw..][..iw];
                let r1 = &xp[(y0 + 1) * iw..][..iw];
                let r2 = &xp[(y0 + 2) * iw..][..iw];
                let [w0, w1, w2, w3, w4, w5, w6, w7, w8] = [
                    wk[0], wk[1], wk[2], wk[3], wk[4], wk[5], wk[6], wk[7], wk[8],
                ];
                for (ox, o) in out_row.iter_mut().enumerate().take(ix1).skip(ix0) {
                    let c = ox * sw - pw;
                    let a: &[X; 3] = r0[c..c + 3].try_into().unwrap_or_else(|_| unreachable!());
                    let bb: &[X; 3] = r1[c..c + 3].try_into().unwrap_or_else(|_| unreachable!());
                    let d: &[X; 3] = r2[c..c + 3].try_into().unwrap_or_else(|_| unreachable!());
                    let acc = bf
                        .wrapping_add(a[0].to_i32() * w0)
                        .wrapping_add(a[1].to_i32() * w1)
                        .wrapping_add(a[2].to_i32() * w2)
                        .wrapping_add(bb[0].to_i32() * w3)
                        .wrapping_add(bb[1].to_i32() * w4)
                        .wrapping_add(bb[2].to_i32() * w5)
                        .wrapping_add(d[0].to_i32() * w6)
                        .wrapping_add(d[1].to_i32() * w7)
                        .wrapping_add(d[2].to_i32() * w8);
                    *o = p.out.store(requant(acc, r));
                }
            } else {
                for (ox, o) in out_row.iter_mut().enumerate().take(ix1).skip(ix0) {
                    let c = ox * sw - pw;
                    let mut acc = bf;
                    for v in 0..kh {
                        let row = &xp[(y0 + v * dh) * iw + c..];
                        for t in 0..kw {
                            acc = acc.wrapping_add(row[t * dw].to_i32() * wk[v * kw + t]);
                        }
                    }
                    *o = p.out.store(requant(acc, r));
                }
            }
        }
    }
}
