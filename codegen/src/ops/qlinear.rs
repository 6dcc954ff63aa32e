//! Integer-only quantized operators: `QLinearConv`, `QLinearMatMul` and the
//! quantized `Add` the QDQ pass ([`crate::qdq`]) makes of
//! `DequantizeLinear → Add → QuantizeLinear`.
//!
//! Scales and zero points must be constants: the ratio of scales becomes a
//! fixed-point multiplier and shift per output channel at compile time
//! ([`Requant`]), so the generated code never touches float. A Relu or Clip
//! the QDQ pass folded in narrows the output's integer range.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use zant_kernels::reference::matmul::MatMulParams;
use zant_kernels::reference::qint::{QOut, Requant};
use zant_kernels::reference::shape::MAX_RANK;

use super::conv::Conv;
use super::util::{expect_dtype, opt, req};
use super::{
    shape_err, unsupported, Activation, ActivationExt, InputInfo, Op, OpError, OutputInfo,
};
use crate::attrs::Attrs;
use crate::emit::{arr_usize_n, lit_usize, NodeCx};
use crate::ir::{numel, DType};

const Q8: &[DType] = &[DType::I8, DType::U8];

/// An `i32` literal.
pub(crate) fn lit_i32(v: i32) -> Literal {
    Literal::i64_unsuffixed(v as i64)
}

/// The values of a constant scale input (`float` or `float16`).
pub(crate) fn const_scales(
    inputs: &[Option<InputInfo<'_>>],
    i: usize,
    what: &str,
) -> Result<Vec<f32>, OpError> {
    let s = req(inputs, i)?;
    expect_dtype(what, s.dtype, &[DType::F32, DType::F16])?;
    let d = s.data.ok_or_else(|| {
        unsupported(format!(
            "{what} computed at run time (integer kernels fix their requantization at compile time; bind it with --const NAME=FILE)"
        ))
    })?;
    let v: Vec<f32> = d.to_f64().into_iter().map(|v| v as f32).collect();
    if let Some(bad) = v.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(shape_err(format!("{what} {bad} is not a positive number")));
    }
    Ok(v)
}

