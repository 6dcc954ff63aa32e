//! `Slice`: strided N-d slicing with ONNX clamping rules (negative starts,
//! ends and steps), for any element type.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::slice as ks;

use super::movebytes::{check_rank, dims, dims_tokens, elems, isize_tokens, join, lit, per_size};
use super::util::{axis, const_in, const_ints, const_ints_opt, req};
use super::{shape_err, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::TensorData;

/// `(starts, ends, axes)` attributes of a `Slice` before opset 10.
pub type SliceAttrs = (Vec<i64>, Vec<i64>, Option<Vec<i64>>);

/// A parsed `Slice` node.
#[derive(Debug, Clone)]
pub struct Slice {
    /// Attributes before opset 10; `None` from opset 10 (inputs instead).
    pub attrs: Option<SliceAttrs>,
}

/// Parses `Slice`.
pub fn parse(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let attrs = if opset < 10 {
        let starts = a.ints_opt("starts")?.ok_or_else(|| OpError::Attribute {
            name: "starts".into(),
            message: "required before opset 10".into(),
        })?;
        let ends = a.ints_opt("ends")?.ok_or_else(|| OpError::Attribute {
            name: "ends".into(),
            message: "required before opset 10".into(),
        })?;
        Some((starts, ends, a.ints_opt("axes")?))
    } else {
        None
    };
    Ok(Arc::new(Slice { attrs }))
}

/// A slice resolved against a static input shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// First input index per axis.
    pub starts: Vec<usize>,
    /// Step per axis.
    pub steps: Vec<isize>,
    /// Output shape.
    pub out_shape: Vec<usize>,
}

