//! Max and average pooling (up to 3 spatial dims, NCHW), and global pooling.

/// Parameters of [`max_pool`] and [`average_pool`]. Lower-dimensional pools
/// use unit leading spatial dims (kernel 1, stride 1, pads 0 there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolParams {
    /// Batch size N.
    pub batch: usize,
    /// Channels C.
    pub channels: usize,
    /// Input spatial dims `[D, H, W]`.
    pub in_spatial: [usize; 3],
    /// Output spatial dims (the generator applies `ceil_mode`).
    pub out_spatial: [usize; 3],
    /// Window size per spatial axis.
    pub kernel: [usize; 3],
    /// Strides per spatial axis (>= 1).
    pub strides: [usize; 3],
    /// Dilations per spatial axis (>= 1).
    pub dilations: [usize; 3],
    /// Padding before each spatial axis.
    pub pads_begin: [usize; 3],
    /// Padding after each spatial axis.
    pub pads_end: [usize; 3],
    /// Average pooling: divide by the window size clipped to the padded input
    /// (true) or by the number of real input elements (false).
    pub count_include_pad: bool,
}

/// Taps `k` in `0..kernel` whose input position `start + k * dil` is in
/// `lo..hi`.
#[inline]
fn tap_range(start: isize, kernel: usize, dil: usize, lo: isize, hi: isize) -> (usize, usize) {
    let d = dil as isize;
    let k0 = if start >= lo {
        0
    } else {
        (lo - start + d - 1) / d
    };
    let k1 = if hi - 1 < start {
        0
    } else {
        (hi - 1 - start) / d + 1
    };
    let k0 = k0.min(kernel as isize) as usize;
    let k1 = (k1.min(kernel as isize) as usize).max(k0);
    (k0, k1)
}

/// Calls `f(plane_in, plane_out)` per (n, c) and, inside, `g` per output
/// position with the valid tap ranges of each axis and the padded count.
/// Generic over the element types, so the integer pools
/// ([`super::qops::qaverage_pool`]) walk windows the same way.
#[inline(always)]
pub(crate) fn pool<T: Copy, U, F: FnMut(&[T], [(usize, usize); 3], usize) -> U>(
    x: &[T],
    y: &mut [U],
    p: &PoolParams,
    mut f: F,
) {
    let [id, ih, iw] = p.in_spatial;
    let [od, oh, ow] = p.out_spatial;
    let in_plane = id * ih * iw;
    let out_plane = od * oh * ow;
    debug_assert_eq!(x.len(), p.batch * p.channels * in_plane);
    debug_assert_eq!(y.len(), p.batch * p.channels * out_plane);
    let ins = [id, ih, iw];
    for nc in 0..p.batch * p.channels {
        let xp = &x[nc * in_plane..][..in_plane];
        let yp = &mut y[nc * out_plane..][..out_plane];
        let mut oi = 0;
        for a in 0..od {
            for b in 0..oh {
                for c in 0..ow {
                    let o = [a, b, c];
                    let mut r = [(0usize, 0usize); 3];
                    let mut padded = 1usize;
                    for ax in 0..3 {
                        let start = (o[ax] * p.strides[ax]) as isize - p.pads_begin[ax] as isize;
                        r[ax] =
                            tap_range(start, p.kernel[ax], p.dilations[ax], 0, ins[ax] as isize);
                        if p.count_include_pad {
                            let (k0, k1) = tap_range(
                                start,
                                p.kernel[ax],
                                p.dilations[ax],
                                -(p.pads_begin[ax] as isize),
                                (ins[ax] + p.pads_end[ax]) as isize,
                            );
                            padded *= k1 - k0;
                        }
                    }
                    // Convert tap ranges to input positions: (first pos, count).
                    let mut pos = [(0usize, 0usize); 3];
                    for ax in 0..3 {
                        let start = (o[ax] * p.strides[ax]) as isize - p.pads_begin[ax] as isize;
                        let (k0, k1) = r[ax];
                        pos[ax] = (
                            (start + (k0 * p.dilations[ax]) as isize).max(0) as usize,
                            k1 - k0,
                        );
                    }
                    yp[oi] = f(xp, pos, padded);
                    oi += 1;
                }
            }
        }
    }
}

