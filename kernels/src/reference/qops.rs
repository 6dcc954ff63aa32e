//! Integer kernels of the `com.microsoft` QOperator ops that onnxruntime's
//! quantizer emits (QLinearMul, QLinearGlobalAveragePool, QLinearAveragePool,
//! QLinearSigmoid, QLinearLeakyRelu, QLinearConcat, QLinearSoftmax) and of the
//! QDQ patterns that become them.
//!
//! As in [`super::qint`], every scale ratio arrives as a compile-time
//! [`Requant`] (fixed-point multiplier and shift, rounding half to even,
//! saturating). Element-wise functions of one quantized input (Sigmoid,
//! LeakyRelu, the requantization of a Concat input) are 256-entry lookup
//! tables computed at compile time, as onnxruntime builds them.

use super::pool::{pool, PoolParams};
use super::qint::{QOut, Requant};
use super::quant::QuantInt;

/// `y[i] = table[x[i] - X::QMIN]`: a function of one 8-bit quantized input
/// tabulated at compile time (QLinearSigmoid, QLinearLeakyRelu, a Concat
/// input's requantization).
pub fn qlookup<X: QuantInt, Y: Copy>(x: &[X], table: &[Y; 256], y: &mut [Y]) {
    debug_assert_eq!(x.len(), y.len());
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv = table[((xv.to_i32() - X::QMIN) & 0xff) as usize];
    }
}

/// Parameters of [`qmul`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QMulParams {
    /// Zero point of `a`.
    pub a_zero_point: i32,
    /// Zero point of `b`.
    pub b_zero_point: i32,
    /// `a_scale · b_scale / y_scale`.
    pub requant: Requant,
    /// Output zero point and range.
    pub out: QOut,
}

/// Element-wise integer product
/// `y = clamp(y_zp + requant((a - a_zp)(b - b_zp)))`. `a` and `b` have the
/// length of `y`, or one element (a scalar operand).
pub fn qmul<A: QuantInt, B: QuantInt, Y: QuantInt>(a: &[A], b: &[B], y: &mut [Y], p: &QMulParams) {
    let (la, lb) = (a.len(), b.len());
    debug_assert!(la == y.len() || la == 1);
    debug_assert!(lb == y.len() || lb == 1);
    for (i, yv) in y.iter_mut().enumerate() {
        let av = a[if la == 1 { 0 } else { i }].to_i32() - p.a_zero_point;
        let bv = b[if lb == 1 { 0 } else { i }].to_i32() - p.b_zero_point;
        *yv = p.out.store(p.requant.apply(av * bv));
    }
}

/// Parameters of [`qglobal_average_pool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QGlobalPoolParams {
    /// Batch size.
    pub batch: usize,
    /// Channels.
    pub channels: usize,
    /// Spatial elements per channel.
    pub spatial: usize,
    /// `[N, S, C]` input and `[N, C]` output instead of `[N, C, S]`.
    pub channels_last: bool,
    /// Zero point of `x`.
    pub x_zero_point: i32,
    /// `x_scale / (y_scale · spatial)`.
    pub requant: Requant,
    /// Output zero point and range.
    pub out: QOut,
}

/// Integer global average pooling: the sum of `x - x_zp` over each channel's
/// spatial elements, requantized once.
pub fn qglobal_average_pool<X: QuantInt, Y: QuantInt>(x: &[X], y: &mut [Y], p: &QGlobalPoolParams) {
    let (c, s) = (p.channels, p.spatial);
    debug_assert_eq!(x.len(), p.batch * c * s);
    debug_assert_eq!(y.len(), p.batch * c);
    let bias = -(p.x_zero_point * s as i32);
    for n in 0..p.batch {
        let xb = &x[n * c * s..][..c * s];
        for ch in 0..c {
            let sum = if p.channels_last {
                (0..s).fold(bias, |a, i| a.wrapping_add(xb[i * c + ch].to_i32()))
            } else {
                xb[ch * s..][..s]
                    .iter()
                    .fold(bias, |a, v| a.wrapping_add(v.to_i32()))
            };
            y[n * c + ch] = p.out.store(p.requant.apply(sum));
        }
    }
}

