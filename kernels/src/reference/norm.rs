//! Normalizations: BatchNormalization (inference), InstanceNormalization,
//! LayerNormalization, and LRN.

use super::super::math;
use super::shape::{contiguous_strides, for_each_row, Dims, MAX_RANK};

/// Parameters of [`batch_norm`]: `x` is `[batch, channels, spatial...]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormParams {
    /// Batch size N.
    pub batch: usize,
    /// Channels C.
    pub channels: usize,
    /// Product of the spatial dims (1 for `[N, C]` inputs).
    pub spatial: usize,
    /// Added to the variance (ONNX default 1e-5).
    pub epsilon: f32,
}

/// Inference batch norm: `y = (x - mean) / sqrt(var + eps) * scale + bias`,
/// all per-channel vectors of length `channels`.
pub fn batch_norm(
    x: &[f32],
    y: &mut [f32],
    scale: &[f32],
    bias: &[f32],
    mean: &[f32],
    var: &[f32],
    p: &BatchNormParams,
) {
    let s = p.spatial;
    debug_assert_eq!(x.len(), p.batch * p.channels * s);
    for n in 0..p.batch {
        for c in 0..p.channels {
            let a = scale[c] / math::sqrtf(var[c] + p.epsilon);
            let b = bias[c] - mean[c] * a;
            let off = (n * p.channels + c) * s;
            for (yv, &xv) in y[off..off + s].iter_mut().zip(&x[off..off + s]) {
                *yv = xv * a + b;
            }
        }
    }
}

/// Mean and population variance of a slice (two passes).
#[inline]
fn mean_var(v: &[f32]) -> (f32, f32) {
    let n = v.len() as f32;
    let mean = v.iter().sum::<f32>() / n;
    let var = v
        .iter()
        .map(|&x| {
            let d = x - mean;
            d * d
        })
        .sum::<f32>()
        / n;
    (mean, var)
}

/// Parameters of [`instance_norm`]: `x` is `[batch, channels, spatial...]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceNormParams {
    /// Batch size N.
    pub batch: usize,
    /// Channels C.
    pub channels: usize,
    /// Product of the spatial dims.
    pub spatial: usize,
    /// Added to the variance (ONNX default 1e-5).
    pub epsilon: f32,
}

/// Instance norm: each `(n, c)` plane normalized by its own mean and
/// variance, then `* scale[c] + bias[c]`.
pub fn instance_norm(
    x: &[f32],
    y: &mut [f32],
    scale: &[f32],
    bias: &[f32],
    p: &InstanceNormParams,
) {
    let s = p.spatial;
    if s == 0 {
        return;
    }
    for n in 0..p.batch {
        for c in 0..p.channels {
            let off = (n * p.channels + c) * s;
            let xs = &x[off..off + s];
            let (mean, var) = mean_var(xs);
            let a = scale[c] / math::sqrtf(var + p.epsilon);
            let b = bias[c] - mean * a;
            for (yv, &xv) in y[off..off + s].iter_mut().zip(xs) {
                *yv = xv * a + b;
            }
        }
    }
}

/// Parameters of [`layer_norm`]: `x` viewed as `[outer, inner]`, normalized
/// over `inner` (the product of the dims from `axis` on).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormParams {
    /// Product of the dims before the normalized axes.
    pub outer: usize,
    /// Product of the normalized dims.
    pub inner: usize,
    /// Added to the variance (ONNX default 1e-5).
    pub epsilon: f32,
}

/// Layer norm: each row normalized, then `* scale + bias` (`scale` and
/// `bias` of length `inner`; `bias` optional).
pub fn layer_norm(
    x: &[f32],
    y: &mut [f32],
    scale: &[f32],
    bias: Option<&[f32]>,
    p: &LayerNormParams,
) {
    let s = p.inner;
    if s == 0 {
        return;
    }
    for o in 0..p.outer {
        let off = o * s;
        let xs = &x[off..off + s];
        let (mean, var) = mean_var(xs);
        let r = 1.0 / math::sqrtf(var + p.epsilon);
        let yr = &mut y[off..off + s];
        match bias {
            Some(b) => {
                for (j, yv) in yr.iter_mut().enumerate() {
                    *yv = (xs[j] - mean) * r * scale[j] + b[j];
                }
            }
            None => {
                for (j, yv) in yr.iter_mut().enumerate() {
                    *yv = (xs[j] - mean) * r * scale[j];
                }
            }
        }
    }
}

