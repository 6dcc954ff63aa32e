//! `Transpose`: permutes the axes of a tensor of any element type.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::transpose as kt;

use super::movebytes::{check_rank, dims, dims_tokens, elems, join, lit, per_size};
use super::util::{const_in, req};
use super::{shape_err, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::TensorData;

/// A parsed `Transpose` node.
#[derive(Debug, Clone)]
pub struct Transpose {
    /// `perm` attribute; `None` reverses the axes.
    pub perm: Option<Vec<i64>>,
}

/// Parses `Transpose`.
pub fn parse(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Transpose {
        perm: a.ints_opt("perm")?,
    }))
}

impl Transpose {
    /// The validated permutation for a tensor of rank `rank`.
    pub fn resolve(&self, rank: usize) -> Result<Vec<usize>, OpError> {
        let perm: Vec<usize> = match &self.perm {
            None => (0..rank).rev().collect(),
            Some(p) => {
                if p.len() != rank {
                    return Err(shape_err(format!(
                        "perm {p:?} has {} entries for an input of rank {rank}",
                        p.len()
                    )));
                }
                let mut seen = vec![false; rank];
                let mut out = Vec::with_capacity(rank);
                for &a in p {
                    let a = super::util::axis(a, rank)?;
                    if std::mem::replace(&mut seen[a], true) {
                        return Err(shape_err(format!("perm {p:?} repeats axis {a}")));
                    }
                    out.push(a);
                }
                out
            }
        };
        Ok(perm)
    }
}

impl Op for Transpose {
    fn name(&self) -> String {
        "Transpose".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        check_rank("Transpose", x.shape.len())?;
        let perm = self.resolve(x.shape.len())?;
        let shape = perm.iter().map(|&p| x.shape[p]).collect();
        Ok(vec![OutputInfo::new(x.dtype, shape)])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        let perm = self.resolve(x.shape.len())?;
        let p = kt::TransposeParams {
            rank: x.shape.len(),
            in_shape: dims(&x.shape),
            perm: dims(&perm),
        };
        let bytes = per_size!(x.dtype.size(), N => {
            let xs = elems::<N>(&x.bytes);
            let mut ys = vec![[0u8; N]; xs.len()];
            kt::transpose(&xs, &mut ys, &p);
            join(&ys)
        })?;
        Ok(vec![TensorData {
            dtype: x.dtype,
            shape: outputs[0].shape.clone(),
            bytes,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let xi = cx
            .input(0)
            .ok_or_else(|| shape_err("input 0 is required"))?;
        let perm = self.resolve(xi.shape.len())?;
        let (k, x, y) = (cx.kernels(), cx.x(0), cx.y(0));
        let rank = lit(xi.shape.len());
        let (s, p) = (dims_tokens(xi.shape), dims_tokens(&perm));
        Ok(
            quote!(#k::transpose::transpose(#x, #y, &#k::transpose::TransposeParams { rank: #rank, in_shape: #s, perm: #p });),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::DType;

    #[test]
    fn transposes_any_dtype() {
        let op = Transpose {
            perm: Some(vec![1, 0]),
        };
        let x = TensorData::from_i64(vec![2, 3], &[1, 2, 3, 4, 5, 6]);
        let info = [Some(InputInfo {
            dtype: DType::I64,
            shape: &x.shape,
            data: Some(&x),
        })];
        let outs = op.infer(&info).unwrap();
        assert_eq!(outs[0].shape, vec![3, 2]);
        let y = op.eval(&[Some(&x)], &outs).unwrap();
        assert_eq!(y[0].as_i64(), vec![1, 4, 2, 5, 3, 6]);
        let x8 = TensorData::from_u8(vec![2, 3], &[1, 2, 3, 4, 5, 6]);
        let y = Transpose { perm: None }.eval(&[Some(&x8)], &outs).unwrap();
        assert_eq!(y[0].as_u8(), vec![1, 4, 2, 5, 3, 6]);
    }

    #[test]
    fn rejects_bad_perm() {
        let op = Transpose {
            perm: Some(vec![0, 0]),
        };
        assert!(op.resolve(2).is_err());
        assert!(Transpose {
            perm: Some(vec![0])
        }
        .resolve(2)
        .is_err());
    }
}
