//! `Where`: `out = cond ? x : y` with numpy broadcasting of all three
//! inputs, for any element type.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::where_ as kw;

use super::movebytes::{check_rank, dims_tokens, elems, join, lit, per_size};
use super::util::{broadcast, const_in, req};
use super::{shape_err, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{DType, TensorData};
use zant_kernels::reference::shape::pad_shape;

/// A parsed `Where` node.
#[derive(Debug, Clone)]
pub struct Where;

/// Parses `Where`.
pub fn parse(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Where))
}

fn params(c: &[usize], x: &[usize], y: &[usize]) -> Result<kw::WhereParams, OpError> {
    let out = broadcast(&broadcast(c, x)?, y)?;
    check_rank("Where", out.len())?;
    let r = out.len();
    Ok(kw::WhereParams {
        rank: r,
        out_shape: pad_shape(&out, r),
        cond_shape: pad_shape(c, r),
        x_shape: pad_shape(x, r),
        y_shape: pad_shape(y, r),
    })
}

impl Op for Where {
    fn name(&self) -> String {
        "Where".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let (c, x, y) = (req(inputs, 0)?, req(inputs, 1)?, req(inputs, 2)?);
        if c.dtype != DType::Bool {
            return Err(shape_err(format!(
                "condition is {}, bool expected",
                c.dtype
            )));
        }
        if x.dtype != y.dtype {
            return Err(shape_err(format!("X is {} but Y is {}", x.dtype, y.dtype)));
        }
        let p = params(c.shape, x.shape, y.shape)?;
        Ok(vec![OutputInfo::new(
            x.dtype,
            p.out_shape[..p.rank].to_vec(),
        )])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let get = |i: usize| const_in(inputs, i);
        let (c, x, y) = (get(0)?, get(1)?, get(2)?);
        let p = params(&c.shape, &x.shape, &y.shape)?;
        let cond: Vec<bool> = c.bytes.iter().map(|&b| b != 0).collect();
        let n: usize = outputs[0].shape.iter().product();
        let bytes = per_size!(x.dtype.size(), N => {
            let (xs, ys) = (elems::<N>(&x.bytes), elems::<N>(&y.bytes));
            let mut out = vec![[0u8; N]; n];
            if n > 0 {
                kw::where_(&cond, &xs, &ys, &mut out, &p);
            }
            join(&out)
        })?;
        Ok(vec![TensorData {
            dtype: x.dtype,
            shape: outputs[0].shape.clone(),
            bytes,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let (c, x, y) = (req(&ins, 0)?, req(&ins, 1)?, req(&ins, 2)?);
        let p = params(c.shape, x.shape, y.shape)?;
        if p.out_shape[..p.rank].contains(&0) {
            return Ok(TokenStream::new());
        }
        let k = cx.kernels();
        let (xc, xx, xy, out) = (cx.x(0), cx.x(1), cx.x(2), cx.y(0));
        let r = lit(p.rank);
        let (os, cs, xs, ys) = (
            dims_tokens(&p.out_shape[..p.rank]),
            dims_tokens(&p.cond_shape[..p.rank]),
            dims_tokens(&p.x_shape[..p.rank]),
            dims_tokens(&p.y_shape[..p.rank]),
        );
        Ok(
            quote!(#k::where_::where_(#xc, #xx, #xy, #out, &#k::where_::WhereParams { rank: #r, out_shape: #os, cond_shape: #cs, x_shape: #xs, y_shape: #ys });),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::movebytes::const_info as info;

    #[test]
    fn broadcasts_three_ways() {
        let c = TensorData::from_bool(vec![2, 1], &[true, false]);
        let x = TensorData::from_i64(vec![3], &[1, 2, 3]);
        let y = TensorData::from_i64(vec![], &[0]);
        let outs = Where.infer(&[info(&c), info(&x), info(&y)]).unwrap();
        assert_eq!(outs[0].shape, vec![2, 3]);
        let o = Where.eval(&[Some(&c), Some(&x), Some(&y)], &outs).unwrap();
        assert_eq!(o[0].as_i64(), vec![1, 2, 3, 0, 0, 0]);
        assert!(Where.infer(&[info(&x), info(&x), info(&y)]).is_err());
    }
}
