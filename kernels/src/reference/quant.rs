//! Quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
//! MatMulInteger and QLinearMatMul.

use super::super::math;
use super::conv::ConvParams;
use super::matmul::{for_each_batch, MatMulParams};
use super::shape::valid_range;

/// Integer types a tensor can be quantized to.
pub trait QuantInt: Copy {
    /// Smallest representable value.
    const QMIN: i32;
    /// Largest representable value.
    const QMAX: i32;
    /// Converts an in-range `i32` (callers saturate first).
    fn from_i32(v: i32) -> Self;
    /// Widens to `i32`.
    fn to_i32(self) -> i32;
}

macro_rules! impl_quant {
    ($($t:ty),*) => {$(
        impl QuantInt for $t {
            const QMIN: i32 = <$t>::MIN as i32;
            const QMAX: i32 = <$t>::MAX as i32;
            #[inline(always)]
            fn from_i32(v: i32) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_i32(self) -> i32 {
                self as i32
            }
        }
    )*};
}
impl_quant!(i8, u8, i16, u16);

/// Where the scale and zero point of each element come from. The tensor is
/// viewed as `[outer, axis_len, inner]` around the quantization axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantParams {
    /// Product of the dims before the axis (1 for per-tensor).
    pub outer: usize,
    /// Length of the quantization axis (1 for per-tensor).
    pub axis_len: usize,
    /// Product of the dims after the axis (the whole size for per-tensor).
    pub inner: usize,
    /// 0: one scale per axis index (per-tensor when `axis_len == 1`).
    /// `B > 0`: blocked quantization; the scale tensor has the input's shape
    /// with the axis dim `ceil(axis_len / B)`.
    pub block_size: usize,
}

impl QuantParams {
    /// Per-tensor parameters for `len` elements.
    pub const fn per_tensor(len: usize) -> Self {
        QuantParams {
            outer: 1,
            axis_len: 1,
            inner: len,
            block_size: 0,
        }
    }
}

/// Calls `f(element_index, scale_index)` for every element.
#[inline(always)]
fn for_each_scaled<F: FnMut(usize, usize)>(p: &QuantParams, mut f: F) {
    let (n, inner) = (p.axis_len, p.inner);
    let nb = if p.block_size > 0 {
        n.div_ceil(p.block_size)
    } else {
        0
    };
    for o in 0..p.outer {
        for a in 0..n {
            let base = (o * n + a) * inner;
            match a.checked_div(p.block_size) {
                None => {
                    for i in 0..inner {
                        f(base + i, a);
                    }
                }
                Some(blk) => {
                    let sb = (o * nb + blk) * inner;
                    for i in 0..inner {
                        f(base + i, sb + i);
                    }
                }
            }
        }
    }
}

/// Saturating `round_half_even(v) + zp` into `Q`'s range.
#[inline(always)]
fn requant<Q: QuantInt>(v: f32, zp: i32) -> Q {
    let r = math::roundf(v);
    let q = if r.is_nan() { zp as f32 } else { r + zp as f32 };
    let q = q.clamp(Q::QMIN as f32, Q::QMAX as f32);
    Q::from_i32(q as i32)
}

/// `v`, hidden from the optimizer: a scale LLVM must not treat as a known
/// constant.
///
/// rustc 1.95 (LLVM 22.1.2) miscompiles `(integer as f32) * C`, for a
/// power-of-two constant `C`, when it vectorizes the loop for Helium
/// (`-C target-cpu=cortex-m55`): it folds the multiply into a fixed-point
/// `VCVT.F32.U32 Qd, Qm, #fbits` but emits the fbits operand as a register
/// (`vcvt.f32.u32 q0, q0, r3` in `--emit asm`), which the assembler encodes
/// as a wrong fbits (`#13` for `r3`, `#12` for `r2`). With LTO the scales of
/// a model are such constants: ResNet-8 int8 (QOperator)'s final
/// DequantizeLinear (scale 1/256) returned its first eight outputs divided
/// by 16 on `qemu-mps3-an547`. An opaque scale keeps a plain `VCVT` + `VMUL`
/// (one call per kernel call; the loops are unchanged).
#[inline(always)]
fn opaque<T>(v: T) -> T {
    core::hint::black_box(v)
}

