//! `Resize` (and `Upsample`): nearest, N-linear and cubic interpolation with
//! the ONNX coordinate transformation modes. `antialias` is not supported.
//!
//! Coordinates are computed in `f64`, as the ONNX reference implementation
//! does, so ties in nearest rounding resolve the same way.

use super::shape::{contiguous_strides, Dims, MAX_RANK};

/// Rounding of the source coordinate in nearest mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NearestMode {
    /// Round, ties toward the floor (ONNX default).
    RoundPreferFloor,
    /// Round, ties toward the ceiling.
    RoundPreferCeil,
    /// Floor.
    Floor,
    /// Ceiling.
    Ceil,
}

/// Interpolation mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ResizeMode {
    /// Nearest neighbour.
    Nearest(NearestMode),
    /// (N-)linear interpolation.
    Linear,
    /// Cubic convolution with coefficient `a` (ONNX default -0.75).
    Cubic {
        /// The cubic coefficient.
        a: f32,
    },
}

/// `coordinate_transformation_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordMode {
    /// `(x + 0.5) / scale - 0.5` (ONNX default).
    HalfPixel,
    /// Half pixel, centred for non-integer output sizes (opset 19).
    HalfPixelSymmetric,
    /// Half pixel, but 0 when the output length is 1.
    PytorchHalfPixel,
    /// `x * (in - 1) / (out - 1)`.
    AlignCorners,
    /// `x / scale`.
    Asymmetric,
    /// `(x + 0.5) / scale`.
    TfHalfPixelForNn,
    /// Crop to the region of interest, then align corners; samples outside
    /// the input get `extrapolation_value`.
    TfCropAndResize,
}

/// Parameters of [`resize`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResizeParams {
    /// Rank (0..=6).
    pub rank: usize,
    /// Input shape.
    pub in_shape: Dims,
    /// Output shape.
    pub out_shape: Dims,
    /// Scale per axis (the given `scales`, or `out / in` when `sizes` were
    /// given, after `keep_aspect_ratio_policy`). Coordinate modes that use
    /// the resized length (`align_corners`, `tf_crop_and_resize`,
    /// `pytorch_half_pixel`, `half_pixel_symmetric`) take it as
    /// `scale * in`, as the ONNX reference implementation does.
    pub scales: [f32; MAX_RANK],
    /// Interpolation mode.
    pub mode: ResizeMode,
    /// Coordinate transformation.
    pub coord: CoordMode,
    /// Region of interest start per axis (normalized; `TfCropAndResize` only).
    pub roi_start: [f32; MAX_RANK],
    /// Region of interest end per axis (normalized; `TfCropAndResize` only).
    pub roi_end: [f32; MAX_RANK],
    /// Value for samples outside the input (`TfCropAndResize` only).
    pub extrapolation_value: f32,
    /// Give taps outside the input zero weight and renormalize (linear and
    /// cubic).
    pub exclude_outside: bool,
}

/// Source taps of one output coordinate on one axis.
#[derive(Clone, Copy, Debug, Default)]
struct Taps {
    idx: [usize; 4],
    w: [f32; 4],
    n: usize,
    outside: bool,
}

#[inline]
fn floor_f64(x: f64) -> f64 {
    let i = x as i64 as f64;
    if i > x {
        i - 1.0
    } else {
        i
    }
}

/// Source coordinate of output position `o` on axis `ax`.
fn source_coord(o: usize, ax: usize, p: &ResizeParams) -> f64 {
    let x = o as f64;
    let s = p.scales[ax] as f64;
    let lin = p.in_shape[ax] as f64;
    // As in the ONNX reference, the "resized length" in these formulas is
    // `scale * in`, which differs from the integer output length when the
    // scale does not divide evenly (e.g. downsampling by 0.6).
    let lout = s * lin;
    let lout_int = p.out_shape[ax] as f64;
    match p.coord {
        CoordMode::HalfPixel => (x + 0.5) / s - 0.5,
        CoordMode::HalfPixelSymmetric => {
            let adj = lout_int / lout;
            let center = lin / 2.0;
            let offset = center * (1.0 - adj);
            offset + (x + 0.5) / s - 0.5
        }
        CoordMode::PytorchHalfPixel => {
            if lout == 1.0 {
                -0.5
            } else {
                (x + 0.5) / s - 0.5
            }
        }
        CoordMode::AlignCorners => {
            if lout == 1.0 {
                0.0
            } else {
                x * (lin - 1.0) / (lout - 1.0)
            }
        }
        CoordMode::Asymmetric => x / s,
        CoordMode::TfHalfPixelForNn => (x + 0.5) / s,
        CoordMode::TfCropAndResize => {
            let (st, en) = (p.roi_start[ax] as f64, p.roi_end[ax] as f64);
            if lout == 1.0 {
                0.5 * (st + en) * (lin - 1.0)
            } else {
                st * (lin - 1.0) + x * (en - st) * (lin - 1.0) / (lout - 1.0)
            }
        }
    }
}

