//! Element-wise addition of two equally shaped quantized tensors with
//! requantization of both inputs, the same value as
//! [`reference::qint::qadd`](super::super::reference::qint::qadd), bit for
//! bit, in 32-bit steps: the offset inputs are shifted left so the common
//! shift is 32 or more, then one `SMULL` and one `SMLAL` make the 64-bit sum
//! and [`QMac::rescale2`] rounds it half to even from its high word.

use super::super::reference::qint::{QAddParams, QOut};
use super::super::reference::quant::QuantInt;
use super::{QMac, Rescale};

/// [`QAddParams`] as [`qadd`] computes them (made by [`QAddFast::new`] at
/// compile time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QAddFast {
    /// Zero point of `a`.
    pub a_zero_point: i32,
    /// Zero point of `b`.
    pub b_zero_point: i32,
    /// Left shift of `a - a_zero_point` and `b - b_zero_point`.
    pub pre_shift: u32,
    /// `a`'s multiplier, the common shift (`QAddParams::shift + pre_shift`,
    /// 32 or more) and its rounding constants.
    pub a: Rescale,
    /// `b`'s multiplier (the shift and rounding are `a`'s).
    pub b_mult: i32,
    /// Output zero point and range.
    pub out: QOut,
}

impl QAddFast {
    /// The form of `p` for inputs in `qmin..=qmax`; `None` when a shifted
    /// offset input could reach `2^30` (every sum then stays below `2^62`
    /// and its rounded value below `2^30`, so nothing overflows or
    /// saturates): the reference kernel takes those.
    pub fn new(p: &QAddParams, qmin: i32, qmax: i32) -> Option<QAddFast> {
        let pre_shift = 32u32.saturating_sub(p.shift);
        let off = |zp: i32| {
            (qmin as i64 - zp as i64)
                .abs()
                .max((qmax as i64 - zp as i64).abs())
        };
        let big = off(p.a_zero_point).max(off(p.b_zero_point));
        if pre_shift > 31 || big << pre_shift >= 1 << 30 || p.a_mult < 0 || p.b_mult < 0 {
            return None;
        }
        Some(QAddFast {
            a_zero_point: p.a_zero_point,
            b_zero_point: p.b_zero_point,
            pre_shift,
            a: Rescale::new_raw(p.a_mult, p.shift + pre_shift),
            b_mult: p.b_mult,
            out: p.out,
        })
    }
}

/// `y = store(round_half_even(((a - a_zp)·a_mult + (b - b_zp)·b_mult) /
/// 2^shift))`, as [`reference::qint::qadd`](super::super::reference::qint::qadd).
pub fn qadd<M: QMac, X: QuantInt, Y: QuantInt>(a: &[X], b: &[X], y: &mut [Y], p: &QAddFast) {
    let (za, zb, s) = (p.a_zero_point, p.b_zero_point, p.pre_shift);
    let q = p.out;
    for ((yv, av), bv) in y.iter_mut().zip(a).zip(b) {
        let xa = (av.to_i32() - za) << s;
        let xb = (bv.to_i32() - zb) << s;
        let v = M::rescale2(xa, xb, p.b_mult, &p.a);
        // |v| < 2^30: adding the zero point cannot overflow.
        *yv = Y::from_i32(v.wrapping_add(q.zero_point).max(q.min).min(q.max));
    }
}