/// Integer average pooling (NCHW). `requant[k]` is
/// `x_scale / (y_scale · k)` for a window of `k` counted elements
/// (`requant.len()` is the window size + 1; an empty window gives the zero
/// point).
pub fn qaverage_pool<X: QuantInt, Y: QuantInt>(
    x: &[X],
    y: &mut [Y],
    p: &PoolParams,
    x_zero_point: i32,
    requant: &[Requant],
    out: &QOut,
) {
    let [_, ih, iw] = p.in_spatial;
    let [dd, dh, dw] = p.dilations;
    let include = p.count_include_pad;
    pool(x, y, p, |xp, pos, padded| {
        let mut s = 0i32;
        for a in 0..pos[0].1 {
            let zd = pos[0].0 + a * dd;
            for b in 0..pos[1].1 {
                let zh = pos[1].0 + b * dh;
                let row = &xp[(zd * ih + zh) * iw..][..iw];
                for c in 0..pos[2].1 {
                    s = s.wrapping_add(row[pos[2].0 + c * dw].to_i32() - x_zero_point);
                }
            }
        }
        // Padding stands for the zero point: it adds nothing to `s`.
        let count = if include {
            padded
        } else {
            pos[0].1 * pos[1].1 * pos[2].1
        };
        match requant.get(count) {
            Some(r) if count > 0 => out.store(r.apply(s)),
            _ => out.store(0),
        }
    });
}

/// Max pooling of quantized values (NCHW): the quantization is monotonic,
/// so the maximum of the integers is the integer of the maximum. Output and
/// input share scale and zero point; an empty window gives `X::QMIN`.
pub fn qmax_pool<X: QuantInt>(x: &[X], y: &mut [X], p: &PoolParams) {
    let [_, ih, iw] = p.in_spatial;
    let [dd, dh, dw] = p.dilations;
    pool(x, y, p, |xp, pos, _| {
        let mut m = X::QMIN;
        for a in 0..pos[0].1 {
            let zd = pos[0].0 + a * dd;
            for b in 0..pos[1].1 {
                let zh = pos[1].0 + b * dh;
                let row = &xp[(zd * ih + zh) * iw..][..iw];
                for c in 0..pos[2].1 {
                    m = m.max(row[pos[2].0 + c * dw].to_i32());
                }
            }
        }
        X::from_i32(m)
    });
}

/// Copies one input of a Concat into its place in `y`, through `table` (the
/// input's requantization to the output's scale and zero point) when given.
/// The input is `[outer, part]`; `y` is `[outer, stride]`, the part starting
/// at `offset` in each row.
pub fn qconcat_part<X: QuantInt>(
    x: &[X],
    table: Option<&[X; 256]>,
    y: &mut [X],
    outer: usize,
    stride: usize,
    offset: usize,
) {
    let part = x.len() / outer.max(1);
    for o in 0..outer {
        let src = &x[o * part..][..part];
        let dst = &mut y[o * stride + offset..][..part];
        match table {
            Some(t) => qlookup(src, t, dst),
            None => dst.copy_from_slice(src),
        }
    }
}

/// Parameters of [`qsoftmax`]. The tensor is `[outer, len, inner]` around
/// the softmax axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QSoftmaxParams {
    /// Product of the dims before the axis.
    pub outer: usize,
    /// Length of the axis.
    pub len: usize,
    /// Product of the dims after the axis.
    pub inner: usize,
    /// `round(2^frac / y_scale)`.
    pub inv_y_scale: u64,
    /// Fractional bits of `inv_y_scale`.
    pub frac: u32,
    /// Output zero point and range.
    pub out: QOut,
}

/// Fractional bits of a [`qsoftmax`] exponential table entry.
pub const SOFTMAX_EXP_BITS: u32 = 20;

