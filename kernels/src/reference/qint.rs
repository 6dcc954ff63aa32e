//! Integer-only quantized kernels: convolution, matrix product and addition
//! whose inner loops and requantization use no float at all.
//!
//! Every real scale ratio (`x_scale · w_scale / y_scale` and the like) is
//! turned at compile time into a [`Requant`]: a 31-bit multiplier and a right
//! shift, as TFLite, CMSIS-NN and onnxruntime's fixed-point paths do. An
//! `f32` multiplier has a 24-bit mantissa, so [`Requant::from_f32`] represents
//! it exactly; the product with the `i32` accumulator is exact in `i64` and the
//! shift rounds half to even, as ONNX's QuantizeLinear does. The result then
//! differs from onnxruntime's float requantization only when its own `f32`
//! product rounds across a tie.

use super::conv::ConvParams;
use super::matmul::{for_each_batch, MatMulParams};
use super::quant::QuantInt;
use super::shape::valid_range;

/// A positive real multiplier `mult · 2^-shift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requant {
    /// Multiplier, `0` or in `[2^30, 2^31)`.
    pub mult: i32,
    /// Right shift, `0..=62`.
    pub shift: u32,
}

impl Requant {
    /// The exact fixed-point form of a finite, non-negative `f32` below
    /// `2^30`; `None` otherwise. Multipliers below `2^-32` lose low bits (their
    /// products round to 0 or ±1 anyway).
    pub fn from_f32(m: f32) -> Option<Requant> {
        if !(0.0..1_073_741_824.0).contains(&m) {
            return None;
        }
        if m == 0.0 {
            return Some(Requant { mult: 0, shift: 0 });
        }
        let bits = m.to_bits();
        let exp = ((bits >> 23) & 0xff) as i32;
        let frac = bits & 0x7f_ffff;
        // value = mant · 2^(e - 150)
        let (mut mant, e) = if exp == 0 {
            (frac as u64, 1)
        } else {
            ((frac | 0x80_0000) as u64, exp)
        };
        let mut shift = 150 - e;
        while mant < (1 << 30) {
            mant <<= 1;
            shift += 1;
        }
        while shift > 62 {
            mant >>= 1;
            shift -= 1;
        }
        if shift < 0 {
            return None;
        }
        Some(Requant {
            mult: mant as i32,
            shift: shift as u32,
        })
    }

    /// The nearest fixed-point form (31-bit multiplier) of a finite,
    /// non-negative `f64` below `2^30`; `None` otherwise. For a multiplier
    /// computed from scales in `f64` (the real product a QDQ graph's float
    /// arithmetic stands for): relative error below `2^-31`, where an `f32`
    /// product of the scales is up to about `2^-23` off.
    pub fn from_f64(m: f64) -> Option<Requant> {
        if !(0.0..1_073_741_824.0).contains(&m) {
            return None;
        }
        let bits = m.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        if exp == 0 {
            // Zero or subnormal: every product rounds to 0.
            return Some(Requant { mult: 0, shift: 0 });
        }
        let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        // value = mant · 2^(exp - 1075); keep the top 31 bits, rounded.
        let mut mult = (mant + (1 << 21)) >> 22;
        let mut shift = 1075 - 22 - exp;
        if mult == 1 << 31 {
            mult >>= 1;
            shift -= 1;
        }
        while shift > 62 {
            mult >>= 1;
            shift -= 1;
        }
        if shift < 0 {
            return None;
        }
        Some(Requant {
            mult: mult as i32,
            shift: shift as u32,
        })
    }

    /// `round_half_even(acc · mult · 2^-shift)`, saturated to `i32`.
    #[inline(always)]
    pub fn apply(self, acc: i32) -> i32 {
        round_shift(acc as i64 * self.mult as i64, self.shift)
    }
}

