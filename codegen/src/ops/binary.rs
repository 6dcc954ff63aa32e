//! Element-wise binary operators with numpy broadcasting: Add, Sub, Mul, Div,
//! Pow, Max, Min (variadic Max/Min/Sum/Mean are chained pairwise), PRelu, and
//! the comparisons Equal, Less, Greater, LessOrEqual, GreaterOrEqual.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::util::{broadcast, expect_dtype, req};
use super::{shape_err, InPlace, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::{numel, DType, TensorData};

use zant_kernels::reference::binary::{BinaryOp, CompareOp};

/// Which binary function: the kernels' own operator enums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryKind {
    /// Arithmetic (same element type out as in).
    Arith(BinaryOp),
    /// Comparison (bool output).
    Compare(CompareOp),
}

impl BinaryKind {
    /// True for comparisons (bool output).
    pub fn is_comparison(self) -> bool {
        matches!(self, BinaryKind::Compare(_))
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

fn mk(
    op_type: &'static str,
    kind: BinaryKind,
    variadic: bool,
    mean: bool,
) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Binary {
        op_type,
        kind,
        variadic,
        mean,
    }))
}

fn check_legacy_broadcast(a: &Attrs, opset: i64) -> Result<(), OpError> {
    // Before opset 7, broadcasting needed `broadcast=1` and an `axis`.
    if opset < 7 && a.int("broadcast", 0)? != 0 && a.has("axis") {
        return Err(super::unsupported(
            "legacy (opset < 7) broadcasting with an `axis` attribute",
        ));
    }
    Ok(())
}

macro_rules! parsers {
    ($($f:ident => $name:literal, $kind:expr, $variadic:expr, $mean:expr;)*) => {$(
        #[doc = concat!("Parses `", $name, "`.")]
        pub fn $f(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
            check_legacy_broadcast(a, opset)?;
            mk($name, $kind, $variadic, $mean)
        }
    )*};
}

parsers! {
    parse_add => "Add", BinaryKind::Arith(BinaryOp::Add), false, false;
    parse_sub => "Sub", BinaryKind::Arith(BinaryOp::Sub), false, false;
    parse_mul => "Mul", BinaryKind::Arith(BinaryOp::Mul), false, false;
    parse_div => "Div", BinaryKind::Arith(BinaryOp::Div), false, false;
    parse_pow => "Pow", BinaryKind::Arith(BinaryOp::Pow), false, false;
    parse_max => "Max", BinaryKind::Arith(BinaryOp::Max), true, false;
    parse_min => "Min", BinaryKind::Arith(BinaryOp::Min), true, false;
    parse_sum => "Sum", BinaryKind::Arith(BinaryOp::Add), true, false;
    parse_mean => "Mean", BinaryKind::Arith(BinaryOp::Add), true, true;
    parse_prelu => "PRelu", BinaryKind::Arith(BinaryOp::PRelu), false, false;
    parse_equal => "Equal", BinaryKind::Compare(CompareOp::Equal), false, false;
    parse_less => "Less", BinaryKind::Compare(CompareOp::Less), false, false;
    parse_greater => "Greater", BinaryKind::Compare(CompareOp::Greater), false, false;
    parse_less_or_equal => "LessOrEqual", BinaryKind::Compare(CompareOp::LessOrEqual), false, false;
    parse_greater_or_equal => "GreaterOrEqual", BinaryKind::Compare(CompareOp::GreaterOrEqual), false, false;
}

const NUMERIC: &[DType] = &[
    DType::F32,
    DType::I8,
    DType::U8,
    DType::I16,
    DType::U16,
    DType::I32,
    DType::U32,
    DType::I64,
    DType::U64,
];

/// The kernel's `BinaryOp` (host evaluation; comparisons go through
/// [`compare_op`]).
fn kernel_op(kind: BinaryKind) -> BinaryOp {
    match kind {
        BinaryKind::Arith(b) => b,
        BinaryKind::Compare(_) => BinaryOp::Add,
    }
}

