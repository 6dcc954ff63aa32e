//! Element-wise binary operators with numpy broadcasting: Add, Sub, Mul, Div,
//! Pow, Max, Min (variadic Max/Min/Sum/Mean are chained pairwise), PRelu, and
//! the comparisons Equal, Less, Greater, LessOrEqual, GreaterOrEqual.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;

use super::util::{broadcast, expect_dtype, req};
use super::{shape_err, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{numel, DType, TensorData};

/// Which binary function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryKind {
    /// a + b.
    Add,
    /// a − b.
    Sub,
    /// a · b.
    Mul,
    /// a / b (integers truncate).
    Div,
    /// a^b.
    Pow,
    /// max(a, b).
    Max,
    /// min(a, b).
    Min,
    /// a < 0 ? b·a : a.
    PRelu,
    /// a == b (bool output).
    Equal,
    /// a < b.
    Less,
    /// a > b.
    Greater,
    /// a ≤ b.
    LessOrEqual,
    /// a ≥ b.
    GreaterOrEqual,
}

impl BinaryKind {
    /// True for comparisons (bool output).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryKind::Equal | BinaryKind::Less | BinaryKind::Greater | BinaryKind::LessOrEqual | BinaryKind::GreaterOrEqual
        )
    }
}

/// A parsed binary (or variadic) node.
#[derive(Debug, Clone)]
pub struct Binary {
    /// ONNX op type.
    pub op_type: &'static str,
    /// The function.
    pub kind: BinaryKind,
    /// Variadic form (Max/Min/Sum/Mean with any number of inputs).
    pub variadic: bool,
    /// Mean: divide the sum by the input count.
    pub mean: bool,
}

fn mk(op_type: &'static str, kind: BinaryKind, variadic: bool, mean: bool) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Binary { op_type, kind, variadic, mean }))
}

fn check_legacy_broadcast(a: &Attrs, opset: i64) -> Result<(), OpError> {
    // Before opset 7, broadcasting needed `broadcast=1` and an `axis`.
    if opset < 7 && a.int("broadcast", 0)? != 0 && a.has("axis") {
        return Err(super::unsupported("legacy (opset < 7) broadcasting with an `axis` attribute"));
    }
    Ok(())
}

macro_rules! parsers {
    ($($f:ident => $name:literal, $kind:ident, $variadic:expr, $mean:expr;)*) => {$(
        #[doc = concat!("Parses `", $name, "`.")]
        pub fn $f(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
            check_legacy_broadcast(a, opset)?;
            mk($name, BinaryKind::$kind, $variadic, $mean)
        }
    )*};
}

parsers! {
    parse_add => "Add", Add, false, false;
    parse_sub => "Sub", Sub, false, false;
    parse_mul => "Mul", Mul, false, false;
    parse_div => "Div", Div, false, false;
    parse_pow => "Pow", Pow, false, false;
    parse_max => "Max", Max, true, false;
    parse_min => "Min", Min, true, false;
    parse_sum => "Sum", Add, true, false;
    parse_mean => "Mean", Add, true, true;
    parse_prelu => "PRelu", PRelu, false, false;
    parse_equal => "Equal", Equal, false, false;
    parse_less => "Less", Less, false, false;
    parse_greater => "Greater", Greater, false, false;
    parse_less_or_equal => "LessOrEqual", LessOrEqual, false, false;
    parse_greater_or_equal => "GreaterOrEqual", GreaterOrEqual, false, false;
}

const NUMERIC: &[DType] = &[DType::F32, DType::I8, DType::U8, DType::I16, DType::U16, DType::I32, DType::U32, DType::I64, DType::U64];

impl Op for Binary {
    fn name(&self) -> String {
        self.op_type.to_string()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let a = req(inputs, 0)?;
        let present: Vec<InputInfo<'_>> = inputs.iter().flatten().copied().collect();
        if !self.variadic && present.len() != 2 {
            return Err(shape_err(format!("{} takes 2 inputs, got {}", self.op_type, present.len())));
        }
        let allowed: &[DType] = match self.kind {
            BinaryKind::Pow | BinaryKind::PRelu => &[DType::F32],
            BinaryKind::Equal => &[DType::F32, DType::I32, DType::I64, DType::Bool, DType::I8, DType::U8],
            _ if self.mean => &[DType::F32],
            _ => NUMERIC,
        };
        expect_dtype(self.op_type, a.dtype, allowed)?;
        let mut shape = a.shape.to_vec();
        for b in &present[1..] {
            // Pow allows a different exponent type; others need equal types.
            if b.dtype != a.dtype && self.kind != BinaryKind::Pow {
                return Err(shape_err(format!("inputs of types {} and {}", a.dtype, b.dtype)));
            }
            if self.kind == BinaryKind::Pow {
                expect_dtype("Pow exponent", b.dtype, &[DType::F32])?;
            }
            shape = broadcast(&shape, b.shape)?;
        }
        let dtype = if self.kind.is_comparison() { DType::Bool } else { a.dtype };
        Ok(vec![OutputInfo::new(dtype, shape)])
    }

    fn macs(&self, _inputs: &[Option<InputInfo<'_>>], outputs: &[OutputInfo]) -> u64 {
        // Only Mul counts as multiply work; it is reported for completeness.
        match self.kind {
            BinaryKind::Mul => outputs.first().map(|o| numel(&o.shape) as u64).unwrap_or(0),
            _ => 0,
        }
    }

    fn eval(&self, inputs: &[Option<&TensorData>], outputs: &[OutputInfo]) -> Result<Vec<TensorData>, OpError> {
        super::emit_support::eval_binary(self, inputs, outputs)
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        super::emit_support::binary(self, cx)
    }

    fn inplace_input(&self) -> Option<usize> {
        if self.kind.is_comparison() || self.variadic {
            None
        } else {
            Some(0)
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