/// Resolves ONNX starts/ends/axes/steps against `shape`.
pub fn resolve(
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<Resolved, OpError> {
    let rank = shape.len();
    let n = starts.len();
    if ends.len() != n || axes.is_some_and(|a| a.len() != n) || steps.is_some_and(|s| s.len() != n)
    {
        return Err(shape_err(format!(
            "starts, ends, axes and steps must have the same length ({n} starts, {} ends)",
            ends.len()
        )));
    }
    let mut r = Resolved {
        starts: vec![0; rank],
        steps: vec![1; rank],
        out_shape: shape.to_vec(),
    };
    let mut seen = vec![false; rank];
    for i in 0..n {
        let a = match axes {
            Some(ax) => axis(ax[i], rank)?,
            None if i < rank => i,
            None => return Err(shape_err(format!("{n} starts for an input of rank {rank}"))),
        };
        if std::mem::replace(&mut seen[a], true) {
            return Err(shape_err(format!("axis {a} is sliced twice")));
        }
        let step = steps.map_or(1, |s| s[i]);
        if step == 0 {
            return Err(shape_err("a slice step is 0"));
        }
        let dim = shape[a] as i128;
        let fix = |v: i64| -> i128 {
            let v = v as i128;
            if v < 0 {
                v + dim
            } else {
                v
            }
        };
        let (mut s, mut e) = (fix(starts[i]), fix(ends[i]));
        if step > 0 {
            s = s.clamp(0, dim);
            e = e.clamp(0, dim);
        } else {
            s = s.clamp(0, (dim - 1).max(0));
            e = e.clamp(-1, dim - 1);
        }
        let st = step as i128;
        let len = if step > 0 {
            (e - s + st - 1) / st
        } else {
            (s - e + (-st) - 1) / (-st)
        };
        let len = len.max(0) as usize;
        r.out_shape[a] = len;
        r.starts[a] = if len == 0 { 0 } else { s as usize };
        r.steps[a] = step.clamp(isize::MIN as i64, isize::MAX as i64) as isize;
    }
    Ok(r)
}

impl Slice {
    fn resolve(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Resolved, OpError> {
        let x = req(inputs, 0)?;
        match &self.attrs {
            Some((s, e, a)) => resolve(x.shape, s, e, a.as_deref(), None),
            None => {
                let s = const_ints(inputs, 1, "Slice starts")?;
                let e = const_ints(inputs, 2, "Slice ends")?;
                let a = const_ints_opt(inputs, 3, "Slice axes")?;
                let st = const_ints_opt(inputs, 4, "Slice steps")?;
                resolve(x.shape, &s, &e, a.as_deref(), st.as_deref())
            }
        }
    }
}

fn infos<'a>(inputs: &'a [Option<&'a TensorData>]) -> Vec<Option<InputInfo<'a>>> {
    inputs
        .iter()
        .map(|i| {
            i.map(|t| InputInfo {
                dtype: t.dtype,
                shape: &t.shape,
                data: Some(t),
            })
        })
        .collect()
}

impl Op for Slice {
    fn name(&self) -> String {
        "Slice".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        check_rank("Slice", x.shape.len())?;
        Ok(vec![OutputInfo::new(
            x.dtype,
            self.resolve(inputs)?.out_shape,
        )])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        _outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        let r = self.resolve(&infos(inputs))?;
        let mut steps = [1isize; 6];
        steps[..r.steps.len()].copy_from_slice(&r.steps);
        let p = ks::SliceParams {
            rank: x.shape.len(),
            in_shape: dims(&x.shape),
            out_shape: dims(&r.out_shape),
            starts: dims(&r.starts),
            steps,
        };
        let n: usize = r.out_shape.iter().product();
        let bytes = per_size!(x.dtype.size(), N => {
            let xs = elems::<N>(&x.bytes);
            let mut ys = vec![[0u8; N]; n];
            if n > 0 {
                ks::slice(&xs, &mut ys, &p);
            }
            join(&ys)
        })?;
        Ok(vec![TensorData {
            dtype: x.dtype,
            shape: r.out_shape,
            bytes,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let r = self.resolve(&ins)?;
        if r.out_shape.contains(&0) {
            return Ok(TokenStream::new());
        }
        let (k, xt, y) = (cx.kernels(), cx.x(0), cx.y(0));
        let rank = lit(x.shape.len());
        let (is, os, st) = (
            dims_tokens(x.shape),
            dims_tokens(&r.out_shape),
            dims_tokens(&r.starts),
        );
        let sp = isize_tokens(&r.steps, 1);
        Ok(
            quote!(#k::slice::slice(#xt, #y, &#k::slice::SliceParams { rank: #rank, in_shape: #is, out_shape: #os, starts: #st, steps: #sp });),
        )
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_negative_steps() {
        // x[0:100, -1:-1000:-2] on a 2x5 tensor
        let r = resolve(&[2, 5], &[0, -1], &[100, -1000], None, Some(&[1, -2])).unwrap();
        assert_eq!(r.out_shape, vec![2, 3]);
        assert_eq!(r.starts, vec![0, 4]);
        let x = TensorData::from_i32(vec![2, 5], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let s = TensorData::from_i64(vec![2], &[0, -1]);
        let e = TensorData::from_i64(vec![2], &[100, -1000]);
        let st = TensorData::from_i64(vec![2], &[1, -2]);
        let op = Slice { attrs: None };
        let ins = [Some(&x), Some(&s), Some(&e), None, Some(&st)];
        let outs = op.infer(&infos(&ins)).unwrap();
        let y = op.eval(&ins, &outs).unwrap();
        assert_eq!(y[0].as_i32(), vec![4, 2, 0, 9, 7, 5]);
    }

    #[test]
    fn empty_and_attribute_form() {
        let r = resolve(&[4], &[3], &[1], None, None).unwrap();
        assert_eq!(r.out_shape, vec![0]);
        let op = Slice {
            attrs: Some((vec![1], vec![i64::MAX], Some(vec![-1]))),
        };
        let x = TensorData::from_f32(vec![2, 3], &[1., 2., 3., 4., 5., 6.]);
        let outs = op.infer(&infos(&[Some(&x)])).unwrap();
        assert_eq!(outs[0].shape, vec![2, 2]);
        assert_eq!(
            op.eval(&[Some(&x)], &outs).unwrap()[0].as_f32(),
            vec![2., 3., 5., 6.]
        );
        assert!(resolve(&[4], &[0], &[1], None, Some(&[0])).is_err());
    }
}
