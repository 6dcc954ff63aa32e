//! `Gemm`: Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N].

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use super::util::{broadcast, expect_dtype, opt, req};
use super::{shape_err, Activation, ActivationExt, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{lit_f32, lit_usize, NodeCx};
use crate::ir::{numel, DType, TensorData};

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
            return Err(shape_err(format!(
                "Gemm needs 2-D A and B, got {a:?} and {b:?}"
            )));
        }
        let (m, k) = if self.trans_a {
            (a[1], a[0])
        } else {
            (a[0], a[1])
        };
        let (k2, n) = if self.trans_b {
            (b[1], b[0])
        } else {
            (b[0], b[1])
        };
        if k != k2 {
            return Err(shape_err(format!(
                "inner dimensions differ: A {a:?} and B {b:?} (transA={}, transB={})",
                self.trans_a, self.trans_b
            )));
        }
        Ok((m, k, n))
    }
}

impl Gemm {
    /// Kernel parameters; C's strides broadcast it over [M, N].
    pub fn params(
        &self,
        a: &[usize],
        b: &[usize],
        c: Option<&[usize]>,
    ) -> Result<zant_kernels::reference::gemm::GemmParams, OpError> {
        let (m, k, n) = self.mkn(a, b)?;
        let (c_stride_m, c_stride_n) = match c {
            None => (0, 0),
            Some(c) => {
                let c2: Vec<usize> = std::iter::repeat_n(1, 2usize.saturating_sub(c.len()))
                    .chain(c.iter().copied())
                    .collect();
                if c2.len() != 2 {
                    return Err(shape_err(format!("C of rank {} (at most 2)", c.len())));
                }
                (
                    if c2[0] == 1 { 0 } else { c2[1] },
                    if c2[1] == 1 { 0 } else { 1 },
                )
            }
        };
        Ok(zant_kernels::reference::gemm::GemmParams {
            m,
            n,
            k,
            trans_a: self.trans_a,
            trans_b: self.trans_b,
            alpha: self.alpha,
            beta: self.beta,
            c_stride_m,
            c_stride_n,
            activation: self.activation,
        })
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
                return Err(shape_err(format!(
                    "C of shape {:?} does not broadcast to [{m}, {n}]",
                    c.shape
                )));
            }
        }
        Ok(vec![OutputInfo::new(DType::F32, vec![m, n])])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        match (opt(inputs, 0), opt(inputs, 1)) {
            (Some(a), Some(b)) => self
                .mkn(a.shape, b.shape)
                .map(|(m, k, n)| (m * k * n) as u64)
                .unwrap_or(0),
            _ => 0,
        }
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let (Some(Some(a)), Some(Some(b))) = (inputs.first(), inputs.get(1)) else {
            return Err(OpError::NotFoldable);
        };
        let c = inputs.get(2).copied().flatten();
        let p = self.params(&a.shape, &b.shape, c.map(|c| c.shape.as_slice()))?;
        let cv = c.map(|c| c.as_f32());
        let mut y = vec![0f32; numel(&outputs[0].shape)];
        zant_kernels::reference::gemm::gemm(&a.as_f32(), &b.as_f32(), cv.as_deref(), &mut y, &p);
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let (a, b) = (req(&ins, 0)?, req(&ins, 1)?);
        let p = self.params(a.shape, b.shape, opt(&ins, 2).map(|c| c.shape))?;
        let k = cx.kernels();
        let act = self.activation.tokens(&quote!(#k::activation));
        let [m, n, kk, csm, csn] = [p.m, p.n, p.k, p.c_stride_m, p.c_stride_n].map(lit_usize);
        let (ta, tb) = (p.trans_a, p.trans_b);
        let (alpha, beta) = (lit_f32(p.alpha), lit_f32(p.beta));
        let (xa, xb, xc, y) = (cx.x(0), cx.x(1), cx.x_opt(2), cx.y(0));
        Ok(quote! {
            #k::gemm::gemm(#xa, #xb, #xc, #y, &#k::gemm::GemmParams {
                m: #m, n: #n, k: #kk, trans_a: #ta, trans_b: #tb, alpha: #alpha, beta: #beta,
                c_stride_m: #csm, c_stride_n: #csn, activation: #act,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What the passes turn a Gemm with constant `B` (and a `C` that is constant
/// and the same for every row) into: `alpha` folded into `B`, which is
/// re-laid for the packed kernels, and `beta · C` into a bias vector.
/// One row (`M = 1`) runs the matrix-vector kernel (`B` packed
/// `[ceil(N/8)][K][8]`), more rows the matrix product (`[ceil(N/4)][K][4]`).
///
/// Inputs: 0 `A`, 1 packed `B`, 2 optional bias `[N]`.
#[derive(Debug, Clone)]
pub struct GemmFast {
    /// Rows of `Y`.
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Columns of `Y`.
    pub n: usize,
    /// `A` is stored `[K, M]`.
    pub trans_a: bool,
    /// Fused activation.
    pub activation: Activation,
}

impl GemmFast {
    /// Rows per weight panel: 8 for the matrix-vector kernel, else 4.
    pub fn panel(&self) -> usize {
        if self.m == 1 {
            8
        } else {
            4
        }
    }

    fn matmul(&self) -> zant_kernels::fast::matmul::MatmulParams {
        // Yᵀ = op(B)ᵀ · op(A)ᵀ: rows are Y's columns, columns are A's rows.
        let (ldb, sb) = if self.trans_a {
            (self.m, 1)
        } else {
            (1, self.k)
        };
        zant_kernels::fast::matmul::MatmulParams {
            m: self.n,
            k: self.k,
            n: self.m,
            ldb,
            sb,
            ldy: 1,
            sy: self.n,
            activation: self.activation,
        }
    }
}

impl Op for GemmFast {
    fn name(&self) -> String {
        self.activation.suffixed("Gemm")
    }

    fn infer(&self, _inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        Ok(vec![OutputInfo::new(DType::F32, vec![self.m, self.n])])
    }

    fn macs(&self, _inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        (self.m * self.k * self.n) as u64
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        use zant_kernels::micro::Portable;
        let (Some(Some(a)), Some(Some(w))) = (inputs.first(), inputs.get(1)) else {
            return Err(OpError::NotFoldable);
        };
        let (a, w) = (a.as_f32(), w.as_f32());
        let bias = inputs.get(2).copied().flatten().map(|b| b.as_f32());
        let mut y = vec![0f32; numel(&outputs[0].shape)];
        if self.m == 1 {
            zant_kernels::fast::matmul::matvec::<Portable>(
                &w,
                &a,
                bias.as_deref(),
                &mut y,
                self.n,
                self.k,
                self.activation,
            );
        } else {
            zant_kernels::fast::matmul::matmul::<Portable>(
                &w,
                &a,
                bias.as_deref(),
                &mut y,
                &self.matmul(),
            );
        }
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        req(&cx.inputs(), 0)?;
        let kk = cx.kernels();
        let act = self.activation.tokens(&quote!(#kk::activation));
        let (xa, w, b, y) = (cx.x(0), cx.x(1), cx.x_opt(2), cx.y(0));
        if self.m == 1 {
            let f = cx.micro_kernel("fast::matmul::matvec");
            let [n, k] = [self.n, self.k].map(lit_usize);
            return Ok(quote!(#f(#w, #xa, #b, #y, #n, #k, #act);));
        }
        let p = self.matmul();
        let f = cx.micro_kernel("fast::matmul::matmul");
        let [m, k, n, ldb, sb, ldy, sy] = [p.m, p.k, p.n, p.ldb, p.sb, p.ldy, p.sy].map(lit_usize);
        Ok(quote! {
            #f(#w, #xa, #b, #y, &zk::fast::matmul::MatmulParams {
                m: #m, k: #k, n: #n, ldb: #ldb, sb: #sb, ldy: #ldy, sy: #sy, activation: #act,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
