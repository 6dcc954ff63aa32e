//! Reductions over an arbitrary set of axes (ONNX `Reduce*`), and
//! `ArgMax` / `ArgMin`.

use super::super::math;
use super::scalar::Scalar;
use super::shape::{contiguous_strides, for_each_row, numel, Dims, MAX_RANK};

/// The reduction to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    /// Sum.
    Sum,
    /// Arithmetic mean (integers: truncated).
    Mean,
    /// Maximum (NaN propagates).
    Max,
    /// Minimum (NaN propagates).
    Min,
    /// Product.
    Prod,
    /// Sum of squares.
    SumSquare,
    /// Sum of absolute values.
    L1,
    /// Square root of the sum of squares (computed in `f32`).
    L2,
    /// Natural log of the sum (computed in `f32`).
    LogSum,
    /// `ln(sum(exp(x)))`, stabilized by the maximum (computed in `f32`).
    LogSumExp,
}

/// Parameters of [`reduce`]. The output holds the non-reduced dims in order;
/// whether they are kept as 1s is only a matter of the output's shape,
/// which is the generator's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReduceParams {
    /// Input rank (0..=6).
    pub rank: usize,
    /// Input shape.
    pub in_shape: Dims,
    /// `axes[d]` is true when axis `d` is reduced.
    pub axes: [bool; MAX_RANK],
}

/// Reduces `x` over the axes flagged in `p.axes` into `y`.
pub fn reduce<T: Scalar>(op: ReduceOp, x: &[T], y: &mut [T], p: &ReduceParams) {
    let r = p.rank;
    let si = contiguous_strides(&p.in_shape, r);
    let mut kept = [1usize; MAX_RANK];
    let mut red = [1usize; MAX_RANK];
    for d in 0..r {
        if p.axes[d] {
            red[d] = p.in_shape[d];
        } else {
            kept[d] = p.in_shape[d];
        }
    }
    let count = numel(&red, r);
    let so = contiguous_strides(&kept, r);
    debug_assert_eq!(y.len(), numel(&kept, r));
    let rs = [si];

    for_each_row(&kept, r, [0, 0], &[so, si], |o, len, inner| {
        for j in 0..len as isize {
            let yo = (o[0] + j * inner[0]) as usize;
            let xb = o[1] + j * inner[1];
            y[yo] = match op {
                ReduceOp::Sum => fold_sub(x, &red, r, &rs, xb, T::ZERO, |a, v| a.add(v)),
                ReduceOp::Mean => {
                    let s = fold_sub(x, &red, r, &rs, xb, T::ZERO, |a, v| a.add(v));
                    s.div(T::from_f32(count as f32))
                }
                ReduceOp::Max => fold_sub(x, &red, r, &rs, xb, T::LOWEST, |a, v| a.max_of(v)),
                ReduceOp::Min => fold_sub(x, &red, r, &rs, xb, T::HIGHEST, |a, v| a.min_of(v)),
                ReduceOp::Prod => fold_sub(x, &red, r, &rs, xb, T::ONE, |a, v| a.mul(v)),
                ReduceOp::SumSquare => {
                    fold_sub(x, &red, r, &rs, xb, T::ZERO, |a, v| a.add(v.mul(v)))
                }
                ReduceOp::L1 => fold_sub(x, &red, r, &rs, xb, T::ZERO, |a, v| a.add(v.abs())),
                ReduceOp::L2 => {
                    let s = fold_sub(x, &red, r, &rs, xb, T::ZERO, |a, v| a.add(v.mul(v)));
                    T::from_f32(math::sqrtf(s.to_f32()))
                }
                ReduceOp::LogSum => {
                    let s = fold_sub(x, &red, r, &rs, xb, T::ZERO, |a, v| a.add(v));
                    T::from_f32(math::logf(s.to_f32()))
                }
                ReduceOp::LogSumExp => {
                    let m = fold_sub(x, &red, r, &rs, xb, T::LOWEST, |a, v| a.max_of(v)).to_f32();
                    let m = if m.is_finite() { m } else { 0.0 };
                    let s = fold_sub(x, &red, r, &rs, xb, T::ZERO, |a, v| {
                        T::from_f32(a.to_f32() + math::expf(v.to_f32() - m))
                    });
                    T::from_f32(math::logf(s.to_f32()) + m)
                }
            };
        }
    });
}

/// Folds every element of the reduced sub-space `red` (strides `rs`)
/// starting at `base`.
#[inline(always)]
fn fold_sub<T: Copy, F: Fn(T, T) -> T>(
    x: &[T],
    red: &Dims,
    r: usize,
    rs: &[[isize; MAX_RANK]; 1],
    base: isize,
    init: T,
    f: F,
) -> T {
    let mut acc = init;
    for_each_row(red, r, [base], rs, |o, len, inner| {
        if inner[0] == 1 {
            let s = o[0] as usize;
            for &v in &x[s..s + len] {
                acc = f(acc, v);
            }
        } else {
            for j in 0..len as isize {
                acc = f(acc, x[(o[0] + j * inner[0]) as usize]);
            }
        }
    });
    acc
}

/// `x` viewed as `[outer, axis_len, inner]` for [`argmax`] / [`argmin`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgParams {
    /// Product of the dims before the axis.
    pub outer: usize,
    /// Length of the reduced axis.
    pub axis_len: usize,
    /// Product of the dims after the axis.
    pub inner: usize,
    /// On ties, report the last index instead of the first.
    pub select_last_index: bool,
}

