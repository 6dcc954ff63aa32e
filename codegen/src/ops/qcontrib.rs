//! The `com.microsoft` QOperator ops that onnxruntime's quantizer emits:
//! QLinearAdd, QLinearMul, QLinearGlobalAveragePool, QLinearAveragePool,
//! QLinearSigmoid, QLinearLeakyRelu, QLinearConcat, QLinearSoftmax and QGemm.
//!
//! Scales and zero points must be constants. Every scale ratio becomes a
//! fixed-point [`Requant`] at compile time; Sigmoid, LeakyRelu and the
//! requantization of a Concat input become 256-entry tables built here (as
//! onnxruntime builds them), so the generated code computes in integers only.
//! Kernels: [`zant_kernels::reference::qops`] and
//! [`zant_kernels::reference::qint`].

use std::any::Any;
use std::sync::Arc;

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use zant_kernels::reference::qint::Requant;
use zant_kernels::reference::qops::SOFTMAX_EXP_BITS;
use zant_kernels::reference::shape::MAX_RANK;

use super::conv::spatial3;
use super::pool::{Pool, PoolKind};
use super::qlinear::{
    const_scales, const_zero_points, lit_i32, per_channel, q_out, qadd_tokens, qout_tokens, QAdd,
    QParam,
};
use super::softmax::Softmax;
use super::util::{axis, expect_dtype, opt, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{arr_usize, arr_usize_n, lit_usize, rust_type, NodeCx};
use crate::ir::{numel, DType};

const Q8: &[DType] = &[DType::I8, DType::U8];

fn requant(m: f32, what: &str) -> Result<Requant, OpError> {
    Requant::from_f32(m).ok_or_else(|| {
        unsupported(format!(
            "requantization multiplier {m} ({what}) is out of range"
        ))
    })
}

fn requant_tokens(r: Requant, k: &TokenStream) -> TokenStream {
    let (m, s) = (lit_i32(r.mult), Literal::u32_unsuffixed(r.shift));
    quote!(#k::qint::Requant { mult: #m, shift: #s })
}

/// Per-tensor constant scale and zero point at inputs `s` and `z`.
fn qparam(
    ins: &[Option<InputInfo<'_>>],
    s: usize,
    z: usize,
    what: &str,
) -> Result<QParam, OpError> {
    let scale = const_scales(ins, s, &format!("{what}_scale"))?;
    let zp = const_zero_points(ins, z, &format!("{what}_zero_point"))?;
    if scale.len() != 1 || zp.len() != 1 {
        return Err(unsupported(format!(
            "per-channel quantization of `{what}` in a com.microsoft QLinear operator"
        )));
    }
    Ok(QParam {
        scale: scale[0],
        zero_point: zp[0],
    })
}

/// Output type: that of the zero point at `z`, else that of input 0.
fn out_dtype(inputs: &[Option<InputInfo<'_>>], z: usize) -> Result<DType, OpError> {
    let x = req(inputs, 0)?;
    Ok(opt(inputs, z).map_or(x.dtype, |t| t.dtype))
}

/// `quantize(f(dequantize(q)))` for every 8-bit `q` of type `xt`, in `f32`
/// with round half to even, as onnxruntime's lookup tables.
fn table(xt: DType, x: QParam, y: QParam, yt: DType, f: impl Fn(f32) -> f32) -> Vec<i32> {
    let (lo, hi) = if xt == DType::I8 {
        (-128, 127)
    } else {
        (0, 255)
    };
    let (ylo, yhi) = if yt == DType::I8 {
        (-128, 127)
    } else {
        (0, 255)
    };
    (lo..=hi)
        .map(|q: i32| {
            let v = f((q - x.zero_point) as f32 * x.scale);
            let r = (v / y.scale).round_ties_even();
            if r.is_nan() {
                y.zero_point
            } else {
                (r as f64 + y.zero_point as f64).clamp(ylo as f64, yhi as f64) as i32
            }
        })
        .collect()
}

fn table_tokens(t: &[i32], dt: DType) -> TokenStream {
    let ty = rust_type(dt);
    let v = t.iter().map(|&v| lit_i32(v));
    quote!([#ty; 256] = [#(#v),*])
}

/// Which element-wise binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QBinaryKind {
    /// `QLinearAdd`.
    Add,
    /// `QLinearMul`.
    Mul,
}

/// `com.microsoft` `QLinearAdd` / `QLinearMul`: inputs `A, A_scale,
/// A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point`.
#[derive(Debug, Clone)]
pub struct QLinearBinary {
    /// Add or Mul.
    pub kind: QBinaryKind,
}

/// Parses `QLinearAdd`.
pub fn parse_qlinear_add(_a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(QLinearBinary {
        kind: QBinaryKind::Add,
    }))
}

/// Parses `QLinearMul`.
pub fn parse_qlinear_mul(_a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(QLinearBinary {
        kind: QBinaryKind::Mul,
    }))
}

impl Op for QLinearBinary {
    fn name(&self) -> String {
        match self.kind {
            QBinaryKind::Add => "QLinearAdd",
            QBinaryKind::Mul => "QLinearMul",
        }
        .into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let (a, b) = (req(inputs, 0)?, req(inputs, 3)?);
        expect_dtype("QLinear input A", a.dtype, Q8)?;
        expect_dtype("QLinear input B", b.dtype, Q8)?;
        let yt = out_dtype(inputs, 7)?;
        expect_dtype("QLinear output", yt, Q8)?;
        let scalar_b = self.kind == QBinaryKind::Mul && numel(b.shape) == 1;
        let shape = if a.shape == b.shape || scalar_b {
            a.shape.to_vec()
        } else if self.kind == QBinaryKind::Mul && numel(a.shape) == 1 {
            b.shape.to_vec()
        } else {
            return Err(unsupported(format!(
                "{} broadcasting {:?} with {:?} (equal shapes{} only)",
                self.name(),
                a.shape,
                b.shape,
                match self.kind {
                    QBinaryKind::Add => "",
                    QBinaryKind::Mul => " or a scalar operand",
                }
            )));
        };
        Ok(vec![OutputInfo::new(yt, shape)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let pa = qparam(&ins, 1, 2, "A")?;
        let pb = qparam(&ins, 4, 5, "B")?;
        let py = qparam(&ins, 6, 7, "C")?;
        let yt = cx.output(0).dtype;
        let k = cx.kernels();
        let (x0, x3, y0) = (cx.x(0), cx.x(3), cx.y(0));
        match self.kind {
            QBinaryKind::Add => {
                let q = QAdd {
                    a: pa,
                    b: pb,
                    y: py,
                    y_dtype: yt,
                    clip: None,
                }
                .params()?;
                Ok(qadd_tokens(cx, &q, 0, 3))
            }
            QBinaryKind::Mul => {
                let rq = requant(pa.scale * pb.scale / py.scale, "A_scale·B_scale/C_scale")?;
                let rq = requant_tokens(rq, &k);
                let out = qout_tokens(&q_out(yt, py.scale, py.zero_point, None), &k);
                let [az, bz] = [pa.zero_point, pb.zero_point].map(lit_i32);
                Ok(quote! {
                    #k::qops::qmul(#x0, #x3, #y0, &#k::qops::QMulParams {
                        a_zero_point: #az, b_zero_point: #bz, requant: #rq, out: #out,
                    });
                })
            }
        }
    }

    fn reads_input(&self, i: usize) -> bool {
        matches!(i, 0 | 3)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `com.microsoft` `QLinearGlobalAveragePool` (inputs `X, x_scale,
/// x_zero_point, y_scale, y_zero_point`).
#[derive(Debug, Clone)]
pub struct QLinearGlobalAveragePool {
    /// `[N, spatial…, C]` layout.
    pub channels_last: bool,
}

/// Parses `QLinearGlobalAveragePool`.
pub fn parse_qlinear_global_average_pool(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(QLinearGlobalAveragePool {
        channels_last: a.int("channels_last", 0)? != 0,
    }))
}

impl QLinearGlobalAveragePool {
    /// (batch, channels, spatial) of input shape `x`.
    fn dims(&self, x: &[usize]) -> Result<(usize, usize, usize), OpError> {
        if x.len() < 3 {
            return Err(shape_err(format!(
                "input of rank {}; pooling needs N, C and spatial dims",
                x.len()
            )));
        }
        Ok(if self.channels_last {
            (x[0], x[x.len() - 1], numel(&x[1..x.len() - 1]))
        } else {
            (x[0], x[1], numel(&x[2..]))
        })
    }
}

impl Op for QLinearGlobalAveragePool {
    fn name(&self) -> String {
        "QLinearGlobalAveragePool".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("QLinearGlobalAveragePool input", x.dtype, Q8)?;
        let yt = out_dtype(inputs, 4)?;
        expect_dtype("QLinearGlobalAveragePool output", yt, Q8)?;
        self.dims(x.shape)?;
        let r = x.shape.len();
        let mut shape = vec![1; r];
        shape[0] = x.shape[0];
        let c = if self.channels_last { r - 1 } else { 1 };
        shape[c] = x.shape[c];
        Ok(vec![OutputInfo::new(yt, shape)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let (n, c, s) = self.dims(x.shape)?;
        let px = qparam(&ins, 1, 2, "x")?;
        let py = qparam(&ins, 3, 4, "y")?;
        let k = cx.kernels();
        let rq = requant(
            px.scale / (py.scale * s as f32),
            "x_scale/(y_scale·spatial size)",
        )?;
        let rq = requant_tokens(rq, &k);
        let out = qout_tokens(
            &q_out(cx.output(0).dtype, py.scale, py.zero_point, None),
            &k,
        );
        let [n, c, s] = [n, c, s].map(lit_usize);
        let (cl, xz) = (self.channels_last, lit_i32(px.zero_point));
        let (x0, y0) = (cx.x(0), cx.y(0));
        Ok(quote! {
            #k::qops::qglobal_average_pool(#x0, #y0, &#k::qops::QGlobalPoolParams {
                batch: #n, channels: #c, spatial: #s, channels_last: #cl,
                x_zero_point: #xz, requant: #rq, out: #out,
            });
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `com.microsoft` `QLinearAveragePool` (NCHW; attributes as
/// `AveragePool`).
#[derive(Debug, Clone)]
pub struct QLinearAveragePool {
    /// Window and padding rules.
    pub pool: Pool,
}

/// Parses `QLinearAveragePool`.
pub fn parse_qlinear_average_pool(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    if a.int("channels_last", 0)? != 0 {
        return Err(unsupported(
            "QLinearAveragePool with channels_last=1 (NHWC); export the model in NCHW",
        ));
    }
    let p = super::pool::parse_average(a, opset)?;
    let pool = p
        .as_any()
        .downcast_ref::<Pool>()
        .expect("parse_average returns a Pool")
        .clone();
    debug_assert_eq!(pool.kind, PoolKind::Average);
    Ok(Arc::new(QLinearAveragePool { pool }))
}

impl Op for QLinearAveragePool {
    fn name(&self) -> String {
        "QLinearAveragePool".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("QLinearAveragePool input", x.dtype, Q8)?;
        let yt = out_dtype(inputs, 4)?;
        expect_dtype("QLinearAveragePool output", yt, Q8)?;
        let g = self.pool.geometry(x.shape)?;
        let mut shape = x.shape[..2].to_vec();
        shape.extend(g.out);
        Ok(vec![OutputInfo::new(yt, shape)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let g = self.pool.geometry(x.shape)?;
        let px = qparam(&ins, 1, 2, "x")?;
        let py = qparam(&ins, 3, 4, "y")?;
        let k = cx.kernels();
        let window: usize = g.kernel.iter().product();
        let mut rqs = vec![requant_tokens(Requant { mult: 0, shift: 0 }, &k)];
        for count in 1..=window {
            let r = requant(
                px.scale / (py.scale * count as f32),
                "x_scale/(y_scale·window size)",
            )?;
            rqs.push(requant_tokens(r, &k));
        }
        let nrq = lit_usize(rqs.len());
        let out = qout_tokens(
            &q_out(cx.output(0).dtype, py.scale, py.zero_point, None),
            &k,
        );
        let [batch, ch] = [x.shape[0], x.shape[1]].map(lit_usize);
        let ins3 = arr_usize(&spatial3(&x.shape[2..], 1));
        let [outs, ker, st, dil] =
            [&g.out, &g.kernel, &g.strides, &g.dilations].map(|v| arr_usize(&spatial3(v, 1)));
        let [pb, pe] = [&g.pads_begin, &g.pads_end].map(|v| arr_usize(&spatial3(v, 0)));
        let cip = self.pool.count_include_pad;
        let xz = lit_i32(px.zero_point);
        let (x0, y0) = (cx.x(0), cx.y(0));
        Ok(quote! {
            static ZANT_RQ: [#k::qint::Requant; #nrq] = [#(#rqs),*];
            #k::qops::qaverage_pool(#x0, #y0, &#k::pool::PoolParams {
                batch: #batch, channels: #ch, in_spatial: #ins3, out_spatial: #outs, kernel: #ker,
                strides: #st, dilations: #dil, pads_begin: #pb, pads_end: #pe, count_include_pad: #cip,
            }, #xz, &ZANT_RQ, &#out);
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Which tabulated function of one input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QLookupKind {
    /// `QLinearSigmoid`.
    Sigmoid,
    /// `QLinearLeakyRelu` with its `alpha`.
    LeakyRelu(f32),
}

/// `com.microsoft` `QLinearSigmoid` / `QLinearLeakyRelu` (inputs `X,
/// X_scale, X_zero_point, Y_scale, Y_zero_point`): a 256-entry table.
#[derive(Debug, Clone)]
pub struct QLinearLookup {
    /// The function.
    pub kind: QLookupKind,
}

/// Parses `QLinearSigmoid`.
pub fn parse_qlinear_sigmoid(_a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(QLinearLookup {
        kind: QLookupKind::Sigmoid,
    }))
}

/// Parses `QLinearLeakyRelu`.
pub fn parse_qlinear_leaky_relu(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(QLinearLookup {
        kind: QLookupKind::LeakyRelu(a.float("alpha", 0.01)?),
    }))
}

impl Op for QLinearLookup {
    fn name(&self) -> String {
        match self.kind {
            QLookupKind::Sigmoid => "QLinearSigmoid",
            QLookupKind::LeakyRelu(_) => "QLinearLeakyRelu",
        }
        .into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype(&self.name(), x.dtype, Q8)?;
        let yt = out_dtype(inputs, 4)?;
        expect_dtype(&self.name(), yt, Q8)?;
        Ok(vec![OutputInfo::new(yt, x.shape.to_vec())])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let xt = req(&ins, 0)?.dtype;
        let px = qparam(&ins, 1, 2, "X")?;
        let py = qparam(&ins, 3, 4, "Y")?;
        let yt = cx.output(0).dtype;
        let t = match self.kind {
            QLookupKind::Sigmoid => table(xt, px, py, yt, |v| 1.0 / (1.0 + (-v).exp())),
            QLookupKind::LeakyRelu(alpha) => {
                table(xt, px, py, yt, |v| if v >= 0.0 { v } else { v * alpha })
            }
        };
        let tt = table_tokens(&t, yt);
        let k = cx.kernels();
        let (x0, y0) = (cx.x(0), cx.y(0));
        Ok(quote! {
            static ZANT_LUT: #tt;
            #k::qops::qlookup(#x0, &ZANT_LUT, #y0);
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `com.microsoft` `QLinearConcat`: inputs `Y_scale, Y_zero_point`, then
/// `(X, X_scale, X_zero_point)` per concatenated tensor.
#[derive(Debug, Clone)]
pub struct QLinearConcat {
    /// The axis attribute (possibly negative).
    pub axis: i64,
}

/// Parses `QLinearConcat`.
pub fn parse_qlinear_concat(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(QLinearConcat {
        axis: a.int_req("axis")?,
    }))
}

impl Op for QLinearConcat {
    fn name(&self) -> String {
        "QLinearConcat".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        if inputs.len() < 5 || !(inputs.len() - 2).is_multiple_of(3) {
            return Err(shape_err(format!(
                "QLinearConcat takes Y_scale, Y_zero_point and triples (X, X_scale, X_zero_point); got {} inputs",
                inputs.len()
            )));
        }
        let yt = req(inputs, 1)?.dtype;
        expect_dtype("QLinearConcat output", yt, Q8)?;
        let first = req(inputs, 2)?;
        let ax = axis(self.axis, first.shape.len())?;
        let mut shape = first.shape.to_vec();
        shape[ax] = 0;
        for i in (2..inputs.len()).step_by(3) {
            let x = req(inputs, i)?;
            expect_dtype("QLinearConcat input", x.dtype, &[yt])?;
            let same = x.shape.len() == shape.len()
                && x.shape
                    .iter()
                    .zip(&shape)
                    .enumerate()
                    .all(|(d, (a, b))| d == ax || a == b);
            if !same {
                return Err(shape_err(format!(
                    "QLinearConcat input of shape {:?} does not match {:?} outside axis {ax}",
                    x.shape, first.shape
                )));
            }
            shape[ax] += x.shape[ax];
        }
        Ok(vec![OutputInfo::new(yt, shape)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let py = qparam(&ins, 0, 1, "Y")?;
        let y = cx.output(0);
        let ax = axis(self.axis, y.shape.len())?;
        let outer: usize = y.shape[..ax].iter().product();
        let inner: usize = y.shape[ax + 1..].iter().product();
        let stride = y.shape[ax] * inner;
        let k = cx.kernels();
        let y0 = cx.y(0);
        let mut body = TokenStream::new();
        let mut offset = 0;
        for (n, i) in (2..ins.len()).step_by(3).enumerate() {
            let x = req(&ins, i)?;
            let px = qparam(&ins, i + 1, i + 2, "X")?;
            let xi = cx.x(i);
            let [o, s, off] = [outer, stride, offset].map(lit_usize);
            let lut = if px == py {
                quote!(None)
            } else {
                let t = table(x.dtype, px, py, y.dtype, |v| v);
                let tt = table_tokens(&t, y.dtype);
                let name = quote::format_ident!("ZANT_LUT{}", n);
                body.extend(quote!(static #name: #tt;));
                quote!(Some(&#name))
            };
            body.extend(quote!(#k::qops::qconcat_part(#xi, #lut, #y0, #o, #s, #off);));
            offset += x.shape[ax] * inner;
        }
        Ok(body)
    }

    fn reads_input(&self, i: usize) -> bool {
        i >= 2 && (i - 2).is_multiple_of(3)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `com.microsoft` `QLinearSoftmax` (inputs `X, X_scale, x_zero_point,
/// y_scale, y_zero_point`; attributes `axis` and `opset`, the opset of the
/// Softmax it replaces).
#[derive(Debug, Clone)]
pub struct QLinearSoftmax {
    /// Axis rules of that opset's Softmax.
    pub softmax: Softmax,
}

/// Parses `QLinearSoftmax`.
pub fn parse_qlinear_softmax(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let opset = a.int("opset", 13)?;
    let s = super::softmax::parse_softmax(a, opset)?;
    let softmax = s
        .as_any()
        .downcast_ref::<Softmax>()
        .expect("parse_softmax returns a Softmax")
        .clone();
    Ok(Arc::new(QLinearSoftmax { softmax }))
}

impl Op for QLinearSoftmax {
    fn name(&self) -> String {
        "QLinearSoftmax".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("QLinearSoftmax input", x.dtype, Q8)?;
        let yt = out_dtype(inputs, 4)?;
        expect_dtype("QLinearSoftmax output", yt, Q8)?;
        self.softmax.params(x.shape)?;
        Ok(vec![OutputInfo::new(yt, x.shape.to_vec())])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let sp = self.softmax.params(x.shape)?;
        let px = qparam(&ins, 1, 2, "X")?;
        let py = qparam(&ins, 3, 4, "y")?;
        let one = (1u64 << SOFTMAX_EXP_BITS) as f64;
        let t: Vec<u32> = (0..256)
            .map(|d| ((-(d as f64) * px.scale as f64).exp() * one).round() as u32)
            .collect();
        // 2^frac / y_scale kept below 2^40, so table · it fits in 64 bits.
        let inv = 1.0 / py.scale as f64;
        let frac = (40 - inv.log2().ceil() as i32).clamp(0, 62) as u32;
        let inv_q = (inv * (1u64 << frac) as f64).round();
        if !(inv_q.is_finite() && inv_q >= 1.0 && inv_q < (1u64 << 63) as f64) {
            return Err(unsupported(format!(
                "QLinearSoftmax with y_scale {} out of range",
                py.scale
            )));
        }
        let k = cx.kernels();
        let out = qout_tokens(
            &q_out(cx.output(0).dtype, py.scale, py.zero_point, None),
            &k,
        );
        let tv = t.iter().map(|&v| Literal::u32_unsuffixed(v));
        let [o, l, i] = [sp.outer, sp.axis_len, sp.inner].map(lit_usize);
        let (iv, fr) = (
            Literal::u64_unsuffixed(inv_q as u64),
            Literal::u32_unsuffixed(frac),
        );
        let (x0, y0) = (cx.x(0), cx.y(0));
        Ok(quote! {
            static ZANT_EXP: [u32; 256] = [#(#tv),*];
            #k::qops::qsoftmax(#x0, #y0, &ZANT_EXP, &#k::qops::QSoftmaxParams {
                outer: #o, len: #l, inner: #i, inv_y_scale: #iv, frac: #fr, out: #out,
            });
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `com.microsoft` `QGemm` with a quantized output: inputs `A, a_scale,
/// a_zero_point, B, b_scale, b_zero_point, C, y_scale, y_zero_point`.
/// `C` is an `int32` bias at scale `a_scale · b_scale`; `B` may be
/// transposed (`transB`, constant `B` only).
#[derive(Debug, Clone)]
pub struct QGemm {
    /// `B` is `[N, K]`.
    pub trans_b: bool,
    /// `alpha`.
    pub alpha: f32,
}

/// Parses `QGemm`.
pub fn parse_qgemm(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    if a.int("transA", 0)? != 0 {
        return Err(unsupported("QGemm with transA=1"));
    }
    Ok(Arc::new(QGemm {
        trans_b: a.int("transB", 0)? != 0,
        alpha: a.float("alpha", 1.0)?,
    }))
}

impl QGemm {
    /// (M, K, N) for these inputs.
    fn dims(&self, a: &[usize], b: &[usize]) -> Result<(usize, usize, usize), OpError> {
        if a.len() != 2 || b.len() != 2 {
            return Err(shape_err(format!(
                "QGemm needs 2-D A and B, got {a:?} and {b:?}"
            )));
        }
        let (m, k) = (a[0], a[1]);
        let (k2, n) = if self.trans_b {
            (b[1], b[0])
        } else {
            (b[0], b[1])
        };
        if k != k2 {
            return Err(shape_err(format!(
                "QGemm inner dimensions differ: A {a:?}, B {b:?} (transB={})",
                self.trans_b as u8
            )));
        }
        Ok((m, k, n))
    }
}

impl Op for QGemm {
    fn name(&self) -> String {
        "QGemm".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let (a, b) = (req(inputs, 0)?, req(inputs, 3)?);
        expect_dtype("QGemm A", a.dtype, Q8)?;
        expect_dtype("QGemm B", b.dtype, Q8)?;
        let (m, _, n) = self.dims(a.shape, b.shape)?;
        if opt(inputs, 7).is_none() {
            return Err(unsupported(
                "QGemm with a float output (no y_scale); quantize its output",
            ));
        }
        if let Some(c) = opt(inputs, 6) {
            expect_dtype("QGemm C", c.dtype, &[DType::I32])?;
            if numel(c.shape) != n && numel(c.shape) != 1 {
                return Err(unsupported(format!(
                    "QGemm bias C of shape {:?} (one value or one per column, {n}, supported)",
                    c.shape
                )));
            }
        }
        let yt = opt(inputs, 8).map_or(a.dtype, |z| z.dtype);
        expect_dtype("QGemm output", yt, Q8)?;
        Ok(vec![OutputInfo::new(yt, vec![m, n])])
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
        let (m, kk, n) = self.dims(a.shape, b.shape)?;
        let pa = qparam(&ins, 1, 2, "a")?;
        let bs = per_channel(&const_scales(&ins, 4, "b_scale")?, n, "b_scale")?;
        let bz = per_channel(
            &const_zero_points(&ins, 5, "b_zero_point")?,
            n,
            "b_zero_point",
        )?;
        let py = qparam(&ins, 7, 8, "y")?;
        let bias = match opt(&ins, 6) {
            None => vec![0; n],
            Some(c) => per_channel(
                &c.data
                    .ok_or_else(|| unsupported("QGemm bias C computed at run time"))?
                    .as_i32(),
                n,
                "C",
            )?,
        };
        let rq = bs
            .iter()
            .map(|&s| {
                requant(
                    self.alpha * pa.scale * s / py.scale,
                    "alpha·a_scale·b_scale/y_scale",
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        if self.alpha != 1.0 && bias.iter().any(|&v| v != 0) {
            return Err(unsupported("QGemm with alpha ≠ 1 and a bias"));
        }
        let k = cx.kernels();
        let out = qout_tokens(
            &q_out(cx.output(0).dtype, py.scale, py.zero_point, None),
            &k,
        );
        let nl = lit_usize(n);
        let zp = bz.iter().map(|&v| lit_i32(v));
        let bi = bias.iter().map(|&v| lit_i32(v));
        let rqt = rq.iter().map(|&r| requant_tokens(r, &k));
        // A transposed constant B is re-laid `[K, N]` at compile time.
        let (b_decl, b_ref) = if self.trans_b {
            let d = b
                .data
                .ok_or_else(|| unsupported("QGemm with transB=1 and B computed at run time"))?;
            let v = d
                .to_i64()
                .ok_or_else(|| shape_err("QGemm B must be an integer tensor"))?;
            let mut t = vec![0i64; v.len()];
            for j in 0..n {
                for q in 0..kk {
                    t[q * n + j] = v[j * kk + q];
                }
            }
            let ty = rust_type(b.dtype);
            let len = lit_usize(t.len());
            let tv = t.iter().map(|&x| Literal::i64_unsuffixed(x));
            (
                quote!(static ZANT_B: [#ty; #len] = [#(#tv),*];),
                quote!(&ZANT_B),
            )
        } else {
            (TokenStream::new(), cx.x(3))
        };
        let [ml, kl, nn] = [m, kk, n].map(lit_usize);
        let ones = arr_usize_n(&[], MAX_RANK, 1);
        let azl = lit_i32(pa.zero_point);
        let (x0, y0) = (cx.x(0), cx.y(0));
        Ok(quote! {
            #b_decl
            static ZANT_ZP: [i32; #nl] = [#(#zp),*];
            static ZANT_BIAS: [i32; #nl] = [#(#bi),*];
            static ZANT_RQ: [#k::qint::Requant; #nl] = [#(#rqt),*];
            #k::qint::qmatmul(#x0, #b_ref, &ZANT_ZP, &ZANT_BIAS, &ZANT_RQ, #y0, &#k::qint::QMatMulParams {
                mm: #k::matmul::MatMulParams {
                    m: #ml, k: #kl, n: #nn, batch_rank: 0,
                    out_batch: #ones, a_batch: #ones, b_batch: #ones,
                },
                a_zero_point: #azl,
                out: #out,
            });
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0 || (i == 3 && !self.trans_b)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Max pooling of a quantized tensor whose output keeps the input's scale
/// and zero point (made by the QDQ pass of `DequantizeLinear → MaxPool →
/// QuantizeLinear`; not an ONNX operator of its own).
#[derive(Debug, Clone)]
pub struct QMaxPool {
    /// Window and padding.
    pub pool: Pool,
}

impl Op for QMaxPool {
    fn name(&self) -> String {
        "QMaxPool".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("quantized MaxPool input", x.dtype, Q8)?;
        let g = self.pool.geometry(x.shape)?;
        let mut shape = x.shape[..2].to_vec();
        shape.extend(g.out);
        Ok(vec![OutputInfo::new(x.dtype, shape)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let g = self.pool.geometry(x.shape)?;
        let k = cx.kernels();
        let [batch, ch] = [x.shape[0], x.shape[1]].map(lit_usize);
        let ins3 = arr_usize(&spatial3(&x.shape[2..], 1));
        let [outs, ker, st, dil] =
            [&g.out, &g.kernel, &g.strides, &g.dilations].map(|v| arr_usize(&spatial3(v, 1)));
        let [pb, pe] = [&g.pads_begin, &g.pads_end].map(|v| arr_usize(&spatial3(v, 0)));
        let (x0, y0) = (cx.x(0), cx.y(0));
        Ok(quote! {
            #k::qops::qmax_pool(#x0, #y0, &#k::pool::PoolParams {
                batch: #batch, channels: #ch, in_spatial: #ins3, out_spatial: #outs, kernel: #ker,
                strides: #st, dilations: #dil, pads_begin: #pb, pads_end: #pe, count_include_pad: false,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