/// The values of a constant zero-point input (0 when omitted).
pub(crate) fn const_zero_points(
    inputs: &[Option<InputInfo<'_>>],
    i: usize,
    what: &str,
) -> Result<Vec<i32>, OpError> {
    let Some(z) = opt(inputs, i) else {
        return Ok(vec![0]);
    };
    let d = z.data.ok_or_else(|| {
        unsupported(format!(
            "{what} computed at run time (bind it with --const NAME=FILE)"
        ))
    })?;
    Ok(d.to_i64()
        .ok_or_else(|| shape_err(format!("{what} must be an integer tensor")))?
        .into_iter()
        .map(|v| v as i32)
        .collect())
}

/// One value per channel: a single value repeated, or `n` values.
pub(crate) fn per_channel<T: Copy>(v: &[T], n: usize, what: &str) -> Result<Vec<T>, OpError> {
    match v.len() {
        1 => Ok(vec![v[0]; n]),
        l if l == n => Ok(v.to_vec()),
        l => Err(shape_err(format!(
            "{what} has {l} values, expected 1 or {n}"
        ))),
    }
}

/// Integer range of type `dt`.
fn type_range(dt: DType) -> (i32, i32) {
    match dt {
        DType::I8 => (-128, 127),
        DType::U8 => (0, 255),
        DType::I16 => (-32768, 32767),
        DType::U16 => (0, 65535),
        _ => (i32::MIN, i32::MAX),
    }
}

/// Output zero point and range of a quantized output of type `dt`, narrowed
/// by a fused activation's float bounds `clip` (quantized as
/// QuantizeLinear would).
pub fn q_out(dt: DType, scale: f32, zero_point: i32, clip: Option<(f32, f32)>) -> QOut {
    let (mut min, mut max) = type_range(dt);
    if let Some((lo, hi)) = clip {
        let q = |v: f32| {
            let r = (v / scale).round_ties_even();
            if r.is_nan() {
                zero_point as f64
            } else {
                r as f64 + zero_point as f64
            }
        };
        min = min.max(q(lo).clamp(i32::MIN as f64, i32::MAX as f64) as i32);
        max = max.min(q(hi).clamp(i32::MIN as f64, i32::MAX as f64) as i32);
    }
    QOut {
        zero_point,
        min,
        max: max.max(min),
    }
}

/// A [`QOut`] literal.
pub(crate) fn qout_tokens(o: &QOut, k: &TokenStream) -> TokenStream {
    let [z, lo, hi] = [o.zero_point, o.min, o.max].map(lit_i32);
    quote!(#k::qint::QOut { zero_point: #z, min: #lo, max: #hi })
}

/// `static NAME: [i32; n] = [...];` plus `static RQ…` for per-channel data.
fn channel_statics(
    k: &TokenStream,
    zero_points: &[i32],
    bias: &[i32],
    requant: &[Requant],
) -> TokenStream {
    let n = lit_usize(requant.len());
    let zp = zero_points.iter().map(|&v| lit_i32(v));
    let b = bias.iter().map(|&v| lit_i32(v));
    let rq = requant.iter().map(|r| {
        let (m, s) = (lit_i32(r.mult), Literal::u32_unsuffixed(r.shift));
        quote!(#k::qint::Requant { mult: #m, shift: #s })
    });
    let (zi, bi, ri) = (
        format_ident!("ZANT_ZP"),
        format_ident!("ZANT_BIAS"),
        format_ident!("ZANT_RQ"),
    );
    quote! {
        static #zi: [i32; #n] = [#(#zp),*];
        static #bi: [i32; #n] = [#(#b),*];
        static #ri: [#k::qint::Requant; #n] = [#(#rq),*];
    }
}

/// How a requantization multiplier is computed from the scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScaleMath {
    /// `x_scale · w_scale / y_scale` in `f32`, in onnxruntime's order of
    /// operations: what its QLinearConv / QLinearMatMul kernels compute
    /// (QOperator graphs).
    #[default]
    F32,
    /// The same product in `f64`, within `2^-31` of the real number a QDQ
    /// island's float graph (`DequantizeLinear → op → QuantizeLinear`)
    /// stands for. The `f32` product is up to about `2^-23` off, enough to
    /// round an output that lies within `1e-5` of a half step the other way
    /// (MobileNetV1 int8 QDQ's first convolution has one).
    Exact,
}

pub(crate) fn requants(
    x_scale: f32,
    w_scales: &[f32],
    y_scale: f32,
    math: ScaleMath,
) -> Result<Vec<Requant>, OpError> {
    w_scales
        .iter()
        .map(|&ws| {
            let (rq, m) = match math {
                ScaleMath::F32 => {
                    let m = x_scale * ws / y_scale;
                    (Requant::from_f32(m), m as f64)
                }
                ScaleMath::Exact => {
                    let m = x_scale as f64 * ws as f64 / y_scale as f64;
                    (Requant::from_f64(m), m)
                }
            };
            rq.ok_or_else(|| {
                unsupported(format!(
                    "requantization multiplier {m} (x_scale·w_scale/y_scale) is out of range"
                ))
            })
        })
        .collect()
}

/// A parsed `QLinearConv`, possibly with a Relu/Clip folded into its output
/// range by the QDQ pass.
#[derive(Debug, Clone)]
pub struct QLinearConv {
    /// Geometry (as `Conv`).
    pub conv: Conv,
    /// Float bounds of a folded Relu/Clip.
    pub clip: Option<(f32, f32)>,
    /// How the requantization multipliers are computed.
    pub scales: ScaleMath,
}

/// Parses `QLinearConv`.
pub fn parse_conv(attrs: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let c = super::conv::parse(attrs, opset)?;
    let conv = c
        .as_any()
        .downcast_ref::<Conv>()
        .expect("conv::parse returns a Conv")
        .clone();
    Ok(Arc::new(QLinearConv {
        conv,
        clip: None,
        scales: ScaleMath::F32,
    }))
}

pub(crate) fn clip_name(base: &str, clip: Option<(f32, f32)>) -> String {
    match clip {
        None => base.into(),
        Some((lo, hi)) if lo == 0.0 && hi == f32::INFINITY => format!("{base}+Relu"),
        Some(_) => format!("{base}+Clip"),
    }
}

impl QLinearConv {
    fn out_dtype(inputs: &[Option<InputInfo<'_>>]) -> DType {
        opt(inputs, 7).map_or(DType::U8, |z| z.dtype)
    }
}

impl Op for QLinearConv {
    fn name(&self) -> String {
        clip_name("QLinearConv", self.clip)
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let w = req(inputs, 3)?;
        expect_dtype("QLinearConv input", x.dtype, Q8)?;
        expect_dtype("QLinearConv weights", w.dtype, Q8)?;
        let yt = Self::out_dtype(inputs);
        expect_dtype("QLinearConv output", yt, Q8)?;
        let g = self.conv.geometry(x.shape, w.shape)?;
        let m = w.shape[0];
        if let Some(b) = opt(inputs, 8) {
            expect_dtype("QLinearConv bias", b.dtype, &[DType::I32])?;
            if b.shape != [m] {
                return Err(shape_err(format!(
                    "bias of shape {:?}, expected [{m}]",
                    b.shape
                )));
            }
        }
        for (i, what) in [(4, "w_scale"), (5, "w_zero_point")] {
            if let Some(t) = opt(inputs, i) {
                if numel(t.shape) != 1 && numel(t.shape) != m {
                    return Err(shape_err(format!(
                        "{what} of shape {:?}: expected one value or {m}",
                        t.shape
                    )));
                }
            }
        }
        let mut shape = vec![x.shape[0], m];
        shape.extend(g.out);
        Ok(vec![OutputInfo::new(yt, shape)])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], outputs: &[OutputInfo]) -> u64 {
        let (Some(Some(w)), Some(y)) = (inputs.get(3), outputs.first()) else {
            return 0;
        };
        let per_out: usize = w.shape[1..].iter().product();
        (numel(&y.shape) * per_out) as u64
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let w = req(&ins, 3)?;
        let m = w.shape[0];
        let p = self.conv.params(x.shape, w.shape)?;
        let xs = const_scales(&ins, 1, "x_scale")?;
        let xz = const_zero_points(&ins, 2, "x_zero_point")?;
        let ws = per_channel(&const_scales(&ins, 4, "w_scale")?, m, "w_scale")?;
        let wz = per_channel(
            &const_zero_points(&ins, 5, "w_zero_point")?,
            m,
            "w_zero_point",
        )?;
        let ys = const_scales(&ins, 6, "y_scale")?;
        let yz = const_zero_points(&ins, 7, "y_zero_point")?;
        if xs.len() != 1 || xz.len() != 1 || ys.len() != 1 || yz.len() != 1 {
            return Err(unsupported(
                "QLinearConv with per-channel input or output quantization",
            ));
        }
        let bias = match opt(&ins, 8) {
            None => vec![0; m],
            Some(b) => b
                .data
                .ok_or_else(|| unsupported("QLinearConv bias computed at run time"))?
                .as_i32(),
        };
        let rq = requants(xs[0], &ws, ys[0], self.scales)?;
        let k = cx.kernels();
        let out = qout_tokens(&q_out(cx.output(0).dtype, ys[0], yz[0], self.clip), &k);
        let statics = channel_statics(&k, &wz, &bias, &rq);
        let act = Activation::None.tokens(&quote!(#k::activation));
        let params = super::conv::params_tokens(&p, &k, &act);
        let xzl = lit_i32(xz[0]);
        let (x0, w0, y0) = (cx.x(0), cx.x(3), cx.y(0));
        Ok(quote! {
            #statics
            #k::qint::qconv(#x0, #w0, &ZANT_ZP, &ZANT_BIAS, &ZANT_RQ, #y0, &#k::qint::QConvParams {
                conv: #params,
                x_zero_point: #xzl,
                out: #out,
            });
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        matches!(i, 0 | 3)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A parsed `QLinearMatMul`.
#[derive(Debug, Clone, Default)]
pub struct QLinearMatMul {
    /// Float bounds of a folded Relu/Clip.
    pub clip: Option<(f32, f32)>,
    /// How the requantization multipliers are computed.
    pub scales: ScaleMath,
}

/// Parses `QLinearMatMul`.
pub fn parse_matmul(_attrs: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(QLinearMatMul::default()))
}

impl Op for QLinearMatMul {
    fn name(&self) -> String {
        clip_name("QLinearMatMul", self.clip)
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let a = req(inputs, 0)?;
        let b = req(inputs, 3)?;
        expect_dtype("QLinearMatMul a", a.dtype, Q8)?;
        expect_dtype("QLinearMatMul b", b.dtype, Q8)?;
        let yt = opt(inputs, 7).map_or(DType::U8, |z| z.dtype);
        expect_dtype("QLinearMatMul output", yt, Q8)?;
        let p = super::matmul::plan(a.shape, b.shape)?;
        Ok(vec![OutputInfo::new(yt, p.out_shape)])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], outputs: &[OutputInfo]) -> u64 {
        let (Some(Some(a)), Some(y)) = (inputs.first(), outputs.first()) else {
            return 0;
        };
        (numel(&y.shape) * a.shape.last().copied().unwrap_or(1)) as u64
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let (a, b) = (req(&ins, 0)?, req(&ins, 3)?);
        let p: MatMulParams = super::matmul::plan(a.shape, b.shape)?.params;
        let n = p.n;
        let as_ = const_scales(&ins, 1, "a_scale")?;
        let az = const_zero_points(&ins, 2, "a_zero_point")?;
        let bs = per_channel(&const_scales(&ins, 4, "b_scale")?, n, "b_scale")?;
        let bz = per_channel(
            &const_zero_points(&ins, 5, "b_zero_point")?,
            n,
            "b_zero_point",
        )?;
        let ys = const_scales(&ins, 6, "y_scale")?;
        let yz = const_zero_points(&ins, 7, "y_zero_point")?;
        if as_.len() != 1 || az.len() != 1 || ys.len() != 1 || yz.len() != 1 {
            return Err(unsupported(
                "QLinearMatMul with per-row input or output quantization",
            ));
        }
        let rq = requants(as_[0], &bs, ys[0], self.scales)?;
        let k = cx.kernels();
        let out = qout_tokens(&q_out(cx.output(0).dtype, ys[0], yz[0], self.clip), &k);
        let statics = channel_statics(&k, &bz, &vec![0; n], &rq);
        let [m, kk, nn, r] = [p.m, p.k, p.n, p.batch_rank].map(lit_usize);
        let ob = arr_usize_n(&p.out_batch, MAX_RANK, 1);
        let ab = arr_usize_n(&p.a_batch, MAX_RANK, 1);
        let bb = arr_usize_n(&p.b_batch, MAX_RANK, 1);
        let azl = lit_i32(az[0]);
        let (x0, x3, y0) = (cx.x(0), cx.x(3), cx.y(0));
        Ok(quote! {
            #statics
            #k::qint::qmatmul(#x0, #x3, &ZANT_ZP, &ZANT_BIAS, &ZANT_RQ, #y0, &#k::qint::QMatMulParams {
                mm: #k::matmul::MatMulParams {
                    m: #m, k: #kk, n: #nn, batch_rank: #r,
                    out_batch: #ob, a_batch: #ab, b_batch: #bb,
                },
                a_zero_point: #azl,
                out: #out,
            });
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        matches!(i, 0 | 3)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The call of a same-shape quantized addition of inputs `ia` and `ib`:
/// the fast kernel (`qfast::add::qadd`, 32-bit steps) when both inputs have
/// one type whose offsets it takes, else the reference `qint::qadd`. Both
/// give the same values.
pub fn qadd_tokens(
    cx: &NodeCx<'_>,
    q: &zant_kernels::reference::qint::QAddParams,
    ia: usize,
    ib: usize,
) -> TokenStream {
    let k = cx.kernels();
    let out = qout_tokens(&q.out, &k);
    let (x0, x1, y0) = (cx.x(ia), cx.x(ib), cx.y(0));
    let (ta, tb) = (cx.input(ia).map(|i| i.dtype), cx.input(ib).map(|i| i.dtype));
    let range = match ta {
        Some(DType::I8) => Some((i8::MIN as i32, i8::MAX as i32)),
        Some(DType::U8) => Some((0, u8::MAX as i32)),
        _ => None,
    };
    let fast = range
        .filter(|_| ta == tb)
        .and_then(|(lo, hi)| zant_kernels::qfast::add::QAddFast::new(q, lo, hi));
    if let Some(f) = fast {
        let [az, bz, bm] = [f.a_zero_point, f.b_zero_point, f.b_mult].map(lit_i32);
        let [m, sh, rh] = [f.a.mult, f.a.shift_hi as i32, f.a.round_hi].map(lit_i32);
        let rl = Literal::u32_unsuffixed(f.a.round_lo);
        let pre = Literal::u32_unsuffixed(f.pre_shift);
        let kf = cx.qmac_kernel("qfast::add::qadd");
        return quote! {
            #kf(#x0, #x1, #y0, &zk::qfast::add::QAddFast {
                a_zero_point: #az, b_zero_point: #bz, pre_shift: #pre,
                a: zk::qfast::Rescale {
                    mult: #m, shift_hi: #sh, round_lo: #rl, round_hi: #rh, with_zero_point: false,
                },
                b_mult: #bm, out: #out,
            });
        };
    }
    let [az, am, bz, bm] = [q.a_zero_point, q.a_mult, q.b_zero_point, q.b_mult].map(lit_i32);
    let s = Literal::u32_unsuffixed(q.shift);
    quote! {
        #k::qint::qadd(#x0, #x1, #y0, &#k::qint::QAddParams {
            a_zero_point: #az, a_mult: #am, b_zero_point: #bz, b_mult: #bm,
            shift: #s, out: #out,
        });
    }
}

/// One quantized operand: scale and zero point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QParam {
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

/// Integer element-wise addition of two equally shaped quantized tensors
/// (made by the QDQ pass; not an ONNX operator of its own).
#[derive(Debug, Clone)]
pub struct QAdd {
    /// Quantization of input 0.
    pub a: QParam,
    /// Quantization of input 1.
    pub b: QParam,
    /// Quantization of the output.
    pub y: QParam,
    /// Element type of the output.
    pub y_dtype: DType,
    /// Float bounds of a folded Relu/Clip.
    pub clip: Option<(f32, f32)>,
}

impl QAdd {
    /// The kernel's fixed-point parameters: both ratios share one shift
    /// chosen so the larger multiplier has 30 bits.
    pub fn params(&self) -> Result<zant_kernels::reference::qint::QAddParams, OpError> {
        let ra = self.a.scale as f64 / self.y.scale as f64;
        let rb = self.b.scale as f64 / self.y.scale as f64;
        let big = ra.max(rb);
        if !(big.is_finite() && big > 0.0 && big < (1u64 << 29) as f64) {
            return Err(unsupported(format!(
                "quantized Add with scale ratio {big} out of range"
            )));
        }
        let shift = (30 - big.log2().ceil() as i32).clamp(1, 62) as u32;
        let f = (1u64 << shift) as f64;
        Ok(zant_kernels::reference::qint::QAddParams {
            a_zero_point: self.a.zero_point,
            a_mult: (ra * f).round() as i32,
            b_zero_point: self.b.zero_point,
            b_mult: (rb * f).round() as i32,
            shift,
            out: q_out(self.y_dtype, self.y.scale, self.y.zero_point, self.clip),
        })
    }
}

impl Op for QAdd {
    fn name(&self) -> String {
        clip_name("QAdd", self.clip)
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let (a, b) = (req(inputs, 0)?, req(inputs, 1)?);
        expect_dtype("quantized Add input", a.dtype, Q8)?;
        expect_dtype("quantized Add input", b.dtype, Q8)?;
        if a.shape != b.shape {
            return Err(unsupported("quantized Add of differently shaped inputs"));
        }
        expect_dtype("quantized Add output", self.y_dtype, Q8)?;
        Ok(vec![OutputInfo::new(self.y_dtype, a.shape.to_vec())])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        Ok(qadd_tokens(cx, &self.params()?, 0, 1))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
