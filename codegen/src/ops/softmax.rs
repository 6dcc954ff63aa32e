//! `Softmax` and `LogSoftmax`. Before opset 13 the input is coerced to 2-D at
//! `axis` (default 1) and the softmax runs over the flattened trailing dims;
//! from opset 13 on it runs over the single axis `axis` (default −1).

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::softmax::SoftmaxParams;

use super::util::{expect_dtype, req};
use super::{shape_err, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{lit_usize, NodeCx};
use crate::ir::{DType, TensorData};

/// A parsed Softmax / LogSoftmax node.
#[derive(Debug, Clone)]
pub struct Softmax {
    /// LogSoftmax instead of Softmax.
    pub log: bool,
    /// The axis attribute (possibly negative).
    pub axis: i64,
    /// Opset < 13: coerce to 2-D at `axis`.
    pub coerce_2d: bool,
}

fn mk(a: &Attrs, opset: i64, log: bool) -> Result<Arc<dyn Op>, OpError> {
    let coerce_2d = opset < 13;
    Ok(Arc::new(Softmax {
        log,
        axis: a.int("axis", if coerce_2d { 1 } else { -1 })?,
        coerce_2d,
    }))
}

/// Parses `Softmax`.
pub fn parse_softmax(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    mk(a, opset, false)
}

/// Parses `LogSoftmax`.
pub fn parse_log_softmax(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    mk(a, opset, true)
}

impl Softmax {
    /// Kernel parameters for an input of shape `shape`.
    pub fn params(&self, shape: &[usize]) -> Result<SoftmaxParams, OpError> {
        let r = shape.len() as i64;
        if self.coerce_2d {
            let ax = if self.axis < 0 {
                self.axis + r
            } else {
                self.axis
            };
            if ax < 0 || ax > r {
                return Err(shape_err(format!(
                    "axis {} is out of range for rank {r}",
                    self.axis
                )));
            }
            let ax = ax as usize;
            Ok(SoftmaxParams {
                outer: shape[..ax].iter().product(),
                axis_len: shape[ax..].iter().product(),
                inner: 1,
            })
        } else {
            if shape.is_empty() {
                return Err(shape_err("softmax of a scalar (rank 0) has no axis"));
            }
            let ax = super::util::axis(self.axis, shape.len())?;
            Ok(SoftmaxParams {
                outer: shape[..ax].iter().product(),
                axis_len: shape[ax],
                inner: shape[ax + 1..].iter().product(),
            })
        }
    }

    fn fn_name(&self) -> &'static str {
        if self.log {
            "log_softmax"
        } else {
            "softmax"
        }
    }
}

impl Op for Softmax {
    fn name(&self) -> String {
        if self.log { "LogSoftmax" } else { "Softmax" }.into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("input", x.dtype, &[DType::F32])?;
        self.params(x.shape)?;
        Ok(vec![OutputInfo::new(DType::F32, x.shape.to_vec())])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let Some(Some(x)) = inputs.first() else {
            return Err(OpError::NotFoldable);
        };
        let p = self.params(&x.shape)?;
        let xv = x.as_f32();
        let mut y = vec![0f32; xv.len()];
        if self.log {
            zant_kernels::reference::softmax::log_softmax(&xv, &mut y, &p);
        } else {
            zant_kernels::reference::softmax::softmax(&xv, &mut y, &p);
        }
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let p = self.params(req(&ins, 0)?.shape)?;
        let k = cx.kernels();
        let f = proc_macro2::Ident::new(self.fn_name(), proc_macro2::Span::call_site());
        let [o, n, i] = [p.outer, p.axis_len, p.inner].map(lit_usize);
        let (x, y) = (cx.x(0), cx.y(0));
        Ok(quote! {
            #k::softmax::#f(#x, #y, &#k::softmax::SoftmaxParams { outer: #o, axis_len: #n, inner: #i });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(axis: i64, opset: i64, log: bool) -> Softmax {
        Softmax {
            log,
            axis,
            coerce_2d: opset < 13,
        }
    }

    #[test]
    fn params_per_opset() {
        let s = [2, 3, 4];
        let p = op(1, 11, false).params(&s).unwrap();
        assert_eq!((p.outer, p.axis_len, p.inner), (2, 12, 1));
        let p = op(1, 13, false).params(&s).unwrap();
        assert_eq!((p.outer, p.axis_len, p.inner), (2, 3, 4));
        let p = op(-1, 13, false).params(&s).unwrap();
        assert_eq!((p.outer, p.axis_len, p.inner), (6, 4, 1));
        assert!(op(3, 13, false).params(&s).is_err());
    }

    #[test]
    fn eval_values() {
        let x = TensorData::from_f32(vec![1, 3], &[1., 2., 3.]);
        let o = op(-1, 13, false);
        let info = InputInfo {
            dtype: DType::F32,
            shape: &x.shape,
            data: Some(&x),
        };
        let out = o.infer(&[Some(info)]).unwrap();
        let y = o.eval(&[Some(&x)], &out).unwrap().remove(0).as_f32();
        assert!((y[0] - 0.090_030_57).abs() < 1e-6 && (y[2] - 0.665_240_96).abs() < 1e-6);
        let y = op(-1, 13, true)
            .eval(&[Some(&x)], &out)
            .unwrap()
            .remove(0)
            .as_f32();
        assert!((y[2] + 0.407_606).abs() < 1e-5);
    }
}
