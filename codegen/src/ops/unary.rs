//! Element-wise unary operators: the activations (Relu, LeakyRelu, Sigmoid,
//! HardSigmoid, HardSwish, Tanh, Clip, Elu) and math (Erf, Exp, Log, Neg, Abs,
//! Sqrt, Reciprocal, Floor, Ceil, Softplus, Round, Sign). One family file: they
//! share shape inference (output = input), in-place execution and the kernel.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;

use super::util::{const_floats_opt, expect_dtype, req};
use super::{Activation, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{DType, TensorData};

/// Which unary function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnaryKind {
    /// An activation (also fusable into Conv/Gemm).
    Act(Activation),
    /// Error function.
    Erf,
    /// e^x.
    Exp,
    /// Natural log.
    Log,
    /// −x.
    Neg,
    /// |x|.
    Abs,
    /// √x.
    Sqrt,
    /// 1/x.
    Reciprocal,
    /// ⌊x⌋.
    Floor,
    /// ⌈x⌉.
    Ceil,
    /// ln(1 + e^x).
    Softplus,
    /// Round half to even.
    Round,
    /// −1, 0 or 1.
    Sign,
}

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
    mk("LeakyRelu", UnaryKind::Act(Activation::LeakyRelu { alpha: a.float("alpha", 0.01)? }))
}
/// Parses `Sigmoid`.
pub fn parse_sigmoid(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk("Sigmoid", UnaryKind::Act(Activation::Sigmoid))
}
/// Parses `HardSigmoid`.
pub fn parse_hard_sigmoid(a: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    mk(
        "HardSigmoid",
        UnaryKind::Act(Activation::HardSigmoid { alpha: a.float("alpha", 0.2)?, beta: a.float("beta", 0.5)? }),
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
    mk("Elu", UnaryKind::Act(Activation::Elu { alpha: a.float("alpha", 1.0)? }))
}
/// Parses `Clip` (bounds as attributes before opset 11, as inputs after).
pub fn parse_clip(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let (min, max) = if opset < 11 {
        (a.float("min", f32::NEG_INFINITY)?, a.float("max", f32::INFINITY)?)
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
    parse_softplus => "Softplus", UnaryKind::Softplus;
    parse_round => "Round", UnaryKind::Round;
    parse_sign => "Sign", UnaryKind::Sign;
}

impl Unary {
    /// The function with Clip's input bounds (opset ≥ 11) resolved.
    pub fn resolved(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<UnaryKind, OpError> {
        if let UnaryKind::Act(Activation::Clip { min, max }) = self.kind {
            let lo = const_floats_opt(inputs, 1, "Clip min")?;
            let hi = const_floats_opt(inputs, 2, "Clip max")?;
            let min = lo.and_then(|v| v.first().copied()).map(|v| v as f32).unwrap_or(min);
            let max = hi.and_then(|v| v.first().copied()).map(|v| v as f32).unwrap_or(max);
            return Ok(UnaryKind::Act(Activation::Clip { min, max }));
        }
        Ok(self.kind)
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
            UnaryKind::Neg | UnaryKind::Abs | UnaryKind::Sign | UnaryKind::Act(Activation::Relu | Activation::Clip { .. })
        );
        if ints_ok {
            expect_dtype(self.op_type, x.dtype, &[DType::F32, DType::I8, DType::I16, DType::I32, DType::I64, DType::U8])?;
        } else {
            expect_dtype(self.op_type, x.dtype, &[DType::F32])?;
        }
        self.resolved(inputs)?;
        Ok(vec![OutputInfo::new(x.dtype, x.shape.to_vec())])
    }

    fn eval(&self, inputs: &[Option<&TensorData>], _outputs: &[OutputInfo]) -> Result<Vec<TensorData>, OpError> {
        super::emit_support::eval_unary(self, inputs)
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        super::emit_support::unary(self, cx)
    }

    fn inplace_input(&self) -> Option<usize> {
        Some(0)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
