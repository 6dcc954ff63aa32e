//! N-d convolution (up to 3 spatial dims), NCHW layout, with groups,
//! strides, dilations, explicit pads, optional bias and a fused activation.

use super::activation::Activation;
use super::shape::valid_range;

/// Parameters of [`conv`]. 1-D and 2-D convolutions use unit leading spatial
/// dims: a 2-D conv has `in_spatial = [1, H, W]`, `kernel = [1, kH, kW]`,
/// `strides = [1, sH, sW]`, pads 0 on the first axis, and so on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvParams {
    /// Batch size N.
    pub batch: usize,
    /// Input channels C.
    pub in_channels: usize,
    /// Output channels M.
    pub out_channels: usize,
    /// Number of groups (`in_channels` and `out_channels` are multiples of
    /// it; depthwise when `group == in_channels`).
    pub group: usize,
    /// Input spatial dims `[D, H, W]`.
    pub in_spatial: [usize; 3],
    /// Output spatial dims `[oD, oH, oW]` (resolved by the generator).
    pub out_spatial: [usize; 3],
    /// Kernel spatial dims `[kD, kH, kW]`.
    pub kernel: [usize; 3],
    /// Strides per spatial axis (>= 1).
    pub strides: [usize; 3],
    /// Dilations per spatial axis (>= 1).
    pub dilations: [usize; 3],
    /// Padding before each spatial axis (auto_pad already resolved).
    pub pads_begin: [usize; 3],
    /// Padding after each spatial axis (informative: `out_spatial` decides).
    pub pads_end: [usize; 3],
    /// Activation applied to each output after the bias.
    pub activation: Activation,
}

impl ConvParams {
    /// Output spatial size for the given input, kernel, stride, dilation and
    /// pads (floor rounding, as ONNX `Conv`). For host code and tests.
    pub fn out_dim(
        input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        pad_b: usize,
        pad_e: usize,
    ) -> usize {
        let eff = dilation * (kernel - 1) + 1;
        (input + pad_b + pad_e).saturating_sub(eff) / stride + 1
    }
}

