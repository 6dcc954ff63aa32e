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
