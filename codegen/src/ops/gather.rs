//! `Gather` along one axis (constant or run-time indices, negative indices
//! allowed), for any element type.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use zant_kernels::reference::gather as kg;

use super::movebytes::{elems, join, lit, per_size};
use super::util::{axis, const_in, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{DType, TensorData};

/// A parsed `Gather` node.
#[derive(Debug, Clone)]
pub struct Gather {
    /// Gathered axis (may be negative).
    pub axis: i64,
}

/// Parses `Gather`.
pub fn parse(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Gather {
        axis: a.int("axis", 0)?,
    }))
}

impl Gather {
    fn params(&self, shape: &[usize]) -> Result<(usize, kg::GatherParams), OpError> {
        let ax = axis(self.axis, shape.len())?;
        Ok((
            ax,
            kg::GatherParams {
                outer: shape[..ax].iter().product(),
                axis_len: shape[ax],
                inner: shape[ax + 1..].iter().product(),
            },
        ))
    }
}

/// Checks constant indices against the axis length and normalizes them.
fn norm_indices(ix: &[i64], n: usize) -> Result<Vec<i64>, OpError> {
    ix.iter()
        .map(|&i| {
            let j = if i < 0 { i + n as i64 } else { i };
            if j < 0 || j >= n as i64 {
                Err(shape_err(format!(
                    "index {i} is out of range for an axis of length {n}"
                )))
            } else {
                Ok(j)
            }
        })
        .collect()
}

impl Op for Gather {
    fn name(&self) -> String {
        "Gather".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let ind = req(inputs, 1)?;
        if x.shape.is_empty() {
            return Err(shape_err("Gather needs an input of rank >= 1"));
        }
        let (ax, p) = self.params(x.shape)?;
        match ind.data {
            Some(d) => {
                let v = d.to_i64().ok_or_else(|| shape_err("indices must be integers"))?;
                norm_indices(&v, p.axis_len)?;
            }
            None if ind.dtype != DType::I64 => {
                return Err(unsupported(format!(
                    "run-time Gather indices of type {} (int64 only; constant indices may be any integer type)",
                    ind.dtype
                )))
            }
            None => {}
        }
        let mut shape = x.shape[..ax].to_vec();
        shape.extend_from_slice(ind.shape);
        shape.extend_from_slice(&x.shape[ax + 1..]);
        Ok(vec![OutputInfo::new(x.dtype, shape)])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        let ind = const_in(inputs, 1)?;
        let (_, p) = self.params(&x.shape)?;
        let ix = norm_indices(&ind.to_i64().ok_or(OpError::NotFoldable)?, p.axis_len)?;
        let n: usize = outputs[0].shape.iter().product();
        let bytes = per_size!(x.dtype.size(), N => {
            let xs = elems::<N>(&x.bytes);
            let mut ys = vec![[0u8; N]; n];
            kg::gather(&xs, &ix, &mut ys, &p);
            join(&ys)
        })?;
        Ok(vec![TensorData {
            dtype: x.dtype,
            shape: outputs[0].shape.clone(),
            bytes,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let ind = req(&ins, 1)?;
        let (_, p) = self.params(x.shape)?;
        let (k, xt, y) = (cx.kernels(), cx.x(0), cx.y(0));
        let x1 = cx.x(1);
        let indices = match ind.data {
            // Constant indices are range-checked here (infer), so the
            // firmware never sees an out-of-range one; non-int64 constants
            // are emitted as an int64 literal.
            Some(d) if ind.dtype != DType::I64 => {
                let v = norm_indices(
                    &d.to_i64()
                        .ok_or_else(|| shape_err("indices must be integers"))?,
                    p.axis_len,
                )?;
                let items = v.iter().map(|&i| Literal::i64_unsuffixed(i));
                quote!({ let _ = #x1; &[#(#items),*] })
            }
            _ => x1,
        };
        let (o, a, i) = (lit(p.outer), lit(p.axis_len), lit(p.inner));
        Ok(
            quote!(#k::gather::gather(#xt, #indices, #y, &#k::gather::GatherParams { outer: #o, axis_len: #a, inner: #i });),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_with_negative_indices() {
        let x = TensorData::from_f32(vec![3, 2], &[1., 2., 3., 4., 5., 6.]);
        let i = TensorData::from_i32(vec![2, 2], &[0, -1, 1, 2]);
        use crate::ops::movebytes::const_info as info;
        let op = Gather { axis: 0 };
        let outs = op.infer(&[info(&x), info(&i)]).unwrap();
        assert_eq!(outs[0].shape, vec![2, 2, 2]);
        let y = op.eval(&[Some(&x), Some(&i)], &outs).unwrap();
        assert_eq!(y[0].as_f32(), vec![1., 2., 5., 6., 3., 4., 5., 6.]);
        let g1 = Gather { axis: 1 };
        let s = TensorData::from_i64(vec![], &[-1]);
        let outs = g1.infer(&[info(&x), info(&s)]).unwrap();
        assert_eq!(outs[0].shape, vec![3]);
        assert_eq!(
            g1.eval(&[Some(&x), Some(&s)], &outs).unwrap()[0].as_f32(),
            vec![2., 4., 6.]
        );
        let bad = TensorData::from_i64(vec![1], &[3]);
        assert!(op.infer(&[info(&x), info(&bad)]).is_err());
    }
}