/// `round_half_even(v / 2^shift)` saturated to `i32` (`shift <= 62`).
#[inline(always)]
pub fn round_shift(v: i64, shift: u32) -> i32 {
    let q = if shift == 0 {
        v
    } else {
        let q = v >> shift;
        let rem = v - (q << shift);
        let half = 1i64 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    q.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Output side of an integer kernel: zero point and the clamp range (the
/// type's range, narrowed by a fused Relu/Clip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QOut {
    /// Zero point of the output.
    pub zero_point: i32,
    /// Smallest output value.
    pub min: i32,
    /// Largest output value.
    pub max: i32,
}

impl QOut {
    /// `clamp(zero_point + v, min, max)`.
    #[inline(always)]
    pub fn store<Y: QuantInt>(&self, v: i32) -> Y {
        Y::from_i32(v.saturating_add(self.zero_point).clamp(self.min, self.max))
    }
}

/// Parameters of [`qconv`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QConvParams {
    /// Shapes (the activation field is ignored: a fused activation is in `out`).
    pub conv: ConvParams,
    /// Zero point of `x` (the value padding stands for).
    pub x_zero_point: i32,
    /// Output zero point and range.
    pub out: QOut,
}

/// Integer convolution:
/// `y = clamp(y_zp + requant[oc]((Σ (x - x_zp)(w - w_zp[oc])) + bias[oc]))`.
/// `w_zero_point`, `bias` and `requant` have one entry per output channel.
pub fn qconv<X: QuantInt, W: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[W],
    w_zero_point: &[i32],
    bias: &[i32],
    requant: &[Requant],
    y: &mut [Y],
    q: &QConvParams,
) {
    let p = &q.conv;
    if pointwise(x, w, w_zero_point, bias, requant, y, q)
        || depthwise(x, w, w_zero_point, bias, requant, y, q)
    {
        return;
    }
    let x_zp = q.x_zero_point;
    let [id, ih, iw] = p.in_spatial;
    let [od, oh, ow] = p.out_spatial;
    let [kd, kh, kw] = p.kernel;
    let [sd, sh, sw] = p.strides;
    let [dd, dh, dw] = p.dilations;
    let [pd, ph, pw] = p.pads_begin;
    let group = p.group.max(1);
    let cin_g = p.in_channels / group;
    let cout_g = (p.out_channels / group).max(1);
    let in_plane = id * ih * iw;
    let out_plane = od * oh * ow;
    let ksize = kd * kh * kw;
    for n in 0..p.batch {
        for oc in 0..p.out_channels {
            let g = oc / cout_g;
            let wz = w_zero_point[oc];
            let (b, r) = (bias[oc], requant[oc]);
            let yp = &mut y[(n * p.out_channels + oc) * out_plane..][..out_plane];
            for a in 0..od {
                for bb in 0..oh {
                    for c in 0..ow {
                        let mut acc = 0i32;
                        for icg in 0..cin_g {
                            let ic = g * cin_g + icg;
                            let xp = &x[(n * p.in_channels + ic) * in_plane..][..in_plane];
                            let wk = &w[(oc * cin_g + icg) * ksize..][..ksize];
                            for u in 0..kd {
                                let zd = (a * sd + u * dd) as isize - pd as isize;
                                if zd < 0 || zd >= id as isize {
                                    continue;
                                }
                                for v in 0..kh {
                                    let zh = (bb * sh + v * dh) as isize - ph as isize;
                                    if zh < 0 || zh >= ih as isize {
                                        continue;
                                    }
                                    let row = &xp[(zd as usize * ih + zh as usize) * iw..][..iw];
                                    let start = (c * sw) as isize - pw as isize;
                                    let (t0, t1) = valid_range(kw, iw, dw, start);
                                    for t in t0..t1 {
                                        let xv = row[(start + (t * dw) as isize) as usize].to_i32()
                                            - x_zp;
                                        let wv = wk[(u * kh + v) * kw + t].to_i32() - wz;
                                        acc = acc.wrapping_add(xv * wv);
                                    }
                                }
                            }
                        }
                        yp[(a * oh + bb) * ow + c] = q.out.store(r.apply(acc.wrapping_add(b)));
                    }
                }
            }
        }
    }
}

/// Input channels [`pointwise`] gathers per output position.
const COL: usize = 128;