fn axis_taps(o: usize, ax: usize, p: &ResizeParams) -> Taps {
    let lin = p.in_shape[ax];
    let x = source_coord(o, ax, p);
    let mut t = Taps::default();
    if p.coord == CoordMode::TfCropAndResize && (x < 0.0 || x > (lin as f64 - 1.0)) {
        t.outside = true;
        return t;
    }
    let last = lin as i64 - 1;
    let clamp = |i: i64| i.clamp(0, last.max(0)) as usize;
    let f = floor_f64(x);
    let r = x - f;
    let fi = f as i64;
    let (first, coeffs, n): (i64, [f64; 4], usize) = match p.mode {
        ResizeMode::Nearest(m) => {
            let i = if r == 0.0 {
                fi
            } else {
                match m {
                    NearestMode::RoundPreferFloor => fi + (r > 0.5) as i64,
                    NearestMode::RoundPreferCeil => fi + (r >= 0.5) as i64,
                    NearestMode::Floor => fi,
                    NearestMode::Ceil => fi + 1,
                }
            };
            (i, [1.0, 0.0, 0.0, 0.0], 1)
        }
        ResizeMode::Linear => (fi, [1.0 - r, r, 0.0, 0.0], 2),
        ResizeMode::Cubic { a } => {
            let a = a as f64;
            let c = |d: f64| -> f64 {
                // Keys cubic kernel on |d|.
                let d = if d < 0.0 { -d } else { d };
                if d <= 1.0 {
                    ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0
                } else if d < 2.0 {
                    ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a
                } else {
                    0.0
                }
            };
            (fi - 1, [c(r + 1.0), c(r), c(1.0 - r), c(2.0 - r)], 4)
        }
    };
    let mut coeffs = coeffs;
    if p.exclude_outside && n > 1 {
        let mut sum = 0.0;
        for (k, c) in coeffs.iter_mut().enumerate().take(n) {
            let i = first + k as i64;
            if i < 0 || i > last {
                *c = 0.0;
            }
            sum += *c;
        }
        if sum != 0.0 {
            for c in coeffs.iter_mut().take(n) {
                *c /= sum;
            }
        }
    }
    for (k, &c) in coeffs.iter().enumerate().take(n) {
        t.idx[k] = clamp(first + k as i64);
        t.w[k] = c as f32;
    }
    t.n = n;
    t
}

