//! Element-wise unary operators: the activations (Relu, LeakyRelu, Sigmoid,
//! HardSigmoid, HardSwish, Tanh, Clip, Elu) and math (Erf, Exp, Log, Neg, Abs,
//! Sqrt, Reciprocal, Floor, Ceil, Softplus, Round, Sign). One family file: they
//! share shape inference (output = input), in-place execution and the kernel.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use super::util::{const_floats_opt, expect_dtype, req};
use super::{Activation, ActivationExt, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{DType, TensorData};

/// Which unary function: the kernels' own [`UnaryOp`](zant_kernels::reference::unary::UnaryOp),
/// so the kernel literal is generated from the type the kernel takes (one
/// owner for the fact). An activation (`Act`) is also fusable into Conv/Gemm.
pub use zant_kernels::reference::unary::UnaryOp as UnaryKind;

/// A parsed unary node.
#[derive(Debug, Clone)]
pub struct Unary {
    /// ONNX op type.
    pub op_type: &'static str,
    /// The function; Clip bounds from inputs are resolved at infer time.
    pub kind: UnaryKind,
}

fn mk(op_type: &'static str, kind: UnaryKind) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Unary { op_type, kind }))
}

/// Parses `Relu`.
pub fn parse_relu(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk("Relu", UnaryKind::Act(Activation::Relu))
}
/// Parses `LeakyRelu`.
pub fn parse_leaky_relu(a: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk(
        "LeakyRelu",
        UnaryKind::Act(Activation::LeakyRelu {
            alpha: a.float("alpha", 0.01)?,
        }),
    )
}
/// Parses `Sigmoid`.
pub fn parse_sigmoid(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk("Sigmoid", UnaryKind::Act(Activation::Sigmoid))
}
/// Parses `HardSigmoid`.
pub fn parse_hard_sigmoid(a: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk(
        "HardSigmoid",
        UnaryKind::Act(Activation::HardSigmoid {
            alpha: a.float("alpha", 0.2)?,
            beta: a.float("beta", 0.5)?,
        }),
    )
}
/// Parses `HardSwish`.
pub fn parse_hard_swish(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk("HardSwish", UnaryKind::Act(Activation::HardSwish))
}
/// Parses `Tanh`.
pub fn parse_tanh(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk("Tanh", UnaryKind::Act(Activation::Tanh))
}
/// Parses `Elu`.
pub fn parse_elu(a: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk(
        "Elu",
        UnaryKind::Act(Activation::Elu {
            alpha: a.float("alpha", 1.0)?,
        }),
    )
}
/// Parses `Clip` (bounds as attributes before opset 11, as inputs after).
pub fn parse_clip(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let (min, max) = if opset < 11 {
        (
            a.float("min", f32::NEG_INFINITY)?,
            a.float("max", f32::INFINITY)?,
        )
    } else {
        (f32::NEG_INFINITY, f32::INFINITY)
    };
    mk("Clip", UnaryKind::Act(Activation::Clip { min, max }))
}

macro_rules! simple {
    ($($f:ident => $name:literal, $kind:expr;)*) => {$(
        #[doc = concat!("Parses `", $name, "`.")]
        pub fn $f(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
            mk($name, $kind)
        }
    )*};
}

simple! {
    parse_erf => "Erf", UnaryKind::Erf;
    parse_exp => "Exp", UnaryKind::Exp;
    parse_log => "Log", UnaryKind::Log;
    parse_neg => "Neg", UnaryKind::Neg;
    parse_abs => "Abs", UnaryKind::Abs;
    parse_sqrt => "Sqrt", UnaryKind::Sqrt;
    parse_reciprocal => "Reciprocal", UnaryKind::Reciprocal;
    parse_floor => "Floor", UnaryKind::Floor;
    parse_ceil => "Ceil", UnaryKind::Ceil;
    parse_softplus => "Softplus", UnaryKind::Act(Activation::Softplus);
    parse_round => "Round", UnaryKind::Round;
    parse_sign => "Sign", UnaryKind::Sign;
}

impl Unary {
    /// The function with Clip's input bounds (opset ≥ 11) resolved.
    /// Clip whose bounds (opset ≥ 11) are computed at run time.
    pub fn runtime_bounds(&self, inputs: &[Option<InputInfo<'_>>]) -> bool {
        matches!(self.kind, UnaryKind::Act(Activation::Clip { .. }))
            && [1, 2].iter().any(|&i| {
                inputs
                    .get(i)
                    .copied()
                    .flatten()
                    .is_some_and(|b| b.data.is_none())
            })
    }

    /// The function with constant Clip bounds resolved. Fails for bounds
    /// computed at run time (see [`Unary::runtime_bounds`]).
    pub fn resolved(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<UnaryKind, OpError> {
        if let UnaryKind::Act(Activation::Clip { min, max }) = self.kind {
            let lo = const_floats_opt(inputs, 1, "Clip min")?;
            let hi = const_floats_opt(inputs, 2, "Clip max")?;
            let min = lo
                .and_then(|v| v.first().copied())
                .map(|v| v as f32)
                .unwrap_or(min);
            let max = hi
                .and_then(|v| v.first().copied())
                .map(|v| v as f32)
                .unwrap_or(max);
            return Ok(UnaryKind::Act(Activation::Clip { min, max }));
        }
        Ok(self.kind)
    }
}

fn int_bound(v: f32, dt: DType) -> TokenStream {
    let ty = crate::emit::rust_type(dt);
    if v == f32::NEG_INFINITY {
        quote!(#ty::MIN)
    } else if v == f32::INFINITY {
        quote!(#ty::MAX)
    } else {
        let l = proc_macro2::Literal::i64_unsuffixed(v as i64);
        quote!(#l)
    }
}

/// The kernel's `UnaryOp` as a Rust expression.
fn tokens(kind: UnaryKind, k: &TokenStream) -> TokenStream {
    let u = quote!(#k::unary::UnaryOp);
    let f = crate::emit::lit_f32;
    match kind {
        UnaryKind::Act(a) => {
            let a = a.tokens(&quote!(#k::activation));
            quote!(#u::Act(#a))
        }
        UnaryKind::Shrink { lambd, bias } => {
            let (lambd, bias) = (f(lambd), f(bias));
            quote!(#u::Shrink { lambd: #lambd, bias: #bias })
        }
        UnaryKind::PowConst { exponent } => {
            let exponent = f(exponent);
            quote!(#u::PowConst { exponent: #exponent })
        }
        UnaryKind::Identity => quote!(#u::Identity),
        UnaryKind::Erf => quote!(#u::Erf),
        UnaryKind::Exp => quote!(#u::Exp),
        UnaryKind::Log => quote!(#u::Log),
        UnaryKind::Neg => quote!(#u::Neg),
        UnaryKind::Abs => quote!(#u::Abs),
        UnaryKind::Sqrt => quote!(#u::Sqrt),
        UnaryKind::Reciprocal => quote!(#u::Reciprocal),
        UnaryKind::Floor => quote!(#u::Floor),
        UnaryKind::Ceil => quote!(#u::Ceil),
        UnaryKind::Round => quote!(#u::Round),
        UnaryKind::Sign => quote!(#u::Sign),
        UnaryKind::Sin => quote!(#u::Sin),
        UnaryKind::Cos => quote!(#u::Cos),
        UnaryKind::Tan => quote!(#u::Tan),
        UnaryKind::Asin => quote!(#u::Asin),
        UnaryKind::Acos => quote!(#u::Acos),
        UnaryKind::Atan => quote!(#u::Atan),
        UnaryKind::Sinh => quote!(#u::Sinh),
        UnaryKind::Cosh => quote!(#u::Cosh),
        UnaryKind::Asinh => quote!(#u::Asinh),
        UnaryKind::Acosh => quote!(#u::Acosh),
        UnaryKind::Atanh => quote!(#u::Atanh),
    }
}

impl Op for Unary {
    fn name(&self) -> String {
        self.op_type.to_string()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let ints_ok = matches!(
            self.kind,
            UnaryKind::Neg
                | UnaryKind::Abs
                | UnaryKind::Sign
                | UnaryKind::Act(Activation::Relu | Activation::Clip { .. })
        );
        if ints_ok {
            expect_dtype(
                self.op_type,
                x.dtype,
                &[
                    DType::F32,
                    DType::I8,
                    DType::I16,
                    DType::I32,
                    DType::I64,
                    DType::U8,
                ],
            )?;
        } else {
            expect_dtype(self.op_type, x.dtype, &[DType::F32])?;
        }
        if self.runtime_bounds(inputs) {
            for i in [1, 2] {
                if let Some(b) = inputs.get(i).copied().flatten() {
                    if b.dtype != x.dtype || crate::ir::numel(b.shape) != 1 {
                        return Err(super::shape_err(format!(
                            "Clip bound {i} must be a scalar of type {}",
                            x.dtype
                        )));
                    }
                }
            }
        } else {
            self.resolved(inputs)?;
        }
        Ok(vec![OutputInfo::new(x.dtype, x.shape.to_vec())])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        _outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let Some(Some(x)) = inputs.first() else {
            return Err(OpError::NotFoldable);
        };
        if x.dtype != DType::F32 {
            return Err(OpError::NotFoldable);
        }
        let infos: Vec<Option<InputInfo<'_>>> = inputs
            .iter()
            .map(|d| {
                d.map(|d| InputInfo {
                    dtype: d.dtype,
                    shape: &d.shape,
                    data: Some(d),
                })
            })
            .collect();
        let op = self.resolved(&infos)?;
        let xv = x.as_f32();
        let mut y = vec![0f32; xv.len()];
        zant_kernels::reference::unary::unary(op, &xv, &mut y);
        Ok(vec![TensorData::from_f32(x.shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        if self.runtime_bounds(&ins) {
            // min(max(x, lo), hi) with the bounds read at run time.
            let k = cx.kernels();
            let y = cx.y(0);
            let rank = x.shape.len();
            let one = crate::emit::arr_usize_n(&[], 6, 1);
            let out = crate::emit::arr_usize_n(x.shape, 6, 1);
            let r = crate::emit::lit_usize(rank);
            let p = quote!(&#k::binary::BroadcastParams { rank: #r, out_shape: #out, a_shape: #out, b_shape: #one });
            let mut code = if cx.inplace() {
                quote!()
            } else {
                let xs = cx.x(0);
                quote!(#y.copy_from_slice(#xs);)
            };
            for (i, op) in [(1, quote!(Max)), (2, quote!(Min))] {
                if ins.get(i).copied().flatten().is_some() {
                    let b = cx.x(i);
                    code.extend(
                        quote!(#k::binary::binary_inplace(#k::binary::BinaryOp::#op, #y, #b, #p);),
                    );
                }
            }
            return Ok(code);
        }
        let kind = self.resolved(&ins)?;
        let k = cx.kernels();
        let y = cx.y(0);
        if x.dtype == DType::F32 {
            let op = tokens(kind, &k);
            return Ok(if cx.inplace() {
                quote!(#k::unary::unary_inplace(#op, #y);)
            } else {
                let xs = cx.x(0);
                quote!(#k::unary::unary(#op, #xs, #y);)
            });
        }
        // Integer forms.
        let op = match kind {
            UnaryKind::Neg => quote!(#k::unary::GenericUnaryOp::Neg),
            UnaryKind::Abs => quote!(#k::unary::GenericUnaryOp::Abs),
            UnaryKind::Sign => quote!(#k::unary::GenericUnaryOp::Sign),
            UnaryKind::Act(Activation::Relu) => quote!(#k::unary::GenericUnaryOp::Relu),
            UnaryKind::Act(Activation::Clip { min, max }) => {
                let ty = crate::emit::rust_type(x.dtype);
                let lo = int_bound(min, x.dtype);
                let hi = int_bound(max, x.dtype);
                quote!(#k::unary::GenericUnaryOp::<#ty>::Clip { min: #lo, max: #hi })
            }
            other => return Err(super::unsupported(format!("{other:?} on {}", x.dtype))),
        };
        Ok(if cx.inplace() {
            quote!(#k::unary::unary_generic_inplace(#op, #y);)
        } else {
            let xs = cx.x(0);
            quote!(#k::unary::unary_generic(#op, #xs, #y);)
        })
    }

    fn reads_input(&self, i: usize) -> bool {
        // Clip's bounds may be computed at run time; constant ones are tiny.
        i == 0 || matches!(self.kind, UnaryKind::Act(Activation::Clip { .. }))
    }

    fn inplace_input(&self) -> Option<usize> {
        Some(0)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