/// 1×1 convolutions without padding or groups (the pointwise layers that
/// hold most of a MobileNet's MACs): per output position the input column
/// is gathered once (zero point subtracted) and dotted with four weight rows
/// at a time. Returns false, doing nothing, for other convolutions.
fn pointwise<X: QuantInt, W: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[W],
    w_zero_point: &[i32],
    bias: &[i32],
    requant: &[Requant],
    y: &mut [Y],
    q: &QConvParams,
) -> bool {
    let p = &q.conv;
    let cin = p.in_channels;
    let cout = p.out_channels;
    if p.kernel != [1, 1, 1]
        || p.pads_begin != [0, 0, 0]
        || p.pads_end != [0, 0, 0]
        || p.group > 1
        || cin > COL
    {
        return false;
    }
    let [_, ih, iw] = p.in_spatial;
    let [od, oh, ow] = p.out_spatial;
    let [sd, sh, sw] = p.strides;
    let in_plane = p.in_spatial[0] * ih * iw;
    let out_plane = od * oh * ow;
    let mut col = [0i32; COL];
    for n in 0..p.batch {
        let xb = &x[n * cin * in_plane..][..cin * in_plane];
        let yb = &mut y[n * cout * out_plane..][..cout * out_plane];
        for a in 0..od {
            for b in 0..oh {
                for c in 0..ow {
                    let ip = ((a * sd) * ih + b * sh) * iw + c * sw;
                    let op = (a * oh + b) * ow + c;
                    let col = &mut col[..cin];
                    let mut sum = 0i32;
                    for (ic, v) in col.iter_mut().enumerate() {
                        *v = xb[ic * in_plane + ip].to_i32() - q.x_zero_point;
                        sum = sum.wrapping_add(*v);
                    }
                    let col = &col[..cin];
                    let mut store = |oc: usize, acc: i32| {
                        let acc = acc
                            .wrapping_sub(w_zero_point[oc].wrapping_mul(sum))
                            .wrapping_add(bias[oc]);
                        yb[oc * out_plane + op] = q.out.store(requant[oc].apply(acc));
                    };
                    let mut oc = 0;
                    while oc + 4 <= cout {
                        let rows = &w[oc * cin..][..4 * cin];
                        let (r0, rest) = rows.split_at(cin);
                        let (r1, rest) = rest.split_at(cin);
                        let (r2, r3) = rest.split_at(cin);
                        let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
                        for i in 0..cin {
                            let v = col[i];
                            a0 = a0.wrapping_add(v * r0[i].to_i32());
                            a1 = a1.wrapping_add(v * r1[i].to_i32());
                            a2 = a2.wrapping_add(v * r2[i].to_i32());
                            a3 = a3.wrapping_add(v * r3[i].to_i32());
                        }
                        store(oc, a0);
                        store(oc + 1, a1);
                        store(oc + 2, a2);
                        store(oc + 3, a3);
                        oc += 4;
                    }
                    while oc < cout {
                        let r = &w[oc * cin..][..cin];
                        let acc = col
                            .iter()
                            .zip(r)
                            .fold(0i32, |s, (v, wv)| s.wrapping_add(v * wv.to_i32()));
                        store(oc, acc);
                        oc += 1;
                    }
                }
            }
        }
    }
    true
}

/// Kernel taps [`depthwise`] keeps in registers' reach.
const TAPS: usize = 64;