/// `QuantizeLinear`: `y = saturate(round_half_even(x / scale) + zero_point)`.
/// `zero_point` is `None` for 0.
pub fn quantize_linear<Q: QuantInt>(
    x: &[f32],
    scale: &[f32],
    zero_point: Option<&[Q]>,
    y: &mut [Q],
    p: &QuantParams,
) {
    for_each_scaled(p, |e, s| {
        let zp = zero_point.map_or(0, |z| z[s].to_i32());
        y[e] = requant::<Q>(x[e] / scale[s], zp);
    });
}

/// `DequantizeLinear`: `y = (x - zero_point) * scale`. Also accepts `i32`
/// input through [`dequantize_linear_i32`].
pub fn dequantize_linear<Q: QuantInt>(
    x: &[Q],
    scale: &[f32],
    zero_point: Option<&[Q]>,
    y: &mut [f32],
    p: &QuantParams,
) {
    let scale = opaque(scale);
    for_each_scaled(p, |e, s| {
        let zp = zero_point.map_or(0, |z| z[s].to_i32());
        y[e] = (x[e].to_i32() - zp) as f32 * scale[s];
    });
}

/// `DequantizeLinear` of `i32` data (zero point 0 by the ONNX spec).
pub fn dequantize_linear_i32(x: &[i32], scale: &[f32], y: &mut [f32], p: &QuantParams) {
    let scale = opaque(scale);
    for_each_scaled(p, |e, s| {
        y[e] = x[e] as f32 * scale[s];
    });
}

/// `DynamicQuantizeLinear` (uint8): returns `(scale, zero_point)` computed
/// from the range of `x` (always including 0) and writes `y`.
pub fn dynamic_quantize_linear(x: &[f32], y: &mut [u8]) -> (f32, u8) {
    let (mut lo, mut hi) = (0.0f32, 0.0f32);
    for &v in x {
        if v < lo {
            lo = v;
        }
        if v > hi {
            hi = v;
        }
    }
    let scale = (hi - lo) / 255.0;
    let zp: u8 = if scale == 0.0 {
        0
    } else {
        requant::<u8>(-lo / scale, 0)
    };
    for (o, &v) in y.iter_mut().zip(x) {
        *o = if scale == 0.0 {
            zp
        } else {
            requant::<u8>(v / scale, zp as i32)
        };
    }
    (scale, zp)
}

/// `MatMulInteger`: `y = (a - a_zero_point) @ (b - b_zero_point)` in `i32`,
/// with per-tensor zero points (batched and broadcast as [`MatMulParams`]).
pub fn matmul_integer<A: QuantInt, B: QuantInt>(
    a: &[A],
    b: &[B],
    a_zero_point: i32,
    b_zero_point: i32,
    y: &mut [i32],
    p: &MatMulParams,
) {
    let (m, k, n) = (p.m, p.k, p.n);
    for_each_batch(p, |ao, bo, yo| {
        for i in 0..m {
            let yr = &mut y[yo + i * n..][..n];
            yr.fill(0);
            for kk in 0..k {
                let av = a[ao + i * k + kk].to_i32() - a_zero_point;
                let br = &b[bo + kk * n..][..n];
                for (yv, bv) in yr.iter_mut().zip(br) {
                    *yv = yv.wrapping_add(av * (bv.to_i32() - b_zero_point));
                }
            }
        }
    });
}

/// Scales and zero points of [`qlinear_matmul`] (per tensor).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QLinearMatMulParams {
    /// Shapes and batching.
    pub mm: MatMulParams,
    /// Scale of `a`.
    pub a_scale: f32,
    /// Zero point of `a`.
    pub a_zero_point: i32,
    /// Scale of `b`.
    pub b_scale: f32,
    /// Zero point of `b`.
    pub b_zero_point: i32,
    /// Scale of `y`.
    pub y_scale: f32,
    /// Zero point of `y`.
    pub y_zero_point: i32,
}

