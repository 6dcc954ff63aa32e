//! `ReduceMean`, `ReduceSum`, `ReduceMax`, `ReduceMin`, `ReduceProd`,
//! `ReduceSumSquare`, `ReduceL1`, `ReduceL2`, `ReduceLogSum`, `ReduceLogSumExp`. Axes are an attribute before the opset in
//! which they became an input (13 for ReduceSum, 18 for the others);
//! `keepdims` and `noop_with_empty_axes` are honoured.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::reduce::{ReduceOp, ReduceParams};
use zant_kernels::reference::shape::MAX_RANK;

use super::util::{const_ints_opt, expect_dtype, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{arr_usize_n, lit_usize, NodeCx};
use crate::ir::{DType, TensorData};

/// A parsed reduction node.
#[derive(Debug, Clone)]
pub struct Reduce {
    /// ONNX op type.
    pub op_type: &'static str,
    /// The reduction.
    pub kind: ReduceOp,
    /// Axes from the attribute (older opsets); `None` when absent.
    pub attr_axes: Option<Vec<i64>>,
    /// Axes come from input 1 (newer opsets).
    pub axes_input: bool,
    /// Keep reduced dims as 1s.
    pub keepdims: bool,
    /// Empty axes mean "no reduction" instead of "all axes".
    pub noop_with_empty_axes: bool,
}

fn mk(
    a: &Attrs,
    opset: i64,
    op_type: &'static str,
    kind: ReduceOp,
    input_since: i64,
) -> Result<Arc<dyn Op>, OpError> {
    let axes_input = opset >= input_since;
    Ok(Arc::new(Reduce {
        op_type,
        kind,
        attr_axes: if axes_input {
            None
        } else {
            a.ints_opt("axes")?
        },
        axes_input,
        keepdims: a.int("keepdims", 1)? != 0,
        noop_with_empty_axes: a.int("noop_with_empty_axes", 0)? != 0,
    }))
}

macro_rules! parsers {
    ($($f:ident, $name:literal, $kind:ident, $since:literal;)*) => {$(
        #[doc = concat!("Parses `", $name, "`.")]
        pub fn $f(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
            mk(a, opset, $name, ReduceOp::$kind, $since)
        }
    )*};
}

parsers! {
    parse_mean, "ReduceMean", Mean, 18;
    parse_sum, "ReduceSum", Sum, 13;
    parse_max, "ReduceMax", Max, 18;
    parse_min, "ReduceMin", Min, 18;
    parse_prod, "ReduceProd", Prod, 18;
    parse_sum_square, "ReduceSumSquare", SumSquare, 18;
    parse_l2, "ReduceL2", L2, 18;
    parse_l1, "ReduceL1", L1, 18;
    parse_log_sum, "ReduceLogSum", LogSum, 18;
    parse_log_sum_exp, "ReduceLogSumExp", LogSumExp, 18;
}

const DTYPES: &[DType] = &[DType::F32, DType::I32, DType::I64];

impl Reduce {
    /// The reduced-axis flags for an input of rank `rank`, or `None` for a no-op.
    fn flags(&self, inputs: &[Option<InputInfo<'_>>], rank: usize) -> Result<Vec<bool>, OpError> {
        let axes = if self.axes_input {
            const_ints_opt(inputs, 1, "axes")?
        } else {
            self.attr_axes.clone()
        };
        let axes = axes.unwrap_or_default();
        if axes.is_empty() {
            return Ok(vec![!self.noop_with_empty_axes; rank]);
        }
        let mut f = vec![false; rank];
        for a in axes {
            let ax = super::util::axis(a, rank)?;
            if f[ax] {
                return Err(shape_err(format!("axis {a} is listed twice")));
            }
            f[ax] = true;
        }
        Ok(f)
    }

    fn params(
        &self,
        inputs: &[Option<InputInfo<'_>>],
    ) -> Result<(ReduceParams, Vec<usize>), OpError> {
        let x = req(inputs, 0)?;
        let r = x.shape.len();
        if r > MAX_RANK {
            return Err(unsupported(format!(
                "{} of rank {r} (at most {MAX_RANK})",
                self.op_type
            )));
        }
        let f = self.flags(inputs, r)?;
        let mut in_shape = [1usize; MAX_RANK];
        in_shape[..r].copy_from_slice(x.shape);
        let mut axes = [false; MAX_RANK];
        axes[..r].copy_from_slice(&f);
        let mut out = Vec::new();
        for (d, &fl) in x.shape.iter().zip(&f) {
            if !fl {
                out.push(*d);
            } else if self.keepdims {
                out.push(1);
            }
        }
        Ok((
            ReduceParams {
                rank: r,
                in_shape,
                axes,
            },
            out,
        ))
    }
}

fn kind_tokens(k: ReduceOp) -> TokenStream {
    match k {
        ReduceOp::Sum => quote!(Sum),
        ReduceOp::Mean => quote!(Mean),
        ReduceOp::Max => quote!(Max),
        ReduceOp::Min => quote!(Min),
        ReduceOp::Prod => quote!(Prod),
        ReduceOp::SumSquare => quote!(SumSquare),
        ReduceOp::L1 => quote!(L1),
        ReduceOp::L2 => quote!(L2),
        ReduceOp::LogSum => quote!(LogSum),
        ReduceOp::LogSumExp => quote!(LogSumExp),
    }
}

impl Op for Reduce {
    fn name(&self) -> String {
        self.op_type.into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("input", x.dtype, DTYPES)?;
        let (_, out) = self.params(inputs)?;
        Ok(vec![OutputInfo::new(x.dtype, out)])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        match self.kind {
            ReduceOp::Prod | ReduceOp::SumSquare | ReduceOp::L2 | ReduceOp::LogSumExp => inputs
                .first()
                .copied()
                .flatten()
                .map(|x| x.shape.iter().product::<usize>() as u64)
                .unwrap_or(0),
            _ => 0,
        }
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let infos: Vec<Option<InputInfo<'_>>> = inputs
            .iter()
            .map(|t| {
                t.map(|t| InputInfo {
                    dtype: t.dtype,
                    shape: &t.shape,
                    data: Some(t),
                })
            })
            .collect();
        let (p, _) = self.params(&infos)?;
        let Some(Some(x)) = inputs.first() else {
            return Err(OpError::NotFoldable);
        };
        let n: usize = outputs[0].shape.iter().product();
        let shape = outputs[0].shape.clone();
        use zant_kernels::reference::reduce::reduce;
        Ok(vec![match x.dtype {
            DType::F32 => {
                let mut y = vec![0f32; n];
                reduce(self.kind, &x.as_f32(), &mut y, &p);
                TensorData::from_f32(shape, &y)
            }
            DType::I32 => {
                let mut y = vec![0i32; n];
                reduce(self.kind, &x.as_i32(), &mut y, &p);
                TensorData::from_i32(shape, &y)
            }
            DType::I64 => {
                let mut y = vec![0i64; n];
                reduce(self.kind, &x.as_i64(), &mut y, &p);
                TensorData::from_i64(shape, &y)
            }
            _ => return Err(OpError::NotFoldable),
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let (p, _) = self.params(&cx.inputs())?;
        let k = cx.kernels();
        let kind = kind_tokens(self.kind);
        let r = lit_usize(p.rank);
        let shape = arr_usize_n(&p.in_shape, MAX_RANK, 1);
        let axes = p.axes;
        let (x, y) = (cx.x(0), cx.y(0));
        Ok(quote! {
            #k::reduce::reduce(#k::reduce::ReduceOp::#kind, #x, #y, &#k::reduce::ReduceParams {
                rank: #r, in_shape: #shape, axes: [#(#axes),*],
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

    fn run(op: &Reduce, x: &TensorData, axes: Option<&TensorData>) -> TensorData {
        let xi = InputInfo {
            dtype: x.dtype,
            shape: &x.shape,
            data: None,
        };
        let ax = axes.map(|a| InputInfo {
            dtype: a.dtype,
            shape: &a.shape,
            data: Some(a),
        });
        let out = op.infer(&[Some(xi), ax]).unwrap();
        op.eval(&[Some(x), axes], &out).unwrap().remove(0)
    }

    #[test]
    fn attr_and_input_axes() {
        let x = TensorData::from_f32(vec![2, 2], &[1., 2., 3., 4.]);
        let a = Attrs::new(vec![], vec![]);
        let op = parse_mean(&a, 13).unwrap();
        let op = op.as_any().downcast_ref::<Reduce>().unwrap().clone();
        let y = run(&op, &x, None);
        assert_eq!((y.shape.clone(), y.as_f32()), (vec![1, 1], vec![2.5]));
        let op = Reduce {
            op_type: "ReduceSum",
            kind: ReduceOp::Sum,
            attr_axes: None,
            axes_input: true,
            keepdims: false,
            noop_with_empty_axes: false,
        };
        let axes = TensorData::from_i64(vec![1], &[-1]);
        let y = run(&op, &x, Some(&axes));
        assert_eq!((y.shape.clone(), y.as_f32()), (vec![2], vec![3., 7.]));
        let noop = Reduce {
            noop_with_empty_axes: true,
            ..op
        };
        let y = run(&noop, &x, None);
        assert_eq!(y.as_f32(), vec![1., 2., 3., 4.]);
    }
}