/// Max pooling; padding never wins (it is `-inf`).
pub fn max_pool(x: &[f32], y: &mut [f32], p: &PoolParams) {
    let [_, ih, iw] = p.in_spatial;
    let [dd, dh, dw] = p.dilations;
    pool(x, y, p, |xp, pos, _| {
        let mut m = f32::NEG_INFINITY;
        for a in 0..pos[0].1 {
            let zd = pos[0].0 + a * dd;
            for b in 0..pos[1].1 {
                let zh = pos[1].0 + b * dh;
                let row = &xp[(zd * ih + zh) * iw..][..iw];
                for c in 0..pos[2].1 {
                    let v = row[pos[2].0 + c * dw];
                    if v > m || v.is_nan() {
                        m = v;
                    }
                }
            }
        }
        m
    });
}

/// Average pooling (see [`PoolParams::count_include_pad`]).
pub fn average_pool(x: &[f32], y: &mut [f32], p: &PoolParams) {
    let [_, ih, iw] = p.in_spatial;
    let [dd, dh, dw] = p.dilations;
    let include = p.count_include_pad;
    pool(x, y, p, |xp, pos, padded| {
        let mut s = 0.0f32;
        for a in 0..pos[0].1 {
            let zd = pos[0].0 + a * dd;
            for b in 0..pos[1].1 {
                let zh = pos[1].0 + b * dh;
                let row = &xp[(zd * ih + zh) * iw..][..iw];
                for c in 0..pos[2].1 {
                    s += row[pos[2].0 + c * dw];
                }
            }
        }
        let count = if include {
            padded
        } else {
            pos[0].1 * pos[1].1 * pos[2].1
        };
        if count == 0 {
            0.0
        } else {
            s / count as f32
        }
    });
}

/// ONNX `LpPool`: `(sum |x|^p)^(1/p)` over each window (padding counts as 0).
pub fn lp_pool(x: &[f32], y: &mut [f32], p: &PoolParams, norm: f32) {
    let [_, ih, iw] = p.in_spatial;
    let [dd, dh, dw] = p.dilations;
    pool(x, y, p, |xp, pos, _| {
        let mut s = 0.0f32;
        for a in 0..pos[0].1 {
            let zd = pos[0].0 + a * dd;
            for b in 0..pos[1].1 {
                let zh = pos[1].0 + b * dh;
                let row = &xp[(zd * ih + zh) * iw..][..iw];
                for c in 0..pos[2].1 {
                    let v = super::super::math::fabsf(row[pos[2].0 + c * dw]);
                    s += if norm == 2.0 {
                        v * v
                    } else if norm == 1.0 {
                        v
                    } else {
                        super::super::math::powf(v, norm)
                    };
                }
            }
        }
        if norm == 2.0 {
            super::super::math::sqrtf(s)
        } else if norm == 1.0 {
            s
        } else {
            super::super::math::powf(s, 1.0 / norm)
        }
    });
}

/// Global average pooling: `y[nc] = mean(x[nc, ...])` for `nc` in
/// `0..batch*channels`, each plane `spatial` elements long.
pub fn global_average_pool(x: &[f32], y: &mut [f32], spatial: usize) {
    if spatial == 0 {
        y.fill(f32::NAN);
        return;
    }
    for (yv, plane) in y.iter_mut().zip(x.chunks_exact(spatial)) {
        *yv = plane.iter().sum::<f32>() / spatial as f32;
    }
}

