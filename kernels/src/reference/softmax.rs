//! Softmax and LogSoftmax over one axis, numerically stable.

use super::super::math;

/// The tensor viewed as `[outer, axis_len, inner]` with the softmax taken
/// over the middle axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxParams {
    /// Product of the dims before the axis.
    pub outer: usize,
    /// Length of the softmax axis.
    pub axis_len: usize,
    /// Product of the dims after the axis.
    pub inner: usize,
}

#[inline(always)]
fn run(x: &[f32], y: &mut [f32], p: &SoftmaxParams, log: bool) {
    let (n, inner) = (p.axis_len, p.inner);
    debug_assert_eq!(x.len(), p.outer * n * inner);
    debug_assert_eq!(y.len(), x.len());
    for o in 0..p.outer {
        let base = o * n * inner;
        for i in 0..inner {
            let at = |a: usize| base + a * inner + i;
            let mut m = f32::NEG_INFINITY;
            for a in 0..n {
                let v = x[at(a)];
                if v > m || v.is_nan() {
                    m = v;
                }
            }
            if m == f32::NEG_INFINITY {
                m = 0.0; // all -inf: keep exp(-inf - 0) = 0 and avoid NaN from inf-inf
            }
            let mut s = 0.0f32;
            for a in 0..n {
                let e = math::expf(x[at(a)] - m);
                if !log {
                    y[at(a)] = e;
                }
                s += e;
            }
            if log {
                let ls = math::logf(s);
                for a in 0..n {
                    y[at(a)] = x[at(a)] - m - ls;
                }
            } else {
                let r = 1.0 / s;
                for a in 0..n {
                    y[at(a)] *= r;
                }
            }
        }
    }
}

/// `y = exp(x - max) / sum(exp(x - max))` along the axis.
pub fn softmax(x: &[f32], y: &mut [f32], p: &SoftmaxParams) {
    run(x, y, p, false);
}

/// `y = x - max - ln(sum(exp(x - max)))` along the axis.
pub fn log_softmax(x: &[f32], y: &mut [f32], p: &SoftmaxParams) {
    run(x, y, p, true);
}

/// `Hardmax`: 1 at the first maximum along the axis, 0 elsewhere.
pub fn hardmax(x: &[f32], y: &mut [f32], p: &SoftmaxParams) {
    let (n, inner) = (p.axis_len, p.inner);
    for o in 0..p.outer {
        let base = o * n * inner;
        for i in 0..inner {
            let mut best = 0;
            for a in 0..n {
                y[base + a * inner + i] = 0.0;
                if x[base + a * inner + i] > x[base + best * inner + i] {
                    best = a;
                }
            }
            if n > 0 {
                y[base + best * inner + i] = 1.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) {
        for (x, z) in a.iter().zip(b) {
            assert!((x - z).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn softmax_rows_and_columns() {
        // numpy: softmax([1,2,3]) = [0.09003057, 0.24472847, 0.66524096]
        let x = [1.0f32, 2.0, 3.0, 1001.0, 1002.0, 1003.0];
        let mut y = [0.0f32; 6];
        softmax(
            &x,
            &mut y,
            &SoftmaxParams {
                outer: 2,
                axis_len: 3,
                inner: 1,
            },
        );
        let r = [0.090_030_57, 0.244_728_47, 0.665_240_96];
        close(&y[..3], &r);
        close(&y[3..], &r);
        // Axis 0 of a [3, 2] tensor: columns.
        let x = [1.0f32, 0.0, 2.0, 0.0, 3.0, 0.0];
        softmax(
            &x,
            &mut y,
            &SoftmaxParams {
                outer: 1,
                axis_len: 3,
                inner: 2,
            },
        );
        close(&[y[0], y[2], y[4]], &r);
        close(&[y[1], y[3], y[5]], &[1.0 / 3.0; 3]);
    }

    #[test]
    fn log_softmax_and_hardmax() {
        // numpy: log_softmax([1,2,3]) = [-2.40760596, -1.40760596, -0.40760596]
        let x = [1.0f32, 2.0, 3.0];
        let mut y = [0.0f32; 3];
        log_softmax(
            &x,
            &mut y,
            &SoftmaxParams {
                outer: 1,
                axis_len: 3,
                inner: 1,
            },
        );
        close(&y, &[-2.407_606, -1.407_606, -0.407_606]);
        hardmax(
            &[1.0, 3.0, 3.0],
            &mut y,
            &SoftmaxParams {
                outer: 1,
                axis_len: 3,
                inner: 1,
            },
        );
        assert_eq!(y, [0.0, 1.0, 0.0]);
    }
}
