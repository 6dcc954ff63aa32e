//! `MatMul`: numpy matrix product, with 1-D operands and batch broadcasting.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::matmul::MatMulParams;
use zant_kernels::reference::shape::MAX_RANK;

use super::util::{broadcast, expect_dtype, opt, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{arr_usize_n, lit_usize, NodeCx};
use crate::ir::{numel, DType, Shape, TensorData};

/// A parsed MatMul node (no attributes).
#[derive(Debug, Clone, Default)]
pub struct MatMul;

/// Parses `MatMul`.
pub fn parse(_a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(MatMul))
}

/// Resolved geometry of one MatMul: kernel parameters and output shape.
#[derive(Debug, Clone)]
pub struct MatMulPlan {
    /// Kernel parameters.
    pub params: MatMulParams,
    /// Output shape (numpy rules, 1-D unit dims dropped).
    pub out_shape: Shape,
}

/// Computes the kernel parameters and output shape for shapes `a` and `b`.
pub fn plan(a: &[usize], b: &[usize]) -> Result<MatMulPlan, OpError> {
    if a.is_empty() || b.is_empty() {
        return Err(shape_err(
            "MatMul operands must have rank ≥ 1 (scalars are not allowed)",
        ));
    }
    let a2: Vec<usize> = if a.len() == 1 {
        vec![1, a[0]]
    } else {
        a.to_vec()
    };
    let b2: Vec<usize> = if b.len() == 1 {
        vec![b[0], 1]
    } else {
        b.to_vec()
    };
    let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    if k != k2 {
        return Err(shape_err(format!(
            "MatMul inner dimensions differ: A {a:?} has K = {k}, B {b:?} has K = {k2}"
        )));
    }
    let ab = &a2[..a2.len() - 2];
    let bb = &b2[..b2.len() - 2];
    let out_batch = broadcast(ab, bb)?;
    let r = out_batch.len();
    if r > MAX_RANK {
        return Err(unsupported(format!(
            "MatMul with {r} batch dimensions (at most {MAX_RANK})"
        )));
    }
    let pad = |v: &[usize]| -> [usize; MAX_RANK] {
        let mut d = [1usize; MAX_RANK];
        let off = r - v.len();
        d[off..r].copy_from_slice(v);
        d
    };
    let params = MatMulParams {
        m,
        k,
        n,
        batch_rank: r,
        out_batch: pad(&out_batch),
        a_batch: pad(ab),
        b_batch: pad(bb),
    };
    let mut out_shape = out_batch.clone();
    if a.len() > 1 {
        out_shape.push(m);
    }
    if b.len() > 1 {
        out_shape.push(n);
    }
    Ok(MatMulPlan { params, out_shape })
}

impl Op for MatMul {
    fn name(&self) -> String {
        "MatMul".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let a = req(inputs, 0)?;
        let b = req(inputs, 1)?;
        expect_dtype("MatMul A", a.dtype, &[DType::F32])?;
        expect_dtype("MatMul B", b.dtype, &[DType::F32])?;
        let p = plan(a.shape, b.shape)?;
        Ok(vec![OutputInfo::new(DType::F32, p.out_shape)])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        match (opt(inputs, 0), opt(inputs, 1)) {
            (Some(a), Some(b)) => plan(a.shape, b.shape)
                .map(|p| {
                    let q = p.params;
                    let batch: usize = q.out_batch[..q.batch_rank].iter().product();
                    (q.m * q.k * q.n * batch) as u64
                })
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
        let p = plan(&a.shape, &b.shape)?;
        let mut y = vec![0f32; numel(&outputs[0].shape)];
        zant_kernels::reference::matmul::matmul(&a.as_f32(), &b.as_f32(), &mut y, &p.params);
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let (a, b) = (req(&ins, 0)?, req(&ins, 1)?);
        let p = plan(a.shape, b.shape)?.params;
        let k = cx.kernels();
        let [m, kk, n, r] = [p.m, p.k, p.n, p.batch_rank].map(lit_usize);
        let ob = arr_usize_n(&p.out_batch, MAX_RANK, 1);
        let ab = arr_usize_n(&p.a_batch, MAX_RANK, 1);
        let bb = arr_usize_n(&p.b_batch, MAX_RANK, 1);
        let (xa, xb, y) = (cx.x(0), cx.x(1), cx.y(0));
        Ok(quote! {
            #k::matmul::matmul(#xa, #xb, #y, &#k::matmul::MatMulParams {
                m: #m, k: #kk, n: #n, batch_rank: #r,
                out_batch: #ob, a_batch: #ab, b_batch: #bb,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(a: (&[usize], &[f32]), b: (&[usize], &[f32])) -> TensorData {
        let ta = TensorData::from_f32(a.0.to_vec(), a.1);
        let tb = TensorData::from_f32(b.0.to_vec(), b.1);
        let op = MatMul;
        let ia = InputInfo {
            dtype: DType::F32,
            shape: &ta.shape,
            data: Some(&ta),
        };
        let ib = InputInfo {
            dtype: DType::F32,
            shape: &tb.shape,
            data: Some(&tb),
        };
        let out = op.infer(&[Some(ia), Some(ib)]).unwrap();
        op.eval(&[Some(&ta), Some(&tb)], &out).unwrap().remove(0)
    }

    #[test]
    fn shapes() {
        assert_eq!(plan(&[2, 3], &[3, 4]).unwrap().out_shape, vec![2, 4]);
        assert_eq!(plan(&[3], &[3, 4]).unwrap().out_shape, vec![4]);
        assert_eq!(plan(&[2, 3], &[3]).unwrap().out_shape, vec![2]);
        assert_eq!(plan(&[3], &[3]).unwrap().out_shape, Vec::<usize>::new());
        assert_eq!(
            plan(&[5, 1, 2, 3], &[4, 3, 6]).unwrap().out_shape,
            vec![5, 4, 2, 6]
        );
        assert!(plan(&[2, 3], &[4, 4]).is_err());
    }

    #[test]
    fn values_and_macs() {
        let y = run(
            (&[2, 3], &[1., 2., 3., 4., 5., 6.]),
            (&[3, 2], &[1., 2., 3., 4., 5., 6.]),
        );
        assert_eq!(y.as_f32(), vec![22., 28., 49., 64.]);
        let y = run((&[3], &[1., 2., 3.]), (&[3], &[1., 1., 1.]));
        assert_eq!(y.shape, Vec::<usize>::new());
        assert_eq!(y.as_f32(), vec![6.]);
        let a = InputInfo {
            dtype: DType::F32,
            shape: &[2, 4, 3],
            data: None,
        };
        let b = InputInfo {
            dtype: DType::F32,
            shape: &[3, 5],
            data: None,
        };
        assert_eq!(MatMul.macs(&[Some(a), Some(b)], &[]), 2 * 4 * 3 * 5);
    }
}