fn compare_op(kind: BinaryKind) -> CompareOp {
    match kind {
        BinaryKind::Compare(c) => c,
        BinaryKind::Arith(_) => CompareOp::Equal,
    }
}

/// The kernel's operator as a Rust expression, named from the kernels' own
/// enum variant.
fn op_tokens(kind: BinaryKind, k: &TokenStream) -> TokenStream {
    match kind {
        BinaryKind::Arith(b) => {
            let name = format_ident!("{}", format!("{b:?}"));
            quote!(#k::binary::BinaryOp::#name)
        }
        BinaryKind::Compare(c) => {
            let name = format_ident!("{}", format!("{c:?}"));
            quote!(#k::binary::CompareOp::#name)
        }
    }
}

impl Op for Binary {
    fn name(&self) -> String {
        self.op_type.to_string()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let a = req(inputs, 0)?;
        let present: Vec<InputInfo<'_>> = inputs.iter().flatten().copied().collect();
        if !self.variadic && present.len() != 2 {
            return Err(shape_err(format!(
                "{} takes 2 inputs, got {}",
                self.op_type,
                present.len()
            )));
        }
        let allowed: &[DType] = match self.kind {
            BinaryKind::Arith(BinaryOp::Pow | BinaryOp::PRelu) => &[DType::F32],
            BinaryKind::Compare(CompareOp::Equal) => &[
                DType::F32,
                DType::I32,
                DType::I64,
                DType::Bool,
                DType::I8,
                DType::U8,
            ],
            _ if self.mean => &[DType::F32],
            _ => NUMERIC,
        };
        expect_dtype(self.op_type, a.dtype, allowed)?;
        let mut shape = a.shape.to_vec();
        for b in &present[1..] {
            // Pow allows a different exponent type; others need equal types.
            if b.dtype != a.dtype && self.kind != BinaryKind::Arith(BinaryOp::Pow) {
                return Err(shape_err(format!(
                    "inputs of types {} and {}",
                    a.dtype, b.dtype
                )));
            }
            if self.kind == BinaryKind::Arith(BinaryOp::Pow) {
                expect_dtype("Pow exponent", b.dtype, &[DType::F32])?;
            }
            shape = broadcast(&shape, b.shape)?;
        }
        let dtype = if self.kind.is_comparison() {
            DType::Bool
        } else {
            a.dtype
        };
        Ok(vec![OutputInfo::new(dtype, shape)])
    }

    fn macs(&self, _inputs: &[Option<InputInfo<'_>>], outputs: &[OutputInfo]) -> u64 {
        // Only Mul counts as multiply work; it is reported for completeness.
        match self.kind {
            BinaryKind::Arith(BinaryOp::Mul) => {
                outputs.first().map(|o| numel(&o.shape) as u64).unwrap_or(0)
            }
            _ => 0,
        }
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        use zant_kernels::reference::binary as kb;
        let present: Vec<&TensorData> = inputs.iter().flatten().copied().collect();
        let out = &outputs[0].shape;
        let n = numel(out);
        let p2 = |a: &[usize], b: &[usize]| {
            kb::BroadcastParams::new(a, b).ok_or_else(|| shape_err("rank above 6"))
        };
        // Integer shape arithmetic (common in exporters' shape chains) and f32.
        match (present[0].dtype, self.kind.is_comparison(), self.variadic) {
            (DType::F32, false, false) => {
                let (a, b) = (present[0], present[1]);
                let mut y = vec![0f32; n];
                kb::binary(
                    kernel_op(self.kind),
                    &a.as_f32(),
                    &b.as_f32(),
                    &mut y,
                    &p2(&a.shape, &b.shape)?,
                );
                Ok(vec![TensorData::from_f32(out.clone(), &y)])
            }
            (DType::I64, false, false) => {
                let (a, b) = (present[0], present[1]);
                let mut y = vec![0i64; n];
                kb::binary(
                    kernel_op(self.kind),
                    &a.as_i64(),
                    &b.as_i64(),
                    &mut y,
                    &p2(&a.shape, &b.shape)?,
                );
                Ok(vec![TensorData::from_i64(out.clone(), &y)])
            }
            (DType::I64, true, false) => {
                let (a, b) = (present[0], present[1]);
                let mut y = vec![false; n];
                kb::compare(
                    compare_op(self.kind),
                    &a.as_i64(),
                    &b.as_i64(),
                    &mut y,
                    &p2(&a.shape, &b.shape)?,
                );
                Ok(vec![TensorData::from_bool(out.clone(), &y)])
            }
            _ => Err(OpError::NotFoldable),
        }
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let out = cx.output(0).shape;
        let k = cx.kernels();
        let y = cx.y(0);
        let params = |a: &[usize], b: &[usize]| -> Result<TokenStream, OpError> {
            let p = zant_kernels::reference::binary::BroadcastParams::new(a, b)
                .ok_or_else(|| super::unsupported("broadcasting above rank 6"))?;
            let rank = lit_usize(p.rank);
            let (o, sa, sb) = (
                arr_usize(&p.out_shape),
                arr_usize(&p.a_shape),
                arr_usize(&p.b_shape),
            );
            Ok(
                quote!(&#k::binary::BroadcastParams { rank: #rank, out_shape: #o, a_shape: #sa, b_shape: #sb }),
            )
        };
        if self.kind.is_comparison() {
            let (a, b) = (req(&ins, 0)?, req(&ins, 1)?);
            let p = params(a.shape, b.shape)?;
            let op = op_tokens(self.kind, &k);
            let (xa, xb) = (cx.x(0), cx.x(1));
            return Ok(quote!(#k::binary::compare(#op, #xa, #xb, #y, #p);));
        }
        let op = op_tokens(self.kind, &k);
        let present: Vec<usize> = (0..ins.len()).filter(|&i| ins[i].is_some()).collect();
        if !self.variadic {
            let (a, b) = (req(&ins, 0)?, req(&ins, 1)?);
            // A commutative op written over its second input: y = y op a.
            if cx.inplace_form().is_some_and(|f| f.input == 1) {
                let p = params(b.shape, a.shape)?;
                let xa = cx.x(0);
                return Ok(quote!(#k::binary::binary_inplace(#op, #y, #xa, #p);));
            }
            let p = params(a.shape, b.shape)?;
            let xb = cx.x(1);
            return Ok(if cx.inplace() {
                quote!(#k::binary::binary_inplace(#op, #y, #xb, #p);)
            } else {
                let xa = cx.x(0);
                quote!(#k::binary::binary(#op, #xa, #xb, #y, #p);)
            });
        }
        // Variadic: broadcast the first input into the output, then fold the rest in.
        let first = present[0];
        let x0 = cx.x(first);
        let p0 = params(req(&ins, first)?.shape, &out)?;
        let mut code = quote!(#k::binary::expand(#x0, #y, #p0););
        for &i in &present[1..] {
            let xi = cx.x(i);
            let p = params(&out, req(&ins, i)?.shape)?;
            code.extend(quote!(#k::binary::binary_inplace(#op, #y, #xi, #p);));
        }
        if self.mean {
            let inv = crate::emit::lit_f32(1.0 / present.len() as f32);
            let p = params(&out, &[])?;
            code.extend(
                quote!(#k::binary::binary_inplace(#k::binary::BinaryOp::Mul, #y, &[#inv], #p);),
            );
        }
        Ok(code)
    }

    fn inplace_input(&self) -> Option<usize> {
        if self.kind.is_comparison() || self.variadic {
            None
        } else {
            Some(0)
        }
    }

    /// Over input 0, or for Add and Mul (commutative, bit for bit) over
    /// input 1 when that one dies here and input 0 does not: a residual Add
    /// writes into whichever operand is dead after it (the skip tensor or the
    /// branch).
    fn inplace_forms(&self) -> Vec<InPlace> {
        let mut forms: Vec<InPlace> = self
            .inplace_input()
            .map(InPlace::same_size)
            .into_iter()
            .collect();
        if !self.variadic && matches!(self.kind, BinaryKind::Arith(BinaryOp::Add | BinaryOp::Mul)) {
            forms.push(InPlace::same_size(1));
        }
        forms
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
