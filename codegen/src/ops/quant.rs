//! `QuantizeLinear` and `DequantizeLinear`: per-tensor, per-axis (opset 13)
//! and blocked (opset 21) forms, 8- and 16-bit integers.
//!
//! In a compiled QDQ graph these remain only at the float edges (a float
//! graph input quantized once, a float output dequantized once); the pass in
//! [`crate::qdq`] replaces the pairs around integer operators.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use super::util::{axis, expect_dtype, opt, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{lit_usize, rust_type, NodeCx};
use crate::ir::{numel, DType, TensorData};

/// Integer types the quantize/dequantize kernels handle.
const QTYPES: &[DType] = &[DType::I8, DType::U8, DType::I16, DType::U16];

/// Which of the two operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantKind {
    /// float → integer.
    Quantize,
    /// integer → float.
    Dequantize,
}

/// A parsed `QuantizeLinear` or `DequantizeLinear`.
#[derive(Debug, Clone)]
pub struct QuantLinear {
    /// Direction.
    pub kind: QuantKind,
    /// Quantization axis (per-axis and blocked forms).
    pub axis: i64,
    /// Block size (opset 21), 0 for per-tensor / per-axis.
    pub block_size: usize,
    /// `output_dtype` of QuantizeLinear (opset 21) when there is no zero point.
    pub output_dtype: Option<DType>,
}

fn parse(attrs: &Attrs, opset: i64, kind: QuantKind) -> Result<Arc<dyn Op>, OpError> {
    let block_size = attrs.int("block_size", 0)?;
    if block_size < 0 {
        return Err(OpError::Attribute {
            name: "block_size".into(),
            message: format!("negative value {block_size}"),
        });
    }
    let output_dtype = match attrs.int("output_dtype", 0)? {
        0 => None,
        code => Some(DType::from_onnx(code as i32).ok_or_else(|| {
            unsupported(format!(
                "output_dtype {} ({})",
                code,
                DType::onnx_name(code as i32)
            ))
        })?),
    };
    Ok(Arc::new(QuantLinear {
        kind,
        // Opset 10 has no axis: scales are scalars there.
        axis: if opset >= 13 {
            attrs.int("axis", 1)?
        } else {
            1
        },
        block_size: block_size as usize,
        output_dtype,
    }))
}

/// Parses `QuantizeLinear`.
pub fn parse_quantize(attrs: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    parse(attrs, opset, QuantKind::Quantize)
}

/// Parses `DequantizeLinear`.
pub fn parse_dequantize(attrs: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    parse(attrs, opset, QuantKind::Dequantize)
}

/// Where each element's scale comes from, as the kernels want it.
pub fn quant_params(
    x: &[usize],
    scale: &[usize],
    axis_attr: i64,
    block_size: usize,
) -> Result<zant_kernels::reference::quant::QuantParams, OpError> {
    let n = numel(x);
    if numel(scale) == 1 && block_size == 0 {
        return Ok(zant_kernels::reference::quant::QuantParams::per_tensor(n));
    }
    let a = axis(axis_attr, x.len())?;
    let outer: usize = x[..a].iter().product();
    let inner: usize = x[a + 1..].iter().product();
    if block_size == 0 {
        if scale != [x[a]] {
            return Err(shape_err(format!(
                "scale of shape {scale:?} for axis {a} of an input of shape {x:?} (expected [{}])",
                x[a]
            )));
        }
    } else {
        let mut want = x.to_vec();
        want[a] = x[a].div_ceil(block_size);
        if scale != want.as_slice() {
            return Err(shape_err(format!(
                "blocked scale of shape {scale:?}, expected {want:?} (block size {block_size})"
            )));
        }
    }
    Ok(zant_kernels::reference::quant::QuantParams {
        outer,
        axis_len: x[a],
        inner,
        block_size,
    })
}

