//! `Gemm`: Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N].

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;

use super::util::{broadcast, expect_dtype, opt, req};
use super::{shape_err, Activation, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::DType;

/// A parsed Gemm node.
#[derive(Debug, Clone)]
pub struct Gemm {
    /// Scale of A·B.
    pub alpha: f32,
    /// Scale of C.
    pub beta: f32,
    /// Transpose A.
    pub trans_a: bool,
    /// Transpose B.
    pub trans_b: bool,
    /// Activation fused by the passes.
    pub activation: Activation,
}

/// Parses `Gemm`.
pub fn parse(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    if opset < 7 && a.int("broadcast", 0)? == 0 && a.has("broadcast") {
        // Pre-7 Gemm without broadcast requires C of shape [M, N]; the general path covers it.
    }
    Ok(Arc::new(Gemm {
        alpha: a.float("alpha", 1.0)?,
        beta: a.float("beta", 1.0)?,
        trans_a: a.int("transA", 0)? != 0,
        trans_b: a.int("transB", 0)? != 0,
        activation: Activation::None,
    }))
}

impl Gemm {
    /// (M, K, N) for these input shapes.
    pub fn mkn(&self, a: &[usize], b: &[usize]) -> Result<(usize, usize, usize), OpError> {
        if a.len() != 2 || b.len() != 2 {
            return Err(shape_err(format!("Gemm needs 2-D A and B, got {a:?} and {b:?}")));
        }
        let (m, k) = if self.trans_a { (a[1], a[0]) } else { (a[0], a[1]) };
        let (k2, n) = if self.trans_b { (b[1], b[0]) } else { (b[0], b[1]) };
        if k != k2 {
            return Err(shape_err(format!("inner dimensions differ: A {a:?} and B {b:?} (transA={}, transB={})", self.trans_a, self.trans_b)));
        }
        Ok((m, k, n))
    }
}

impl Op for Gemm {
    fn name(&self) -> String {
        self.activation.suffixed("Gemm")
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let a = req(inputs, 0)?;
        let b = req(inputs, 1)?;
        expect_dtype("Gemm A", a.dtype, &[DType::F32])?;
        expect_dtype("Gemm B", b.dtype, &[DType::F32])?;
        let (m, _, n) = self.mkn(a.shape, b.shape)?;
        if let Some(c) = opt(inputs, 2) {
            let bc = broadcast(&[m, n], c.shape)?;
            if bc != [m, n] {
                return Err(shape_err(format!("C of shape {:?} does not broadcast to [{m}, {n}]", c.shape)));
            }
        }
        Ok(vec![OutputInfo::new(DType::F32, vec![m, n])])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        match (opt(inputs, 0), opt(inputs, 1)) {
            (Some(a), Some(b)) => self.mkn(a.shape, b.shape).map(|(m, k, n)| (m * k * n) as u64).unwrap_or(0),
            _ => 0,
        }
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        super::emit_support::gemm(self, cx)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
