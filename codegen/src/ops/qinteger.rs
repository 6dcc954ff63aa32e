//! `ConvInteger` and `MatMulInteger`: integer products with `i32` results
//! (`(x - x_zero_point) ⊛ (w - w_zero_point)`), as dynamic-quantization
//! graphs use them before a float rescale.
//!
//! Zero points must be constants; they become literals of the generated call
//! ([`zant_kernels::reference::quant::conv_integer`],
//! [`zant_kernels::reference::quant::matmul_integer`]).

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::shape::MAX_RANK;

use super::conv::Conv;
use super::qlinear::{const_zero_points, lit_i32, per_channel};
use super::util::{expect_dtype, opt, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{arr_usize_n, lit_usize, NodeCx};
use crate::ir::{numel, DType};

const Q8: &[DType] = &[DType::I8, DType::U8];

/// Checks that optional zero-point input `i` has the type of its operand.
fn check_zero_point(
    inputs: &[Option<InputInfo<'_>>],
    i: usize,
    operand: DType,
    what: &str,
) -> Result<(), OpError> {
    match opt(inputs, i) {
        Some(z) if z.dtype != operand => Err(shape_err(format!(
            "{what} is {}, its operand {}",
            z.dtype, operand
        ))),
        _ => Ok(()),
    }
}

/// A parsed `ConvInteger` (geometry as `Conv`).
#[derive(Debug, Clone)]
pub struct ConvInteger {
    /// Geometry.
    pub conv: Conv,
}

/// Parses `ConvInteger`.
pub fn parse_conv_integer(attrs: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let c = super::conv::parse(attrs, opset)?;
    let conv = c
        .as_any()
        .downcast_ref::<Conv>()
        .expect("conv::parse returns a Conv")
        .clone();
    Ok(Arc::new(ConvInteger { conv }))
}

impl Op for ConvInteger {
    fn name(&self) -> String {
        "ConvInteger".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let w = req(inputs, 1)?;
        expect_dtype("ConvInteger input", x.dtype, Q8)?;
        expect_dtype("ConvInteger weights", w.dtype, Q8)?;
        check_zero_point(inputs, 2, x.dtype, "x_zero_point")?;
        check_zero_point(inputs, 3, w.dtype, "w_zero_point")?;
        let g = self.conv.geometry(x.shape, w.shape)?;
        let m = w.shape[0];
        if let Some(z) = opt(inputs, 2) {
            if numel(z.shape) != 1 {
                return Err(unsupported(
                    "ConvInteger with a per-channel x_zero_point (ONNX allows one value)",
                ));
            }
        }
        if let Some(z) = opt(inputs, 3) {
            if numel(z.shape) != 1 && numel(z.shape) != m {
                return Err(shape_err(format!(
                    "w_zero_point of shape {:?}: expected one value or {m}",
                    z.shape
                )));
            }
        }
        let mut shape = vec![x.shape[0], m];
        shape.extend(g.out);
        Ok(vec![OutputInfo::new(DType::I32, shape)])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], outputs: &[OutputInfo]) -> u64 {
        let (Some(Some(w)), Some(y)) = (inputs.get(1), outputs.first()) else {
            return 0;
        };
        let per_out: usize = w.shape[1..].iter().product();
        (numel(&y.shape) * per_out) as u64
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let (x, w) = (req(&ins, 0)?, req(&ins, 1)?);
        let m = w.shape[0];
        let p = self.conv.params(x.shape, w.shape)?;
        let xz = const_zero_points(&ins, 2, "x_zero_point")?;
        let wz = per_channel(
            &const_zero_points(&ins, 3, "w_zero_point")?,
            m,
            "w_zero_point",
        )?;
        let k = cx.kernels();
        let n = lit_usize(m);
        let wzl = wz.iter().map(|&v| lit_i32(v));
        let act = super::ActivationExt::tokens(&super::Activation::None, &quote!(#k::activation));
        let params = super::conv::params_tokens(&p, &k, &act);
        let xzl = lit_i32(xz[0]);
        let (x0, w1, y0) = (cx.x(0), cx.x(1), cx.y(0));
        Ok(quote! {
            static ZANT_WZP: [i32; #n] = [#(#wzl),*];
            #k::quant::conv_integer(#x0, #xzl, #w1, &ZANT_WZP, #y0, &#params);
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        matches!(i, 0 | 1)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A parsed `MatMulInteger`.
#[derive(Debug, Clone, Default)]
pub struct MatMulInteger;

/// Parses `MatMulInteger`.
pub fn parse_matmul_integer(_attrs: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(MatMulInteger))
}

impl Op for MatMulInteger {
    fn name(&self) -> String {
        "MatMulInteger".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let (a, b) = (req(inputs, 0)?, req(inputs, 1)?);
        expect_dtype("MatMulInteger A", a.dtype, Q8)?;
        expect_dtype("MatMulInteger B", b.dtype, Q8)?;
        check_zero_point(inputs, 2, a.dtype, "a_zero_point")?;
        check_zero_point(inputs, 3, b.dtype, "b_zero_point")?;
        let p = super::matmul::plan(a.shape, b.shape)?;
        for (i, what) in [
            (2, "a_zero_point (per row)"),
            (3, "b_zero_point (per column)"),
        ] {
            if opt(inputs, i).is_some_and(|z| numel(z.shape) != 1) {
                return Err(unsupported(format!(
                    "MatMulInteger with a non-scalar {what}"
                )));
            }
        }
        Ok(vec![OutputInfo::new(DType::I32, p.out_shape)])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], outputs: &[OutputInfo]) -> u64 {
        let (Some(Some(a)), Some(y)) = (inputs.first(), outputs.first()) else {
            return 0;
        };
        (numel(&y.shape) * a.shape.last().copied().unwrap_or(1)) as u64
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let (a, b) = (req(&ins, 0)?, req(&ins, 1)?);
        let p = super::matmul::plan(a.shape, b.shape)?.params;
        let az = const_zero_points(&ins, 2, "a_zero_point")?;
        let bz = const_zero_points(&ins, 3, "b_zero_point")?;
        let k = cx.kernels();
        let [m, kk, nn, r] = [p.m, p.k, p.n, p.batch_rank].map(lit_usize);
        let ob = arr_usize_n(&p.out_batch, MAX_RANK, 1);
        let ab = arr_usize_n(&p.a_batch, MAX_RANK, 1);
        let bb = arr_usize_n(&p.b_batch, MAX_RANK, 1);
        let (azl, bzl) = (lit_i32(az[0]), lit_i32(bz[0]));
        let (x0, x1, y0) = (cx.x(0), cx.x(1), cx.y(0));
        Ok(quote! {
            #k::quant::matmul_integer(#x0, #x1, #azl, #bzl, #y0, &#k::matmul::MatMulParams {
                m: #m, k: #kk, n: #nn, batch_rank: #r,
                out_batch: #ob, a_batch: #ab, b_batch: #bb,
            });
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        matches!(i, 0 | 1)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