/// 2-D depthwise convolutions (one input channel per group, any number of
/// output channels per group, at most [`TAPS`] taps): the weights of a channel, zero point subtracted,
/// are loaded once, and each output position visits only the taps inside
/// the input. Returns false, doing nothing, for other convolutions.
fn depthwise<X: QuantInt, W: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[W],
    w_zero_point: &[i32],
    bias: &[i32],
    requant: &[Requant],
    y: &mut [Y],
    q: &QConvParams,
) -> bool {
    let p = &q.conv;
    // The two spatial axes in use: 2-D convs come with a trailing unit axis
    // (`spatial3`), 1-D ones with two.
    let unit = |a: usize| p.kernel[a] == 1 && p.in_spatial[a] == 1 && p.out_spatial[a] == 1;
    let (ay, ax) = if unit(2) {
        (0, 1)
    } else if unit(0) {
        (1, 2)
    } else {
        return false;
    };
    let (kh, kw) = (p.kernel[ay], p.kernel[ax]);
    let taps = kh * kw;
    if p.group != p.in_channels || !p.out_channels.is_multiple_of(p.group) || taps > TAPS {
        return false;
    }
    // Output channels per input channel (1 for depthwise proper; a
    // single-channel input's first convolution has all of them).
    let mult = p.out_channels / p.group;
    let (ih, iw) = (p.in_spatial[ay], p.in_spatial[ax]);
    let (oh, ow) = (p.out_spatial[ay], p.out_spatial[ax]);
    let (sh, sw) = (p.strides[ay], p.strides[ax]);
    let (dh, dw) = (p.dilations[ay], p.dilations[ax]);
    let (ph, pw) = (p.pads_begin[ay], p.pads_begin[ax]);
    let (in_plane, out_plane) = (ih * iw, oh * ow);
    let mut wk = [0i32; TAPS];
    for n in 0..p.batch {
        for ch in 0..p.out_channels {
            let xp = &x[(n * p.in_channels + ch / mult) * in_plane..][..in_plane];
            let yp = &mut y[(n * p.out_channels + ch) * out_plane..][..out_plane];
            for (d, s) in wk.iter_mut().zip(&w[ch * taps..][..taps]) {
                *d = s.to_i32() - w_zero_point[ch];
            }
            let (b, r) = (bias[ch], requant[ch]);
            for oy in 0..oh {
                let y0 = (oy * sh) as isize - ph as isize;
                let (v0, v1) = valid_range(kh, ih, dh, y0);
                for ox in 0..ow {
                    let x0 = (ox * sw) as isize - pw as isize;
                    let (t0, t1) = valid_range(kw, iw, dw, x0);
                    let mut acc = 0i32;
                    for v in v0..v1 {
                        let row = &xp[(y0 + (v * dh) as isize) as usize * iw..][..iw];
                        let wr = &wk[v * kw..][..kw];
                        for t in t0..t1 {
                            let xv = row[(x0 + (t * dw) as isize) as usize].to_i32();
                            acc = acc.wrapping_add((xv - q.x_zero_point) * wr[t]);
                        }
                    }
                    yp[oy * ow + ox] = q.out.store(r.apply(acc.wrapping_add(b)));
                }
            }
        }
    }
    true
}

/// Parameters of [`qmatmul`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QMatMulParams {
    /// Shapes and batching.
    pub mm: MatMulParams,
    /// Zero point of `a`.
    pub a_zero_point: i32,
    /// Output zero point and range.
    pub out: QOut,
}

/// Integer matrix product: `y[i][j] = clamp(y_zp + requant[j](Σ (a - a_zp)(b - b_zp[j]) + bias[j]))`.
/// `b_zero_point`, `bias` and `requant` have one entry per column of `b`.
pub fn qmatmul<A: QuantInt, B: QuantInt, Y: QuantInt>(
    a: &[A],
    b: &[B],
    b_zero_point: &[i32],
    bias: &[i32],
    requant: &[Requant],
    y: &mut [Y],
    q: &QMatMulParams,
) {
    let p = &q.mm;
    let (m, k, n) = (p.m, p.k, p.n);
    for_each_batch(p, |ao, bo, yo| {
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0i32;
                for kk in 0..k {
                    let av = a[ao + i * k + kk].to_i32() - q.a_zero_point;
                    let bv = b[bo + kk * n + j].to_i32() - b_zero_point[j];
                    acc = acc.wrapping_add(av * bv);
                }
                y[yo + i * n + j] = q.out.store(requant[j].apply(acc.wrapping_add(bias[j])));
            }
        }
    });
}