/// Convolution: `y = act(conv(x, w) + bias)`.
///
/// * `x`: `[N, C, D, H, W]` (unit dims for lower-dimensional convs)
/// * `w`: `[M, C / group, kD, kH, kW]`
/// * `bias`: `[M]` or `None`
/// * `y`: `[N, M, oD, oH, oW]`
///
/// The innermost loop runs over a contiguous output row with the kernel tap
/// fixed, so it vectorizes (stride 1) and never branches on padding.
pub fn conv(x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], p: &ConvParams) {
    let [id, ih, iw] = p.in_spatial;
    let [od, oh, ow] = p.out_spatial;
    let [kd, kh, kw] = p.kernel;
    let [sd, sh, sw] = p.strides;
    let [dd, dh, dw] = p.dilations;
    let [pd, ph, pw] = p.pads_begin;
    let group = p.group.max(1);
    let cin_g = p.in_channels / group;
    let cout_g = p.out_channels / group;
    let in_plane = id * ih * iw;
    let out_plane = od * oh * ow;
    let ksize = kd * kh * kw;
    debug_assert_eq!(x.len(), p.batch * p.in_channels * in_plane);
    debug_assert_eq!(w.len(), p.out_channels * cin_g * ksize);
    debug_assert_eq!(y.len(), p.batch * p.out_channels * out_plane);
    if out_plane == 0 {
        return;
    }

    for n in 0..p.batch {
        for g in 0..group {
            for ocg in 0..cout_g {
                let oc = g * cout_g + ocg;
                let yp = &mut y[(n * p.out_channels + oc) * out_plane..][..out_plane];
                yp.fill(bias.map_or(0.0, |b| b[oc]));
                for icg in 0..cin_g {
                    let ic = g * cin_g + icg;
                    let xp = &x[(n * p.in_channels + ic) * in_plane..][..in_plane];
                    let wk = &w[(oc * cin_g + icg) * ksize..][..ksize];
                    for a in 0..kd {
                        let offd = (a * dd) as isize - pd as isize;
                        let (d0, d1) = valid_range(od, id, sd, offd);
                        for b in 0..kh {
                            let offh = (b * dh) as isize - ph as isize;
                            let (h0, h1) = valid_range(oh, ih, sh, offh);
                            for c in 0..kw {
                                let offw = (c * dw) as isize - pw as isize;
                                let (w0, w1) = valid_range(ow, iw, sw, offw);
                                if w0 >= w1 || h0 >= h1 {
                                    continue;
                                }
                                let wv = wk[(a * kh + b) * kw + c];
                                let xs = ((w0 * sw) as isize + offw) as usize;
                                let len = w1 - w0;
                                for o_d in d0..d1 {
                                    let i_d = ((o_d * sd) as isize + offd) as usize;
                                    let yplane = &mut yp[o_d * oh * ow..][..oh * ow];
                                    let xplane = &xp[i_d * ih * iw..][..ih * iw];
                                    if sw == 1 && sh == 1 && w0 == 0 && w1 == ow && ow == iw {
                                        // Whole rows valid and contiguous in both: one long run.
                                        let i_h0 = (h0 as isize + offh) as usize;
                                        let rows = h1 - h0;
                                        let yr = &mut yplane[h0 * ow..][..rows * ow];
                                        let xr = &xplane[i_h0 * iw + xs..][..rows * ow];
                                        axpy(wv, xr, yr);
                                        continue;
                                    }
                                    for o_h in h0..h1 {
                                        let i_h = ((o_h * sh) as isize + offh) as usize;
                                        let yr = &mut yplane[o_h * ow + w0..][..len];
                                        let xrow = &xplane[i_h * iw..][..iw];
                                        if sw == 1 {
                                            axpy(wv, &xrow[xs..xs + len], yr);
                                        } else {
                                            for (j, yv) in yr.iter_mut().enumerate() {
                                                *yv += wv * xrow[xs + j * sw];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p.activation.apply_slice(yp);
            }
        }
    }
}

/// `y += a * x` over equal-length slices.
#[inline(always)]
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv += a * xv;
    }
}

/// Parameters of [`conv_transpose`]; fields as in [`ConvParams`], with the
/// roles of input and output spatial dims of a transposed convolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvTransposeParams {
    /// Batch size N.
    pub batch: usize,
    /// Input channels C.
    pub in_channels: usize,
    /// Output channels M.
    pub out_channels: usize,
    /// Number of groups.
    pub group: usize,
    /// Input spatial dims `[D, H, W]`.
    pub in_spatial: [usize; 3],
    /// Output spatial dims (output_padding / output_shape already resolved).
    pub out_spatial: [usize; 3],
    /// Kernel spatial dims.
    pub kernel: [usize; 3],
    /// Strides.
    pub strides: [usize; 3],
    /// Dilations.
    pub dilations: [usize; 3],
    /// Padding removed at the start of each output axis.
    pub pads_begin: [usize; 3],
    /// Padding removed at the end of each output axis (informative).
    pub pads_end: [usize; 3],
    /// Activation applied to each output after the bias.
    pub activation: Activation,
}

/// Transposed convolution (ONNX `ConvTranspose`).
///
/// * `x`: `[N, C, D, H, W]`
/// * `w`: `[C, M / group, kD, kH, kW]`
/// * `bias`: `[M]` or `None`
/// * `y`: `[N, M, oD, oH, oW]`, where output position
///   `o = i * stride - pad_begin + k * dilation`.
pub fn conv_transpose(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &ConvTransposeParams,
) {
    let [id, ih, iw] = p.in_spatial;
    let [od, oh, ow] = p.out_spatial;
    let [kd, kh, kw] = p.kernel;
    let [sd, sh, sw] = p.strides;
    let [dd, dh, dw] = p.dilations;
    let [pd, ph, pw] = p.pads_begin;
    let group = p.group.max(1);
    let cin_g = p.in_channels / group;
    let cout_g = p.out_channels / group;
    let in_plane = id * ih * iw;
    let out_plane = od * oh * ow;
    let ksize = kd * kh * kw;
    debug_assert_eq!(x.len(), p.batch * p.in_channels * in_plane);
    debug_assert_eq!(w.len(), p.in_channels * cout_g * ksize);
    debug_assert_eq!(y.len(), p.batch * p.out_channels * out_plane);
    if out_plane == 0 {
        return;
    }

    for n in 0..p.batch {
        for g in 0..group {
            for ocg in 0..cout_g {
                let oc = g * cout_g + ocg;
                let yp = &mut y[(n * p.out_channels + oc) * out_plane..][..out_plane];
                yp.fill(bias.map_or(0.0, |b| b[oc]));
                for icg in 0..cin_g {
                    let ic = g * cin_g + icg;
                    let xp = &x[(n * p.in_channels + ic) * in_plane..][..in_plane];
                    let wk = &w[(ic * cout_g + ocg) * ksize..][..ksize];
                    for a in 0..kd {
                        let offd = (a * dd) as isize - pd as isize;
                        let (d0, d1) = valid_range(id, od, sd, offd);
                        for b in 0..kh {
                            let offh = (b * dh) as isize - ph as isize;
                            let (h0, h1) = valid_range(ih, oh, sh, offh);
                            for c in 0..kw {
                                let offw = (c * dw) as isize - pw as isize;
                                let (w0, w1) = valid_range(iw, ow, sw, offw);
                                if w0 >= w1 || h0 >= h1 {
                                    continue;
                                }
                                let wv = wk[(a * kh + b) * kw + c];
                                let ys = ((w0 * sw) as isize + offw) as usize;
                                let len = w1 - w0;
                                for i_d in d0..d1 {
                                    let o_d = ((i_d * sd) as isize + offd) as usize;
                                    for i_h in h0..h1 {
                                        let o_h = ((i_h * sh) as isize + offh) as usize;
                                        let xr = &xp[(i_d * ih + i_h) * iw + w0..][..len];
                                        let yrow = &mut yp[(o_d * oh + o_h) * ow..][..ow];
                                        if sw == 1 {
                                            axpy(wv, xr, &mut yrow[ys..ys + len]);
                                        } else {
                                            for (j, &xv) in xr.iter().enumerate() {
                                                yrow[ys + j * sw] += wv * xv;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p.activation.apply_slice(yp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[allow(clippy::too_many_arguments)]
    fn p2d(
        c: usize,
        m: usize,
        g: usize,
        hw: [usize; 2],
        k: [usize; 2],
        s: [usize; 2],
        d: [usize; 2],
        pb: [usize; 2],
        pe: [usize; 2],
    ) -> ConvParams {
        let oh = ConvParams::out_dim(hw[0], k[0], s[0], d[0], pb[0], pe[0]);
        let ow = ConvParams::out_dim(hw[1], k[1], s[1], d[1], pb[1], pe[1]);
        ConvParams {
            batch: 1,
            in_channels: c,
            out_channels: m,
            group: g,
            in_spatial: [1, hw[0], hw[1]],
            out_spatial: [1, oh, ow],
            kernel: [1, k[0], k[1]],
            strides: [1, s[0], s[1]],
            dilations: [1, d[0], d[1]],
            pads_begin: [0, pb[0], pb[1]],
            pads_end: [0, pe[0], pe[1]],
            activation: Activation::None,
        }
    }

    /// Direct (naive) convolution used as a cross-check.
    fn naive(x: &[f32], w: &[f32], bias: Option<&[f32]>, p: &ConvParams) -> Vec<f32> {
        let [id, ih, iw] = p.in_spatial;
        let [od, oh, ow] = p.out_spatial;
        let [kd, kh, kw] = p.kernel;
        let cin_g = p.in_channels / p.group;
        let cout_g = p.out_channels / p.group;
        let mut y = Vec::new();
        for n in 0..p.batch {
            for oc in 0..p.out_channels {
                let g = oc / cout_g;
                for a in 0..od {
                    for b in 0..oh {
                        for c in 0..ow {
                            let mut s = bias.map_or(0.0, |bb| bb[oc]);
                            for icg in 0..cin_g {
                                let ic = g * cin_g + icg;
                                for u in 0..kd {
                                    for v in 0..kh {
                                        for t in 0..kw {
                                            let zd = (a * p.strides[0] + u * p.dilations[0])
                                                as isize
                                                - p.pads_begin[0] as isize;
                                            let zh = (b * p.strides[1] + v * p.dilations[1])
                                                as isize
                                                - p.pads_begin[1] as isize;
                                            let zw = (c * p.strides[2] + t * p.dilations[2])
                                                as isize
                                                - p.pads_begin[2] as isize;
                                            if zd < 0
                                                || zh < 0
                                                || zw < 0
                                                || zd >= id as isize
                                                || zh >= ih as isize
                                                || zw >= iw as isize
                                            {
                                                continue;
                                            }
                                            let xi = (((n * p.in_channels + ic) * id
                                                + zd as usize)
                                                * ih
                                                + zh as usize)
                                                * iw
                                                + zw as usize;
                                            let wi =
                                                (((oc * cin_g + icg) * kd + u) * kh + v) * kw + t;
                                            s += x[xi] * w[wi];
                                        }
                                    }
                                }
                            }
                            y.push(p.activation.apply(s));
                        }
                    }
                }
            }
        }
        y
    }

    fn seq(n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) * scale)
            .collect()
    }

    #[test]
    fn conv_3x3_pad1_hand_checked() {
        // x = 1..9 in a 3x3 image, all-ones 3x3 kernel, pad 1: each output is
        // the sum of its 3x3 neighbourhood (numpy-checked).
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let w = [1.0f32; 9];
        let p = p2d(1, 1, 1, [3, 3], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        let mut y = [0.0f32; 9];
        conv(&x, &w, Some(&[0.5]), &mut y, &p);
        assert_eq!(y, [12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5]);
    }

    #[test]
    fn conv_matches_naive_on_many_configs() {
        let configs = [
            // c, m, g, hw, k, s, d, pb, pe
            (3, 4, 1, [7, 6], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]),
            (2, 2, 1, [5, 5], [5, 5], [1, 1], [1, 1], [2, 2], [2, 2]),
            (4, 4, 4, [6, 7], [3, 3], [2, 2], [1, 1], [1, 1], [0, 1]),
            (4, 8, 2, [8, 8], [3, 2], [2, 3], [2, 1], [2, 0], [1, 3]),
            (3, 2, 1, [4, 4], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0]),
            (1, 1, 1, [2, 3], [3, 3], [1, 1], [1, 1], [3, 3], [3, 3]),
            (2, 3, 1, [1, 9], [1, 3], [1, 2], [1, 3], [0, 2], [0, 2]),
        ];
        for (c, m, g, hw, k, s, d, pb, pe) in configs {
            let mut p = p2d(c, m, g, hw, k, s, d, pb, pe);
            p.batch = 2;
            p.activation = Activation::LeakyRelu { alpha: 0.1 };
            let x = seq(2 * c * hw[0] * hw[1], 0.25);
            let w = seq(m * (c / g) * k[0] * k[1], 0.5);
            let bias = seq(m, 0.1);
            let want = naive(&x, &w, Some(&bias), &p);
            let mut y = std::vec![0.0f32; want.len()];
            conv(&x, &w, Some(&bias), &mut y, &p);
            for (a, b) in y.iter().zip(&want) {
                assert!((a - b).abs() < 1e-4, "{p:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn conv_3d_matches_naive() {
        let p = ConvParams {
            batch: 1,
            in_channels: 2,
            out_channels: 3,
            group: 1,
            in_spatial: [4, 5, 3],
            out_spatial: [
                ConvParams::out_dim(4, 2, 1, 1, 1, 0),
                ConvParams::out_dim(5, 3, 2, 1, 1, 1),
                ConvParams::out_dim(3, 2, 1, 2, 1, 1),
            ],
            kernel: [2, 3, 2],
            strides: [1, 2, 1],
            dilations: [1, 1, 2],
            pads_begin: [1, 1, 1],
            pads_end: [0, 1, 1],
            activation: Activation::None,
        };
        let x = seq(2 * 4 * 5 * 3, 0.3);
        let w = seq(3 * 2 * 2 * 3 * 2, 0.2);
        let want = naive(&x, &w, None, &p);
        let mut y = std::vec![0.0f32; want.len()];
        conv(&x, &w, None, &mut y, &p);
        for (a, b) in y.iter().zip(&want) {
            assert!((a - b).abs() < 1e-4);
        }
    }

    #[test]
    fn conv_transpose_hand_checked() {
        // ONNX doc example "convtranspose": x = 0..9 (3x3), w = ones [1,2,3,3]
        // gives 5x5 outputs; the first channel's first row is [0, 1, 3, 3, 2].
        let x: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let w = [1.0f32; 18];
        let p = ConvTransposeParams {
            batch: 1,
            in_channels: 1,
            out_channels: 2,
            group: 1,
            in_spatial: [1, 3, 3],
            out_spatial: [1, 5, 5],
            kernel: [1, 3, 3],
            strides: [1, 1, 1],
            dilations: [1, 1, 1],
            pads_begin: [0, 0, 0],
            pads_end: [0, 0, 0],
            activation: Activation::None,
        };
        let mut y = [0.0f32; 50];
        conv_transpose(&x, &w, None, &mut y, &p);
        let want = [
            0.0, 1.0, 3.0, 3.0, 2.0, 3.0, 8.0, 15.0, 12.0, 7.0, 9.0, 21.0, 36.0, 27.0, 15.0, 9.0,
            20.0, 33.0, 24.0, 13.0, 6.0, 13.0, 21.0, 15.0, 8.0,
        ];
        assert_eq!(&y[..25], &want);
        assert_eq!(&y[25..], &want);
    }

    #[test]
    fn conv_transpose_strided_padded() {
        // ONNX "convtranspose_pads": x 0..9 (3x3), w ones [1,2,3,3],
        // strides [3,2], pads [1,2,1,2], output 7x3. First channel from the
        // ONNX backend test data.
        let x: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let w = [1.0f32; 18];
        let p = ConvTransposeParams {
            batch: 1,
            in_channels: 1,
            out_channels: 2,
            group: 1,
            in_spatial: [1, 3, 3],
            out_spatial: [1, 7, 3],
            kernel: [1, 3, 3],
            strides: [1, 3, 2],
            dilations: [1, 1, 1],
            pads_begin: [0, 1, 2],
            pads_end: [0, 1, 2],
            activation: Activation::None,
        };
        let mut y = [0.0f32; 42];
        conv_transpose(&x, &w, None, &mut y, &p);
        let want = [
            1.0, 1.0, 3.0, 1.0, 1.0, 3.0, 7.0, 4.0, 9.0, 7.0, 4.0, 9.0, 7.0, 4.0, 9.0, 13.0, 7.0,
            15.0, 13.0, 7.0, 15.0,
        ];
        assert_eq!(&y[..21], &want);
    }
}