/// Parameters of [`lrn`] (ONNX `LRN`, across channels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrnParams {
    /// Batch size N.
    pub batch: usize,
    /// Channels C.
    pub channels: usize,
    /// Product of the spatial dims.
    pub spatial: usize,
    /// Number of channels summed over.
    pub size: usize,
    /// Scale (ONNX default 1e-4).
    pub alpha: f32,
    /// Exponent (ONNX default 0.75).
    pub beta: f32,
    /// Offset (ONNX default 1).
    pub bias: f32,
}

/// Local response normalization:
/// `y = x / (bias + alpha / size * sum(x[c'] ^ 2))^beta` over
/// `c' in [c - floor((size-1)/2), c + ceil((size-1)/2)]`.
pub fn lrn(x: &[f32], y: &mut [f32], p: &LrnParams) {
    let s = p.spatial;
    let lo = (p.size.saturating_sub(1)) / 2;
    let hi = p.size.saturating_sub(1) - lo;
    for n in 0..p.batch {
        for c in 0..p.channels {
            let c0 = c.saturating_sub(lo);
            let c1 = (c + hi).min(p.channels.saturating_sub(1));
            for i in 0..s {
                let mut sq = 0.0f32;
                for cc in c0..=c1 {
                    let v = x[(n * p.channels + cc) * s + i];
                    sq += v * v;
                }
                let idx = (n * p.channels + c) * s + i;
                let d = math::powf(p.bias + p.alpha / p.size as f32 * sq, p.beta);
                y[idx] = x[idx] / d;
            }
        }
    }
}

/// Parameters of [`group_norm`] (ONNX `GroupNormalization`, opset 21:
/// scale and bias per channel; for opset 18 the generator repeats the
/// per-group values per channel).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupNormParams {
    /// Batch size N.
    pub batch: usize,
    /// Channels C (a multiple of `groups`).
    pub channels: usize,
    /// Number of groups.
    pub groups: usize,
    /// Product of the spatial dims.
    pub spatial: usize,
    /// Added to the variance (ONNX default 1e-5).
    pub epsilon: f32,
}

/// Group norm: each `(n, group)` block of `channels / groups` channels is
/// normalized by its own mean and variance, then `* scale[c] + bias[c]`.
pub fn group_norm(x: &[f32], y: &mut [f32], scale: &[f32], bias: &[f32], p: &GroupNormParams) {
    let cg = p.channels / p.groups.max(1);
    let block = cg * p.spatial;
    if block == 0 {
        return;
    }
    for n in 0..p.batch {
        for g in 0..p.groups {
            let off = (n * p.channels + g * cg) * p.spatial;
            let (mean, var) = mean_var(&x[off..off + block]);
            let r = 1.0 / math::sqrtf(var + p.epsilon);
            for ci in 0..cg {
                let c = g * cg + ci;
                let o = off + ci * p.spatial;
                let (a, b) = (scale[c] * r, bias[c] - mean * scale[c] * r);
                for (yv, &xv) in y[o..o + p.spatial].iter_mut().zip(&x[o..o + p.spatial]) {
                    *yv = xv * a + b;
                }
            }
        }
    }
}

/// Parameters of [`mean_variance_norm`]: normalization over the axes
/// flagged in `axes` (ONNX default: 0, 2, 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MvnParams {
    /// Rank (0..=6).
    pub rank: usize,
    /// Input shape.
    pub shape: Dims,
    /// `axes[d]` is true for the axes the statistics are taken over.
    pub axes: [bool; MAX_RANK],
}