/// Integer softmax: `table[d] = round(exp(-d · x_scale) · 2^20)` is the
/// exponential of an input `d` steps below its row's maximum, and
/// `y = y_zp + round(table[d] / (Σ table · y_scale))`, in integers.
pub fn qsoftmax<X: QuantInt, Y: QuantInt>(
    x: &[X],
    y: &mut [Y],
    table: &[u32; 256],
    p: &QSoftmaxParams,
) {
    let (len, inner) = (p.len, p.inner);
    for o in 0..p.outer {
        for i in 0..inner {
            let at = |k: usize| o * len * inner + k * inner + i;
            let max = (0..len).map(|k| x[at(k)].to_i32()).max().unwrap_or(0);
            let exp = |k: usize| table[((max - x[at(k)].to_i32()) & 0xff) as usize] as u64;
            let sum: u64 = (0..len).map(exp).sum();
            let den = (sum as u128) << p.frac;
            for k in 0..len {
                let num = exp(k) as u128 * p.inv_y_scale as u128;
                let v = if den == 0 {
                    0
                } else {
                    div_round_even(num, den)
                };
                y[at(k)] = p.out.store(v.min(i32::MAX as u128) as i32);
            }
        }
    }
}

/// `round_half_even(num / den)` (`den > 0`).
fn div_round_even(num: u128, den: u128) -> u128 {
    let (q, r) = (num / den, num % den);
    if 2 * r > den || (2 * r == den && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::{vec, vec::Vec};

    fn out_u8() -> QOut {
        QOut {
            zero_point: 0,
            min: 0,
            max: 255,
        }
    }

    #[test]
    fn lookup_indexes_signed_and_unsigned() {
        let mut t = [0u8; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = i as u8;
        }
        let mut y = [0u8; 3];
        qlookup(&[-128i8, 0, 127], &t, &mut y);
        assert_eq!(y, [0, 128, 255]);
        qlookup(&[0u8, 1, 255], &t, &mut y);
        assert_eq!(y, [0, 1, 255]);
    }

    #[test]
    fn mul_requantizes_the_product() {
        // a_scale 0.5, b_scale 0.25, y_scale 0.125: multiplier 1.
        let p = QMulParams {
            a_zero_point: 10,
            b_zero_point: 0,
            requant: Requant::from_f32(1.0).unwrap(),
            out: out_u8(),
        };
        let mut y = [0u8; 3];
        qmul(&[12u8, 20, 10], &[3u8], &mut y, &p);
        assert_eq!(y, [6, 30, 0]);
    }

    #[test]
    fn global_pool_layouts_agree() {
        let nchw: Vec<u8> = (0..24).collect(); // N=1, C=3, S=8
        let mut nhwc = vec![0u8; 24];
        for c in 0..3 {
            for s in 0..8 {
                nhwc[s * 3 + c] = nchw[c * 8 + s];
            }
        }
        let mut p = QGlobalPoolParams {
            batch: 1,
            channels: 3,
            spatial: 8,
            channels_last: false,
            x_zero_point: 0,
            requant: Requant::from_f32(1.0 / 8.0).unwrap(),
            out: out_u8(),
        };
        let (mut a, mut b) = ([0u8; 3], [0u8; 3]);
        qglobal_average_pool(&nchw, &mut a, &p);
        p.channels_last = true;
        qglobal_average_pool(&nhwc, &mut b, &p);
        // Means 3.5, 11.5, 19.5 round half to even.
        assert_eq!(a, [4, 12, 20]);
        assert_eq!(a, b);
    }

    #[test]
    fn softmax_of_equal_inputs_is_uniform() {
        let mut table = [0u32; 256];
        for (d, t) in table.iter_mut().enumerate() {
            *t = ((-(d as f64) * 0.1).exp() * (1u64 << SOFTMAX_EXP_BITS) as f64).round() as u32;
        }
        let p = QSoftmaxParams {
            outer: 1,
            len: 4,
            inner: 1,
            inv_y_scale: 256 << 8,
            frac: 8,
            out: out_u8(),
        };
        let mut y = [0u8; 4];
        qsoftmax(&[7u8, 7, 7, 7], &mut y, &table, &p);
        assert_eq!(y, [64; 4]);
    }
}