/// `QLinearMatMul`: integer product requantized to `y`'s scale:
/// `y = saturate(round(acc * a_scale * b_scale / y_scale) + y_zero_point)`.
pub fn qlinear_matmul<A: QuantInt, B: QuantInt, Y: QuantInt>(
    a: &[A],
    b: &[B],
    y: &mut [Y],
    q: &QLinearMatMulParams,
) {
    let p = &q.mm;
    let (m, k, n) = (p.m, p.k, p.n);
    let mult = q.a_scale * q.b_scale / q.y_scale;
    for_each_batch(p, |ao, bo, yo| {
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0i32;
                for kk in 0..k {
                    let av = a[ao + i * k + kk].to_i32() - q.a_zero_point;
                    let bv = b[bo + kk * n + j].to_i32() - q.b_zero_point;
                    acc = acc.wrapping_add(av * bv);
                }
                y[yo + i * n + j] = requant::<Y>(acc as f32 * mult, q.y_zero_point);
            }
        }
    });
}

/// Direct integer convolution: calls `out(index, oc, acc)` with the `i32`
/// sum of `(x - x_zp) * (w - w_zp[oc])` for every output element. Padding
/// contributes nothing (it equals the zero point). `w_zp` has one entry per
/// output channel or a single entry.
fn conv_acc<X: QuantInt, W: QuantInt, F: FnMut(usize, usize, i32)>(
    x: &[X],
    x_zp: i32,
    w: &[W],
    w_zp: &[i32],
    p: &ConvParams,
    mut out: F,
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
    for n in 0..p.batch {
        for oc in 0..p.out_channels {
            let g = oc / cout_g.max(1);
            let wz = if w_zp.len() > 1 {
                w_zp[oc]
            } else {
                w_zp.first().copied().unwrap_or(0)
            };
            for a in 0..od {
                for b in 0..oh {
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
                                    let zh = (b * sh + v * dh) as isize - ph as isize;
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
                        out(
                            ((n * p.out_channels + oc) * out_plane) + (a * oh + b) * ow + c,
                            oc,
                            acc,
                        );
                    }
                }
            }
        }
    }
}

/// `ConvInteger`: `y = conv(x - x_zero_point, w - w_zero_point)` in `i32`.
/// `w_zero_point` is per tensor (one entry) or per output channel. The
/// activation field of `p` is ignored.
pub fn conv_integer<X: QuantInt, W: QuantInt>(
    x: &[X],
    x_zero_point: i32,
    w: &[W],
    w_zero_point: &[i32],
    y: &mut [i32],
    p: &ConvParams,
) {
    conv_acc(x, x_zero_point, w, w_zero_point, p, |i, _, acc| y[i] = acc);
}

/// Scales and zero points of [`qlinear_conv`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QLinearConvParams {
    /// Shapes (the activation field is ignored).
    pub conv: ConvParams,
    /// Scale of `x`.
    pub x_scale: f32,
    /// Zero point of `x`.
    pub x_zero_point: i32,
    /// Scale of `y`.
    pub y_scale: f32,
    /// Zero point of `y`.
    pub y_zero_point: i32,
}

/// `QLinearConv`: integer convolution plus `i32` bias, requantized:
/// `y = saturate(round((acc + bias[oc]) * x_scale * w_scale[oc] / y_scale) + y_zero_point)`.
/// `w_scale` and `w_zero_point` have one entry (per tensor) or one per
/// output channel.
pub fn qlinear_conv<X: QuantInt, W: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[W],
    w_scale: &[f32],
    w_zero_point: &[i32],
    bias: Option<&[i32]>,
    y: &mut [Y],
    q: &QLinearConvParams,
) {
    conv_acc(x, q.x_zero_point, w, w_zero_point, &q.conv, |i, oc, acc| {
        let ws = if w_scale.len() > 1 {
            w_scale[oc]
        } else {
            w_scale[0]
        };
        let acc = acc.wrapping_add(bias.map_or(0, |b| b[oc]));
        // Same order of operations as the ONNX reference: the combined
        // multiplier in f32, applied to the integer accumulator.
        let mult = q.x_scale * ws / q.y_scale;
        y[i] = requant::<Y>(acc as f32 * mult, q.y_zero_point);
    });
}