#[inline(always)]
fn arg<T: Copy + PartialOrd>(x: &[T], y: &mut [i64], p: &ArgParams, better: impl Fn(T, T) -> bool) {
    let (n, inner) = (p.axis_len, p.inner);
    for o in 0..p.outer {
        for i in 0..inner {
            let at = |a: usize| x[(o * n + a) * inner + i];
            let mut best = 0usize;
            for a in 1..n {
                let (v, b) = (at(a), at(best));
                if better(v, b) || (p.select_last_index && v == b) {
                    best = a;
                }
            }
            y[o * inner + i] = best as i64;
        }
    }
}

/// Index of the maximum along the axis; `y` is `[outer, inner]`.
pub fn argmax<T: Copy + PartialOrd>(x: &[T], y: &mut [i64], p: &ArgParams) {
    arg(x, y, p, |v, b| v > b);
}

/// Index of the minimum along the axis; `y` is `[outer, inner]`.
pub fn argmin<T: Copy + PartialOrd>(x: &[T], y: &mut [i64], p: &ArgParams) {
    arg(x, y, p, |v, b| v < b);
}

#[cfg(test)]
mod tests {
    use super::super::shape::dims;
    use super::*;

    fn rp(shape: &[usize], axes: &[usize]) -> ReduceParams {
        let mut a = [false; MAX_RANK];
        for &d in axes {
            a[d] = true;
        }
        ReduceParams {
            rank: shape.len(),
            in_shape: dims(shape),
            axes: a,
        }
    }

    #[test]
    fn reduce_axes() {
        // x = arange(24).reshape(2,3,4)
        let x: [f32; 24] = core::array::from_fn(|i| i as f32);
        let mut y = [0.0f32; 8];
        // sum over axis 1 -> [2,4]: np.arange(24).reshape(2,3,4).sum(1)
        reduce(ReduceOp::Sum, &x, &mut y, &rp(&[2, 3, 4], &[1]));
        assert_eq!(y, [12.0, 15.0, 18.0, 21.0, 48.0, 51.0, 54.0, 57.0]);
        let mut y = [0.0f32; 3];
        // mean over axes (0, 2) -> [3]: [7.5, 11.5, 15.5]
        reduce(ReduceOp::Mean, &x, &mut y, &rp(&[2, 3, 4], &[0, 2]));
        assert_eq!(y, [7.5, 11.5, 15.5]);
        reduce(ReduceOp::Max, &x, &mut y, &rp(&[2, 3, 4], &[0, 2]));
        assert_eq!(y, [15.0, 19.0, 23.0]);
        reduce(ReduceOp::Min, &x, &mut y, &rp(&[2, 3, 4], &[0, 2]));
        assert_eq!(y, [0.0, 4.0, 8.0]);
        let mut all = [0.0f32; 1];
        reduce(ReduceOp::Sum, &x, &mut all, &rp(&[2, 3, 4], &[0, 1, 2]));
        assert_eq!(all, [276.0]);
    }

    #[test]
    fn reduce_other_ops() {
        let x = [1.0f32, -2.0, 3.0, 4.0];
        let mut y = [0.0f32; 2];
        let p = rp(&[2, 2], &[1]);
        reduce(ReduceOp::Prod, &x, &mut y, &p);
        assert_eq!(y, [-2.0, 12.0]);
        reduce(ReduceOp::SumSquare, &x, &mut y, &p);
        assert_eq!(y, [5.0, 25.0]);
        reduce(ReduceOp::L1, &x, &mut y, &p);
        assert_eq!(y, [3.0, 7.0]);
        reduce(ReduceOp::L2, &x, &mut y, &p);
        assert_eq!(y, [math::sqrtf(5.0), 5.0]);
        reduce(ReduceOp::LogSum, &[1.0, 1.0, 2.0, 3.0], &mut y, &p);
        assert_eq!(y, [math::logf(2.0), math::logf(5.0)]);
        // numpy: log(exp(1000)+exp(1000)) = 1000.6931
        reduce(ReduceOp::LogSumExp, &[1000.0, 1000.0, 0.0, 0.0], &mut y, &p);
        assert!((y[0] - 1_000.693_1).abs() < 1e-3 && (y[1] - core::f32::consts::LN_2).abs() < 1e-6);
        let mut yi = [0i64; 2];
        reduce(ReduceOp::Sum, &[1i64, 2, 3, 4], &mut yi, &p);
        assert_eq!(yi, [3, 7]);
    }

    #[test]
    fn argmax_argmin() {
        // [[1, 5, 5], [7, 0, 7]] along axis 1
        let x = [1.0f32, 5.0, 5.0, 7.0, 0.0, 7.0];
        let mut y = [0i64; 2];
        let mut p = ArgParams {
            outer: 2,
            axis_len: 3,
            inner: 1,
            select_last_index: false,
        };
        argmax(&x, &mut y, &p);
        assert_eq!(y, [1, 0]);
        p.select_last_index = true;
        argmax(&x, &mut y, &p);
        assert_eq!(y, [2, 2]);
        // Axis 0 of the same data seen as [2, 3]: argmin per column.
        let mut y3 = [0i64; 3];
        argmin(
            &x,
            &mut y3,
            &ArgParams {
                outer: 1,
                axis_len: 2,
                inner: 3,
                select_last_index: false,
            },
        );
        assert_eq!(y3, [0, 1, 0]);
    }
}