/// Global max pooling: `y[nc] = max(x[nc, ...])`.
pub fn global_max_pool(x: &[f32], y: &mut [f32], spatial: usize) {
    if spatial == 0 {
        y.fill(f32::NEG_INFINITY);
        return;
    }
    for (yv, plane) in y.iter_mut().zip(x.chunks_exact(spatial)) {
        let mut m = f32::NEG_INFINITY;
        for &v in plane {
            if v > m || v.is_nan() {
                m = v;
            }
        }
        *yv = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p2(
        hw: [usize; 2],
        o: [usize; 2],
        k: [usize; 2],
        s: [usize; 2],
        pb: [usize; 2],
        pe: [usize; 2],
        cip: bool,
    ) -> PoolParams {
        PoolParams {
            batch: 1,
            channels: 1,
            in_spatial: [1, hw[0], hw[1]],
            out_spatial: [1, o[0], o[1]],
            kernel: [1, k[0], k[1]],
            strides: [1, s[0], s[1]],
            dilations: [1, 1, 1],
            pads_begin: [0, pb[0], pb[1]],
            pads_end: [0, pe[0], pe[1]],
            count_include_pad: cip,
        }
    }

    const X4: [f32; 16] = [
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0,
    ];

    #[test]
    fn max_pool_2x2_stride2() {
        let mut y = [0.0f32; 4];
        max_pool(
            &X4,
            &mut y,
            &p2([4, 4], [2, 2], [2, 2], [2, 2], [0, 0], [0, 0], false),
        );
        assert_eq!(y, [6.0, 8.0, 14.0, 16.0]);
    }

    #[test]
    fn max_pool_3x3_pad1_dilated() {
        // ONNX maxpool_2d_pads-like: 3x3 window, pad 1, stride 1 on 4x4.
        let mut y = [0.0f32; 16];
        max_pool(
            &X4,
            &mut y,
            &p2([4, 4], [4, 4], [3, 3], [1, 1], [1, 1], [1, 1], false),
        );
        assert_eq!(
            y,
            [
                6.0, 7.0, 8.0, 8.0, 10.0, 11.0, 12.0, 12.0, 14.0, 15.0, 16.0, 16.0, 14.0, 15.0,
                16.0, 16.0
            ]
        );
        // ONNX maxpool_2d_dilations: 2x2 kernel, dilation 2 on 4x4 -> 2x2.
        let mut p = p2([4, 4], [2, 2], [2, 2], [1, 1], [0, 0], [0, 0], false);
        p.dilations = [1, 2, 2];
        let mut y = [0.0f32; 4];
        max_pool(&X4, &mut y, &p);
        assert_eq!(y, [11.0, 12.0, 15.0, 16.0]);
    }

    #[test]
    fn average_pool_pads() {
        // 3x3 window pad 1 on 4x4; corners: exclude pad -> mean of 4 values.
        let mut y = [0.0f32; 16];
        average_pool(
            &X4,
            &mut y,
            &p2([4, 4], [4, 4], [3, 3], [1, 1], [1, 1], [1, 1], false),
        );
        assert_eq!(y[0], (1.0 + 2.0 + 5.0 + 6.0) / 4.0);
        assert_eq!(
            y[5],
            (1.0 + 2.0 + 3.0 + 5.0 + 6.0 + 7.0 + 9.0 + 10.0 + 11.0) / 9.0
        );
        average_pool(
            &X4,
            &mut y,
            &p2([4, 4], [4, 4], [3, 3], [1, 1], [1, 1], [1, 1], true),
        );
        assert_eq!(y[0], (1.0 + 2.0 + 5.0 + 6.0) / 9.0);
        // ceil_mode-style window past the end pad: 4x4, k3 s2, no pads, out 2x2
        // (ceil). Last window covers rows 2..5 -> only 2 real rows; with
        // count_include_pad the divisor stays the clipped window (2x2 = 4).
        let mut y = [0.0f32; 4];
        average_pool(
            &X4,
            &mut y,
            &p2([4, 4], [2, 2], [3, 3], [2, 2], [0, 0], [0, 0], true),
        );
        assert_eq!(y[3], (11.0 + 12.0 + 15.0 + 16.0) / 4.0);
    }

    #[test]
    fn global_pools() {
        let mut y = [0.0f32; 2];
        global_average_pool(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut y, 3);
        assert_eq!(y, [2.0, 5.0]);
        global_max_pool(&[1.0, 7.0, 3.0, 4.0, 5.0, 6.0], &mut y, 3);
        assert_eq!(y, [7.0, 6.0]);
    }
}