#[cfg(test)]
mod tests {
    use super::super::shape::dims;
    use super::*;

    #[test]
    fn quantize_dequantize() {
        // ONNX QuantizeLinear example: x [0, 2, 3, 1000, -254, -1000], scale 2, zp 128
        let x = [0.0f32, 2.0, 3.0, 1000.0, -254.0, -1000.0];
        let mut y = [0u8; 6];
        quantize_linear(
            &x,
            &[2.0],
            Some(&[128u8]),
            &mut y,
            &QuantParams::per_tensor(6),
        );
        assert_eq!(y, [128, 129, 130, 255, 1, 0]);
        // per-axis (axis 1 of [1, 2, 2]): scales [1, 2], zp [0, 1]
        let mut yi = [0i8; 4];
        quantize_linear(
            &[1.0, 2.5, 4.0, -300.0],
            &[1.0, 2.0],
            Some(&[0i8, 1]),
            &mut yi,
            &QuantParams {
                outer: 1,
                axis_len: 2,
                inner: 2,
                block_size: 0,
            },
        );
        assert_eq!(yi, [1, 2, 3, -128]);
        // ONNX DequantizeLinear example: x [0, 3, 128, 255], scale 2, zp 128
        let mut f = [0.0f32; 4];
        dequantize_linear(
            &[0u8, 3, 128, 255],
            &[2.0],
            Some(&[128u8]),
            &mut f,
            &QuantParams::per_tensor(4),
        );
        assert_eq!(f, [-256.0, -250.0, 0.0, 254.0]);
    }

    #[test]
    fn dynamic_quantize() {
        // ONNX example: x [0, 2, -3, -2.5, 1.34, 0.5] -> scale 0.0196078, zp 153
        let mut y = [0u8; 6];
        let (s, zp) = dynamic_quantize_linear(&[0.0, 2.0, -3.0, -2.5, 1.34, 0.5], &mut y);
        assert!((s - 0.019_607_844).abs() < 1e-8);
        assert_eq!(zp, 153);
        assert_eq!(y, [153, 255, 0, 26, 221, 179]);
    }

    #[test]
    fn integer_matmuls() {
        // ONNX MatMulInteger example: A [[11,7,3],[10,6,2],[9,5,1],[8,4,0]] zp 12,
        // B [[1,4],[2,5],[3,6]] zp 0 -> [[-38,-83],[-44,-98],[-50,-113],[-56,-128]]
        let a = [11u8, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0];
        let b = [1u8, 4, 2, 5, 3, 6];
        let mm = MatMulParams {
            m: 4,
            k: 3,
            n: 2,
            batch_rank: 0,
            out_batch: dims(&[]),
            a_batch: dims(&[]),
            b_batch: dims(&[]),
        };
        let mut y = [0i32; 8];
        matmul_integer(&a, &b, 12, 0, &mut y, &mm);
        assert_eq!(y, [-38, -83, -44, -98, -50, -113, -56, -128]);
        // QLinearMatMul with unit scales is the saturated integer product.
        let q = QLinearMatMulParams {
            mm,
            a_scale: 1.0,
            a_zero_point: 12,
            b_scale: 1.0,
            b_zero_point: 0,
            y_scale: 0.5,
            y_zero_point: 0,
        };
        let mut yq = [0i8; 8];
        qlinear_matmul(&a, &b, &mut yq, &q);
        assert_eq!(yq, [-76, -128, -88, -128, -100, -128, -112, -128]);
    }
}