/// `MeanVarianceNormalization`: `(x - mean) / (sqrt(E[x^2] - mean^2) + 1e-9)`
/// with the statistics over the flagged axes, as the ONNX reference computes.
pub fn mean_variance_norm(x: &[f32], y: &mut [f32], p: &MvnParams) {
    let r = p.rank;
    let si = contiguous_strides(&p.shape, r);
    let mut kept = [1usize; MAX_RANK];
    let mut red = [1usize; MAX_RANK];
    for d in 0..r {
        if p.axes[d] {
            red[d] = p.shape[d];
        } else {
            kept[d] = p.shape[d];
        }
    }
    let count: usize = red[..r].iter().product();
    if count == 0 {
        return;
    }
    let rs = [si];
    for_each_row(&kept, r, [0], &rs, |o, len, inner| {
        for j in 0..len as isize {
            let base = o[0] + j * inner[0];
            let (mut s, mut sq) = (0.0f32, 0.0f32);
            for_each_row(&red, r, [base], &rs, |q, l, st| {
                for k in 0..l as isize {
                    let v = x[(q[0] + k * st[0]) as usize];
                    s += v;
                    sq += v * v;
                }
            });
            let mean = s / count as f32;
            let var = sq / count as f32 - mean * mean;
            let d = math::sqrtf(if var > 0.0 { var } else { 0.0 }) + 1e-9;
            for_each_row(&red, r, [base], &rs, |q, l, st| {
                for k in 0..l as isize {
                    let i = (q[0] + k * st[0]) as usize;
                    y[i] = (x[i] - mean) / d;
                }
            });
        }
    });
}

/// Parameters of [`lp_norm`]: `x` viewed as `[outer, axis_len, inner]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LpNormParams {
    /// Product of the dims before the axis.
    pub outer: usize,
    /// Length of the normalized axis.
    pub axis_len: usize,
    /// Product of the dims after the axis.
    pub inner: usize,
    /// 1 (L1) or 2 (L2).
    pub p: u8,
}

/// `LpNormalization`: `x / ||x||_p` along the axis (0 where the norm is 0).
pub fn lp_norm(x: &[f32], y: &mut [f32], p: &LpNormParams) {
    let (n, inner) = (p.axis_len, p.inner);
    for o in 0..p.outer {
        for i in 0..inner {
            let at = |a: usize| (o * n + a) * inner + i;
            let mut s = 0.0f32;
            for a in 0..n {
                let v = x[at(a)];
                s += if p.p == 1 { math::fabsf(v) } else { v * v };
            }
            let norm = if p.p == 1 { s } else { math::sqrtf(s) };
            for a in 0..n {
                // A zero norm gives 0, as in the ONNX reference.
                y[at(a)] = if norm == 0.0 { 0.0 } else { x[at(a)] / norm };
            }
        }
    }
}