impl QuantLinear {
    fn params(
        &self,
        inputs: &[Option<InputInfo<'_>>],
    ) -> Result<zant_kernels::reference::quant::QuantParams, OpError> {
        let x = req(inputs, 0)?;
        let s = req(inputs, 1)?;
        if let Some(z) = opt(inputs, 2) {
            if z.shape != s.shape && numel(z.shape) != numel(s.shape) {
                return Err(shape_err(format!(
                    "zero point of shape {:?} for a scale of shape {:?}",
                    z.shape, s.shape
                )));
            }
        }
        quant_params(x.shape, s.shape, self.axis, self.block_size)
    }

    /// The integer type of the quantized side.
    fn qtype(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<DType, OpError> {
        let dt = match self.kind {
            QuantKind::Quantize => match opt(inputs, 2) {
                Some(z) => z.dtype,
                None => self.output_dtype.unwrap_or(DType::U8),
            },
            QuantKind::Dequantize => req(inputs, 0)?.dtype,
        };
        let allowed: &[DType] = match self.kind {
            QuantKind::Quantize => QTYPES,
            QuantKind::Dequantize => &[DType::I8, DType::U8, DType::I16, DType::U16, DType::I32],
        };
        expect_dtype("quantized tensor", dt, allowed)?;
        Ok(dt)
    }
}

fn params_tokens(p: &zant_kernels::reference::quant::QuantParams, k: &TokenStream) -> TokenStream {
    let [outer, axis_len, inner, block] =
        [p.outer, p.axis_len, p.inner, p.block_size].map(lit_usize);
    quote!(&#k::quant::QuantParams { outer: #outer, axis_len: #axis_len, inner: #inner, block_size: #block })
}

impl Op for QuantLinear {
    fn name(&self) -> String {
        match self.kind {
            QuantKind::Quantize => "QuantizeLinear".into(),
            QuantKind::Dequantize => "DequantizeLinear".into(),
        }
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let s = req(inputs, 1)?;
        expect_dtype("scale", s.dtype, &[DType::F32])?;
        let q = self.qtype(inputs)?;
        if let Some(z) = opt(inputs, 2) {
            if z.dtype != q {
                return Err(shape_err(format!(
                    "zero point of type {} for a {} tensor",
                    z.dtype, q
                )));
            }
        }
        self.params(inputs)?;
        let out = match self.kind {
            QuantKind::Quantize => {
                expect_dtype("QuantizeLinear input", x.dtype, &[DType::F32])?;
                q
            }
            QuantKind::Dequantize => {
                if q == DType::I32
                    && opt(inputs, 2).is_some_and(|z| {
                        z.data
                            .and_then(|d| d.to_i64())
                            .is_none_or(|v| v.iter().any(|&z| z != 0))
                    })
                {
                    return Err(shape_err("an int32 input needs a zero point of 0"));
                }
                DType::F32
            }
        };
        Ok(vec![OutputInfo::new(out, x.shape.to_vec())])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        // Dequantized weights stay quantized: the QDQ pass reads them as such.
        if self.kind == QuantKind::Dequantize {
            return Err(OpError::NotFoldable);
        }
        let (Some(Some(x)), Some(Some(s))) = (inputs.first(), inputs.get(1)) else {
            return Err(OpError::NotFoldable);
        };
        let p = quant_params(&x.shape, &s.shape, self.axis, self.block_size)?;
        let (xv, sv) = (x.as_f32(), s.as_f32());
        let z = inputs.get(2).copied().flatten();
        let shape = outputs[0].shape.clone();
        use zant_kernels::reference::quant::quantize_linear;
        Ok(vec![match outputs[0].dtype {
            DType::I8 => {
                let mut y = vec![0i8; xv.len()];
                quantize_linear(&xv, &sv, z.map(|z| z.as_i8()).as_deref(), &mut y, &p);
                TensorData::from_i8(shape, &y)
            }
            DType::U8 => {
                let mut y = vec![0u8; xv.len()];
                quantize_linear(&xv, &sv, z.map(|z| z.as_u8()).as_deref(), &mut y, &p);
                TensorData::from_u8(shape, &y)
            }
            DType::I16 => {
                let mut y = vec![0i16; xv.len()];
                quantize_linear(&xv, &sv, z.map(|z| z.as_i16()).as_deref(), &mut y, &p);
                TensorData::from_i16(shape, &y)
            }
            DType::U16 => {
                let mut y = vec![0u16; xv.len()];
                quantize_linear(&xv, &sv, z.map(|z| z.as_u16()).as_deref(), &mut y, &p);
                TensorData::from_u16(shape, &y)
            }
            _ => return Err(OpError::NotFoldable),
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let inputs = cx.inputs();
        let p = self.params(&inputs)?;
        let k = cx.kernels();
        let pt = params_tokens(&p, &k);
        let q = self.qtype(&inputs)?;
        let qt = rust_type(q);
        let (x, s, y) = (cx.x(0), cx.x(1), cx.y(0));
        let z = if opt(&inputs, 2).is_some() {
            let z = cx.x(2);
            quote!(Some(#z))
        } else {
            quote!(None::<&[#qt]>)
        };
        Ok(match (self.kind, q) {
            (QuantKind::Quantize, _) => quote!(#k::quant::quantize_linear(#x, #s, #z, #y, #pt);),
            (QuantKind::Dequantize, DType::I32) => {
                quote!(#k::quant::dequantize_linear_i32(#x, #s, #y, #pt);)
            }
            (QuantKind::Dequantize, _) => {
                quote!(#k::quant::dequantize_linear(#x, #s, #z, #y, #pt);)
            }
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