/// Resizes `x` (shape `p.in_shape`) into `y` (shape `p.out_shape`).
pub fn resize(x: &[f32], y: &mut [f32], p: &ResizeParams) {
    let r = p.rank;
    if r == 0 {
        if let (Some(o), Some(&v)) = (y.first_mut(), x.first()) {
            *o = v;
        }
        return;
    }
    let si = contiguous_strides(&p.in_shape, r);
    let out_n = p.out_shape[r - 1];
    let rows: usize = p.out_shape[..r - 1].iter().product();
    if out_n == 0 || rows == 0 {
        return;
    }
    let mut idx = [0usize; MAX_RANK];
    let mut taps = [Taps::default(); MAX_RANK];
    for row in 0..rows {
        let mut outside = false;
        for d in 0..r - 1 {
            taps[d] = axis_taps(idx[d], d, p);
            outside |= taps[d].outside;
        }
        let yr = &mut y[row * out_n..][..out_n];
        if outside {
            yr.fill(p.extrapolation_value);
        } else {
            for (o, yv) in yr.iter_mut().enumerate() {
                taps[r - 1] = axis_taps(o, r - 1, p);
                *yv = if taps[r - 1].outside {
                    p.extrapolation_value
                } else {
                    sample(x, &taps, &si, r)
                };
            }
        }
        let mut d = r - 1;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            if idx[d] < p.out_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Weighted sum over the tensor product of the per-axis taps.
#[inline]
fn sample(x: &[f32], taps: &[Taps; MAX_RANK], si: &[isize; MAX_RANK], r: usize) -> f32 {
    let mut k = [0usize; MAX_RANK];
    let mut acc = 0.0f32;
    'combos: loop {
        let mut off = 0usize;
        let mut w = 1.0f32;
        for d in 0..r {
            off += taps[d].idx[k[d]] * si[d] as usize;
            w *= taps[d].w[k[d]];
        }
        if w != 0.0 {
            acc += w * x[off];
        }
        let mut d = r;
        while d > 0 {
            d -= 1;
            k[d] += 1;
            if k[d] < taps[d].n {
                continue 'combos;
            }
            k[d] = 0;
        }
        return acc;
    }
}

#[cfg(test)]
mod tests {
    use super::super::shape::dims;
    use super::*;

    fn params(
        inp: &[usize],
        out: &[usize],
        scales: &[f32],
        mode: ResizeMode,
        coord: CoordMode,
    ) -> ResizeParams {
        let mut s = [1.0f32; MAX_RANK];
        s[..scales.len()].copy_from_slice(scales);
        ResizeParams {
            rank: inp.len(),
            in_shape: dims(inp),
            out_shape: dims(out),
            scales: s,
            mode,
            coord,
            roi_start: [0.0; MAX_RANK],
            roi_end: [1.0; MAX_RANK],
            extrapolation_value: 0.0,
            exclude_outside: false,
        }
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, z) in a.iter().zip(b) {
            assert!((x - z).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    const X4: [f32; 16] = [
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0,
    ];

    #[test]
    fn nearest_upsample_and_downsample() {
        // ONNX resize_upsample_scales_nearest: [[1,2],[3,4]] scales [1,1,2,3]
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let mut y = [0.0f32; 24];
        let p = params(
            &[1, 1, 2, 2],
            &[1, 1, 4, 6],
            &[1.0, 1.0, 2.0, 3.0],
            ResizeMode::Nearest(NearestMode::RoundPreferFloor),
            CoordMode::HalfPixel,
        );
        resize(&x, &mut y, &p);
        close(
            &y,
            &[
                1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0,
                4.0, 4.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0,
            ],
        );
        // ONNX resize_downsample_scales_nearest: [[1,2,3,4],[5,6,7,8]] scales 0.6 -> [[1,3]]
        let x8 = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let mut y = [0.0f32; 2];
        let p = params(
            &[1, 1, 2, 4],
            &[1, 1, 1, 2],
            &[1.0, 1.0, 0.6, 0.6],
            ResizeMode::Nearest(NearestMode::RoundPreferFloor),
            CoordMode::HalfPixel,
        );
        resize(&x8, &mut y, &p);
        close(&y, &[1.0, 3.0]);
    }

    #[test]
    fn linear_modes() {
        // ONNX resize_upsample_scales_linear (half_pixel): [[1,2],[3,4]] x2
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let mut y = [0.0f32; 16];
        let p = params(
            &[1, 1, 2, 2],
            &[1, 1, 4, 4],
            &[1.0, 1.0, 2.0, 2.0],
            ResizeMode::Linear,
            CoordMode::HalfPixel,
        );
        resize(&x, &mut y, &p);
        close(
            &y,
            &[
                1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75,
                4.0,
            ],
        );
        // ..._align_corners
        let p = params(
            &[1, 1, 2, 2],
            &[1, 1, 4, 4],
            &[1.0, 1.0, 2.0, 2.0],
            ResizeMode::Linear,
            CoordMode::AlignCorners,
        );
        resize(&x, &mut y, &p);
        close(
            &y,
            &[
                1.0,
                1.333_333_3,
                1.666_666_7,
                2.0,
                1.666_666_7,
                2.0,
                2.333_333_3,
                2.666_666_7,
                2.333_333_3,
                2.666_666_7,
                3.0,
                3.333_333_3,
                3.0,
                3.333_333_3,
                3.666_666_7,
                4.0,
            ],
        );
        // resize_downsample_scales_linear: [[1..4],[5..8]] scales 0.6 -> [[2.6666665, 4.3333331]]
        let x8 = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let mut y = [0.0f32; 2];
        let p = params(
            &[1, 1, 2, 4],
            &[1, 1, 1, 2],
            &[1.0, 1.0, 0.6, 0.6],
            ResizeMode::Linear,
            CoordMode::HalfPixel,
        );
        resize(&x8, &mut y, &p);
        close(&y, &[2.666_666_5, 4.333_333]);
    }

    #[test]
    fn cubic_and_crop() {
        // ONNX resize_downsample_scales_cubic: 4x4 (1..16) scales 0.8 -> 3x3
        let mut y = [0.0f32; 9];
        let p = params(
            &[1, 1, 4, 4],
            &[1, 1, 3, 3],
            &[1.0, 1.0, 0.8, 0.8],
            ResizeMode::Cubic { a: -0.75 },
            CoordMode::HalfPixel,
        );
        resize(&X4, &mut y, &p);
        // Values from the ONNX reference algorithm (numpy re-implementation).
        close(
            &y,
            &[
                1.471_191_4,
                2.781_25,
                4.082_519_5,
                6.711_426,
                8.021_484,
                9.322_754,
                11.916_504,
                13.226_563,
                14.527_832,
            ],
        );
        // tf_crop_and_resize with extrapolation: roi [0.4, 0.6] -> [0.6, 0.8]
        let mut p = params(
            &[1, 1, 4, 4],
            &[1, 1, 3, 3],
            &[1.0, 1.0, 0.75, 0.75],
            ResizeMode::Linear,
            CoordMode::TfCropAndResize,
        );
        p.roi_start = [0.0, 0.0, 0.4, 0.6, 0.0, 0.0];
        p.roi_end = [1.0, 1.0, 0.6, 0.8, 1.0, 1.0];
        resize(&X4, &mut y, &p);
        close(&y, &[7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10.0, 10.3, 10.6]);
        p.roi_start = [0.0, 0.0, 0.4, 0.6, 0.0, 0.0];
        p.roi_end = [1.0, 1.0, 1.2, 1.7, 1.0, 1.0];
        p.extrapolation_value = 10.0;
        resize(&X4, &mut y, &p);
        close(
            &y,
            &[7.6, 10.0, 10.0, 12.400_001, 10.0, 10.0, 10.0, 10.0, 10.0],
        );
    }
}