/// Parameters of [`qadd`]: `y = y_zp + round((a - a_zp)·a_mult + (b - b_zp)·b_mult) >> shift)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QAddParams {
    /// Zero point of `a`.
    pub a_zero_point: i32,
    /// `a_scale / y_scale · 2^shift`, rounded.
    pub a_mult: i32,
    /// Zero point of `b`.
    pub b_zero_point: i32,
    /// `b_scale / y_scale · 2^shift`, rounded.
    pub b_mult: i32,
    /// Common right shift (`1..=62`).
    pub shift: u32,
    /// Output zero point and range.
    pub out: QOut,
}

/// Element-wise integer addition of two equally shaped quantized tensors.
pub fn qadd<A: QuantInt, B: QuantInt, Y: QuantInt>(a: &[A], b: &[B], y: &mut [Y], p: &QAddParams) {
    for ((yv, av), bv) in y.iter_mut().zip(a).zip(b) {
        let s = (av.to_i32() - p.a_zero_point) as i64 * p.a_mult as i64
            + (bv.to_i32() - p.b_zero_point) as i64 * p.b_mult as i64;
        *yv = p.out.store(round_shift(s, p.shift));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requant_from_f64_is_within_2_pow_31() {
        for m in [
            0.5f64,
            1.0 / 6.0,
            0.003_921_568_627_45,
            3.75,
            1e-6,
            0.999_999_999_9,
            1e-12,
        ] {
            let r = Requant::from_f64(m).unwrap();
            assert!(r.mult >= 1 << 30 || m < 1e-9, "{m}: {r:?}");
            let back = r.mult as f64 / (1u64 << r.shift) as f64;
            assert!(
                (back - m).abs() <= m * 2f64.powi(-31) + 2f64.powi(-62),
                "{m}: {back}"
            );
        }
        assert_eq!(Requant::from_f64(0.5), Requant::from_f32(0.5));
        assert_eq!(Requant::from_f64(-1.0), None);
        assert_eq!(Requant::from_f64(f64::NAN), None);
        assert_eq!(Requant::from_f64(0.0).unwrap().apply(1234), 0);
    }

    #[test]
    fn requant_is_exact_for_f32_multipliers() {
        for m in [0.5f32, 0.003_921_568_6, 1.0, 3.75, 1e-6, 0.156_191_54] {
            let r = Requant::from_f32(m).unwrap();
            let back = r.mult as f64 / 2f64.powi(r.shift as i32);
            assert_eq!(back, m as f64, "{m}");
        }
        assert_eq!(Requant::from_f32(-1.0), None);
        assert_eq!(Requant::from_f32(f32::NAN), None);
        assert_eq!(Requant::from_f32(0.0).unwrap().apply(1234), 0);
    }

    #[test]
    fn rounding_is_half_even() {
        let half = Requant::from_f32(0.5).unwrap();
        assert_eq!(
            [1, 3, 5, -1, -3, 4].map(|v| half.apply(v)),
            [0, 2, 2, 0, -2, 2]
        );
        assert_eq!(round_shift(i64::MAX, 0), i32::MAX);
        // Matches f32 round-half-even on a sweep where f32 is exact.
        let r = Requant::from_f32(0.013_671_875).unwrap();
        for acc in -5000..5000 {
            let want = (acc as f32 * 0.013_671_875).round_ties_even() as i32;
            assert_eq!(r.apply(acc), want, "{acc}");
        }
    }

    #[test]
    fn pointwise_path_matches_the_general_loop() {
        // 1x1 conv, 6 -> 7 channels (groups of four plus a remainder), 3x2
        // pixels, per-channel weight zero points; against the sums written out.
        let (cin, cout, h, w_) = (6usize, 7usize, 3usize, 2usize);
        let x: [i8; 36] = core::array::from_fn(|i| (i as i32 * 37 % 251 - 120) as i8);
        let wt: [i8; 42] = core::array::from_fn(|i| (i as i32 * 53 % 241 - 117) as i8);
        let zp: [i32; 7] = [0, 1, -2, 0, 3, 0, -1];
        let bias: [i32; 7] = [10, -20, 30, 0, 5, -5, 100];
        let rq = [Requant::from_f32(0.0123).unwrap(); 7];
        let conv = ConvParams {
            batch: 1,
            in_channels: cin,
            out_channels: cout,
            group: 1,
            in_spatial: [1, h, w_],
            out_spatial: [1, h, w_],
            kernel: [1, 1, 1],
            strides: [1, 1, 1],
            dilations: [1, 1, 1],
            pads_begin: [0, 0, 0],
            pads_end: [0, 0, 0],
            activation: super::super::activation::Activation::None,
        };
        let q = QConvParams {
            conv,
            x_zero_point: 7,
            out: QOut {
                zero_point: -3,
                min: -100,
                max: 120,
            },
        };
        let mut fast = [0i8; 42];
        qconv(&x, &wt, &zp, &bias, &rq, &mut fast, &q);
        // The same sums written out.
        let mut want = [0i8; 42];
        for oc in 0..cout {
            for p in 0..h * w_ {
                let mut acc = 0i32;
                for ic in 0..cin {
                    acc += (x[ic * 6 + p] as i32 - 7) * (wt[oc * cin + ic] as i32 - zp[oc]);
                }
                want[oc * 6 + p] = q.out.store(rq[oc].apply(acc + bias[oc]));
            }
        }
        assert_eq!(fast, want);
    }

    #[test]
    fn depthwise_path_matches_the_sums() {
        // 3 channels, 5x4 input, 3x3 kernel, stride 2, pads 1 (begin) / 1 (end).
        let (ch, h, w_) = (3usize, 5usize, 4usize);
        let x: [u8; 60] = core::array::from_fn(|i| (i * 37 % 251) as u8);
        let wt: [i8; 27] = core::array::from_fn(|i| (i as i32 * 53 % 241 - 117) as i8);
        let zp = [0i32, 2, -1];
        let bias = [7i32, -9, 0];
        let rq = [Requant::from_f32(0.0071).unwrap(); 3];
        let (oh, ow) = (3usize, 2usize);
        let conv = ConvParams {
            batch: 1,
            in_channels: ch,
            out_channels: ch,
            group: ch,
            in_spatial: [h, w_, 1],
            out_spatial: [oh, ow, 1],
            kernel: [3, 3, 1],
            strides: [2, 2, 1],
            dilations: [1, 1, 1],
            pads_begin: [1, 1, 0],
            pads_end: [1, 1, 0],
            activation: super::super::activation::Activation::None,
        };
        let q = QConvParams {
            conv,
            x_zero_point: 128,
            out: QOut {
                zero_point: 5,
                min: 0,
                max: 255,
            },
        };
        let mut fast = [0u8; 18];
        qconv(&x, &wt, &zp, &bias, &rq, &mut fast, &q);
        let mut want = [0u8; 18];
        for c in 0..ch {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0i32;
                    for v in 0..3 {
                        for t in 0..3 {
                            let (iy, ix) = ((oy * 2 + v) as isize - 1, (ox * 2 + t) as isize - 1);
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w_ as isize {
                                continue;
                            }
                            let xv = x[c * h * w_ + iy as usize * w_ + ix as usize] as i32 - 128;
                            acc += xv * (wt[c * 9 + v * 3 + t] as i32 - zp[c]);
                        }
                    }
                    want[c * oh * ow + oy * ow + ox] = q.out.store(rq[c].apply(acc + bias[c]));
                }
            }
        }
        assert_eq!(fast, want);
    }

    #[test]
    fn qadd_matches_float() {
        let p = QAddParams {
            a_zero_point: 3,
            a_mult: 1 << 20,
            b_zero_point: -2,
            b_mult: 3 << 19,
            shift: 21,
            out: QOut {
                zero_point: 1,
                min: -128,
                max: 127,
            },
        };
        let (a, b) = ([3i8, 10, -100, 127], [-2i8, 5, 100, 127]);
        let mut y = [0i8; 4];
        qadd(&a, &b, &mut y, &p);
        // (a-3)/2 + (b+2)*3/4 + 1
        assert_eq!(y, [1, 10, 26, 127]);
    }
}