/// RMS norm (ONNX `RMSNormalization`): each row of `[outer, inner]` is
/// divided by `sqrt(mean(x^2) + epsilon)`, then multiplied by `scale`
/// (length `inner`).
pub fn rms_norm(x: &[f32], y: &mut [f32], scale: &[f32], p: &LayerNormParams) {
    let s = p.inner;
    if s == 0 {
        return;
    }
    for o in 0..p.outer {
        let xs = &x[o * s..][..s];
        let ms = xs.iter().map(|&v| v * v).sum::<f32>() / s as f32;
        let r = 1.0 / math::sqrtf(ms + p.epsilon);
        for ((yv, &xv), &sc) in y[o * s..][..s].iter_mut().zip(xs).zip(scale) {
            *yv = xv * r * sc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) {
        for (x, z) in a.iter().zip(b) {
            assert!((x - z).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn batch_norm_values() {
        // x [1,2,2]: channel 0 = [1,2], channel 1 = [3,4]
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let mut y = [0.0f32; 4];
        let p = BatchNormParams {
            batch: 1,
            channels: 2,
            spatial: 2,
            epsilon: 0.0,
        };
        batch_norm(
            &x,
            &mut y,
            &[2.0, 1.0],
            &[0.5, -1.0],
            &[1.0, 3.0],
            &[4.0, 1.0],
            &p,
        );
        close(&y, &[0.5, 1.5, -1.0, 0.0]);
    }

    #[test]
    fn instance_and_layer_norm() {
        // numpy: (x - x.mean()) / sqrt(x.var() + 1e-5) for x = [1,2,3,4]
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let want = [-1.341_635_4, -0.447_211_8, 0.447_211_8, 1.341_635_4];
        let mut y = [0.0f32; 4];
        instance_norm(
            &x,
            &mut y,
            &[1.0],
            &[0.0],
            &InstanceNormParams {
                batch: 1,
                channels: 1,
                spatial: 4,
                epsilon: 1e-5,
            },
        );
        close(&y, &want);
        layer_norm(
            &x,
            &mut y,
            &[1.0; 4],
            None,
            &LayerNormParams {
                outer: 1,
                inner: 4,
                epsilon: 1e-5,
            },
        );
        close(&y, &want);
        layer_norm(
            &x,
            &mut y,
            &[1.0, 1.0],
            Some(&[1.0, 2.0]),
            &LayerNormParams {
                outer: 2,
                inner: 2,
                epsilon: 0.0,
            },
        );
        close(&y, &[0.0, 3.0, 0.0, 3.0]);
    }

    #[test]
    fn group_mvn_lp() {
        // 1 batch, 4 channels, 2 groups, spatial 1: groups [1,2] and [3,5]
        let mut y = [0.0f32; 4];
        let p = GroupNormParams {
            batch: 1,
            channels: 4,
            groups: 2,
            spatial: 1,
            epsilon: 0.0,
        };
        group_norm(
            &[1.0, 2.0, 3.0, 5.0],
            &mut y,
            &[1.0, 2.0, 1.0, 1.0],
            &[0.0, 0.0, 0.0, 1.0],
            &p,
        );
        close(&y, &[-1.0, 2.0, -1.0, 2.0]);
        // MVN over axis 1 of [2, 2]: rows [1, 3] and [2, 2]
        let mut axes = [false; MAX_RANK];
        axes[1] = true;
        let mp = MvnParams {
            rank: 2,
            shape: super::super::shape::dims(&[2, 2]),
            axes,
        };
        mean_variance_norm(&[1.0, 3.0, 2.0, 2.0], &mut y, &mp);
        close(&y, &[-1.0, 1.0, 0.0, 0.0]);
        // L2 along axis 1 of [1, 2]: [3, 4] / 5; L1: [3, 4] / 7
        let mut z = [0.0f32; 2];
        lp_norm(
            &[3.0, 4.0],
            &mut z,
            &LpNormParams {
                outer: 1,
                axis_len: 2,
                inner: 1,
                p: 2,
            },
        );
        close(&z, &[0.6, 0.8]);
        lp_norm(
            &[3.0, 4.0],
            &mut z,
            &LpNormParams {
                outer: 1,
                axis_len: 2,
                inner: 1,
                p: 1,
            },
        );
        close(&z, &[3.0 / 7.0, 4.0 / 7.0]);
    }

    #[test]
    fn lrn_values() {
        // size 3, alpha 3, beta 1, bias 1 on channels [1,2,3] (spatial 1):
        // c0: 1 / (1 + 1*(1+4)) = 1/6; c1: 2/(1+14) ; c2: 3/(1+13)
        let mut y = [0.0f32; 3];
        lrn(
            &[1.0, 2.0, 3.0],
            &mut y,
            &LrnParams {
                batch: 1,
                channels: 3,
                spatial: 1,
                size: 3,
                alpha: 3.0,
                beta: 1.0,
                bias: 1.0,
            },
        );
        close(&y, &[1.0 / 6.0, 2.0 / 15.0, 3.0 / 14.0]);
    }
}
